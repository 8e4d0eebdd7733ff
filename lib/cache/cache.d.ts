/// <reference types="node" />
// Types of lib/cache/cache.js: BoundedCache.
import type { Bytes, Milliseconds } from '../common/units.js'

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
  /**
   * Keep a memo of hot values on the JS side (default `true`): up to 2048
   * recently read values that are strings of at most 256 characters,
   * numbers, booleans or null (never Buffers or objects, which every `get`
   * copies) are also held as JS values, so reading one again costs a `Map`
   * lookup instead of a native call (`npm run bench -- cache`'s get-hit
   * loop: 85 ns per get with it, 130 without). At most ~0.6 MB of
   * V8 heap. It changes nothing observable: recency, eviction order,
   * iteration order and `stats()` are the same as without it (reads served
   * from it are replayed to the store before its next operation), and an
   * entry that leaves the store leaves the memo. It is only used where that
   * is cheap: an unnamed cache without `ttl` and without `dispose`; a
   * `set(k, v, { ttl })` turns it off for good. `false` = every read is a
   * native call.
   */
  memo?: boolean
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
export declare class BoundedCache<K extends CacheKey = CacheKey, V extends CacheValue = CacheValue>
  implements Iterable<[K, Stored<V>]>
{
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
  /** Whether the memo of hot values is in use (see the `memo` option). */
  readonly memo: boolean
  /**
   * Forgets the shared store `name`: the next `new BoundedCache({ name })` creates a
   * fresh one; instances still using the old store keep it until they are collected.
   * @returns whether a store of that name existed.
   */
  static drop(name: string): boolean
  /** Names of the shared stores in this process. */
  static names(): string[]
}
