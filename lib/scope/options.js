'use strict'
// The options of guard(), withScope() and new JobScope(), resolved once into
// the internal config every job of that guard shares.

const { invalidOptionType } = require('../common/errors')
const { readOptions, checkInteger, checkString, checkFunction, checkOneOf } = require('../common/options')
const { recycleOption } = require('../fleet/recycle')

/** Every default, once. */
const DEFAULTS = Object.freeze({
  /** How long close() awaits each async disposer, in ms. */
  disposeTimeoutMs: 10_000,
  /** Report (true) or also dispose ('dispose') what the job opened outside the scope. */
  autoTrack: false,
  /** Capture a creation stack for each autoTracked resource. */
  captureStacks: false,
  /** What to do with resources left open: 'warn' | 'throw' | 'ignore' | (report) => void. */
  onLeftOpen: 'warn'
})

const KNOWN_KEYS = [
  'name',
  'timeoutMs',
  'disposeTimeoutMs',
  'autoTrack',
  'captureStacks',
  'onLeftOpen',
  'onReport',
  'retainCheck',
  'recycle'
]
// Old names (before the naming rule: durations end in Ms), still accepted with a warning.
const RENAMED = { timeout: 'timeoutMs', disposeTimeout: 'disposeTimeoutMs' }
const ON_LEFT_OPEN = ['warn', 'throw', 'ignore']
const AUTO_TRACK = [true, false, 'dispose']

/**
 * Validates `options` (named `optName` in errors) for `kind` ('scope' for new
 * JobScope(), 'guard', 'withScope') and returns the internal config.
 */
function resolveOptions(options, optName, kind = 'scope') {
  const o = readOptions(optName, options, KNOWN_KEYS, { renamed: RENAMED })
  const autoTrack = o.autoTrack
  if (autoTrack !== undefined && autoTrack !== true && autoTrack !== false && autoTrack !== 'dispose') {
    checkOneOf(`${optName}.autoTrack`, autoTrack, AUTO_TRACK)
  }
  const onLeftOpen = o.onLeftOpen
  if (typeof onLeftOpen !== 'function') checkOneOf(`${optName}.onLeftOpen`, onLeftOpen, ON_LEFT_OPEN)
  if (o.retainCheck !== undefined && typeof o.retainCheck !== 'boolean' && typeof o.retainCheck !== 'function') {
    throw invalidOptionType(`${optName}.retainCheck`, 'a boolean or a function', o.retainCheck)
  }
  if (o.captureStacks !== undefined && typeof o.captureStacks !== 'boolean') {
    throw invalidOptionType(`${optName}.captureStacks`, 'a boolean', o.captureStacks)
  }
  const auto = autoTrack ?? DEFAULTS.autoTrack
  const cfg = {
    name: checkString(`${optName}.name`, o.name),
    timeoutMs: checkInteger(`${optName}.timeoutMs`, o.timeoutMs, { min: 1, max: 2 ** 31 - 1 }),
    disposeTimeoutMs:
      checkInteger(`${optName}.disposeTimeoutMs`, o.disposeTimeoutMs, { min: 1, max: 2 ** 31 - 1 }) ??
      DEFAULTS.disposeTimeoutMs,
    // 0 off, 1 report, 2 report and dispose: compared on every tracked resource.
    auto: auto === 'dispose' ? 2 : auto === true ? 1 : 0,
    captureStacks: o.captureStacks ?? DEFAULTS.captureStacks,
    onLeftOpen: onLeftOpen ?? DEFAULTS.onLeftOpen,
    onReport: checkFunction(`${optName}.onReport`, o.onReport),
    retainCheck: o.retainCheck === true || typeof o.retainCheck === 'function' ? o.retainCheck : undefined,
    // The per-name statistics entry, cached per guard (see stats.js).
    stats: undefined,
    statsGen: -1,
    recycle: undefined
  }
  if (o.recycle !== undefined) {
    // The recycle net counts finished jobs: only guard() and withScope() report them.
    if (kind === 'scope')
      throw invalidOptionType(
        `${optName}.recycle`,
        'undefined for new JobScope() (pass it to guard() or withScope())',
        o.recycle
      )
    cfg.recycle = recycleOption(`${optName}.recycle`, o.recycle, { allowOptions: kind === 'guard' })
    cfg.onReport = cfg.recycle._onReport(cfg.onReport)
  }
  return cfg
}

module.exports = { DEFAULTS, resolveOptions }
