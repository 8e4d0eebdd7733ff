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
const { warningCodes } = require('./warnings')

/**
 * An options object (absent: `{}` when optional) whose keys are all known (catches typos such as `maxsize`).
 * `renamed` ({ oldName: newName }) accepts the old names of renamed options: they are moved to their
 * new names in a copy (the caller's object is not changed), with one warning per old name.
 */
function readOptions(name, value, known, { optional = true, renamed } = {}) {
  const o = checkObject(name, value, { optional })
  if (renamed === undefined) {
    checkKnownKeys(name, o, known)
    return o
  }
  checkKnownKeys(name, o, known, renamed)
  let out = o
  for (const [oldKey, newKey] of Object.entries(renamed)) {
    if (o[oldKey] === undefined) continue
    if (o[newKey] !== undefined) {
      throw withCode(
        new RangeError(`${name}.${oldKey} is the old name of ${name}.${newKey}: pass only ${name}.${newKey}`),
        'INVALID_OPTION'
      )
    }
    warnRenamed(`${name}.${oldKey}`, `${name}.${newKey}`)
    if (out === o) out = { ...o }
    out[newKey] = o[oldKey]
    delete out[oldKey]
  }
  return out
}

/** The code of the warning an old name gives (type `DeprecationWarning`, so `--no-deprecation` silences it). */
const RENAMED_WARNING = warningCodes.RENAMED
const warnedRenames = new Set()

/**
 * Warns, once per old name, that a name was renamed by the naming rule (CONTRIBUTING.md, "Names":
 * durations end in `Ms`, byte figures in `Bytes`). The old name keeps working.
 */
function warnRenamed(oldName, newName) {
  if (warnedRenames.has(oldName)) return
  warnedRenames.add(oldName)
  process.emitWarning(
    `${oldName} is renamed ${newName} (durations end in Ms, byte figures in Bytes); the old name still works`,
    { type: 'DeprecationWarning', code: RENAMED_WARNING }
  )
}

function checkObject(name, value, { optional = true } = {}) {
  if (value === undefined && optional) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOptionType(name, 'an object', value)
  }
  return value
}

/** Rejects option keys that the callee does not know (catches typos such as `maxsize`); old names of `renamed` pass. */
function checkKnownKeys(name, options, known, renamed) {
  for (const key of Object.keys(options)) {
    if (!known.includes(key) && !(renamed && Object.hasOwn(renamed, key))) {
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

/** An object that has each of `methods` (a Meter, a Registry, a monitor: duck-typed, not instanceof). */
function checkMethods(name, value, methods, expected, { optional = true } = {}) {
  if (value === undefined && optional) return undefined
  if (value === null || typeof value !== 'object' || methods.some((m) => typeof value[m] !== 'function')) {
    throw invalidOptionType(name, expected, value)
  }
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
  RENAMED_WARNING,
  warnRenamed,
  readOptions,
  checkObject,
  checkKnownKeys,
  checkInteger,
  checkNumber,
  checkBoolean,
  checkString,
  checkFunction,
  checkMethods,
  checkOneOf
}
