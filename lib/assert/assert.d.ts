// Types of lib/assert/assert.js: memory assertions.
import type { Bytes, Milliseconds } from '../common/units.js'

/** A memory figure that measureGrowth follows. */
export type GrowthMetric = 'heapUsed' | 'external' | 'arrayBuffers' | 'rss' | 'code'

export interface GrowthOptions {
  /**
   * Measured calls of `fn`. Integer in [10, 1e9]. Default `2000`. When a
   * checked metric grows, as many again are run to confirm it.
   */
  iterations?: number
  /**
   * Calls before the first sample (not measured), so that lazy
   * initialisation and JIT tier-ups happen before. Integer >= 0.
   * Default `max(100, iterations / 5)`.
   */
  warmup?: number
  /**
   * Spaced sample points after the baseline (so `samples + 1` post-GC
   * samples); each costs one forced full GC. Integer in [20, 1000] (the
   * floor keeps one point per pair, and fewer than 10 points cannot reach
   * p < 0.001), at most
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
  minGrowthBytes?: Bytes
  /** @deprecated Renamed `minGrowthBytes` (byte figures end in `Bytes`); still accepted, with a warning once. */
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
  /**
   * Also count heap objects per constructor before and after the run (two
   * heap snapshots in `os.tmpdir()`, deleted after; Node 20 has no
   * `v8.queryObjects`) and name the groups that grew by at least half an
   * object per iteration (`report.objects`, and in the message). Costs
   * roughly a second per 20 MB of heap. Default `false`.
   */
  countObjects?: boolean
}

/** A group of heap objects (by constructor, as DevTools' Summary) that grew with the iterations. */
export interface ObjectGrowth {
  /** Constructor name; `fn()` for closures, `(string)`, `(internal array)`, `system / ...` for V8 internals. */
  name: string
  countDelta: number
  perIteration: number
  /** Growth of the group's shallow size, bytes. */
  sizeDelta: Bytes
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

/** One kind of resource left open, grouped by creation site and package. */
export interface LeftOpenGroup {
  kind: string
  type: string
  /** The user's call site (see `CreationSite.site`), or null when unknown. */
  site: string | null
  /** `'name@version'` of the package under node_modules that created it, or null. */
  package: string | null
  /** That package's own frame, or null. */
  packageSite: string | null
  /** Iterations' resources of this group left open. */
  count: number
  /** `count / iterations`. */
  perIteration: number
}

export interface GrowthReport {
  /** Measured iterations: `options.iterations`, or twice that when a growth was confirmed. */
  iterations: number
  warmup: number
  /**
   * A checked metric grew over the first run (p < alpha, above the
   * thresholds), so a second run as long as the first was made and the
   * verdict taken over both, the second as the "recent" half: a warm-up or
   * JIT creep flattens out there, a leak keeps growing.
   */
  confirmed: boolean
  durationMs: Milliseconds
  /**
   * Per metric. `heapUsed` is V8's used heap after a full GC minus compiled
   * code and bytecode (`code`), i.e. the data the program keeps.
   */
  metrics: Record<GrowthMetric, MetricGrowth>
  leftOpen: LeftOpenGroup[]
  /** With `countObjects`: the groups that grew, by size; otherwise `null`. */
  objects: ObjectGrowth[] | null
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
  options: Required<Omit<GrowthOptions, 'name' | 'minGrowth'>> & {
    name: string | undefined
    /** @deprecated Renamed `minGrowthBytes`; still readable, with a warning once. */
    readonly minGrowth: Bytes
  }
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
