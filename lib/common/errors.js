'use strict'
// Error construction for the whole JS layer. The codes come from the native
// table (src/errors.rs) so they are defined exactly once.

const native = require('./native')
const { inspect } = require('node:util')

/** @type {Readonly<Record<string, string>>} e.g. codes.INVALID_OPTION === 'ERR_LEAKGUARD_INVALID_OPTION' */
const codes = Object.freeze({ ...native.errorCodes() })

/** Short, safe rendering of a received value for error messages. */
function describe(value) {
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`
  if (typeof value === 'string') return value.length > 60 ? inspect(`${value.slice(0, 57)}...`) : inspect(value)
  if (typeof value === 'bigint') return `${value}n`
  return inspect(value, { depth: 0, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 60 })
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

// ---- option validators shared by every module --------------------------------

function checkObject(name, value, { optional = true } = {}) {
  if (value === undefined && optional) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOptionType(name, 'an object', value)
  }
  return value
}

/** Rejects option keys that the callee does not know (catches typos such as `maxsize`). */
function checkKnownKeys(name, options, known) {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw withCode(
        new TypeError(`${name}.${key} is not a known option (known: ${known.join(', ')})`),
        'INVALID_OPTION'
      )
    }
  }
}

function checkInteger(name, value, { min = -Infinity, max = Number.MAX_SAFE_INTEGER, optional = true } = {}) {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidOptionType(name, 'an integer', value)
  if (!Number.isInteger(value) || value < min || value > max) {
    const range =
      min === 1 && max === Number.MAX_SAFE_INTEGER
        ? 'a positive integer'
        : min === 0 && max === Number.MAX_SAFE_INTEGER
          ? 'a non-negative integer'
          : `an integer in [${min}, ${max}]`
    throw invalidOptionValue(name, range, value)
  }
  return value
}

function checkNumber(name, value, { min = -Infinity, max = Infinity, optional = true, exclusiveMin = false } = {}) {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'number' || Number.isNaN(value)) throw invalidOptionType(name, 'a number', value)
  if (value < min || value > max || (exclusiveMin && value === min)) {
    throw invalidOptionValue(
      name,
      `a number ${exclusiveMin ? '>' : '>='} ${min}${max !== Infinity ? ` and <= ${max}` : ''}`,
      value
    )
  }
  return value
}

function checkBoolean(name, value, { optional = true } = {}) {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'boolean') throw invalidOptionType(name, 'a boolean', value)
  return value
}

function checkString(name, value, { optional = true, nonEmpty = true } = {}) {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'string') throw invalidOptionType(name, 'a string', value)
  if (nonEmpty && value.length === 0) throw invalidOptionValue(name, 'a non-empty string', value)
  return value
}

function checkFunction(name, value, { optional = true } = {}) {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'function') throw invalidOptionType(name, 'a function', value)
  return value
}

function checkOneOf(name, value, allowed, { optional = true } = {}) {
  if (value === undefined && optional) return undefined
  if (!allowed.includes(value)) {
    const list = allowed.map((a) => describe(a)).join(' | ')
    throw (typeof value === typeof allowed[0] ? invalidOptionValue : invalidOptionType)(name, `one of ${list}`, value)
  }
  return value
}

module.exports = {
  codes,
  describe,
  withCode,
  invalidOptionType,
  invalidOptionValue,
  invalidArgType,
  invalidArgValue,
  leakguardError,
  checkObject,
  checkKnownKeys,
  checkInteger,
  checkNumber,
  checkBoolean,
  checkString,
  checkFunction,
  checkOneOf
}
