/// <reference types="node" />
// Types of lib/monitor/monitor.js: the memory monitor.
import type { EventEmitter } from 'node:events'
import type { Bytes, Milliseconds } from '../common/units.js'
import type { RecycleEvent, RecycleOptions, Recycler } from '../fleet/recycle.js'

/** Absolute limits; crossing one fires a `'limit'` event (once, re-armed when back under). */
export interface MonitorLimits {
  /** Resident set size, bytes (> 0). Read every `intervalMs` by the native thread. */
  rss?: Bytes
  /** V8 heapUsed, bytes (> 0), as of the latest post-GC sample. */
  heapUsed?: Bytes
  /** External memory (Buffers, ArrayBuffers, native), bytes (> 0), as of the latest post-GC sample. */
  external?: Bytes
}

export interface MonitorOptions {
  /**
   * Recycle safety net (see `recycle()`): a `Recycler`, or its options (then a net counting
   * every guarded job of this thread, stopped with the monitor). Its `'recycle'` event is
   * re-emitted by the monitor, and its message quotes this monitor's latest warning
   * (worker-thread warnings included). Default: none.
   */
  recycle?: RecycleOptions | Recycler
  /** Sampling period of RSS (native thread) and the minimum spacing of post-GC heap samples. Integer in [1, 3600000]. Default 1000. */
  intervalMs?: Milliseconds
  /**
   * Period of the (unref'd) check that checks limits, runs the trends and emits; it is also the
   * latency of `'limit'`, `'warning'` and (batched) `'sample'` events. Integer >= `intervalMs`.
   * Default `30 × intervalMs` (30 s): a check wakes cold caches and costs ~20-30 µs of
   * main-thread time on a loaded VM, i.e. under 1 µs per sample at 30 samples per check.
   * Lower it for faster `'limit'` events.
   */
  checkEveryMs?: Milliseconds
  /**
   * Sliding window the trend is computed over. No verdict is given before the samples span half
   * of it (at start-up everything grows; only time tells a warm-up from a leak).
   * Integer >= `3 × intervalMs`. Default 600000 (10 min).
   */
  windowMs?: Milliseconds
  /** Full-GC samples needed in the window before a metric gets a verdict. Integer in [6, 100000], <= `maxSamples`. Default 8. */
  minSamples?: number
  /** Blocks of the post-GC floor (minimum per block) the trend is fitted on. Integer in [6, 1000]. Default 20 (fewer when there are fewer samples). */
  floorBlocks?: number
  /** One-sided Mann–Kendall significance level for a warning. Number in (0, 0.5]. Default 0.01. */
  alpha?: number
  /** Minimum growth of the trend line over the window for a warning, bytes (>= 0). Default 1 MiB. */
  minGrowthBytes?: Bytes
  /** When jobs are counted: minimum bytes per job for a warning (>= 0). Default 0. */
  minBytesPerJob?: Bytes
  /** Also report warnings with `process.emitWarning` (type `'LeakGuardWarning'`, code per metric), once per metric until it clears. Default true. */
  emitWarning?: boolean
  /** In a forked child with IPC, also `process.send({ type: 'leakguard:warning', warning })` (and `'leakguard:limit'`). Default false. */
  sendToParent?: boolean
  /**
   * On the main thread: re-emit warnings posted by monitors in this process's worker_threads as
   * `'warning'` events (and publish each once on this thread's `leakguard:warning` channel). Default true.
   */
  workerWarnings?: boolean
  /**
   * Force a full GC when none happened for this long (0 = never, the default). Verdicts use
   * full-GC samples only; busy workers with rare natural mark-compacts get verdicts sooner
   * with e.g. 60000, at the cost of one full GC pause per period. Integer in [0, 86400000].
   */
  fullGcEveryMs?: Milliseconds
  /** Samples kept per series (the oldest quarter is dropped when full). Integer in [64, 1000000]. Default 4096. */
  maxSamples?: number
  /** Absolute limits that fire `'limit'` events. */
  limits?: MonitorLimits
}

/** One sample: an RSS reading of the native thread (`source: 'rss'`) or heap figures after a GC (`source: 'gc'`). */
export interface MemorySample {
  /** Epoch milliseconds (comparable with `Date.now()`), taken natively for RSS samples. */
  time: number
  source: 'rss' | 'gc'
  rss: Bytes | undefined
  heapUsed: Bytes | undefined
  external: Bytes | undefined
  /** On the first full-GC sample after each check only (it costs one `process.memoryUsage()`, ~8 µs). */
  arrayBuffers: Bytes | undefined
  /**
   * For `source: 'gc'`: `'major'` after a full (mark-compact) GC — the samples verdicts use —
   * or `'minor'` after a scavenge (taken only while someone listens to `'sample'`, once per check).
   */
  gc: 'major' | 'minor' | undefined
  /** Jobs counted when the sample was taken. */
  jobs: number
}

export type TrendMetric = 'heapUsed' | 'external' | 'arrayBuffers'
export type TrendWarningCode = 'LEAKGUARD_HEAP_GROWTH' | 'LEAKGUARD_EXTERNAL_GROWTH' | 'LEAKGUARD_ARRAY_BUFFERS_GROWTH'

/** A trend warning: data, plus a sentence in `message`. */
export interface TrendWarning {
  metric: TrendMetric
  code: TrendWarningCode
  /** Theil–Sen slope of the full-GC floor, bytes per second. */
  slopeBytesPerSec: number
  /** Slope against the job count, bytes per job; null when no jobs were counted. */
  bytesPerJob: number | null
  /** Rise of the trend line over the window, bytes. */
  growthBytes: Bytes
  /** Time spanned by the samples the verdict used. */
  windowMs: Milliseconds
  /** One-sided Mann–Kendall p-value. */
  pValue: number
  /** `worker_threads.threadId` of the monitor that raised it (0 = main thread). */
  threadId: number
  pid: number
  time: number
  /** E.g. `heapUsed grows 1.1 KB/job (p<0.001) over 8.0 min: +3.2 MB on the post-GC floor of 40 samples, ...`. */
  message: string
}

export interface LimitEvent {
  metric: keyof MonitorLimits
  limitBytes: Bytes
  valueBytes: Bytes
  time: number
  threadId: number
  message: string
}

/** The current trend of one metric over the window. */
export interface MetricTrend {
  metric: TrendMetric | 'rss'
  growing: boolean
  reason: string
  slopeBytesPerSec: number
  bytesPerJob: number | null
  growthBytes: Bytes
  pValue: number
  tau: number
  samples: number
  windowMs: Milliseconds
  jobs: number
}

export interface MonitorTrend {
  heapUsed: MetricTrend | null
  external: MetricTrend | null
  arrayBuffers: MetricTrend | null
  /** Shown for context only: RSS never raises a warning by itself. */
  rss: MetricTrend | null
  jobs: number
  /** Warnings currently raised (not yet cleared). */
  warnings: TrendWarning[]
}

/** The events of a `Monitor` and their arguments (for `on`, `once`, `events.once(m, name)`, ...). */
export interface MonitorEvents {
  warning: [warning: TrendWarning]
  limit: [event: LimitEvent]
  sample: [sample: MemorySample]
  /** Only when RSS cannot be read natively (`ERR_LEAKGUARD_IO`); without a listener it is ignored. */
  error: [error: Error]
  /** With `options.recycle`: fired once, after the job that crossed a threshold. */
  recycle: [event: RecycleEvent]
}

/** A memory monitor: an EventEmitter of `MonitorEvents`. */
export interface Monitor extends EventEmitter<MonitorEvents> {
  /** Counts `n` (default 1) finished jobs; jobs run through `guard()`/`withScope()` are counted automatically. */
  jobDone(n?: number): void
  /** Samples in the window, oldest first. */
  samples(): MemorySample[]
  /** The trend of every metric now. */
  trend(): MonitorTrend
  /** Stops this monitor (idempotent); the last one of the process stops the native thread. */
  stop(): void
  [Symbol.dispose](): void
  readonly jobs: number
  readonly stopped: boolean
  readonly options: Readonly<Required<Omit<MonitorOptions, 'limits' | 'recycle'>> & { limits: MonitorLimits }>
}

/**
 * Starts a memory monitor: a process-wide native thread samples RSS, heap figures are taken
 * after GCs, and trends over the full-GC floor raise `'warning'`s. Never keeps the process alive.
 *
 * Heap figures are taken on the thread's event loop: in a Piscina worker, create the pool with
 * `atomics: 'async'`. With Piscina's default `atomics: 'sync'`, idle workers block their event
 * loop in `Atomics.wait()` between tasks, so a monitor inside them stops taking heap samples
 * (RSS is still sampled natively) and gives no verdict.
 * @throws {TypeError | RangeError} `ERR_LEAKGUARD_INVALID_OPTION` for a bad option.
 */
export declare function monitor(options?: MonitorOptions): Monitor

/**
 * On the main thread: receives the warnings of monitors running in this process's
 * worker_threads (with their `threadId`). Returns a function that stops receiving.
 * While warnings are received (by this or by a main-thread monitor), each is also published
 * once on the main thread's `leakguard:warning` diagnostics channel.
 * @throws {TypeError} `ERR_LEAKGUARD_INVALID_ARGUMENT` when `handler` is not a function.
 */
export declare function onWorkerWarning(handler: (warning: TrendWarning) => void): () => void
