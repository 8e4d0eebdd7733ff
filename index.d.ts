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

// ---- Memory assertions (lib/assert.js) ------------------------------------

/** A memory figure that measureGrowth follows. */
export type GrowthMetric = 'heapUsed' | 'external' | 'arrayBuffers' | 'rss' | 'code'

export interface GrowthOptions {
  /** Measured calls of `fn`. Integer in [10, 1e9]. Default `2000`. */
  iterations?: number
  /**
   * Calls before the first sample (not measured), so that lazy
   * initialisation and JIT tier-ups happen before. Integer >= 0.
   * Default `max(100, iterations / 5)`.
   */
  warmup?: number
  /**
   * Spaced sample points after the baseline (so `samples + 1` post-GC
   * samples); each costs one forced full GC. Integer in [8, 1000], at most
   * `iterations`. Default `32`.
   */
  samples?: number
  /** Calls in flight at once (for async `fn`). Integer >= 1. Default `1`. */
  concurrency?: number
  /** Significance level of the one-sided Mann–Kendall test, in (0, 0.5]. Default `0.001`. */
  alpha?: number
  /** A metric fails only if its Theil–Sen slope is at least this. Bytes per iteration >= 0. Default `8`. */
  minBytesPerIteration?: number
  /**
   * A metric fails only if its trend line rose at least this much over the
   * run. Bytes >= 0. Default `131072` (128 KB): above the ~55 KB a bounded
   * handler's first run still creeps by; with 2000 iterations it is what a
   * 64 B/iteration leak adds. For slower leaks raise `iterations`.
   */
  minGrowth?: Bytes
  /**
   * Metrics whose growth fails the assertion. Default
   * `['heapUsed', 'external', 'arrayBuffers']`: RSS grows in healthy
   * processes and compiled code grows while the JIT warms up, so both are
   * reported but not checked unless listed.
   */
  failOn?: GrowthMetric[]
  /**
   * Run every call in a JobScope with `autoTrack` and `captureStacks`, and
   * fail when a resource created at one site is left open by at least
   * `leftOpenRatio` of the iterations. Default `true`.
   */
  checkResources?: boolean
  /** Share of iterations, in (0, 1], that must leave a resource open for it to fail. Default `0.5`. */
  leftOpenRatio?: number
  /** Job name of the scopes (checkResources). Default `fn.name` or `'measureGrowth'`. */
  name?: string
}

/** The verdict on one metric. */
export interface MetricGrowth {
  /** Theil–Sen slope of the post-GC floor, bytes per iteration. */
  bytesPerIteration: number
  /** One-sided Mann–Kendall p-value for growth (small = confident it grows). */
  pValue: number
  /** Rise of the trend line over the run, bytes. */
  growthBytes: Bytes
  /** Last sample minus first, bytes (raw, for reference). */
  netBytes: Bytes
  /** Slope over the recent half; `null` if too few samples. */
  recentBytesPerIteration: number | null
  /** Significant, above the thresholds, and still growing in the recent half. */
  growing: boolean
  /** `growing` and listed in `failOn`. */
  failed: boolean
  /** Why `growing` is what it is, in one sentence. */
  reason: string
}

/** One kind of resource left open, grouped by creation site. */
export interface LeftOpenGroup {
  kind: string
  type: string
  site: string | null
  /** Iterations' resources of this group left open. */
  count: number
  /** `count / iterations`. */
  perIteration: number
}

export interface GrowthReport {
  iterations: number
  warmup: number
  durationMs: Milliseconds
  /**
   * Per metric. `heapUsed` is V8's used heap after a full GC minus compiled
   * code and bytecode (`code`), i.e. the data the program keeps.
   */
  metrics: Record<GrowthMetric, MetricGrowth>
  leftOpen: LeftOpenGroup[]
  /** The post-GC samples the verdict was computed from (`iteration` = calls since warm-up). */
  samples: Record<GrowthMetric | 'iteration', number[]>
  verdict: {
    bounded: boolean
    /** Failed metrics, largest first, plus `'leftOpen'` when resources were left open. */
    failed: Array<GrowthMetric | 'leftOpen'>
    /** e.g. `heapUsed grew 1.02 KB per iteration over 2000 iterations (p = 3.1e-9, Theil–Sen slope; 33 post-GC samples); external flat, ...` */
    message: string
  }
  /** The options as resolved (defaults filled in). */
  options: Required<Omit<GrowthOptions, 'name'>> & { name: string | undefined }
}

/**
 * Runs `fn(i)` (`i` counts from 0 through warm-up and measured calls)
 * `warmup + iterations` times, forcing a full GC (without `--expose-gc`) at
 * `samples + 1` evenly spaced points, and decides per metric whether memory
 * grows with the number of calls. Resolves with the report; never rejects
 * for a leak. Rejects with `ERR_LEAKGUARD_INVALID_ARGUMENT`/`_OPTION` for bad
 * input and with `fn`'s own error if it throws.
 */
export declare function measureGrowth(fn: (i: number) => unknown, options?: GrowthOptions): Promise<GrowthReport>

/**
 * `measureGrowth`, then rejects with an `AssertionError` (node:assert, code
 * `ERR_ASSERTION`, `operator: 'assertMemoryBounded'`) whose message names
 * what grew, bytes per iteration, p-value, iterations and the resources left
 * open with their sites; `err.report` holds the report, `err.actual`/
 * `err.expected` the bytes per iteration of the failed metrics vs `0`.
 * Resolves with the report when memory is bounded.
 */
export declare function assertMemoryBounded(fn: (i: number) => unknown, options?: GrowthOptions): Promise<GrowthReport>
