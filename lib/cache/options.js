'use strict'
// BoundedCache's options: lru-cache v11's, plus `name` and `memo`, validated
// in the one options style (lib/common/options.js).
//
// Two rules come from lru-cache so that configs port unchanged:
// - an unknown option is ignored (lru-cache destructures the options it
//   knows); one that looks like a misspelling of ours gets a one-time
//   warning naming the nearest option;
// - a bound or a ttl that is not a positive integer is a TypeError (lru-cache
//   treats "positive integer" as the type); ours also carries a code and the
//   value received.

const { describe, withCode, codes } = require('../common/errors')
const { emitLeakguardWarning } = require('../common/warnings')
const { checkObject, checkBoolean, checkString, checkFunction } = require('../common/options')

/** Every default, once (the bounds `max`/`maxSize` have none: one is required). */
const DEFAULTS = Object.freeze({
  /** ms; 0 = entries do not expire */
  ttl: 0,
  /** ms for which a time reading is reused when checking expiry (lru-cache's) */
  ttlResolution: 1,
  ttlAutopurge: false,
  updateAgeOnGet: false,
  updateAgeOnHas: false,
  allowStale: false,
  noDisposeOnSet: false,
  noUpdateTTL: false,
  noDeleteOnFetchRejection: false,
  noDeleteOnStaleGet: false,
  allowStaleOnFetchRejection: false,
  allowStaleOnFetchAbort: false,
  ignoreFetchAbort: false,
  /** the memo of hot values, where it can be exact (see lib/cache/memo.js) */
  memo: true
})

/** Every option a BoundedCache knows (lru-cache v11's, then ours). */
const OPTIONS = Object.freeze([
  'max',
  'maxSize',
  'maxEntrySize',
  'sizeCalculation',
  'ttl',
  'ttlResolution',
  'ttlAutopurge',
  'updateAgeOnGet',
  'updateAgeOnHas',
  'allowStale',
  'dispose',
  'onInsert',
  'disposeAfter',
  'noDisposeOnSet',
  'noUpdateTTL',
  'fetchMethod',
  'memoMethod',
  'noDeleteOnFetchRejection',
  'noDeleteOnStaleGet',
  'allowStaleOnFetchRejection',
  'allowStaleOnFetchAbort',
  'ignoreFetchAbort',
  'perf',
  'name',
  'memo'
])

/** The options of get/has/peek/set/fetch/memo calls, for the misspelling warning. */
const CALL_OPTIONS = Object.freeze([
  'allowStale',
  'updateAgeOnGet',
  'updateAgeOnHas',
  'noDeleteOnStaleGet',
  'status',
  'ttl',
  'start',
  'size',
  'sizeCalculation',
  'noDisposeOnSet',
  'noUpdateTTL',
  'noDeleteOnFetchRejection',
  'allowStaleOnFetchRejection',
  'allowStaleOnFetchAbort',
  'ignoreFetchAbort',
  'forceRefresh',
  'signal',
  'context'
])

/** A TypeError with our code, naming the option and the value received. */
function badOption(name, expected, value) {
  return withCode(new TypeError(`${name} must be ${expected} (received ${describe(value)})`), 'INVALID_OPTION')
}

/** lru-cache's positive integer: a finite integer > 0. */
function isPosInt(n) {
  return typeof n === 'number' && Number.isInteger(n) && n > 0
}

/** A bound: absent or 0 (lru-cache's "none"), else a positive integer up to `max`. */
function checkBound(name, value, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined || value === 0) return 0
  if (!isPosInt(value) || value > max) {
    throw badOption(name, `a positive integer${max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : ''}`, value)
  }
  return value
}

/** Edit distance, for suggesting the nearest option to a misspelt one. */
function distance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const here = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = here
    }
  }
  return row[b.length]
}

/** The known option nearest to `key`, if it is plausibly a misspelling of it. */
function nearest(key, known) {
  const lower = key.toLowerCase()
  let best
  let bestDistance = Infinity
  for (const k of known) {
    const d = k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase())
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(1, Math.floor(key.length / 4)) ? best : undefined
}

const warned = new Set()

/**
 * lru-cache's rule for unknown options: ignored. One that looks like a
 * misspelling of a known option gets a warning (once per name and place).
 */
function warnUnknown(where, options, known) {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue
    const near = nearest(key, known)
    const id = `${where}.${key}`
    if (near === undefined || warned.has(id)) continue
    warned.add(id)
    emitLeakguardWarning(
      `${where}.${key} is not an option of BoundedCache and is ignored; did you mean ${near}?`,
      codes.INVALID_OPTION
    )
  }
}

/** lru-cache's `perf`: anything with a now() method (an object, or `Date`). */
function checkPerf(value) {
  if (value === undefined) return undefined
  if (value === null || (typeof value !== 'object' && typeof value !== 'function') || typeof value.now !== 'function') {
    throw withCode(
      new TypeError(
        `options.perf must be an object with a now() method: perf option must have a now() method if specified (received ${describe(value)})`
      ),
      'INVALID_OPTION'
    )
  }
  return value
}

/**
 * Validates the constructor's options and fills in DEFAULTS. Like
 * lru-cache, another cache may be passed as the options (its settings are
 * read from its properties).
 */
function resolveOptions(options) {
  if (options === undefined) {
    throw withCode(
      new TypeError('options is required: new BoundedCache({ max }) or ({ maxSize }); an unbounded cache is the leak'),
      'INVALID_OPTION'
    )
  }
  const o = checkObject('options', options, { optional: false })
  if (Object.getPrototypeOf(o) === Object.prototype || Object.getPrototypeOf(o) === null) {
    warnUnknown('options', o, OPTIONS)
  }
  const flag = (name) => checkBoolean(`options.${name}`, o[name]) ?? DEFAULTS[name]
  const max = checkBound('options.max', o.max, 2 ** 32)
  const maxSize = checkBound('options.maxSize', o.maxSize)
  const maxEntrySize = checkBound('options.maxEntrySize', o.maxEntrySize)
  const sizeCalculation = o.sizeCalculation
  if (sizeCalculation !== undefined) {
    if (typeof sizeCalculation !== 'function') throw badOption('options.sizeCalculation', 'a function', sizeCalculation)
    if (!maxSize && !maxEntrySize) {
      throw withCode(
        new TypeError(
          'options.sizeCalculation needs options.maxSize or options.maxEntrySize: cannot set sizeCalculation without setting maxSize or maxEntrySize'
        ),
        'INVALID_OPTION'
      )
    }
  }
  const ttl = o.ttl === undefined || o.ttl === 0 ? 0 : o.ttl
  if (ttl !== 0 && !isPosInt(ttl)) throw badOption('options.ttl', 'a positive integer (ms)', ttl)
  // lru-cache's rule: anything but a non-negative integer means the default.
  const ttlResolution = isPosInt(o.ttlResolution) || o.ttlResolution === 0 ? o.ttlResolution : DEFAULTS.ttlResolution
  const resolved = {
    max,
    maxSize,
    maxEntrySize,
    sizeCalculation,
    ttl,
    ttlResolution,
    ttlAutopurge: flag('ttlAutopurge'),
    updateAgeOnGet: flag('updateAgeOnGet'),
    updateAgeOnHas: flag('updateAgeOnHas'),
    allowStale: flag('allowStale'),
    noDisposeOnSet: flag('noDisposeOnSet'),
    noUpdateTTL: flag('noUpdateTTL'),
    noDeleteOnFetchRejection: flag('noDeleteOnFetchRejection'),
    noDeleteOnStaleGet: flag('noDeleteOnStaleGet'),
    allowStaleOnFetchRejection: flag('allowStaleOnFetchRejection'),
    allowStaleOnFetchAbort: flag('allowStaleOnFetchAbort'),
    ignoreFetchAbort: flag('ignoreFetchAbort'),
    dispose: checkFunction('options.dispose', o.dispose),
    onInsert: checkFunction('options.onInsert', o.onInsert),
    disposeAfter: checkFunction('options.disposeAfter', o.disposeAfter),
    fetchMethod: checkFunction('options.fetchMethod', o.fetchMethod),
    memoMethod: checkFunction('options.memoMethod', o.memoMethod),
    name: checkString('options.name', o.name),
    perf: checkPerf(o.perf),
    memo: flag('memo')
  }
  if (!max && !maxSize) {
    throw withCode(
      new TypeError(
        'At least one of options.max or options.maxSize is required: an unbounded cache is the leak this package exists to prevent'
      ),
      'INVALID_OPTION'
    )
  }
  if (resolved.perf !== undefined) {
    const t = resolved.perf.now()
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw withCode(
        new TypeError(`options.perf.now() must return a finite number (received ${describe(t)})`),
        'INVALID_OPTION'
      )
    }
  }
  return resolved
}

module.exports = { DEFAULTS, OPTIONS, CALL_OPTIONS, resolveOptions, warnUnknown, isPosInt, badOption }
