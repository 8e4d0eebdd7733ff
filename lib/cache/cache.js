'use strict'
// BoundedCache: lru-cache v11's API over an off-heap store (src/cache).
//
// Two paths. The hot one (get/peek/has/set with no per-call options, on a
// cache without fetches in flight, autopurge timers or disposeAfter) is one
// call into a raw N-API function bound to this instance's store, or a Map
// lookup in the memo of hot values (lib/cache/memo.js); nothing is allocated
// per call. Everything else (per-call options, status objects, onInsert,
// sizeCalculation, fetch, ttlAutopurge) takes the general path: the native
// `read`/`set` with lru-cache's options as flags, reporting what they did in
// a Float64Array (REPORT below) that fills lru-cache's status objects.
//
// What copy semantics and sharing across threads make different from
// lru-cache is listed in docs/cache.md.

const { cacheOps } = require('../common/native')
const { describe, withCode, invalidArgType, leakguardError } = require('../common/errors')
const { Memo } = require('./memo')
const { invalidValue, toJson } = require('./values')
const { DEFAULTS, CALL_OPTIONS, resolveOptions, warnUnknown, isPosInt, badOption } = require('./options')

const {
  open: nOpen,
  bind: nBind,
  read: nRead,
  expire: nExpire,
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
  now: nNow,
  stamps: nStamps
} = cacheOps

/**
 * The report of the native general read and set: one half of it; the other
 * is the const block "The report of the general read and set" in
 * src/cache/binding.rs (a spec checks that they agree through
 * `cacheOps.report`). Indexes into the report array, then flag bits.
 */
const REPORT = Object.freeze({
  FOUND: 0,
  TTL: 1,
  START: 2,
  NOW: 3,
  SET: 4,
  ENTRY_SIZE: 5,
  TOTAL: 6,
  LENGTH: 7,
  READ_ALLOW_STALE: 1,
  READ_UPDATE_AGE: 2,
  READ_TOUCH: 4,
  READ_DELETE_STALE: 8,
  READ_VALUE: 16,
  SET_NO_UPDATE_TTL: 1,
  REASON_EXPIRE: 1
})
const FOUND_MISS = 0
const FOUND_HIT = 1
const SET_KINDS = ['add', 'replace', 'update']
const REASON_FETCH = 2

const LIST_KEYS = 0
const LIST_VALUES = 1
const LIST_ENTRIES = 2
const LIST_DUMP = 3

/** Largest size one entry may count (the store keeps it in 32 bits). */
const MAX_ENTRY_COUNT = 2 ** 32 - 1

/** lru-cache's error for a size that is not a positive integer, with ours in front. */
function badSize(what, size) {
  return withCode(new TypeError(`${what}: invalid size value (must be positive integer)`), 'INVALID_OPTION', {
    received: size
  })
}

/** The time base of a named store: one process-wide clock for every thread. */
const NATIVE_CLOCK = Object.freeze({ now: nNow })
/**
 * lru-cache's default `perf`: the global `performance` (else `Date`), read
 * when the cache is made, so that fake timers installed before then drive it.
 */
function defaultPerf() {
  const p = globalThis.performance
  return typeof p === 'object' && p !== null && typeof p.now === 'function' ? p : Date
}

/** One report array per thread: every use is synchronous and read at once. */
const report = new Float64Array(REPORT.LENGTH)

class BoundedCache {
  #h
  #get
  #peek
  #has
  #set
  #getRemember
  // The memo of hot values (lib/cache/memo.js), null when off.
  #memo = null
  /** Whether the hot paths may be taken (see #refresh). */
  #plain = true
  #perf
  #dispose
  #onInsert
  #disposeAfter
  #disposed = null
  #fetchMethod
  #memoMethod
  #sizeCalculation
  #max
  #maxSize
  #name
  /** What the store was opened with (per-call or changed settings take the general path). */
  #storeTtl
  #storeAllowStale
  #storeUpdateAgeOnGet
  #ttl
  #allowStale
  #updateAgeOnGet
  /** Some entry may have a TTL, so reads need the time. */
  #ttlInUse
  #cachedNow = 0
  /** `perf` is the global performance (or Date), not one the user passed. */
  #defaultClock
  /** key -> autopurge timer (ttlAutopurge) */
  #timers = null
  /** key -> background fetch in flight */
  #inflight = new Map()
  /** Inside a set with noDisposeOnSet: removals for reason 'set' are not disposed. */
  #quietSet = false
  // lru-cache's settings that decide which path a call takes (accessors
  // below; the others are plain writable properties, as in lru-cache).
  #noDisposeOnSet
  #noDeleteOnStaleGet
  #updateAgeOnHas
  #noUpdateTTL

  /**
   * @param {import('../../index').BoundedCacheOptions} options
   */
  constructor(options) {
    const o = resolveOptions(options)
    this.#max = o.max
    this.#maxSize = o.maxSize
    this.maxEntrySize = o.maxEntrySize || o.maxSize
    this.#sizeCalculation = o.sizeCalculation
    this.#ttl = o.ttl
    this.#storeTtl = o.ttl
    this.ttlResolution = o.ttlResolution
    this.ttlAutopurge = o.ttlAutopurge
    this.#updateAgeOnGet = o.updateAgeOnGet
    this.#storeUpdateAgeOnGet = o.updateAgeOnGet
    this.#updateAgeOnHas = o.updateAgeOnHas
    this.#allowStale = o.allowStale
    this.#storeAllowStale = o.allowStale
    this.#noDisposeOnSet = o.noDisposeOnSet
    this.#noUpdateTTL = o.noUpdateTTL
    this.noDeleteOnFetchRejection = o.noDeleteOnFetchRejection
    this.#noDeleteOnStaleGet = o.noDeleteOnStaleGet
    this.allowStaleOnFetchRejection = o.allowStaleOnFetchRejection
    this.allowStaleOnFetchAbort = o.allowStaleOnFetchAbort
    this.ignoreFetchAbort = o.ignoreFetchAbort
    this.#dispose = o.dispose
    this.#onInsert = o.onInsert
    this.#disposeAfter = o.disposeAfter
    if (o.disposeAfter) this.#disposed = []
    this.#fetchMethod = o.fetchMethod
    this.#memoMethod = o.memoMethod
    this.#name = o.name
    // A named store is shared by threads whose performance.now() differ: it
    // keeps the process-wide native clock unless a perf is given.
    this.#perf = o.perf ?? (o.name === undefined ? defaultPerf() : undefined)
    this.#defaultClock = o.perf === undefined
    this.#ttlInUse = o.ttl > 0
    if (o.ttlAutopurge) this.#timers = new Map()
    // The native side calls back on removals only when someone listens.
    const listens = o.dispose || o.disposeAfter || o.ttlAutopurge || o.fetchMethod
    this.#h = nOpen(
      o.name,
      o.max,
      o.maxSize,
      o.maxEntrySize,
      o.ttl,
      o.updateAgeOnGet,
      o.allowStale,
      listens ? (v, k, reason) => this.#removed(v, k, reason) : undefined,
      o.sizeCalculation !== undefined
    )
    // The memo only where it is exact and cheap: no expiry to check,
    // nothing called back on removals, no sizes to calculate per set. For a
    // named store, entries are checked against the store's change stamps,
    // which every thread's changes bump.
    const useMemo = o.memo && !o.ttl && !listens && !o.sizeCalculation
    if (useMemo) this.#memo = new Memo(o.name === undefined ? undefined : nStamps(this.#h))
    const [get, peek, has, set, getRemember, touch] = useMemo
      ? nBind(this.#h, this.#memo.queue, this.#memo.seen)
      : nBind(this.#h)
    if (useMemo) this.#memo.replay = touch
    this.#get = get
    this.#peek = peek
    this.#has = has
    this.#set = set
    this.#getRemember = getRemember
    this.#refresh()
  }

  /** Whether get/peek/has/set without options may take the hot path. */
  #refresh() {
    this.#plain =
      this.#inflight.size === 0 &&
      this.#disposed === null &&
      this.#timers === null &&
      this.#onInsert === undefined &&
      this.#sizeCalculation === undefined &&
      this.#ttl === this.#storeTtl &&
      this.#allowStale === this.#storeAllowStale &&
      this.#updateAgeOnGet === this.#storeUpdateAgeOnGet &&
      !this.#noDisposeOnSet &&
      !this.#noDeleteOnStaleGet &&
      !this.#updateAgeOnHas &&
      !this.#noUpdateTTL
    if (!this.#plain || this.#ttlInUse) this.#memoOff()
  }

  // ---- time -----------------------------------------------------------------

  /**
   * The time for expiry checks: perf.now() (reused for ttlResolution ms, as
   * lru-cache does), or undefined for the native clock.
   */
  #now() {
    if (this.#cachedNow !== 0) return this.#cachedNow
    const perf = this.#perf
    if (perf === undefined) return undefined
    const n = this.#read(perf)
    // Only the default clock is reused: a perf the user passed (a fake
    // clock in a test) is read every time, so that it drives expiry exactly.
    if (this.ttlResolution > 0 && this.#defaultClock) {
      this.#cachedNow = n
      const t = setTimeout(() => {
        this.#cachedNow = 0
      }, this.ttlResolution)
      t.unref?.()
    }
    return n
  }

  /** The time for starting a TTL: a fresh reading. */
  #startTime() {
    const perf = this.#perf
    return perf === undefined ? undefined : this.#read(perf)
  }

  /** perf.now(), which must stay a finite number: switching time base silently would corrupt every TTL. */
  #read(perf) {
    const n = perf.now()
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      throw withCode(
        new TypeError(
          `perf.now() returned ${describe(n)}, not a finite number; BoundedCache will not switch time base mid-way (options.perf)`
        ),
        'INVALID_OPTION'
      )
    }
    return n
  }

  /** The time a read passes to the store, or undefined when no entry can have a TTL. */
  #readTime() {
    return this.#ttlInUse ? this.#now() : undefined
  }

  // ---- removals -------------------------------------------------------------

  /** Every entry the store removes, when someone listens (dispose, disposeAfter, autopurge, fetch). */
  #removed(value, key, reason) {
    if (this.#timers !== null && reason !== 'set') this.#clearTimer(key)
    if (reason === 'evict' || reason === 'delete') {
      const bf = this.#inflight.get(key)
      if (bf !== undefined && bf.__staleWhileFetching !== undefined) {
        this.#inflight.delete(key)
        this.#refresh()
        bf.__abortController.abort(new Error(reason === 'evict' ? 'evicted' : 'deleted'))
        return
      }
    }
    if (reason === 'set' && this.#quietSet) return
    this.#dispose?.(value, key, reason)
    this.#disposed?.push([value, key, reason])
  }

  /** Calls disposeAfter for what the last operation removed. */
  #flush() {
    const queue = this.#disposed
    if (queue === null || queue.length === 0) return
    let task
    while ((task = queue.shift()) !== undefined) this.#disposeAfter(...task)
  }

  #clearTimer(key) {
    const t = this.#timers.get(key)
    if (t !== undefined) {
      clearTimeout(t)
      this.#timers.delete(key)
    }
  }

  #schedulePurge(key, ttl) {
    this.#clearTimer(key)
    if (!(ttl > 0)) return
    const t = setTimeout(() => {
      this.#timers.delete(key)
      nExpire(this.#h, key, this.#now())
      this.#flush()
    }, ttl + 1)
    t.unref?.()
    this.#timers.set(key, t)
  }

  // ---- the memo ---------------------------------------------------------------

  #getAndRemember(memo, key) {
    memo.missed()
    const slot = memo.freeSlot()
    const value = this.#getRemember(key, slot)
    if (value !== undefined) memo.remember(key, slot, value)
    return value
  }

  /** Turns the memo off for good (a ttl or a per-call option came into play). */
  #memoOff() {
    if (this.#memo === null) return
    this.#memo.forget()
    this.#memo = null
  }

  // ---- reads ----------------------------------------------------------------

  // get() is kept small so that V8 inlines it into the caller: the hot
  // path is a field check and one native call, everything else is a call
  // away (inlining the whole method was not done, which cost a JS call and
  // the loads around it on every get).
  get(key, options) {
    if (options === undefined && this.#plain) {
      const memo = this.#memo
      if (memo !== null) return this.#getMemo(memo, key)
      return this.#ttlInUse ? this.#get(key, this.#now()) : this.#get(key)
    }
    return this.#getWithOptions(key, options)
  }

  /** get() while the memo of hot values may serve it. */
  #getMemo(memo, key) {
    if (memo.on || memo.sampled()) {
      const slot = memo.slots.get(key)
      if (slot !== undefined) {
        if (memo.valid(slot)) return memo.hit(slot)
        memo.dropSlot(slot) // another thread changed it
      }
      return this.#getAndRemember(memo, key)
    }
    return this.#ttlInUse ? this.#get(key, this.#now()) : this.#get(key)
  }

  /** get() with per-call options, or on the general path. */
  #getWithOptions(key, options) {
    const status = options?.status
    if (status) {
      status.op = 'get'
      status.key = key
    }
    const value = this.#getGeneral(key, options)
    if (status && value !== undefined) status.value = value
    return value
  }

  /** lru-cache's get with per-call options, fetches in flight, and status. */
  #getGeneral(key, options) {
    if (options !== undefined) warnUnknown('get options', options, CALL_OPTIONS)
    const allowStale = options?.allowStale ?? this.#allowStale
    const updateAge = options?.updateAgeOnGet ?? this.#updateAgeOnGet
    const bf = this.#inflight.get(key)
    const keepStale = bf !== undefined || (options?.noDeleteOnStaleGet ?? this.#noDeleteOnStaleGet)
    const status = options?.status
    const flags =
      REPORT.READ_TOUCH |
      REPORT.READ_VALUE |
      REPORT.READ_ALLOW_STALE |
      (updateAge ? REPORT.READ_UPDATE_AGE : 0) |
      (keepStale ? 0 : REPORT.READ_DELETE_STALE)
    const value = nRead(this.#h, key, this.#readTime(), flags, report)
    this.#flush()
    const found = report[REPORT.FOUND]
    if (found === FOUND_MISS) {
      if (status) status.get = bf === undefined ? 'miss' : 'fetching'
      return undefined
    }
    if (status) this.#statusTtl(status)
    if (found === FOUND_HIT) {
      if (status) status.get = bf === undefined ? 'hit' : 'fetching'
      return value
    }
    if (status) status.get = bf === undefined ? 'stale' : 'stale-fetching'
    if (allowStale) {
      if (status) status.returnedStale = true
      return value
    }
    return undefined
  }

  /** lru-cache's status fields for an entry with a TTL, from the last report. */
  #statusTtl(status) {
    const ttl = report[REPORT.TTL]
    if (!(ttl > 0)) return
    const start = report[REPORT.START]
    const now = report[REPORT.NOW]
    status.ttl = ttl
    status.start = start
    status.now = now
    status.remainingTTL = ttl - (now - start)
  }

  peek(key, options) {
    if (options === undefined && this.#plain) {
      const memo = this.#memo
      if (memo !== null) {
        const slot = memo.slots.get(key)
        if (slot !== undefined && memo.valid(slot)) return memo.values[slot]
      }
      const now = this.#readTime()
      return now === undefined ? this.#peek(key) : this.#peek(key, now)
    }
    if (options !== undefined) warnUnknown('peek options', options, CALL_OPTIONS)
    const status = options?.status
    if (status) {
      status.op = 'peek'
      status.key = key
    }
    const allowStale = options?.allowStale ?? this.#allowStale
    const value = nRead(this.#h, key, this.#readTime(), REPORT.READ_VALUE | REPORT.READ_ALLOW_STALE, report)
    const found = report[REPORT.FOUND]
    if (found === FOUND_MISS || (found !== FOUND_HIT && !allowStale)) {
      if (status) status.peek = found === FOUND_MISS ? 'miss' : 'stale'
      return undefined
    }
    if (status) {
      status.peek = 'hit'
      status.value = value
    }
    return value
  }

  has(key, options) {
    if (options === undefined && this.#plain) {
      const memo = this.#memo
      if (memo !== null) {
        const slot = memo.slots.get(key)
        if (slot !== undefined && memo.valid(slot)) return true
      }
      const now = this.#readTime()
      return now === undefined ? this.#has(key) : this.#has(key, now)
    }
    if (options !== undefined) warnUnknown('has options', options, CALL_OPTIONS)
    const status = options?.status
    if (status) {
      status.op = 'has'
      status.key = key
    }
    const updateAge = options?.updateAgeOnHas ?? this.#updateAgeOnHas
    const found = nRead(this.#h, key, this.#readTime(), updateAge ? REPORT.READ_UPDATE_AGE : 0, report)
    const seen = report[REPORT.FOUND]
    if (status) {
      if (seen === FOUND_MISS) status.has = 'miss'
      else {
        status.has = found ? 'hit' : 'stale'
        this.#statusTtl(status)
      }
    }
    return found
  }

  // ---- writes ---------------------------------------------------------------

  set(key, value, options) {
    if (options === undefined && this.#plain && value !== undefined) {
      const memo = this.#memo
      // The value the store already holds: nothing changes but recency and
      // the sets count, which the memo's queue carries to the store.
      if (memo?.setSame(key, value)) return this
      let evicted
      if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
        evicted = nSetJson(this.#h, key, toJson(key, value), undefined, this.#ttlInUse ? this.#startTime() : undefined)
      } else if (!this.#ttlInUse) {
        // The common case: two arguments, so that native reads no ttl or now.
        evicted = this.#set(key, value)
      } else {
        evicted = this.#set(key, value, undefined, this.#startTime())
      }
      memo?.afterSet(evicted)
      return this
    }
    const status = options?.status
    if (status) {
      status.op = 'set'
      status.key = key
      if (value !== undefined) status.value = value
    }
    this.#setGeneral(key, value, options, false)
    return this
  }

  /**
   * lru-cache's set with per-call options, onInsert, sizeCalculation,
   * autopurge and status. `fetched`: the value a fetch() resolved to, which
   * lru-cache stores over its placeholder (so it is a 'replace').
   */
  #setGeneral(key, value, options, fetched) {
    if (options !== undefined) {
      if (options === null || typeof options !== 'object') throw invalidArgType('options', 'an object', options)
      warnUnknown('set options', options, CALL_OPTIONS)
    }
    const status = options?.status
    if (status && value !== undefined) status.value = value
    if (value === undefined) {
      // lru-cache: setting undefined deletes.
      if (status) status.set = 'deleted'
      this.delete(key)
      return
    }
    let ttl = options?.ttl
    if (ttl !== undefined && ttl !== this.#ttl) {
      if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0 || ttl > Number.MAX_SAFE_INTEGER) {
        throw badOption('options.ttl', 'a non-negative finite number (ms)', ttl)
      }
    } else ttl = this.#ttl
    const start = options?.start
    if (start !== undefined && (typeof start !== 'number' || !Number.isFinite(start))) {
      throw badOption('options.start', 'a finite number (a perf.now() time)', start)
    }
    const size = this.#entrySize(key, value, options)
    if (ttl > 0) this.#ttlInUse = true
    this.#memo?.drop(key)
    if (this.#ttlInUse) this.#memoOff()
    const bf = this.#inflight.get(key)
    if (bf !== undefined) {
      this.#inflight.delete(key)
      this.#refresh()
      bf.__abortController.abort(new Error('replaced'))
    }
    // lru-cache keeps a fetch in flight as an entry: storing over it replaces it.
    const overFetch = fetched || bf !== undefined
    const noUpdateTTL = options?.noUpdateTTL ?? this.#noUpdateTTL
    const needReport = status !== undefined || this.#onInsert !== undefined || this.#timers !== null
    let oldValue
    if (status) {
      const old = nEntry(this.#h, key)
      if (old !== undefined) oldValue = old[0]
    }
    const now = start ?? (this.#ttlInUse ? this.#startTime() : undefined)
    const isJson = typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)
    this.#quietSet = options?.noDisposeOnSet ?? this.#noDisposeOnSet
    let evicted
    try {
      evicted = (isJson ? nSetJson : nSet)(
        this.#h,
        key,
        isJson ? toJson(key, value) : value,
        ttl,
        now,
        size,
        start,
        noUpdateTTL ? REPORT.SET_NO_UPDATE_TTL : 0,
        needReport ? report : undefined
      )
    } finally {
      this.#quietSet = false
      this.#flush()
    }
    this.#memo?.afterSet(evicted)
    if (!needReport) return
    let kind = SET_KINDS[report[REPORT.SET]]
    if (overFetch && kind === 'add') kind = 'replace'
    if (status) {
      if (kind !== 'update' && (this.#maxSize || this.maxEntrySize)) {
        status.entrySize = report[REPORT.ENTRY_SIZE]
        status.totalCalculatedSize = report[REPORT.TOTAL]
      }
      status.set = kind
      if (kind === 'replace' && oldValue !== undefined) status.oldValue = oldValue
      this.#statusTtl(status)
    }
    if (this.#timers !== null) this.#schedulePurge(key, report[REPORT.TTL])
    this.#onInsert?.(value, key, kind)
  }

  /** The size an entry counts: sizeCalculation's or the `size` option, else undefined (exact bytes). */
  #entrySize(key, value, options) {
    let size = options?.size
    // lru-cache's rule: only an absent per-call sizeCalculation means the cache's.
    const calc = options?.sizeCalculation === undefined ? this.#sizeCalculation : options.sizeCalculation
    if (size === undefined || size === 0) {
      if (!calc) {
        if (size === 0 && (this.#maxSize || this.maxEntrySize)) throw badSize('options.size is 0', size)
        return undefined
      }
      if (typeof calc !== 'function') {
        throw withCode(
          new TypeError(`options.sizeCalculation is ${describe(calc)}: sizeCalculation must be a function`),
          'INVALID_OPTION'
        )
      }
      size = calc(value, key)
      if (!isPosInt(size)) {
        throw withCode(
          new TypeError(
            `options.sizeCalculation returned ${describe(size)}: sizeCalculation return invalid (expect positive integer)`
          ),
          'INVALID_OPTION'
        )
      }
    } else if (!isPosInt(size)) {
      throw badSize(`options.size is ${describe(size)}`, size)
    }
    if (!this.#maxSize && !this.maxEntrySize) {
      throw withCode(
        new TypeError(
          'options.size and options.sizeCalculation need options.maxSize or options.maxEntrySize: cannot set size without setting maxSize or maxEntrySize on cache'
        ),
        'INVALID_OPTION'
      )
    }
    if (size > MAX_ENTRY_COUNT) throw badOption('the size of an entry', `at most ${MAX_ENTRY_COUNT}`, size)
    return size
  }

  delete(key) {
    this.#memo?.drop(key)
    const bf = this.#inflight.get(key)
    if (bf !== undefined && bf.__staleWhileFetching === undefined) {
      // A fetch for a key with no value yet: lru-cache counts it as an entry.
      this.#inflight.delete(key)
      this.#refresh()
      bf.__abortController.abort(new Error('deleted'))
      return true
    }
    const found = nDelete(this.#h, key)
    this.#flush()
    return found
  }

  clear() {
    this.#memo?.forget()
    for (const bf of this.#inflight.values()) bf.__abortController.abort(new Error('deleted'))
    if (this.#inflight.size) {
      this.#inflight.clear()
      this.#refresh()
    }
    nClear(this.#h)
    if (this.#timers !== null) {
      for (const t of this.#timers.values()) clearTimeout(t)
      this.#timers.clear()
    }
    this.#flush()
  }

  pop() {
    this.#memo?.forget()
    try {
      return nPop(this.#h)
    } finally {
      this.#flush()
    }
  }

  getRemainingTTL(key) {
    return nRemainingTtl(this.#h, key, this.#now())
  }

  purgeStale() {
    const any = nPurgeStale(this.#h, this.#now())
    this.#flush()
    return any
  }

  // ---- fetch and memo -----------------------------------------------------------

  /**
   * lru-cache's fetch(): the cached value, or `fetchMethod`'s result stored
   * and returned; stale-while-revalidate with allowStale; one fetch per key
   * in flight (per instance; see docs/cache.md for named stores).
   */
  fetch(key, options) {
    // A hit with nothing to decide (no options, no TTL so nothing is stale,
    // no fetch in flight for the key) is a plain get.
    if (options === undefined) {
      if (this.#plain && !this.#ttlInUse && this.#fetchMethod !== undefined) {
        const v = this.get(key)
        if (v !== undefined) return Promise.resolve(v)
      }
      options = {}
    }
    if (options === null || typeof options !== 'object') {
      return Promise.reject(invalidArgType('options', 'an object', options))
    }
    const status = options.status
    if (status && options.context) status.context = options.context
    return this.#fetch(key, options)
  }

  async #fetch(key, fo) {
    warnUnknown('fetch options', fo, CALL_OPTIONS)
    const allowStale = fo.allowStale ?? this.#allowStale
    const updateAgeOnGet = fo.updateAgeOnGet ?? this.#updateAgeOnGet
    const noDeleteOnStaleGet = fo.noDeleteOnStaleGet ?? this.#noDeleteOnStaleGet
    const { status, signal, context, forceRefresh = false } = fo
    if (status) {
      status.op = 'fetch'
      status.key = key
      if (forceRefresh) status.forceRefresh = true
    }
    if (this.#fetchMethod === undefined) {
      if (status) status.fetch = 'get'
      return this.#getGeneral(key, { allowStale, updateAgeOnGet, noDeleteOnStaleGet, status })
    }
    const options = {
      allowStale,
      updateAgeOnGet,
      noDeleteOnStaleGet,
      ttl: fo.ttl ?? this.#ttl,
      noDisposeOnSet: fo.noDisposeOnSet ?? this.#noDisposeOnSet,
      size: fo.size ?? 0,
      sizeCalculation: fo.sizeCalculation ?? this.#sizeCalculation,
      noUpdateTTL: fo.noUpdateTTL ?? this.#noUpdateTTL,
      noDeleteOnFetchRejection: fo.noDeleteOnFetchRejection ?? this.noDeleteOnFetchRejection,
      allowStaleOnFetchRejection: fo.allowStaleOnFetchRejection ?? this.allowStaleOnFetchRejection,
      allowStaleOnFetchAbort: fo.allowStaleOnFetchAbort ?? this.allowStaleOnFetchAbort,
      ignoreFetchAbort: fo.ignoreFetchAbort ?? this.ignoreFetchAbort,
      status,
      signal
    }
    const inflight = this.#inflight.get(key)
    if (inflight !== undefined) {
      const stale = allowStale && inflight.__staleWhileFetching !== undefined
      if (status) {
        status.fetch = 'inflight'
        if (stale) status.returnedStale = true
      }
      return stale ? inflight.__staleWhileFetching : (inflight.__returned = inflight)
    }
    // One read: a fresh hit is touched (and aged), a stale one kept for now.
    const value = nRead(
      this.#h,
      key,
      this.#readTime(),
      REPORT.READ_TOUCH | REPORT.READ_VALUE | REPORT.READ_ALLOW_STALE | (updateAgeOnGet ? REPORT.READ_UPDATE_AGE : 0),
      report
    )
    const found = report[REPORT.FOUND]
    if (found === FOUND_MISS) {
      if (status) status.fetch = 'miss'
      const p = this.#backgroundFetch(key, undefined, options, context)
      return (p.__returned = p)
    }
    const isStale = found !== FOUND_HIT
    if (!forceRefresh && !isStale) {
      if (status) {
        status.fetch = 'hit'
        this.#statusTtl(status)
      }
      return value
    }
    const p = this.#backgroundFetch(key, value, options, context)
    const staleVal = value !== undefined && allowStale
    if (status) {
      status.fetch = isStale ? 'stale' : 'refresh'
      if (staleVal && isStale) status.returnedStale = true
    }
    return staleVal ? value : (p.__returned = p)
  }

  /** lru-cache's forceFetch(): fetch(), but a result of undefined is an error. */
  async forceFetch(key, options = {}) {
    const v = await this.fetch(key, options)
    if (v === undefined) throw leakguardError('INVALID_VALUE', 'fetch() returned undefined')
    return v
  }

  /**
   * Starts `fetchMethod(key, stale, { signal, options, context })` and
   * stores what it resolves to, with lru-cache's rules for aborts and
   * rejections. The promise carries lru-cache's BackgroundFetch fields.
   */
  #backgroundFetch(key, stale, options, context) {
    const ac = new AbortController()
    const { signal } = options
    signal?.addEventListener('abort', () => ac.abort(signal.reason), { signal: ac.signal })
    const fetchOpts = { signal: ac.signal, options, context }
    let p
    const current = () => this.#inflight.get(key) === p
    const settle = () => {
      if (current()) {
        this.#inflight.delete(key)
        this.#refresh()
      }
    }
    const fetchFail = (er, proceed) => {
      const { aborted } = ac.signal
      const allowStaleAborted = aborted && options.allowStaleOnFetchAbort
      const allowStale = allowStaleAborted || options.allowStaleOnFetchRejection
      const noDelete = allowStale || options.noDeleteOnFetchRejection
      if (current()) {
        const del = !noDelete || (!proceed && p.__staleWhileFetching === undefined)
        if (del) {
          settle()
          if (p.__staleWhileFetching !== undefined) {
            nDelete(this.#h, key, REASON_FETCH)
            this.#flush()
          }
        } else if (!allowStaleAborted) settle()
      }
      if (allowStale) {
        if (options.status && p.__staleWhileFetching !== undefined) options.status.returnedStale = true
        return p.__staleWhileFetching
      }
      if (p.__returned === p) throw er
      return undefined
    }
    const cb = (v, updateCache = false) => {
      const { aborted } = ac.signal
      const ignoreAbort = options.ignoreFetchAbort && v !== undefined
      const proceed = options.ignoreFetchAbort || !!(options.allowStaleOnFetchAbort && v !== undefined)
      if (options.status) {
        if (aborted && !updateCache) {
          options.status.fetchAborted = true
          options.status.fetchError = ac.signal.reason
          if (ignoreAbort) options.status.fetchAbortIgnored = true
        } else options.status.fetchResolved = true
      }
      if (aborted && !ignoreAbort && !updateCache) return fetchFail(ac.signal.reason, proceed)
      if (current() || (!this.#inflight.has(key) && ignoreAbort && updateCache)) {
        settle()
        if (v !== undefined) {
          if (options.status) options.status.fetchUpdated = true
          this.#setGeneral(key, v, options, true)
        }
      }
      return v
    }
    const eb = (er) => {
      if (options.status) {
        options.status.fetchRejected = true
        options.status.fetchError = er
      }
      return fetchFail(er, false)
    }
    const pcall = (res, rej) => {
      const fmp = this.#fetchMethod(key, stale, fetchOpts)
      if (fmp && fmp instanceof Promise) fmp.then((v) => res(v === undefined ? undefined : v), rej)
      ac.signal.addEventListener('abort', () => {
        if (!options.ignoreFetchAbort || options.allowStaleOnFetchAbort) {
          res(undefined)
          if (options.allowStaleOnFetchAbort) res = (v) => cb(v, true)
        }
      })
    }
    if (options.status) options.status.fetchDispatched = true
    p = Object.assign(new Promise(pcall).then(cb, eb), {
      __abortController: ac,
      __staleWhileFetching: stale,
      __returned: undefined
    })
    this.#inflight.set(key, p)
    this.#refresh()
    return p
  }

  /**
   * lru-cache's memo(): the cached value, or `memoMethod(key, stale,
   * { options, context })` stored and returned (synchronously).
   */
  memo(key, memoOptions = {}) {
    const { context, status, forceRefresh, ...options } = memoOptions
    if (status) {
      status.op = 'memo'
      status.key = key
      if (context) status.context = context
    }
    const memoMethod = this.#memoMethod
    if (memoMethod === undefined) {
      throw withCode(
        new TypeError('memo() needs options.memoMethod: no memoMethod provided to constructor'),
        'INVALID_OPTION'
      )
    }
    if (status && forceRefresh) status.forceRefresh = true
    const v = this.#getGeneral(key, options)
    const refresh = forceRefresh || v === undefined
    if (status) {
      status.memo = refresh ? 'miss' : 'hit'
      if (!refresh) status.value = v
    }
    if (!refresh) return v
    const vv = memoMethod(key, v, { options, context })
    if (status) status.value = vv
    this.#setGeneral(key, vv, options, false)
    return vv
  }

  // ---- iteration --------------------------------------------------------------

  #list(mode) {
    return nList(this.#h, this.#readTime(), mode)
  }

  /** Keys, most recently used first (a snapshot taken when iteration starts). */
  *keys() {
    yield* this.#list(LIST_KEYS)
  }
  /** Keys, least recently used first. */
  *rkeys() {
    yield* this.#list(LIST_KEYS).reverse()
  }
  /** Values, most recently used first. */
  *values() {
    yield* this.#list(LIST_VALUES)
  }
  /** Values, least recently used first. */
  *rvalues() {
    yield* this.#list(LIST_VALUES).reverse()
  }
  /** [key, value] pairs, most recently used first. */
  *entries() {
    yield* this.#list(LIST_ENTRIES)
  }
  /** [key, value] pairs, least recently used first. */
  *rentries() {
    yield* this.#list(LIST_ENTRIES).reverse()
  }
  [Symbol.iterator]() {
    return this.entries()
  }

  forEach(fn, thisArg = this) {
    if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
    for (const [k, v] of this.#list(LIST_ENTRIES)) fn.call(thisArg, v, k, this)
  }

  rforEach(fn, thisArg = this) {
    if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
    for (const [k, v] of this.#list(LIST_ENTRIES).reverse()) fn.call(thisArg, v, k, this)
  }

  /** lru-cache's find(): the first entry (MRU first) `fn` accepts, read with get(key, options). */
  find(fn, getOptions) {
    if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
    for (const [k, v] of this.#list(LIST_ENTRIES)) {
      if (fn(v, k, this)) return this.get(k, getOptions)
    }
    return undefined
  }

  // ---- dump and load ------------------------------------------------------------

  /**
   * lru-cache's dump format: `[key, { value, ttl?, start?, size? }]`, least
   * recently used first, `start` as a `Date.now()` timestamp; `load()` takes
   * it back.
   */
  dump() {
    const rows = this.#list(LIST_DUMP)
    const now = this.#clock()
    const wall = Date.now()
    const sized = Boolean(this.#maxSize || this.maxEntrySize)
    const out = new Array(rows.length)
    for (let i = 0; i < rows.length; i++) {
      const [key, value, start, ttl, size] = rows[i]
      const entry = { value }
      if (ttl > 0) {
        entry.ttl = ttl
        entry.start = Math.floor(wall - (now - start))
      }
      if (sized) entry.size = size
      out[rows.length - 1 - i] = [key, entry]
    }
    return out
  }

  load(arr) {
    if (!Array.isArray(arr)) throw invalidArgType('arr', 'an array of [key, entry] pairs from dump()', arr)
    // Checked whole before anything changes: a bad row leaves the cache as it was.
    for (const row of arr) checkDumpRow(row)
    this.clear()
    const now = this.#clock()
    const wall = Date.now()
    for (const [key, entry] of arr) {
      const ttl = entry.ttl ?? 0
      const options = { ttl }
      if (ttl > 0 && entry.start !== undefined) options.start = now - (wall - entry.start)
      if (entry.size !== undefined && (this.#maxSize || this.maxEntrySize)) options.size = entry.size
      this.#setGeneral(key, entry.value, options, false)
    }
  }

  /** The time now on the store's clock (perf, or native). */
  #clock() {
    return this.#startTime() ?? nNow()
  }

  /**
   * lru-cache's `info(key)`: `{ value, ttl?, start?, size? }` without
   * updating recency, or undefined; `ttl` is the time left, `start` is `Date.now()`.
   */
  info(key) {
    const e = nEntry(this.#h, key)
    if (e === undefined) return undefined
    const [value, start, ttl, size] = e
    const entry = { value }
    if (ttl > 0) {
      entry.ttl = ttl - (this.#clock() - start)
      entry.start = Date.now()
    }
    if (this.#maxSize || this.maxEntrySize) entry.size = size
    return entry
  }

  stats() {
    return nStats(this.#h)
  }

  /** Which native store this instance uses: `{ name, references, registered }`. */
  storeInfo() {
    return nInfo(this.#h)
  }

  // ---- properties -------------------------------------------------------------

  get size() {
    return nSize(this.#h)
  }
  get calculatedSize() {
    return nCalculatedSize(this.#h)
  }
  /** lru-cache's `max`: 0 when only `maxSize` bounds the cache. */
  get max() {
    return this.#max
  }
  get maxSize() {
    return this.#maxSize
  }
  get ttl() {
    return this.#ttl
  }
  set ttl(v) {
    this.#ttl = v
    if (v > 0) this.#ttlInUse = true
    this.#refresh()
  }
  get updateAgeOnGet() {
    return this.#updateAgeOnGet
  }
  set updateAgeOnGet(v) {
    this.#updateAgeOnGet = v
    this.#refresh()
  }
  get allowStale() {
    return this.#allowStale
  }
  set allowStale(v) {
    this.#allowStale = v
    this.#refresh()
  }
  get noDisposeOnSet() {
    return this.#noDisposeOnSet
  }
  set noDisposeOnSet(v) {
    this.#noDisposeOnSet = v
    this.#refresh()
  }
  get noDeleteOnStaleGet() {
    return this.#noDeleteOnStaleGet
  }
  set noDeleteOnStaleGet(v) {
    this.#noDeleteOnStaleGet = v
    this.#refresh()
  }
  get updateAgeOnHas() {
    return this.#updateAgeOnHas
  }
  set updateAgeOnHas(v) {
    this.#updateAgeOnHas = v
    this.#refresh()
  }
  get noUpdateTTL() {
    return this.#noUpdateTTL
  }
  set noUpdateTTL(v) {
    this.#noUpdateTTL = v
    this.#refresh()
  }
  get sizeCalculation() {
    return this.#sizeCalculation
  }
  get name() {
    return this.#name
  }
  get dispose() {
    return this.#dispose
  }
  get disposeAfter() {
    return this.#disposeAfter
  }
  get onInsert() {
    return this.#onInsert
  }
  get fetchMethod() {
    return this.#fetchMethod
  }
  get memoMethod() {
    return this.#memoMethod
  }
  get perf() {
    return this.#perf ?? NATIVE_CLOCK
  }
  /** Whether the memo of hot values serves reads now (see lib/cache/memo.js: it steps aside while it does not pay). */
  get memoActive() {
    return this.#memo?.on === true
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

/** One row of dump()'s output, validated like the arguments of set(). */
function checkDumpRow(row) {
  if (!Array.isArray(row) || row.length !== 2 || row[1] === null || typeof row[1] !== 'object') {
    throw invalidArgType('arr', 'an array of [key, entry] pairs from dump()', row)
  }
  const [key, entry] = row
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw invalidArgType('arr', 'rows whose key is a string or a number', key)
  }
  if (entry.value === undefined) throw invalidValue(key, 'undefined is not a value')
  const { ttl, start, size } = entry
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) {
    throw badOption(`arr entry ${describe(key)}: ttl`, 'a non-negative finite number (ms)', ttl)
  }
  if (start !== undefined && (typeof start !== 'number' || !Number.isFinite(start))) {
    throw badOption(`arr entry ${describe(key)}: start`, 'a finite number (a Date.now() time)', start)
  }
  if (size !== undefined && !isPosInt(size)) {
    throw badOption(`arr entry ${describe(key)}: size`, 'a positive integer', size)
  }
}

module.exports = { BoundedCache, DEFAULTS, REPORT }
