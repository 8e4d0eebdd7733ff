'use strict'
// The monitor's options: every default and every bound written once, here.
// The native sampler (src/sampler) takes the interval as a NonZero type and
// enforces nothing itself: the bound users see is the one below.

const { invalidOptionValue, invalidOptionType } = require('../common/errors')
const {
  readOptions,
  checkInteger,
  checkNumber,
  checkBoolean,
  checkObject,
  checkKnownKeys,
  checkString
} = require('../common/options')

/** Every default of monitor(). `checkEveryMs` defaults to the larger of this and `intervalMs`. */
const DEFAULTS = Object.freeze({
  intervalMs: 1000,
  checkEveryMs: 1000,
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
  gcBudget: 0.005,
  maxSamples: 4096
})

/** Defaults of the `autopsy` option (opt-in: `autopsy: true` or an object). */
const AUTOPSY_DEFAULTS = Object.freeze({
  dir: undefined, // a private directory made in os.tmpdir()
  jobs: 1000,
  keep: false,
  everyMs: 3_600_000,
  top: 5
})

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
  'gcBudget',
  'maxSamples',
  'limits',
  'autopsy',
  'recycle'
]
const LIMIT_KEYS = ['rss', 'heapUsed', 'external', 'fds']
const AUTOPSY_KEYS = Object.keys(AUTOPSY_DEFAULTS)

/** Validates monitor() options and fills in the defaults. `recycle` is read by the caller. */
function resolveOptions(options) {
  const o = readOptions('options', options, KNOWN_KEYS)
  const intervalMs = checkInteger('options.intervalMs', o.intervalMs, { min: 1, max: 3_600_000 }) ?? DEFAULTS.intervalMs
  const checkEveryMs =
    checkInteger('options.checkEveryMs', o.checkEveryMs, { min: 1, max: 86_400_000 }) ??
    Math.max(DEFAULTS.checkEveryMs, intervalMs)
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
  const gcBudget = checkNumber('options.gcBudget', o.gcBudget, { min: 0, max: 0.05 }) ?? DEFAULTS.gcBudget
  const maxSamples =
    checkInteger('options.maxSamples', o.maxSamples, { min: 64, max: 1_000_000 }) ?? DEFAULTS.maxSamples
  if (minSamples > maxSamples) {
    throw invalidOptionValue('options.minSamples', `<= options.maxSamples (${maxSamples})`, minSamples)
  }
  const limits = checkObject('options.limits', o.limits)
  checkKnownKeys('options.limits', limits, LIMIT_KEYS)
  for (const k of LIMIT_KEYS) checkNumber(`options.limits.${k}`, limits[k], { min: 0, exclusiveMin: true })
  const autopsy = resolveAutopsy(o.autopsy)
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
    gcBudget,
    maxSamples,
    limits: { rss: limits.rss, heapUsed: limits.heapUsed, external: limits.external, fds: limits.fds },
    autopsy
  }
}

/** `autopsy`: false/undefined (off), true (defaults) or an object of AUTOPSY_KEYS. */
function resolveAutopsy(value) {
  if (value === undefined || value === false) return null
  if (value === true) return { ...AUTOPSY_DEFAULTS }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOptionType('options.autopsy', 'a boolean or an object', value)
  }
  checkKnownKeys('options.autopsy', value, AUTOPSY_KEYS)
  return {
    dir: checkString('options.autopsy.dir', value.dir),
    jobs: checkInteger('options.autopsy.jobs', value.jobs, { min: 1, max: 1e9 }) ?? AUTOPSY_DEFAULTS.jobs,
    keep: checkBoolean('options.autopsy.keep', value.keep) ?? AUTOPSY_DEFAULTS.keep,
    everyMs:
      checkInteger('options.autopsy.everyMs', value.everyMs, { min: 1000, max: 7 * 86_400_000 }) ??
      AUTOPSY_DEFAULTS.everyMs,
    top: checkInteger('options.autopsy.top', value.top, { min: 1, max: 100 }) ?? AUTOPSY_DEFAULTS.top
  }
}

module.exports = { DEFAULTS, AUTOPSY_DEFAULTS, LIMIT_KEYS, resolveOptions }
