'use strict'
// Error construction for the whole JS layer. The codes come from the native
// table (src/errors.rs) so they are defined exactly once.

const native = require('./native')
const { inspect } = require('node:util')

/** @type {Readonly<Record<string, string>>} e.g. codes.INVALID_OPTION === 'ERR_LEAKGUARD_INVALID_OPTION' */
const codes = Object.freeze({ ...native.errorCodes() })

const { clip, describePath } = require('./format')

/** Short, safe rendering of a received value for error messages (at most MAX_SHOWN_VALUE characters). */
function describe(value) {
  let text
  if (typeof value === 'function') text = `function ${value.name || '<anonymous>'}`
  else if (typeof value === 'string') text = value.length > 60 ? inspect(`${value.slice(0, 57)}...`) : inspect(value)
  else if (typeof value === 'bigint') text = `${clip(String(value), 40)}n`
  else {
    try {
      text = inspect(value, { depth: 0, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 60 })
    } catch {
      // A Proxy or a getter that throws: describe the kind, never fail while reporting.
      text = `a value that cannot be shown (${typeof value})`
    }
  }
  return clip(text)
}

function withCode(err, key, extra) {
  const code = codes[key]
  if (!code) throw new Error(`leakguard internal: unknown error code key ${key}`)
  Object.defineProperty(err, 'code', { value: code, enumerable: true, configurable: true, writable: true })
  if (extra) Object.assign(err, extra)
  return err
}

/** TypeError for an option of the wrong type: `options.max must be a positive integer (received 'a')`. */
function invalidOptionType(name, expected, received) {
  return withCode(new TypeError(`${name} must be ${expected} (received ${describe(received)})`), 'INVALID_OPTION')
}

/** RangeError for an option of the right type but wrong value, or a conflict. */
function invalidOptionValue(name, expected, received) {
  return withCode(new RangeError(`${name} must be ${expected} (received ${describe(received)})`), 'INVALID_OPTION')
}

/** TypeError for a positional argument of the wrong type. */
function invalidArgType(name, expected, received) {
  return withCode(
    new TypeError(`The "${name}" argument must be ${expected} (received ${describe(received)})`),
    'INVALID_ARGUMENT'
  )
}

/** RangeError for a positional argument with a wrong value. */
function invalidArgValue(name, expected, received) {
  return withCode(
    new RangeError(`The "${name}" argument must be ${expected} (received ${describe(received)})`),
    'INVALID_ARGUMENT'
  )
}

/** Generic coded Error (optionally keeping `cause`). */
function leakguardError(key, message, options) {
  const err = options && 'cause' in options ? new Error(message, { cause: options.cause }) : new Error(message)
  return withCode(err, key)
}

module.exports = {
  codes,
  describe,
  describePath,
  clip,
  withCode,
  invalidOptionType,
  invalidOptionValue,
  invalidArgType,
  invalidArgValue,
  leakguardError
}
