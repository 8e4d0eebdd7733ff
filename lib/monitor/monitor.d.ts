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
  /** Open file descriptors (> 0), counted every `intervalMs` by the native thread. Also what fd growth is projected onto (default: `ulimit -n`). */
  fds?: number
}

/**
 * The opt-in autopsy: when a heap warning fires or a limit is crossed, two heap snapshots
 * `jobs` jobs apart, diffed natively off the main thread; the top suspects are emitted as
 * `'autopsy'` and ride along with the warning to the host. Refused, with the reason, when
 * the process lacks the memory (~16 × heapUsed outside the heap, within `limits.rss` when
 * set) or the disk (~4 × heapUsed) a snapshot takes. Each snapshot blocks the thread while it
 * is written (seconds per 100 MB of heap).
 */
export interface AutopsyOptions {
  /** Directory for the snapshots (a private `leakguard-autopsy-*` directory is made inside). Default: `os.tmpdir()`. */
  dir?: string
  /** Jobs between the two snapshots (integer >= 1). Without job counting, 60 s. Default 1000. */
  jobs?: number
  /** Keep the snapshot files (their paths are in the report). Default false: removed. */
  keep?: boolean
  /** At most one autopsy (or refusal) per this many ms, integer >= 1000. Default 3600000 (1 h). */
  everyMs?: Milliseconds
  /** Suspects reported, integer in [1, 100]. Default 5. */
  top?: number
}

export interface MonitorOptions {
  /**
   * Recycle safety net (see `recycle()`): a `Recycler`, or its options (then a net counting
   * every guarded job of this thread, stopped with the monitor). Its `'recycle'` event is
   * re-emitted by the monitor, and its message quotes this monitor's latest warning
   * (worker-thread warnings included). Default: none.
   */
  recycle?: RecycleOptions | Recycler
  /** Sampling period of RSS and open fds (native thread) and the minimum spacing of post-GC heap samples. Integer in [1, 3600000]. Default 1000. */
  intervalMs?: Milliseconds
  /**
   * Period of the (unref'd) check: it reads the old generation and external memory (~35 µs),
   * checks limits and emits; verdicts are computed every 5th check. While a projected limit is
   * less than 60 checks away, checks run four times as often and compute verdicts each time.
   * It is also the latency of `'limit'` and (batched) `'sample'` events. Integer >= `intervalMs`.
   * Default: the larger of 1000 and `intervalMs`.
   */
  checkEveryMs?: Milliseconds
  /**
   * Sliding window the trend is computed over. A verdict needs samples spanning a time that
   * shrinks with the danger: half the window for a slow leak, the time 16 MB of growth takes for a
   * faster one, a sixth of the time left before the limit for one heading to an OOM (but never
   * less than `3 × intervalMs`). Integer >= `3 × intervalMs`. Default 600000 (10 min).
   */
  windowMs?: Milliseconds
  /** Samples (full-GC figures, or readings of the old generation) needed in the window before a metric gets a verdict. Integer in [6, 100000], <= `maxSamples`. Default 8. */
  minSamples?: number
  /** Blocks of the post-GC floor (minimum per block) the trend is fitted on. Integer in [6, 1000]. Default 20 (fewer when there are fewer samples). */
  floorBlocks?: number
  /** One-sided Mann–Kendall significance level for a warning. Number in (0, 0.5]. Default 0.01. */
  alpha?: number
  /**
   * Minimum growth of the trend line over the window for a warning, bytes (>= 0). Default 1 MiB.
   * A metric whose readings swing needs more: twice its largest fall (see `MetricTrend.minGrowthBytes`).
   */
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
   * Force a full GC when none happened for this long (0 = never, the default). Rarely needed:
   * the monitor runs its own confirmation GCs when the old generation grows (see `gcBudget`).
   * Integer in [0, 86400000].
   */
  fullGcEveryMs?: Milliseconds
  /**
   * Share of wall time the monitor's confirmation GCs may take, summed over this thread's
   * monitors (the strictest wins). A confirmation GC runs only when the old generation grew
   * over the span a verdict needs and no full GC says yet how much of it is live; after one
   * finds garbage, the next waits twice as long. 0 turns them off (heap verdicts then wait for
   * V8's own full GCs). Number in [0, 0.05]. Default 0.005 (0.5%).
   */
  gcBudget?: number
  /** Samples kept per series (the oldest quarter is dropped when full). Integer in [64, 1000000]. Default 4096. */
  maxSamples?: number
  /** Absolute limits that fire `'limit'` events; `heapUsed`, `rss` and `fds` are also what growth is projected onto. */
  limits?: MonitorLimits
  /** The autopsy (opt-in): `true` for its defaults, or its options. Default: off. */
  autopsy?: boolean | AutopsyOptions
}

/** One sample: an RSS (and open-fd) reading of the native thread (`source: 'rss'`) or heap figures after a GC (`source: 'gc'`). */
export interface MemorySample {
  /** Epoch milliseconds (comparable with `Date.now()`), taken natively for RSS samples. */
  time: number
  source: 'rss' | 'gc'
  rss: Bytes | undefined
  heapUsed: Bytes | undefined
  external: Bytes | undefined
  /** With a full-GC sample at most every 5 s (it costs one `process.memoryUsage()`, ~8 µs). */
  arrayBuffers: Bytes | undefined
  /**
   * For `source: 'gc'`: `'major'` after a full (mark-compact) GC — the samples verdicts use —
   * or `'minor'` after a scavenge (taken only while someone listens to `'sample'`, once per check).
   */
  gc: 'major' | 'minor' | undefined
  /** For `source: 'rss'`: open file descriptors (undefined where they cannot be counted). */
  fds: number | undefined
  /** Jobs counted when the sample was taken. */
  jobs: number
}

export type TrendMetric = 'heapUsed' | 'external' | 'arrayBuffers' | 'fds'
export type TrendWarningCode =
  | 'LEAKGUARD_HEAP_GROWTH'
  | 'LEAKGUARD_EXTERNAL_GROWTH'
  | 'LEAKGUARD_ARRAY_BUFFERS_GROWTH'
  | 'LEAKGUARD_FD_GROWTH'

/**
 * How a verdict was reached: `'full-gc'` from figures read right after full GCs, `'confirmed'`
 * from the old generation (or external memory) read at every check with a full GC showing
 * that most of its growth is live, `'count'` from open-fd counts, `'rss'` for `trend().rss`.
 */
export type TrendBasis = 'full-gc' | 'confirmed' | 'count' | 'rss'

/** Where a growth leads at its current rate (the OOM projection). */
export interface Projection {
  /** What reaches its limit: `heapUsed` (heap growth), `rss` (external growth, unless `limits.external` is set: `external`), `fds`. */
  metric: 'heapUsed' | 'external' | 'rss' | 'fds'
  /**
   * The limit, bytes: `limits.heapUsed`, else the old generation's maximum (what
   * `--max-old-space-size` sets); `limits.rss`, else the cgroup or machine memory. Null for fds.
   */
  limitBytes: Bytes | null
  /** The limit in the metric's unit (bytes, or open fds: `limits.fds`, else `ulimit -n`). */
  limit: number
  /** Time left at this rate (0: reached). */
  etaMs: Milliseconds
  /** The job count at which the limit is reached (compare with `monitor.jobs`); null when jobs are not counted. */
  atJobs: number | null
}

/** One suspect of an autopsy: a group of objects that grows with the jobs. */
export interface AutopsySuspect {
  /** Constructor or group name, as in DevTools' Summary view, e.g. `'LeakedOrder'`. */
  name: string
  countDelta: number
  /** New instances per job (null without job counting). */
  perJob: number | null
  selfSizeDelta: Bytes
  retainedSizeDelta: Bytes
  /** Shortest path from the program's roots to one new instance, e.g. `… → orders (Array) → [26780] (LeakedOrder)`. */
  retainerPath: string
  message: string
}

/** The result of an autopsy (`'autopsy'` event, `warning.autopsy`). */
export interface AutopsyReport {
  /** `'done'`, `'refused'` (no headroom: `reason` says which and by how much) or `'failed'`. */
  status: 'done' | 'refused' | 'failed'
  reason: string | null
  /** The metric of the warning or limit that started it. */
  metric: TrendMetric | keyof MonitorLimits
  trigger: 'warning' | 'limit'
  /** Most likely first; empty unless `'done'`. */
  suspects: AutopsySuspect[]
  message: string
  jobsBetween: number | null
  durationMs: Milliseconds
  /** Time the two snapshot writes blocked the thread. */
  pauseMs: Milliseconds
  /** The snapshot paths with `keep: true`, else null (removed). */
  files: { before: string; after: string } | null
  threadId: number
  pid: number
  time: number
}

/** A trend warning: data, plus a sentence in `message`. */
export interface TrendWarning {
  metric: TrendMetric
  code: TrendWarningCode
  /** Growth per second (bytes; open fds for `fds`). */
  slopeBytesPerSec: number
  /** Growth per job (bytes; open fds for `fds`); null when no jobs were counted. */
  bytesPerJob: number | null
  /** Growth over the samples the verdict used (bytes; fds for `fds`). */
  growthBytes: Bytes
  /** Time spanned by the samples the verdict used. */
  windowMs: Milliseconds
  /** One-sided Mann–Kendall p-value. */
  pValue: number
  basis: TrendBasis
  /** Where the growth leads; null only when there is no limit to reach (unlimited fds). */
  projection: Projection | null
  /** Attached when an autopsy this warning started has finished (see `AutopsyOptions`). */
  autopsy?: AutopsyReport
  /** `worker_threads.threadId` of the monitor that raised it (0 = main thread). */
  threadId: number
  pid: number
  time: number
  /**
   * E.g. `heapUsed grows 1.30 KB/job (p<0.001); at this rate the 4.00 GB heap limit is reached in
   * ~6 min (~350k more jobs): +18.3 MB live over 53.1 s, confirmed by two full GCs (58 readings), ...`,
   * or `open fds +1.00/job (p<0.001); at this rate the 20000 open-fd limit (ulimit -n) is reached in ~18 s (~14k more jobs): ...`.
   */
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
  /** True while the samples span less than the verdict needs (`requiredSpanMs`): no verdict yet. */
  pending: boolean
  reason: string
  basis: TrendBasis
  /** The span of samples a verdict needs at this rate (see `windowMs`). */
  requiredSpanMs: Milliseconds
  /**
   * The growth a verdict needs: `minGrowthBytes` (16 for `fds`), or twice the largest fall
   * this metric's readings showed over the last one or two windows (at most 16 MB, 256 fds),
   * whichever is larger. A reading can sit that far above what is live: V8 counts
   * a freed Buffer in external memory until its sweeper reports it, and a full GC in the middle
   * of a job finds the job's working set alive.
   */
  minGrowthBytes: Bytes
  /**
   * 0 for a verdict on the latest readings. While a warning stands and the latest
   * readings cannot be tested (too few, or flat between two GC steps), the metric shows
   * the latest growing verdict instead: this is its age, and its projection's `etaMs`
   * is counted down by it.
   */
  ageMs: Milliseconds
  /** Where the growth leads; null when it does not grow or there is no limit. */
  projection: Projection | null
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
  fds: MetricTrend | null
  /** Shown for context only: RSS never raises a warning by itself. */
  rss: MetricTrend | null
  jobs: number
  /** Warnings currently raised (not yet cleared). */
  warnings: TrendWarning[]
  /** Full GCs leakguard ran in this thread (confirmations, `fullGcEveryMs`) and their pauses, since the first monitor of the thread. */
  overhead: { fullGcs: number; gcPauseMs: Milliseconds; sinceMs: Milliseconds }
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
  /** With `options.autopsy` (or, on the main thread, an autopsy of a monitor in a worker_thread). */
  autopsy: [report: AutopsyReport]
}

/** A memory monitor: an EventEmitter of `MonitorEvents`. */
export interface Monitor extends EventEmitter<MonitorEvents> {
  /**
   * Counts `n` (default 1) finished jobs; jobs run through `guard()`/`withScope()` are counted automatically.
   * @throws {TypeError | RangeError} `ERR_LEAKGUARD_INVALID_ARGUMENT` unless `n` is a non-negative safe integer
   * that keeps the total within `Number.MAX_SAFE_INTEGER`.
   */
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
  readonly options: Readonly<
    Required<Omit<MonitorOptions, 'limits' | 'recycle' | 'autopsy'>> & {
      limits: MonitorLimits
      autopsy: (Required<Omit<AutopsyOptions, 'dir'>> & { dir: string | undefined }) | null
    }
  >
}

/**
 * Starts a memory monitor: a process-wide native thread samples RSS and open fds, heap figures
 * are taken after GCs and at every check, and trends raise `'warning'`s with the OOM projection.
 * Never keeps the process alive.
 *
 * Runs until `stop()`. Each thread keeps its first 16 running monitors alive even when nothing
 * refers to them; past 16 (one warning) a monitor nothing refers to is collected and cleaned up.
 *
 * In a Piscina worker, prefer `atomics: 'async'`: with Piscina's default `atomics: 'sync'` the
 * worker's event loop never runs, so the monitor checks between jobs instead (it warns once,
 * `LEAKGUARD_EVENT_LOOP_BLOCKED`) and misses V8's own full GCs.
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
