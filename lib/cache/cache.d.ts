/// <reference types="node" />
// Types of lib/cache/cache.js: BoundedCache.
import type { Bytes, Milliseconds } from '../common/units.js'

/** Why an entry left a `BoundedCache` (lru-cache's reasons). */
export type DisposeReason = 'evict' | 'set' | 'delete' | 'expire' | 'fetch'

/** How `set` went, for `onInsert` (lru-cache's). */
export type InsertReason = 'add' | 'replace' | 'update'

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

export interface BoundedCacheOptions<K extends CacheKey = CacheKey, V extends CacheValue = CacheValue, FC = unknown> {
  /**
   * Most entries held; setting one more evicts the least recently used.
   * Positive integer up to 2^32; 0 or absent = no count bound. At least one
   * of `max` and `maxSize` is required: a cache without a bound is refused
   * (`ERR_LEAKGUARD_INVALID_OPTION`). As in lru-cache, a value that is not a
   * positive integer is a `TypeError`.
   */
  max?: number
  /**
   * Most size held. Without `sizeCalculation`, sizes are counted exactly as
   * stored: per entry, the key's UTF-8 bytes (9 for a number key) + 1 type
   * byte + the value's bytes (UTF-8 of a string, a Buffer's length, 8 for a
   * number, 0 for a boolean or null, the UTF-8 of `JSON.stringify` for an
   * object or array). Positive integer. When both `max` and `maxSize` are
   * set, both hold.
   */
  maxSize?: Bytes
  /**
   * Largest single entry, counted as for `maxSize`. Default: `maxSize`. A
   * larger entry is refused with a `RangeError` (`ERR_LEAKGUARD_ENTRY_TOO_LARGE`;
   * lru-cache skips it silently); as in lru-cache, any previous value of that
   * key is removed (`dispose` reason `'set'`).
   */
  maxEntrySize?: Bytes
  /**
   * lru-cache's size function: what an entry counts against `maxSize`
   * instead of its exact bytes. Must return a positive integer (< 2^32).
   * Needs `maxSize` or `maxEntrySize`.
   */
  sizeCalculation?: (value: V, key: K) => number
  /**
   * Default time-to-live of an entry, in ms (positive integer); `0`
   * (default) = entries do not expire. Expiry is lazy (checked when an entry
   * is read, and by `purgeStale()`) unless `ttlAutopurge`.
   * `set(k, v, { ttl })` overrides it per entry.
   */
  ttl?: Milliseconds
  /**
   * lru-cache's: a reading of the default clock is reused for this many ms
   * when checking expiry (default 1; 0 = read every time). A `perf` you pass
   * is read every time. Not a non-negative integer = the default.
   */
  ttlResolution?: Milliseconds
  /** Remove each entry when its TTL runs out, with an unref'd timer per entry. Default `false`. */
  ttlAutopurge?: boolean
  /** A `get()` hit restarts the entry's TTL. Default `false`. */
  updateAgeOnGet?: boolean
  /** A `has()` hit restarts the entry's TTL. Default `false`. */
  updateAgeOnHas?: boolean
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
  /** Like `dispose`, called once the operation is over (lru-cache's). */
  disposeAfter?: (value: Stored<V>, key: K, reason: DisposeReason) => void
  /** Called after each `set` with the value, the key and how it went. */
  onInsert?: (value: V, key: K, reason: InsertReason) => void
  /** Replacing a value does not call `dispose` with reason `'set'`. Default `false`. */
  noDisposeOnSet?: boolean
  /** Replacing a value keeps the entry's TTL. Default `false`. */
  noUpdateTTL?: boolean
  /** lru-cache's fetch function, for `fetch()`: resolves to the value to store, or undefined. */
  fetchMethod?: (
    key: K,
    staleValue: Stored<V> | undefined,
    options: { signal: AbortSignal; options: BoundedCacheFetchOptions<K, V, FC>; context: FC }
  ) => Promise<V | undefined> | V | undefined
  /** lru-cache's memo function, for `memo()`: computes a missing value synchronously. */
  memoMethod?: (
    key: K,
    staleValue: Stored<V> | undefined,
    options: { options: BoundedCacheGetOptions; context: FC }
  ) => V
  /** A rejected fetch leaves the stale value in place. Default `false`. */
  noDeleteOnFetchRejection?: boolean
  /** A stale `get()` does not remove the entry. Default `false`. */
  noDeleteOnStaleGet?: boolean
  /** A rejected fetch returns the stale value instead of rejecting. Default `false`. */
  allowStaleOnFetchRejection?: boolean
  /** An aborted fetch returns the stale value, and a late result is still stored. Default `false`. */
  allowStaleOnFetchAbort?: boolean
  /** An abort does not stop the fetch: its result is still stored. Default `false`. */
  ignoreFetchAbort?: boolean
  /**
   * Shares one native store among every `new BoundedCache({ name })` in this
   * process, in any worker_thread. All openings must pass the same `max`,
   * `maxSize`, `maxEntrySize`, `ttl`, `updateAgeOnGet`, `allowStale` and
   * whether `sizeCalculation` is given, else a `RangeError`
   * (`ERR_LEAKGUARD_OPTIONS_MISMATCH`) names the first that differs; the
   * callbacks and `perf` are per instance. A named store lives until
   * `BoundedCache.drop(name)` or process exit, even when no instance holds it.
   */
  name?: string
  /**
   * lru-cache's clock option: anything whose `now()` returns ms (an object,
   * or `Date`). Default: the global `performance` (as lru-cache) for a
   * private cache, the process-wide native clock for a named one (threads'
   * `performance.now()` differ). A `now()` that stops returning a finite
   * number is a `TypeError`, never a silent switch of clock.
   */
  perf?: { now(): number }
  /**
   * Keep a memo of hot values on the JS side (default `true`): up to 2048
   * recently read values that are strings of at most 256 characters,
   * numbers, booleans or null (never Buffers or objects, which every `get`
   * copies) are also held as JS values, so reading one again costs a `Map`
   * lookup instead of a native call. It steps aside by itself while its hit
   * rate is low (a scan with no hot set) and comes back when a hot set
   * appears. It changes nothing observable: recency, eviction order,
   * iteration order and `stats()` are the same as without it. It is only
   * used where that is cheap: an unnamed cache without `ttl`, callbacks on
   * removal, `sizeCalculation` or per-call options. `false` = every read is
   * a native call.
   */
  memo?: boolean
}

/** lru-cache's status object: filled in by the call it is passed to. */
export interface BoundedCacheStatus<K = CacheKey, V = unknown> {
  op?: 'get' | 'set' | 'has' | 'peek' | 'fetch' | 'memo' | 'delete'
  key?: K
  value?: V
  oldValue?: V
  get?: 'hit' | 'stale' | 'miss' | 'fetching' | 'stale-fetching'
  set?: 'add' | 'update' | 'replace' | 'miss' | 'deleted'
  has?: 'hit' | 'stale' | 'miss'
  peek?: 'hit' | 'stale' | 'miss'
  fetch?: 'get' | 'inflight' | 'miss' | 'hit' | 'stale' | 'refresh'
  memo?: 'hit' | 'miss'
  ttl?: Milliseconds
  start?: number
  now?: number
  remainingTTL?: Milliseconds
  entrySize?: number
  totalCalculatedSize?: number
  returnedStale?: boolean
  forceRefresh?: boolean
  context?: unknown
  fetchDispatched?: boolean
  fetchUpdated?: boolean
  fetchError?: unknown
  fetchAborted?: boolean
  fetchAbortIgnored?: boolean
  fetchResolved?: boolean
  fetchRejected?: boolean
}

export interface BoundedCacheGetOptions {
  allowStale?: boolean
  updateAgeOnGet?: boolean
  noDeleteOnStaleGet?: boolean
  status?: BoundedCacheStatus
}

export interface BoundedCacheHasOptions {
  updateAgeOnHas?: boolean
  status?: BoundedCacheStatus
}

export interface BoundedCachePeekOptions {
  allowStale?: boolean
  status?: BoundedCacheStatus
}

export interface BoundedCacheSetOptions {
  /** TTL of this entry in ms (0 = never expires). Default: the cache's `ttl`. */
  ttl?: Milliseconds
  /** When the TTL started, on the cache's clock (`perf.now()`). Default: now. */
  start?: number
  /** What the entry counts against `maxSize` (positive integer), instead of `sizeCalculation`'s. */
  size?: number
  sizeCalculation?: (value: unknown, key: unknown) => number
  noDisposeOnSet?: boolean
  noUpdateTTL?: boolean
  status?: BoundedCacheStatus
}

export interface BoundedCacheFetchOptions<_K = CacheKey, _V = unknown, FC = unknown>
  extends BoundedCacheGetOptions,
    BoundedCacheSetOptions {
  forceRefresh?: boolean
  signal?: AbortSignal
  context?: FC
  noDeleteOnFetchRejection?: boolean
  allowStaleOnFetchRejection?: boolean
  allowStaleOnFetchAbort?: boolean
  ignoreFetchAbort?: boolean
}

export interface BoundedCacheMemoOptions<FC = unknown> extends BoundedCacheGetOptions, BoundedCacheSetOptions {
  forceRefresh?: boolean
  context?: FC
}

/** lru-cache's dump entry; `start` is a `Date.now()` timestamp. */
export interface BoundedCacheEntry<V> {
  value: V
  ttl?: Milliseconds
  start?: number
  /** What it counts against `maxSize` (present when the cache has `maxSize` or `maxEntrySize`). */
  size?: number
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
export declare class BoundedCache<K extends CacheKey = CacheKey, V extends CacheValue = CacheValue, FC = unknown>
  implements Iterable<[K, Stored<V>]>
{
  constructor(options: BoundedCacheOptions<K, V, FC>)
  /** A copy of the value, or undefined; marks it most recently used. */
  get(key: K, options?: BoundedCacheGetOptions): Stored<V> | undefined
  /** Like `get` without changing recency, age or stats. */
  peek(key: K, options?: BoundedCachePeekOptions): Stored<V> | undefined
  /** Present and not expired (does not change recency). */
  has(key: K, options?: BoundedCacheHasOptions): boolean
  /**
   * Copies `value` in as most recently used and evicts to the bounds;
   * `undefined` deletes the key (lru-cache's rule).
   * @throws {TypeError} `ERR_LEAKGUARD_INVALID_VALUE` for a function, symbol, BigInt, a cycle,
   *   or an object that is not a plain object/array, naming the key.
   * @throws {RangeError} `ERR_LEAKGUARD_ENTRY_TOO_LARGE` for an entry over `maxEntrySize`.
   */
  set(key: K, value: V | undefined, options?: BoundedCacheSetOptions): this
  delete(key: K): boolean
  /** Removes everything (`dispose` reason `'delete'`, as lru-cache). */
  clear(): void
  /** Removes and returns the least recently used value (`dispose` reason `'evict'`). */
  pop(): Stored<V> | undefined
  /** ms left; `Infinity` without a TTL; `0` if absent; negative if expired and not yet removed. */
  getRemainingTTL(key: K): Milliseconds
  /** Removes expired entries; true if any were. */
  purgeStale(): boolean
  /**
   * lru-cache's `fetch`: the cached value, or what `fetchMethod` resolves to
   * (stored); with `allowStale`, a stale value while it refreshes. One fetch
   * per key is in flight per instance. Without `fetchMethod`, `get`.
   */
  fetch(key: K, options?: BoundedCacheFetchOptions<K, V, FC>): Promise<Stored<V> | undefined>
  /** `fetch`, rejecting when the result is undefined. */
  forceFetch(key: K, options?: BoundedCacheFetchOptions<K, V, FC>): Promise<Stored<V>>
  /** lru-cache's `memo`: the cached value, or `memoMethod`'s (stored). */
  memo(key: K, options?: BoundedCacheMemoOptions<FC>): Stored<V>
  keys(): Generator<K, void, void>
  values(): Generator<Stored<V>, void, void>
  entries(): Generator<[K, Stored<V>], void, void>
  /** Least recently used first. */
  rkeys(): Generator<K, void, void>
  rvalues(): Generator<Stored<V>, void, void>
  rentries(): Generator<[K, Stored<V>], void, void>
  [Symbol.iterator](): Generator<[K, Stored<V>], void, void>
  forEach<T = this>(fn: (this: T, value: Stored<V>, key: K, cache: this) => void, thisArg?: T): void
  rforEach<T = this>(fn: (this: T, value: Stored<V>, key: K, cache: this) => void, thisArg?: T): void
  /** The first value (most recently used first) `fn` accepts, read with `get(key, options)`. */
  find(fn: (value: Stored<V>, key: K, cache: this) => boolean, options?: BoundedCacheGetOptions): Stored<V> | undefined
  /** Every entry, least recently used first, for `load()`. */
  dump(): Array<[K, BoundedCacheEntry<Stored<V>>]>
  /**
   * Clears, then sets the dumped entries in order, keeping their remaining
   * TTL. Every row is checked first (a TTL or start that is not a finite
   * number is a coded error, as for `set`): a bad row changes nothing.
   */
  load(entries: ReadonlyArray<readonly [K, BoundedCacheEntry<V>]>): void
  /** lru-cache's `info`: the entry with its remaining `ttl`, without changing recency. */
  info(key: K): BoundedCacheEntry<Stored<V>> | undefined
  stats(): BoundedCacheStats
  storeInfo(): BoundedCacheStoreInfo
  /** Entries held (expired ones not yet removed included). */
  readonly size: number
  /** Size held: exact bytes, or the sum of `sizeCalculation`'s sizes. */
  readonly calculatedSize: number
  /** 0 when only `maxSize` bounds the cache (lru-cache's). */
  readonly max: number
  readonly maxSize: number
  maxEntrySize: number
  ttl: Milliseconds
  ttlResolution: Milliseconds
  ttlAutopurge: boolean
  updateAgeOnGet: boolean
  updateAgeOnHas: boolean
  allowStale: boolean
  noDisposeOnSet: boolean
  noUpdateTTL: boolean
  noDeleteOnStaleGet: boolean
  noDeleteOnFetchRejection: boolean
  allowStaleOnFetchRejection: boolean
  allowStaleOnFetchAbort: boolean
  ignoreFetchAbort: boolean
  readonly sizeCalculation: ((value: V, key: K) => number) | undefined
  readonly name: string | undefined
  readonly dispose: ((value: Stored<V>, key: K, reason: DisposeReason) => void) | undefined
  readonly disposeAfter: ((value: Stored<V>, key: K, reason: DisposeReason) => void) | undefined
  readonly onInsert: ((value: V, key: K, reason: InsertReason) => void) | undefined
  readonly fetchMethod: BoundedCacheOptions<K, V, FC>['fetchMethod']
  readonly memoMethod: BoundedCacheOptions<K, V, FC>['memoMethod']
  /** The clock in use: yours, the global `performance`, or the native one (`{ now() }`). */
  readonly perf: { now(): number }
  /** Whether the memo of hot values serves reads now (see the `memo` option). */
  readonly memoActive: boolean
  /**
   * Forgets the shared store `name`: the next `new BoundedCache({ name })` creates a
   * fresh one; instances still using the old store keep it until they are collected.
   * @returns whether a store of that name existed.
   */
  static drop(name: string): boolean
  /** Names of the shared stores in this process. */
  static names(): string[]
}
