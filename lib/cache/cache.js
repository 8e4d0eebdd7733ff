'use strict'
// BoundedCache: lru-cache's API over an off-heap store (src/cache). The class
// is deliberately thin: the hot methods are one call into a raw N-API
// function (see src/cache/binding.rs for why): get/peek/has/set into functions
// bound to this instance's store, the others with the store handle as first
// argument. Nothing is allocated per call on the JS side.

const { cacheOps } = require('../common/native')
const { describe, withCode, invalidArgType } = require('../common/errors')
const { Memo } = require('./memo')
const {
  readOptions,
  checkObject,
  checkKnownKeys,
  checkInteger,
  checkNumber,
  checkBoolean,
  checkString,
  checkFunction
} = require('../common/options')

const {
  open: nOpen,
  bind: nBind,
  set: nSet,
  setJson: nSetJson,
  delete: nDelete,
  pop: nPop,
  clear: nClear,
  purgeStale: nPurgeStale,
  remainingTtl: nRemainingTtl,
  list: nList,
  entry: nEntry,
  stats: nStats,
  size: nSize,
  calculatedSize: nCalculatedSize,
  info: nInfo,
  dropNamed: nDropNamed,
  names: nNames,
  now: nNow
} = cacheOps

/** Every default, once (the bounds `max`/`maxSize` have none: one is required). */
const DEFAULTS = Object.freeze({
  /** ms; 0 = entries do not expire */
  ttl: 0,
  updateAgeOnGet: false,
  allowStale: false,
  /** the memo of hot values, where it can be exact (see lib/cache/memo.js) */
  memo: true
})
const OPTIONS = [
  'max',
  'maxSize',
  'maxEntrySize',
  'ttl',
  'updateAgeOnGet',
  'allowStale',
  'dispose',
  'name',
  'perf',
  'memo'
]
const SET_OPTIONS = ['ttl']
const LIST_KEYS = 0
const LIST_VALUES = 1
const LIST_ENTRIES = 2
const LIST_DUMP = 3

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
  try {
    return JSON.stringify(value, strictReplacer)
  } catch (err) {
    if (err instanceof Unsupported) throw invalidValue(key, err.message)
    // The only other failure is a cycle.
    throw invalidValue(key, 'it contains a cycle', err)
  }
}

function checkPerf(value) {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || typeof value.now !== 'function') {
    throw withCode(
      new TypeError(`options.perf must be an object with a now() method (received ${describe(value)})`),
      'INVALID_OPTION'
    )
  }
  return value
}

/** Validates the constructor's options and fills in DEFAULTS. */
function resolveOptions(options) {
  if (options === undefined) {
    throw withCode(
      new TypeError('options is required: new BoundedCache({ max }) or ({ maxSize }); an unbounded cache is the leak'),
      'INVALID_OPTION'
    )
  }
  const o = readOptions('options', options, OPTIONS, { optional: false })
  const max = checkInteger('options.max', o.max, { min: 1, max: 2 ** 32 })
  const maxSize = checkInteger('options.maxSize', o.maxSize, { min: 1 })
  const maxEntrySize = checkInteger('options.maxEntrySize', o.maxEntrySize, { min: 1 })
  const ttl = checkNumber('options.ttl', o.ttl, { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? DEFAULTS.ttl
  const updateAgeOnGet = checkBoolean('options.updateAgeOnGet', o.updateAgeOnGet) ?? DEFAULTS.updateAgeOnGet
  const allowStale = checkBoolean('options.allowStale', o.allowStale) ?? DEFAULTS.allowStale
  const dispose = checkFunction('options.dispose', o.dispose)
  const name = checkString('options.name', o.name)
  const perf = checkPerf(o.perf)
  const memo = checkBoolean('options.memo', o.memo) ?? DEFAULTS.memo
  if (max === undefined && maxSize === undefined) {
    throw withCode(
      new TypeError(
        'At least one of options.max or options.maxSize is required: an unbounded cache is the leak this package exists to prevent'
      ),
      'INVALID_OPTION'
    )
  }
  if (maxEntrySize !== undefined && maxSize !== undefined && maxEntrySize > maxSize) {
    throw withCode(
      new RangeError(`options.maxEntrySize must be <= options.maxSize (${maxSize}) (received ${maxEntrySize})`),
      'INVALID_OPTION'
    )
  }
  if (updateAgeOnGet && !ttl) {
    throw withCode(
      new RangeError('options.updateAgeOnGet needs options.ttl > 0 (received updateAgeOnGet: true without a ttl)'),
      'INVALID_OPTION'
    )
  }
  if (perf !== undefined) {
    const t = perf.now()
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw withCode(
        new TypeError(`options.perf.now() must return a finite number (received ${describe(t)})`),
        'INVALID_OPTION'
      )
    }
  }
  return { max, maxSize, maxEntrySize, ttl, updateAgeOnGet, allowStale, dispose, name, perf, memo }
}

class BoundedCache {
  #h
  #get
  #set
  #getRemember
  // The memo of hot values (lib/cache/memo.js), null when off (see the
  // constructor and `#memoOff`).
  #memo = null
  #peek
  #has
  #perf
  #dispose
  #max
  #maxSize
  #maxEntrySize
  #ttl
  #updateAgeOnGet
  #allowStale
  #name

  /**
   * @param {import('../../index').BoundedCacheOptions} options
   */
  constructor(options) {
    const { max, maxSize, maxEntrySize, ttl, updateAgeOnGet, allowStale, dispose, name, perf, memo } =
      resolveOptions(options)
    this.#h = nOpen(name, max ?? 0, maxSize ?? 0, maxEntrySize ?? 0, ttl, updateAgeOnGet, allowStale, dispose)
    // Only where it is exact and cheap: a store no other thread uses, no
    // expiry to check, no dispose that could read the cache mid-eviction.
    const useMemo = memo && name === undefined && !ttl && dispose === undefined
    if (useMemo) this.#memo = new Memo()
    const [get, peek, has, set, getRemember, touch] = nBind(this.#h, useMemo ? this.#memo.queue : undefined)
    if (useMemo) this.#memo.replay = touch
    this.#get = get
    this.#peek = peek
    this.#has = has
    this.#set = set
    this.#getRemember = getRemember
    this.#perf = perf
    this.#dispose = dispose // held here so the native weak reference stays valid
    this.#max = max
    this.#maxSize = maxSize
    this.#maxEntrySize = maxEntrySize ?? maxSize
    this.#ttl = ttl
    this.#updateAgeOnGet = updateAgeOnGet
    this.#allowStale = allowStale
    this.#name = name
  }

  // Reads of hot small values are served by the memo (lib/cache/memo.js),
  // which keeps recency, evictions and stats exact. It is off for named
  // stores (other threads change them), with a ttl or dispose, and with
  // `memo: false`.

  get(key) {
    const memo = this.#memo
    if (memo !== null) {
      const slot = memo.slots.get(key)
      if (slot !== undefined) return memo.hit(slot)
      return this.#getAndRemember(memo, key)
    }
    const perf = this.#perf
    return perf === undefined ? this.#get(key) : this.#get(key, perf.now())
  }

  #getAndRemember(memo, key) {
    const slot = memo.freeSlot()
    const value = this.#getRemember(key, slot)
    if (value !== undefined) memo.remember(key, slot, value)
    return value
  }

  /** Turns the memo off for good (a ttl came into play). */
  #memoOff() {
    if (this.#memo === null) return
    this.#memo.forget()
    this.#memo = null
  }

  peek(key) {
    const memo = this.#memo
    if (memo !== null) {
      const slot = memo.slots.get(key)
      if (slot !== undefined) return memo.values[slot]
    }
    const perf = this.#perf
    return perf === undefined ? this.#peek(key) : this.#peek(key, perf.now())
  }

  has(key) {
    const memo = this.#memo
    if (memo?.slots.has(key)) return true
    const perf = this.#perf
    return perf === undefined ? this.#has(key) : this.#has(key, perf.now())
  }

  set(key, value, options) {
    let ttl
    if (options !== undefined) {
      checkObject('options', options)
      checkKnownKeys('options', options, SET_OPTIONS)
      ttl = checkNumber('options.ttl', options.ttl, { min: 0, max: Number.MAX_SAFE_INTEGER })
    }
    const memo = this.#memo
    if (memo !== null) {
      if (ttl) this.#memoOff()
      else memo.dropUnlessSame(key, value)
    }
    const perf = this.#perf
    let evicted
    if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
      evicted = nSetJson(this.#h, key, toJson(key, value), ttl, perf === undefined ? undefined : perf.now())
    } else if (value === undefined) {
      throw invalidValue(key, 'undefined is not a value (use delete() to remove a key)')
    } else if (ttl === undefined && perf === undefined) {
      // The common case: two arguments, so that native reads no ttl or now.
      evicted = this.#set(key, value)
    } else {
      evicted = this.#set(key, value, ttl, perf === undefined ? undefined : perf.now())
    }
    this.#memo?.afterSet(evicted)
    return this
  }

  delete(key) {
    this.#memo?.drop(key)
    return nDelete(this.#h, key)
  }

  clear() {
    this.#memo?.forget()
    nClear(this.#h)
  }

  pop() {
    this.#memo?.forget()
    return nPop(this.#h)
  }

  getRemainingTTL(key) {
    const perf = this.#perf
    return nRemainingTtl(this.#h, key, perf === undefined ? undefined : perf.now())
  }

  purgeStale() {
    const perf = this.#perf
    return nPurgeStale(this.#h, perf === undefined ? undefined : perf.now())
  }

  #list(mode) {
    const perf = this.#perf
    return nList(this.#h, perf === undefined ? undefined : perf.now(), mode)
  }

  /** Keys, most recently used first (a snapshot taken when iteration starts). */
  *keys() {
    yield* this.#list(LIST_KEYS)
  }
  /** Values, most recently used first. */
  *values() {
    yield* this.#list(LIST_VALUES)
  }
  /** [key, value] pairs, most recently used first. */
  *entries() {
    yield* this.#list(LIST_ENTRIES)
  }
  [Symbol.iterator]() {
    return this.entries()
  }

  forEach(fn, thisArg) {
    if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
    for (const [k, v] of this.#list(LIST_ENTRIES)) fn.call(thisArg, v, k, this)
  }

  /**
   * lru-cache's dump format: `[key, { value, ttl?, start? }]`, least recently
   * used first, `start` as a `Date.now()` timestamp; `load()` takes it back.
   */
  dump() {
    const rows = this.#list(LIST_DUMP)
    const now = this.#now()
    const wall = Date.now()
    const out = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const [key, value, start, ttl] = rows[i]
      const entry = { value }
      if (ttl > 0) {
        entry.ttl = ttl
        entry.start = Math.floor(wall - (now - start))
      }
      out[rows.length - 1 - i] = [key, entry]
    }
    return out
  }

  load(arr) {
    if (!Array.isArray(arr)) throw invalidArgType('arr', 'an array of [key, entry] pairs from dump()', arr)
    this.clear()
    const now = this.#now()
    const wall = Date.now()
    for (const row of arr) {
      if (!Array.isArray(row) || row.length !== 2 || row[1] === null || typeof row[1] !== 'object') {
        throw invalidArgType('arr', 'an array of [key, entry] pairs from dump()', row)
      }
      const [key, entry] = row
      const ttl = typeof entry.ttl === 'number' && entry.ttl > 0 ? entry.ttl : 0
      if (ttl > 0) this.#memoOff()
      const start = ttl > 0 && typeof entry.start === 'number' ? now - (wall - entry.start) : now
      const value = entry.value
      if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
        nSetJson(this.#h, key, toJson(key, value), ttl, start)
      } else if (value === undefined) {
        throw invalidValue(key, 'undefined is not a value')
      } else {
        nSet(this.#h, key, value, ttl, start)
      }
    }
  }

  /**
   * lru-cache's `info(key)`: `{ value, ttl?, start? }` without updating
   * recency, or undefined; `ttl` is the time left, `start` is `Date.now()`.
   */
  info(key) {
    const e = nEntry(this.#h, key)
    if (e === undefined) return undefined
    const [value, start, ttl] = e
    const entry = { value }
    if (ttl > 0) {
      entry.ttl = ttl - (this.#now() - start)
      entry.start = Date.now()
    }
    return entry
  }

  stats() {
    return nStats(this.#h)
  }

  /** Which native store this instance uses: `{ name, references, registered }`. */
  storeInfo() {
    return nInfo(this.#h)
  }

  #now() {
    const perf = this.#perf
    return perf === undefined ? nNow() : perf.now()
  }

  get size() {
    return nSize(this.#h)
  }
  get calculatedSize() {
    return nCalculatedSize(this.#h)
  }
  get max() {
    return this.#max
  }
  get maxSize() {
    return this.#maxSize
  }
  get maxEntrySize() {
    return this.#maxEntrySize
  }
  get ttl() {
    return this.#ttl
  }
  get updateAgeOnGet() {
    return this.#updateAgeOnGet
  }
  get allowStale() {
    return this.#allowStale
  }
  get name() {
    return this.#name
  }
  get dispose() {
    return this.#dispose
  }
  get perf() {
    return this.#perf
  }
  /** Whether the memo of hot values is in use (see `get`). */
  get memo() {
    return this.#memo !== null
  }
  get [Symbol.toStringTag]() {
    return 'BoundedCache'
  }

  /**
   * Forgets the shared store called `name`: the next `new BoundedCache({ name })`
   * creates a fresh one. Instances still using the old store keep working on
   * it; its memory is freed once they are all garbage-collected.
   * @returns {boolean} whether a store of that name existed
   */
  static drop(name) {
    if (typeof name !== 'string') throw invalidArgType('name', 'a string', name)
    return nDropNamed(name)
  }

  /** Names of the shared stores that currently exist in this process. */
  static names() {
    return nNames()
  }
}

module.exports = { BoundedCache, DEFAULTS }
