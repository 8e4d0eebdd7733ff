// Public types of leakguard. Hand-written: the generated loader's types live
// in binding.d.ts and are not part of the public API.

/** A count of bytes. */
export type Bytes = number
/** A duration in milliseconds. */
export type Milliseconds = number

/** The stable `code` of every error leakguard throws, keyed by short name. */
export declare const codes: Readonly<{
  INVALID_OPTION: 'ERR_LEAKGUARD_INVALID_OPTION'
  INVALID_ARGUMENT: 'ERR_LEAKGUARD_INVALID_ARGUMENT'
  INVALID_VALUE: 'ERR_LEAKGUARD_INVALID_VALUE'
  PANIC: 'ERR_LEAKGUARD_PANIC'
  IO: 'ERR_LEAKGUARD_IO'
  MALFORMED_SNAPSHOT: 'ERR_LEAKGUARD_MALFORMED_SNAPSHOT'
  TIMEOUT: 'ERR_LEAKGUARD_TIMEOUT'
  ABORTED: 'ERR_LEAKGUARD_ABORTED'
  OPTIONS_MISMATCH: 'ERR_LEAKGUARD_OPTIONS_MISMATCH'
  ENTRY_TOO_LARGE: 'ERR_LEAKGUARD_ENTRY_TOO_LARGE'
  SCOPE_CLOSED: 'ERR_LEAKGUARD_SCOPE_CLOSED'
  LEFT_OPEN: 'ERR_LEAKGUARD_LEFT_OPEN'
  MISSING_PEER: 'ERR_LEAKGUARD_MISSING_PEER'
}>
export type LeakGuardErrorCode = (typeof codes)[keyof typeof codes]

/** Memory figures of this process, in bytes. */
export interface ProcessMemory {
  /** Resident set size, read natively (kept-open `/proc/self/statm` on Linux). */
  rss: Bytes
  /** V8 heap reserved (`heapTotal` of `process.memoryUsage()`). */
  heapTotal: Bytes
  /** V8 heap in use, live objects plus not-yet-collected garbage. */
  heapUsed: Bytes
  /** Memory of C++ objects bound to JS objects (Buffers, native addons). */
  external: Bytes
  /**
   * Memory of ArrayBuffers and SharedArrayBuffers (included in `external`).
   * Only present when `{ arrayBuffers: true }` is passed: Node exposes it only
   * through `process.memoryUsage()`, which costs ~8 µs per call.
   */
  arrayBuffers: Bytes | undefined
}

export interface ProcessMemoryOptions {
  /** Also read `arrayBuffers` (costs one `process.memoryUsage()` call). Default `false`. */
  arrayBuffers?: boolean
}

/**
 * The figures of `process.memoryUsage()` at a fraction of its cost: RSS read
 * natively, heap figures from `v8.getHeapStatistics()`.
 * @throws {TypeError} `ERR_LEAKGUARD_INVALID_OPTION` for a bad `options`.
 */
export declare function processMemory(options?: ProcessMemoryOptions): ProcessMemory

// ---- BoundedCache -------------------------------------------------------------------

/** Why an entry left a `BoundedCache` (lru-cache's reasons). */
export type DisposeReason = 'evict' | 'set' | 'delete' | 'expire' | 'clear'

/** A cache key: strings and numbers (`1` and `'1'` are different keys; `0` and `-0` are one). */
export type CacheKey = string | number

/** A value that can be stored: it is copied into native memory. */
export type CacheValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | readonly CacheValue[]
  | { readonly [key: string]: CacheValue }

/** What a value reads back as: `Uint8Array`s come back as `Buffer`s. */
export type Stored<V> = V extends Uint8Array ? Buffer : V

export interface BoundedCacheOptions<K extends CacheKey = CacheKey, V extends CacheValue = CacheValue> {
  /**
   * Most entries held; setting one more evicts the least recently used.
   * Integer in [1, 2^32]. At least one of `max` and `maxSize` is required:
   * a cache without a bound is refused (`ERR_LEAKGUARD_INVALID_OPTION`).
   */
  max?: number
  /**
   * Most bytes held, counted exactly as stored: per entry, the key's UTF-8
   * bytes (9 for a number key) + 1 type byte + the value's bytes (UTF-8 of a
   * string, a Buffer's length, 8 for a number, 0 for a boolean or null, the
   * UTF-8 of `JSON.stringify` for an object or array). Positive integer.
   * When both `max` and `maxSize` are set, both hold.
   */
  maxSize?: Bytes
  /**
   * Largest single entry, in bytes counted as for `maxSize`. Default:
   * `maxSize` (no per-entry limit if only `max` is set). Must be <= `maxSize`.
   * A larger entry is refused with a `RangeError` (`ERR_LEAKGUARD_ENTRY_TOO_LARGE`);
   * as in lru-cache, any previous value of that key is removed (`dispose`
   * reason `'set'`).
   */
  maxEntrySize?: Bytes
  /**
   * Default time-to-live of an entry, in ms; `0` (default) = entries do not
   * expire. Expiry is lazy (checked when an entry is read, and by
   * `purgeStale()`): no timer per entry, nothing keeps the event loop alive.
   * `set(k, v, { ttl })` overrides it per entry.
   */
  ttl?: Milliseconds
  /** A `get()` hit restarts the entry's TTL. Needs `ttl > 0`. Default `false`. */
  updateAgeOnGet?: boolean
  /**
   * `get()` returns an expired value once (then removes it), and `peek()`,
   * `keys()`, `values()`, `entries()` include expired entries. Default `false`.
   */
  allowStale?: boolean
  /**
   * Called for every entry that leaves the cache with a copy of its value,
   * its key and the reason. Runs after the native lock is released, so it may
   * call the cache. Per instance: with a shared `name`, it runs in the thread
   * whose operation removed the entry, and only if that instance has one. If
   * it throws, the other disposals of the same operation still run and the
   * first error is rethrown from the operation.
   */
  dispose?: (value: Stored<V>, key: K, reason: DisposeReason) => void
  /**
   * Shares one native store among every `new BoundedCache({ name })` in this
   * process, in any worker_thread. All openings must pass the same `max`,
   * `maxSize`, `maxEntrySize`, `ttl`, `updateAgeOnGet` and `allowStale`, else
   * a `RangeError` (`ERR_LEAKGUARD_OPTIONS_MISMATCH`) names the first that
   * differs; `dispose` and `perf` are per instance. A named store lives until
   * `BoundedCache.drop(name)` or process exit, even when no instance holds it.
   */
  name?: string
  /**
   * lru-cache's clock option: an object whose `now()` returns ms. Default:
   * the native monotonic clock. Give one driven by fake timers to control
   * expiry in tests. Per instance; instances sharing a store should share a
   * time line.
   */
  perf?: { now(): number }
}

export interface BoundedCacheSetOptions {
  /** TTL of this entry in ms (0 = never expires). Default: the cache's `ttl`. */
  ttl?: Milliseconds
}

/** lru-cache's dump entry; `start` is a `Date.now()` timestamp. */
export interface BoundedCacheEntry<V> {
  value: V
  ttl?: Milliseconds
  start?: number
}

/** Counters since the store was created (shared by every instance of a named store). */
export interface BoundedCacheStats {
  hits: number
  misses: number
  sets: number
  evictions: number
  expirations: number
  deletes: number
  size: number
  calculatedSize: Bytes
}

export interface BoundedCacheStoreInfo {
  /** The `name` option, or undefined for a private store. */
  name: string | undefined
  /** Live instances using this store (in any thread) + 1 while it is registered. */
  references: number
  /** false once `BoundedCache.drop(name)` forgot it (this instance still works on it). */
  registered: boolean
}

/**
 * lru-cache's API over an off-heap store: values are copied into native
 * memory (no V8 heap, no GC cost), bounded by entries and exact bytes, and
 * optionally shared by all worker_threads through `name`.
 * Iteration order is most recently used first.
 * @throws {TypeError|RangeError} `ERR_LEAKGUARD_INVALID_OPTION` for bad options.
 */
export declare class BoundedCache<K extends CacheKey = CacheKey, V extends CacheValue = CacheValue> implements Iterable<[K, Stored<V>]> {
  constructor(options: BoundedCacheOptions<K, V>)
  /** A copy of the value, or undefined; marks it most recently used. */
  get(key: K): Stored<V> | undefined
  /** Like `get` without changing recency, age or stats. */
  peek(key: K): Stored<V> | undefined
  /** Present and not expired (does not change recency). */
  has(key: K): boolean
  /**
   * Copies `value` in as most recently used and evicts to the bounds.
   * @throws {TypeError} `ERR_LEAKGUARD_INVALID_VALUE` for a function, symbol, BigInt, undefined, a cycle,
   *   or an object that is not a plain object/array, naming the key.
   * @throws {RangeError} `ERR_LEAKGUARD_ENTRY_TOO_LARGE` for an entry over `maxEntrySize`.
   */
  set(key: K, value: V, options?: BoundedCacheSetOptions): this
  delete(key: K): boolean
  clear(): void
  /** Removes and returns the least recently used value. */
  pop(): Stored<V> | undefined
  /** ms left; `Infinity` without a TTL; `0` if absent; negative if expired and not yet removed. */
  getRemainingTTL(key: K): Milliseconds
  /** Removes expired entries; true if any were. */
  purgeStale(): boolean
  keys(): Generator<K, void, void>
  values(): Generator<Stored<V>, void, void>
  entries(): Generator<[K, Stored<V>], void, void>
  [Symbol.iterator](): Generator<[K, Stored<V>], void, void>
  forEach<T = undefined>(fn: (this: T, value: Stored<V>, key: K, cache: this) => void, thisArg?: T): void
  /** Every entry, least recently used first, for `load()`. */
  dump(): Array<[K, BoundedCacheEntry<Stored<V>>]>
  /** Clears, then sets the dumped entries in order, keeping their remaining TTL. */
  load(entries: ReadonlyArray<readonly [K, BoundedCacheEntry<V>]>): void
  /** lru-cache's `info`: the entry with its remaining `ttl`, without changing recency. */
  info(key: K): BoundedCacheEntry<Stored<V>> | undefined
  stats(): BoundedCacheStats
  storeInfo(): BoundedCacheStoreInfo
  /** Entries held (expired ones not yet removed included). */
  readonly size: number
  /** Exact bytes held (keys + values as stored, see `maxSize`). */
  readonly calculatedSize: Bytes
  readonly max: number | undefined
  readonly maxSize: Bytes | undefined
  readonly maxEntrySize: Bytes | undefined
  readonly ttl: Milliseconds
  readonly updateAgeOnGet: boolean
  readonly allowStale: boolean
  readonly name: string | undefined
  readonly dispose: ((value: Stored<V>, key: K, reason: DisposeReason) => void) | undefined
  readonly perf: { now(): number } | undefined
  /**
   * Forgets the shared store `name`: the next `new BoundedCache({ name })` creates a
   * fresh one; instances still using the old store keep it until they are collected.
   * @returns whether a store of that name existed.
   */
  static drop(name: string): boolean
  /** Names of the shared stores in this process. */
  static names(): string[]
}
