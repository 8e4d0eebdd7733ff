'use strict'
// What a BoundedCache can store, and the errors for what it cannot: values
// are copied into native memory, so objects and arrays go through JSON and
// must survive it unchanged.

const { types } = require('node:util')
const { describe, withCode } = require('../common/errors')

function invalidValue(key, what, cause) {
  const err = new TypeError(
    `The value for key ${describe(key)} cannot be stored: ${what} (a BoundedCache stores strings, numbers, ` +
      'booleans, null, Buffer/Uint8Array and JSON-compatible objects and arrays)',
    cause ? { cause } : undefined
  )
  return withCode(err, 'INVALID_VALUE')
}

class Unsupported extends Error {}

// Throws on anything JSON.stringify would silently drop or change: functions,
// symbols, undefined, non-finite numbers, and objects that are not plain
// objects or arrays (Map, Set, Date, class instances, nested Buffers).
function strictReplacer(k, v) {
  const t = typeof v
  const where = k === '' ? 'the value' : `property ${describe(k)}`
  if (t === 'function' || t === 'symbol' || t === 'undefined' || t === 'bigint') {
    throw new Unsupported(`${where} is ${t === 'undefined' ? 'undefined' : `a ${t}`}`)
  }
  if (t === 'number' && !Number.isFinite(v)) throw new Unsupported(`${where} is ${v}, which JSON cannot hold`)
  // `v` is after toJSON(); the holder still has the original (a Date, ...).
  const original = this[k]
  if (types.isProxy(original) || types.isProxy(v)) {
    throw new Unsupported(`${where} is a Proxy (its reads run code; store a plain copy of it)`)
  }
  if (typeof original === 'object' && original !== null) {
    const proto = Object.getPrototypeOf(original)
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) {
      const name = proto?.constructor?.name || 'an exotic object'
      throw new Unsupported(
        `${where} is ${name === 'an exotic object' ? name : `a ${name}`}, not a plain object or array`
      )
    }
  }
  return v
}

function toJson(key, value) {
  if (types.isProxy(value))
    throw invalidValue(key, 'the value is a Proxy (its reads run code; store a plain copy of it)')
  try {
    return JSON.stringify(value, strictReplacer)
  } catch (err) {
    if (err instanceof Unsupported) throw invalidValue(key, err.message)
    // V8's message for a cycle: "Converting circular structure to JSON ...".
    if (err instanceof TypeError && /circular structure/i.test(err.message)) {
      throw invalidValue(key, 'it contains a cycle', err)
    }
    // Anything else was thrown by the user's code while the value was read.
    throw invalidValue(
      key,
      `reading it threw (a getter, toJSON() or Proxy trap): ${err instanceof Error ? err.message : describe(err)}`,
      err
    )
  }
}

module.exports = { invalidValue, toJson }
