'use strict'
// The monitor's options: every default and every bound written once, here.
// The native sampler (src/sampler) takes the interval as a NonZero type and
// enforces nothing itself: the bound users see is the one below.

const { invalidOptionValue } = require('../common/errors')
const {
  readOptions,
  checkInteger,
  checkNumber,
  checkBoolean,
  checkObject,
  checkKnownKeys
} = require('../common/options')

/** Every default of monitor(). `checkEveryMs` is derived: CHECKS_PER_INTERVAL × intervalMs. */
const DEFAULTS = Object.freeze({
  intervalMs: 1000,
  windowMs: 600_000,
  minSamples: 8,
  floorBlocks: 20,
  alpha: 0.01,
  minGrowthBytes: 1024 * 1024,
  minBytesPerJob: 0,
  emitWarning: true,
  sendToParent: false,
  workerWarnings: true,
  fullGcEveryMs: 0,
  maxSamples: 4096
})

/** Default check period, in sampling intervals. */
const CHECKS_PER_INTERVAL = 30

const KNOWN_KEYS = [
  'intervalMs',
  'checkEveryMs',
  'windowMs',
  'minSamples',
  'floorBlocks',
  'alpha',
  'minGrowthBytes',
  'minBytesPerJob',
  'emitWarning',
  'sendToParent',
  'workerWarnings',
  'fullGcEveryMs',
  'maxSamples',
  'limits',
  'recycle'
]
const LIMIT_KEYS = ['rss', 'heapUsed', 'external']

/** Validates monitor() options and fills in the defaults. `recycle` is read by the caller. */
function resolveOptions(options) {
  const o = readOptions('options', options, KNOWN_KEYS)
  const intervalMs = checkInteger('options.intervalMs', o.intervalMs, { min: 1, max: 3_600_000 }) ?? DEFAULTS.intervalMs
  const checkEveryMs =
    checkInteger('options.checkEveryMs', o.checkEveryMs, { min: 1, max: 86_400_000 }) ??
    intervalMs * CHECKS_PER_INTERVAL
  if (checkEveryMs < intervalMs) {
    throw invalidOptionValue('options.checkEveryMs', `>= options.intervalMs (${intervalMs})`, checkEveryMs)
  }
  const windowMs = checkInteger('options.windowMs', o.windowMs, { min: 1, max: 7 * 86_400_000 }) ?? DEFAULTS.windowMs
  if (windowMs < intervalMs * 3) {
    throw invalidOptionValue('options.windowMs', `at least 3 × options.intervalMs (${intervalMs * 3})`, windowMs)
  }
  const minSamples = checkInteger('options.minSamples', o.minSamples, { min: 6, max: 100_000 }) ?? DEFAULTS.minSamples
  const floorBlocks = checkInteger('options.floorBlocks', o.floorBlocks, { min: 6, max: 1000 }) ?? DEFAULTS.floorBlocks
  const alpha = checkNumber('options.alpha', o.alpha, { min: 0, max: 0.5, exclusiveMin: true }) ?? DEFAULTS.alpha
  const minGrowthBytes = checkNumber('options.minGrowthBytes', o.minGrowthBytes, { min: 0 }) ?? DEFAULTS.minGrowthBytes
  const minBytesPerJob = checkNumber('options.minBytesPerJob', o.minBytesPerJob, { min: 0 }) ?? DEFAULTS.minBytesPerJob
  const emitWarning = checkBoolean('options.emitWarning', o.emitWarning) ?? DEFAULTS.emitWarning
  const sendToParent = checkBoolean('options.sendToParent', o.sendToParent) ?? DEFAULTS.sendToParent
  const workerWarnings = checkBoolean('options.workerWarnings', o.workerWarnings) ?? DEFAULTS.workerWarnings
  const fullGcEveryMs =
    checkInteger('options.fullGcEveryMs', o.fullGcEveryMs, { min: 0, max: 86_400_000 }) ?? DEFAULTS.fullGcEveryMs
  const maxSamples =
    checkInteger('options.maxSamples', o.maxSamples, { min: 64, max: 1_000_000 }) ?? DEFAULTS.maxSamples
  if (minSamples > maxSamples) {
    throw invalidOptionValue('options.minSamples', `<= options.maxSamples (${maxSamples})`, minSamples)
  }
  const limits = checkObject('options.limits', o.limits)
  checkKnownKeys('options.limits', limits, LIMIT_KEYS)
  for (const k of LIMIT_KEYS) checkNumber(`options.limits.${k}`, limits[k], { min: 0, exclusiveMin: true })
  return {
    intervalMs,
    checkEveryMs,
    windowMs,
    minSamples,
    floorBlocks,
    alpha,
    minGrowthBytes,
    minBytesPerJob,
    emitWarning,
    sendToParent,
    workerWarnings,
    fullGcEveryMs,
    maxSamples,
    limits: { rss: limits.rss, heapUsed: limits.heapUsed, external: limits.external }
  }
}

module.exports = { DEFAULTS, LIMIT_KEYS, resolveOptions }
