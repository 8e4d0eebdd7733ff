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

// ---- Memory monitor ----------------------------------------------------------

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
  /** On the main thread: re-emit warnings posted by monitors in this process's worker_threads as `'warning'` events. Default true. */
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

export interface Monitor {
  on(event: 'warning', listener: (warning: TrendWarning) => void): this
  on(event: 'limit', listener: (event: LimitEvent) => void): this
  on(event: 'sample', listener: (sample: MemorySample) => void): this
  /** Only when RSS cannot be read natively (`ERR_LEAKGUARD_IO`); without a listener it is ignored. */
  on(event: 'error', listener: (error: Error) => void): this
  once(event: 'warning', listener: (warning: TrendWarning) => void): this
  once(event: 'limit', listener: (event: LimitEvent) => void): this
  once(event: 'sample', listener: (sample: MemorySample) => void): this
  off(event: 'warning' | 'limit' | 'sample' | 'error', listener: (...args: any[]) => void): this
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
  readonly options: Readonly<Required<Omit<MonitorOptions, 'limits'>> & { limits: MonitorLimits }>
}

/**
 * Starts a memory monitor: a process-wide native thread samples RSS, heap figures are taken
 * after GCs, and trends over the full-GC floor raise `'warning'`s. Never keeps the process alive.
 * @throws {TypeError | RangeError} `ERR_LEAKGUARD_INVALID_OPTION` for a bad option.
 */
export declare function monitor(options?: MonitorOptions): Monitor

/**
 * On the main thread: receives the warnings of monitors running in this process's
 * worker_threads (with their `threadId`). Returns a function that stops receiving.
 * @throws {TypeError} `ERR_LEAKGUARD_INVALID_ARGUMENT` when `handler` is not a function.
 */
export declare function onWorkerWarning(handler: (warning: TrendWarning) => void): () => void
