'use strict'
// Option validation, one style for every capability:
//
//   const DEFAULTS = Object.freeze({ intervalMs: 1000, ... })   // every default, once
//   function resolveOptions(options) {                             // one name everywhere
//     const o = readOptions('options', options, KNOWN_KEYS)
//     return { intervalMs: checkInteger('options.intervalMs', o.intervalMs, { min: 1 }) ?? DEFAULTS.intervalMs, ... }
//   }
//
// Each check* returns the value (or undefined when it is absent and optional),
// and throws a coded TypeError (wrong type) or RangeError (wrong value) that
// names the option and the value received.

const { clip, describe, withCode, invalidOptionType, invalidOptionValue } = require('./errors')

/** An options object (absent: `{}` when optional) whose keys are all known (catches typos such as `maxsize`). */
function readOptions(name, value, known, { optional = true } = {}) {
  const o = checkObject(name, value, { optional })
  checkKnownKeys(name, o, known)
  return o
}

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
        new TypeError(`${name}.${clip(key, 60)} is not a known option (known: ${known.join(', ')})`),
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
  readOptions,
  checkObject,
  checkKnownKeys,
  checkInteger,
  checkNumber,
  checkBoolean,
  checkString,
  checkFunction,
  checkOneOf
}
