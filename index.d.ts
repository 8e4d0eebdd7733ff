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
  PAYLOAD_RETAINED: 'ERR_LEAKGUARD_PAYLOAD_RETAINED'
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

// ---- Recycle safety net (lib/fleet/recycle.js) ---------------------------------------

/** Thresholds of the recycle safety net. At least one of maxJobs, maxRss, maxHeapUsed is required. */
export interface RecycleOptions {
  /** Recycle after this many finished guarded jobs. Positive integer; no default. */
  maxJobs?: number
  /** Recycle after the first job that ends with RSS at or above this. Bytes, positive integer. */
  maxRss?: Bytes
  /**
   * Recycle after the first job that ends with V8 heapUsed at or above this. Bytes, positive
   * integer. heapUsed includes not-yet-collected garbage: leave headroom below the heap limit.
   */
  maxHeapUsed?: Bytes
  /** On 'recycle', call gracefulExit(): wait for running guarded jobs (or close `worker`), then exit. Default `false`. */
  exit?: boolean
  /** What gracefulExit() closes before exiting: a BullMQ Worker (close() waits for its active jobs), a Piscina pool, a server. */
  worker?: { close(): unknown } | { destroy(): unknown }
  /** gracefulExit() exits anyway after this long if jobs do not finish. Milliseconds, integer >= 0, default 30000. */
  exitTimeoutMs?: Milliseconds
  /** Exit code used by gracefulExit(). Integer in [0, 255], default 0 (pm2 and systemd restart on any exit with autorestart). */
  exitCode?: number
}

/** A left-open resource as summarised by the recycle net, most frequent first. */
export interface RecycleLeftOpen {
  job: string | undefined
  kind: string
  type: string
  site: string | undefined
  /** How many jobs left this one open. */
  count: number
}

/** The 'recycle' event. */
export interface RecycleEvent {
  /** Which threshold was crossed. */
  reason: 'maxJobs' | 'maxRss' | 'maxHeapUsed'
  /** Finished jobs counted, including the one that crossed the line. */
  jobs: number
  rss: Bytes
  heapUsed: Bytes
  /** The threshold that was crossed. */
  limit: number
  /** The latest monitor trend warning seen in this thread, if any. */
  warning: unknown
  /** The most frequent left-open resources of the jobs counted (from their scope reports). */
  leftOpen: RecycleLeftOpen[]
  /** A sentence saying why it recycles and what leaks ("Recycling is a safety net, not the fix: ..."). */
  message: string
}

/**
 * The recycle safety net. Counts finished guarded jobs and, after the job that crosses a
 * threshold (never mid-job: the check runs when the job's scope closes, before the job
 * framework takes the next job), emits 'recycle' once. Created alone it counts every
 * guarded job of this thread; given to guard()/withScope() as `recycle` it counts only theirs.
 */
export declare class Recycler {
  constructor(options: RecycleOptions)
  /** Finished jobs counted. */
  readonly jobs: number
  /** Guarded jobs running now (0 between jobs). */
  readonly inFlight: number
  /** The 'recycle' event once it fired, else null. */
  readonly triggered: RecycleEvent | null
  readonly maxJobs: number | undefined
  readonly maxRss: Bytes | undefined
  readonly maxHeapUsed: Bytes | undefined
  on(event: 'recycle', listener: (event: RecycleEvent) => void): this
  on(event: 'idle', listener: () => void): this
  once(event: 'recycle', listener: (event: RecycleEvent) => void): this
  once(event: 'idle', listener: () => void): this
  off(event: 'recycle' | 'idle', listener: (...args: any[]) => void): this
  /** Counts one finished job not run through guard()/withScope(); returns the recycle event if it fired now. */
  jobEnded(report?: {
    name?: string
    leftOpen?: Array<{ kind: string; type: string; site?: string }>
  }): RecycleEvent | null
  /** Counts the start of a job not run through guard()/withScope() (for gracefulExit's wait). */
  jobStarted(): void
  /** Evaluates the thresholds now; emits 'recycle' once and returns it, or null. */
  check(): RecycleEvent | null
  /**
   * Waits for running guarded jobs (or closes `worker`, e.g. a BullMQ Worker, whose close()
   * waits for its active jobs), then `process.exit(exitCode)` (in a worker_thread: ends the thread).
   * Rejects with ERR_LEAKGUARD_INVALID_ARGUMENT for a worker without close()/destroy().
   */
  gracefulExit(worker?: { close(): unknown } | { destroy(): unknown }): Promise<never>
  /** Stops counting and unsubscribes from the diagnostics channels. Idempotent. */
  stop(): void
}

/**
 * Creates a recycle safety net (see Recycler).
 * @throws {TypeError|RangeError} ERR_LEAKGUARD_INVALID_OPTION for bad or missing thresholds.
 */
export declare function recycle(options: RecycleOptions): Recycler
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

export interface Monitor {
  on(event: 'warning', listener: (warning: TrendWarning) => void): this
  on(event: 'limit', listener: (event: LimitEvent) => void): this
  on(event: 'sample', listener: (sample: MemorySample) => void): this
  /** Only when RSS cannot be read natively (`ERR_LEAKGUARD_IO`); without a listener it is ignored. */
  on(event: 'error', listener: (error: Error) => void): this
  /** With `options.recycle`: fired once, after the job that crossed a threshold. */
  on(event: 'recycle', listener: (event: RecycleEvent) => void): this
  once(event: 'recycle', listener: (event: RecycleEvent) => void): this
  once(event: 'warning', listener: (warning: TrendWarning) => void): this
  once(event: 'limit', listener: (event: LimitEvent) => void): this
  once(event: 'sample', listener: (sample: MemorySample) => void): this
  off(event: 'warning' | 'limit' | 'sample' | 'error' | 'recycle', listener: (...args: any[]) => void): this
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
// ---- Job scopes (lib/scope/scope.js) ------------------------------------------------

/** What a resource left open by a job is: its kind, then its type within the kind. */
export type LeftOpenKind = 'timer' | 'listener' | 'socket' | 'server' | 'stream' | 'child_process' | 'handle'

/** One resource a job created without its scope and left open (autoTrack). */
export interface LeftOpenResource {
  /** `'timer'`, `'listener'`, `'socket'`, `'server'`, `'stream'` or `'child_process'`. */
  kind: LeftOpenKind
  /**
   * `'Timeout'`, `'Interval'`, `'Immediate'`; for listeners `'<EmitterClass>#<event>'`
   * (e.g. `'EventEmitter#message'`, `'EventTarget#abort'`); for handles the class name
   * (`'Socket'`, `'Server'`, `'WriteStream'`, `'ChildProcess'`).
   */
  type: string
  /**
   * Where it was created, `'path/to/file.js:12:5'` (relative to the working directory when
   * under it): the first stack frame outside Node internals, node_modules and leakguard.
   * `undefined` unless `captureStacks` is on.
   */
  site: string | undefined
  /** True when `autoTrack: 'dispose'` closed it. */
  disposed: boolean
}

/** What closing one scope did; published on the `leakguard:job:end` diagnostics channel. */
export interface ScopeReport {
  /** The job name (`options.name`, else the handler's function name, else `'anonymous'`). */
  name: string
  /** From scope creation to the end of its disposal, in ms (sub-ms precision). */
  durationMs: Milliseconds
  /** How the job ended: resolved, rejected/threw, or hit `options.timeout`. */
  outcome: 'ok' | 'error' | 'timeout'
  /** What the scope closed: explicit entries only (setTimeout/on/track/use/defer). */
  disposed: {
    /** Timers still pending at close and cleared then (fired or cleared timers are not counted). */
    timers: number
    /** Listeners removed. */
    listeners: number
    /** Resources closed through `track()` or `use()`. */
    resources: number
    /** `defer()` callbacks run. */
    deferred: number
  }
  /** Resources created without the scope and still open at close (autoTrack; else always empty). */
  leftOpen: LeftOpenResource[]
  /** Errors thrown or rejected by disposers (and by `onLeftOpen`/`onReport` callbacks), in disposal order. */
  errors: unknown[]
}

/** Options of `guard()`, `withScope()` and `new JobScope()`. Unknown keys are rejected. */
export interface ScopeOptions {
  /** Name the reports and `scopeStats()` use. Default: the handler's name, else `'anonymous'`. Non-empty. */
  name?: string
  /**
   * Job time limit in ms (integer, 1 to 2^31-1; default: none). When it passes, the scope's
   * `signal` aborts and the job's promise rejects with an `ERR_LEAKGUARD_TIMEOUT` error; the
   * scope is closed at once (the handler cannot be stopped, but whatever it opened through the
   * scope is). The timer is unref'd. Ignored by `new JobScope()`.
   */
  timeout?: Milliseconds
  /**
   * How long close() waits for each async disposer, in ms (integer, 1 to 2^31-1; default 10000).
   * A disposer that does not settle in time adds an `ERR_LEAKGUARD_TIMEOUT` error to the report
   * and disposal goes on.
   */
  disposeTimeout?: Milliseconds
  /**
   * Attribute timers (global setTimeout/setInterval/setImmediate), EventEmitter/EventTarget
   * listeners, client sockets, servers, fs streams and child processes that the job creates
   * WITHOUT its scope (e.g. inside a library) to the job, and report those still open at close
   * in `leftOpen`. `'dispose'` also closes them. Listeners on emitters the job itself created,
   * EventTarget listeners added with `once`/`signal`, and sockets an `http.Agent` keeps in its
   * keep-alive pool are not reported. Costs about one
   * AsyncLocalStorage lookup per timer or listener created anywhere in the process while an
   * autoTrack scope is open. Default `false`.
   */
  autoTrack?: boolean | 'dispose'
  /**
   * With autoTrack, record each resource's creation site (`LeftOpenResource.site`). Costs a stack
   * capture (a few µs) per timer/listener/handle created in the job. Default `false`.
   */
  captureStacks?: boolean
  /**
   * What to do when a job left resources open (autoTrack): `'warn'` (default) emits a
   * `LeakGuardWarning` (code `ERR_LEAKGUARD_LEFT_OPEN`) once per job name and site; `'throw'`
   * rejects a job that otherwise succeeded with an `ERR_LEAKGUARD_LEFT_OPEN` error carrying
   * `report`; `'ignore'`; or a function called with the report.
   */
  onLeftOpen?: 'warn' | 'throw' | 'ignore' | ((report: ScopeReport) => void)
  /** Called with every closed scope's report (guard/withScope). A throw is added to `report.errors`. */
  onReport?: (report: ScopeReport) => void
  /**
   * guard() only. Watch each job's object arguments (its payload) after the job ended, with
   * WeakRefs checked on observed major GCs (PerformanceObserver 'gc') and a FinalizationRegistry:
   * a payload still reachable 3 major GCs after its job is reported — the signature of a closure,
   * listener or cache that outlives the job. `true` emits a `LeakGuardWarning` (code
   * `ERR_LEAKGUARD_PAYLOAD_RETAINED`) once per job name; a function receives each finding.
   * Counted in `ScopeStats.retainedPayloads`. At most 1000 payloads are watched at once.
   * Default `false`.
   */
  retainCheck?: boolean | ((finding: RetainedPayload) => void)
  /**
   * Recycle safety net fed by this guard's jobs (see `recycle()`): a shared `Recycler`, or
   * for guard() its options (a net for this guard alone, e.g. `{ maxJobs: 10000, exit: true }`).
   * withScope() takes only a `Recycler` (it runs one job); `new JobScope()` none. Default: none.
   */
  recycle?: RecycleOptions | Recycler
}

/** A job payload still reachable well after its job ended (retainCheck). */
export interface RetainedPayload {
  /** The job name. */
  name: string
  /** Major GCs observed since the job ended. */
  majorGcs: number
  /** A sentence saying what was found. */
  message: string
}

/** A disposal error together with the earlier error it suppressed (TC39 SuppressedError semantics). */
export declare class SuppressedError extends Error {
  constructor(error: unknown, suppressed: unknown, message?: string)
  /** The error raised later in disposal. */
  error: unknown
  /** The error it suppressed (itself possibly a SuppressedError: a chain, latest first). */
  suppressed: unknown
  readonly name: 'SuppressedError'
}

/** Anything `JobScope#track()` accepts: one of these, tried in this order, closes it. */
export type TrackableResource =
  | { [Symbol.asyncDispose](): unknown }
  | { [Symbol.dispose](): unknown }
  | { destroy(): unknown }
  | { close(): unknown }
  | { end(): unknown }
  | { terminate(): unknown }

/** An EventEmitter-like target (`on`/`once`/`removeListener`). */
export interface EmitterLike {
  on(event: string | symbol, listener: (...args: any[]) => void): unknown
  once(event: string | symbol, listener: (...args: any[]) => void): unknown
  removeListener(event: string | symbol, listener: (...args: any[]) => void): unknown
}

/**
 * One job's resources, closed together, last opened first (DisposableStack semantics).
 * `guard()`/`withScope()` create and close one per job; `currentScope()` finds it.
 * Every method throws `ERR_LEAKGUARD_SCOPE_CLOSED` once the scope is closed
 * (`track()` disposes its argument first).
 */
export declare class JobScope implements AsyncDisposable, Disposable {
  /**
   * A scope closed by hand (`await scope.close()`). `timeout`, `onLeftOpen`, `onReport` and
   * `retainCheck` act only through guard()/withScope(); here they are validated and ignored.
   */
  constructor(options?: Pick<ScopeOptions, 'name' | 'disposeTimeout' | 'autoTrack' | 'captureStacks'>)
  /** The name reports use. */
  readonly name: string
  /** True once close() has started. */
  readonly closed: boolean
  /** The report, once closed (else undefined). */
  readonly report: ScopeReport | undefined
  /** Aborted at close (reason: `ERR_LEAKGUARD_SCOPE_CLOSED` error, or the `ERR_LEAKGUARD_TIMEOUT` error). */
  readonly signal: AbortSignal
  /** setTimeout, cleared at close if still pending. */
  setTimeout<A extends any[]>(fn: (...args: A) => void, ms?: number, ...args: A): NodeJS.Timeout
  /** setInterval, cleared at close. */
  setInterval<A extends any[]>(fn: (...args: A) => void, ms?: number, ...args: A): NodeJS.Timeout
  /** setImmediate, cleared at close if it has not run. */
  setImmediate<A extends any[]>(fn: (...args: A) => void, ...args: A): NodeJS.Immediate
  /** `emitter.on(event, listener)` or `target.addEventListener(event, listener, options)`; removed at close. Returns `target`. */
  on<T extends EmitterLike | EventTarget>(
    target: T,
    event: string | symbol,
    listener: (...args: any[]) => void,
    options?: AddEventListenerOptions | boolean
  ): T
  /** Like on(), at most once. */
  once<T extends EmitterLike | EventTarget>(
    target: T,
    event: string | symbol,
    listener: (...args: any[]) => void,
    options?: AddEventListenerOptions | boolean
  ): T
  /** `target.addEventListener(type, listener, options)`, removed at close. Returns `target`. */
  addEventListener<T extends EventTarget>(
    target: T,
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: AddEventListenerOptions | boolean
  ): T
  /**
   * Closes `resource` at close with the first of `Symbol.asyncDispose`, `Symbol.dispose`,
   * `destroy()`, `close()`, `end()`, `terminate()` it has (a returned promise is awaited
   * within `disposeTimeout`). Returns `resource`.
   * @throws {TypeError} `ERR_LEAKGUARD_INVALID_ARGUMENT` if it has none of them.
   */
  track<R extends TrackableResource>(resource: R): R
  /** Runs `fn` at close (LIFO with everything else); a returned promise is awaited. */
  defer(fn: () => unknown): void
  /** AsyncDisposableStack#use: disposes `disposable` at close (Symbol.asyncDispose preferred); `null`/`undefined` pass through. */
  use<D extends Disposable | AsyncDisposable | null | undefined>(disposable: D): D
  /**
   * Aborts `signal`, disposes everything LIFO, and resolves to the report. Rejects with the
   * disposal error (a SuppressedError chain, latest first, when several) if a disposer threw.
   * Idempotent: later calls resolve to the same report.
   */
  close(): Promise<ScopeReport>
  [Symbol.asyncDispose](): Promise<void>
  /** Synchronous close: async disposers are started, not awaited. */
  [Symbol.dispose](): void
}

/**
 * Wraps a job handler (BullMQ processor, Piscina task, ...): each call runs in a fresh
 * JobScope closed in `finally`, whether the job resolves, throws or times out. Same
 * parameters and `this` as `fn`; always returns a promise. The job's own error is never
 * replaced: disposal errors reject only a job that succeeded.
 * @throws {TypeError} `ERR_LEAKGUARD_INVALID_ARGUMENT` / `ERR_LEAKGUARD_INVALID_OPTION`.
 */
export declare function guard<This, Args extends any[], R>(
  fn: (this: This, ...args: Args) => R,
  options?: ScopeOptions
): (this: This, ...args: Args) => Promise<Awaited<R>>

/** Runs `fn(scope)` in a fresh scope closed when it settles; resolves to fn's result. */
export declare function withScope<R>(
  fn: (scope: JobScope) => R,
  options?: Omit<ScopeOptions, 'recycle'> & { recycle?: Recycler }
): Promise<Awaited<R>>

/**
 * The scope of the job running in the current async context (at any depth), or
 * `undefined` outside jobs — including in a callback that runs after its job ended
 * (a left-open timer, a late listener): a closed scope is never handed out, and a
 * resource a job left open does not keep its scope alive.
 */
export declare function currentScope(): JobScope | undefined

/** Per-job-name aggregate of the closed scopes of this thread. */
export interface ScopeStats {
  name: string
  jobs: number
  /** Jobs that threw or rejected (timeouts excluded). */
  failed: number
  timedOut: number
  meanMs: Milliseconds
  maxMs: Milliseconds
  /** Sums of `ScopeReport.disposed`. */
  disposed: { timers: number; listeners: number; resources: number; deferred: number }
  /** Disposal errors, summed. */
  errors: number
  /** Jobs whose report had at least one left-open resource. */
  jobsWithLeftOpen: number
  /** Payloads found still reachable after their job (retainCheck). */
  retainedPayloads: number
  /** What jobs left open, by kind, type and site, most frequent first (at most 100 per name). */
  leftOpen: Array<{ kind: LeftOpenKind; type: string; site: string | undefined; count: number; perJob: number }>
  /** E.g. `"resize-image leaves 1 Timeout open per job (src/resize.js:12:5)"`. */
  message: string
}

/**
 * Statistics per job name of every scope closed in this thread (bounded: 1000 names, beyond
 * which they count under `'<other>'`).
 */
export declare function scopeStats(): ScopeStats[]
export declare function scopeStats(name: string): ScopeStats | undefined
/** Forgets all scope statistics. */
export declare function resetScopeStats(): void

// ---- Heap snapshots ---------------------------------------------------------

/** A path to a `.heapsnapshot` file, or a `file:` URL. */
export type HeapSnapshotPath = string | URL

/**
 * Runs a full garbage collection (works without `--expose-gc`), then writes a
 * heap snapshot of the calling thread's isolate with `v8.writeHeapSnapshot`.
 * Blocks the event loop for the whole write: about 1 s per 20 MB of snapshot
 * (a 300 MB snapshot took 12–16 s on a 2-core VM), and the writer needs
 * roughly 5× the snapshot size in memory. Take snapshots in tests, `leakguard
 * check`, or a worker drained of jobs — not on a busy production process.
 * @param path File to write. Default: V8's `Heap.<date>.<pid>.<tid>.<seq>.heapsnapshot` in the cwd.
 * @returns The path written.
 * @throws {TypeError} `ERR_LEAKGUARD_INVALID_ARGUMENT` for a non-string path.
 * @throws {Error} `ERR_LEAKGUARD_IO` when the file cannot be written.
 */
export declare function writeHeapSnapshot(path?: HeapSnapshotPath): string

/** One group of DevTools' Summary view in one snapshot. */
export interface HeapGroup {
  /**
   * The group: constructor name for objects and native objects (`Order`,
   * `Map`), `Function` for closures, `RegExp`, `(system)` for V8's hidden
   * objects, `(compiled code)`, and `(<type>)` for the other node types
   * (`(string)`, `(concatenated string)`, `(array)`, `(number)`, ...).
   */
  name: string
  /** Number of objects. */
  count: number
  /** Sum of the objects' own sizes. */
  selfSize: Bytes
  /**
   * Memory freed if all the group's objects were collected: the retained
   * sizes (dominator tree over the non-weak edges) of the members that no
   * other member dominates.
   */
  retainedSize: Bytes
}

/** `summarizeHeapSnapshot()`'s result. */
export interface HeapSummary {
  nodeCount: number
  edgeCount: number
  /** Sum of all objects' self sizes. */
  totalSize: Bytes
  /** The `top` groups by retained size, largest first. */
  groups: HeapGroup[]
}

/** How one group changed between two snapshots. */
export interface HeapGroupDelta {
  name: string
  countBefore: number
  countAfter: number
  countDelta: number
  selfSizeBefore: Bytes
  selfSizeAfter: Bytes
  selfSizeDelta: Bytes
  retainedSizeBefore: Bytes
  retainedSizeAfter: Bytes
  retainedSizeDelta: Bytes
  /** `countDelta / jobsBetween`; present only when `jobsBetween` was given. */
  perJob?: number
}

/** One step of a retainer path, from a GC root towards the sample object. */
export interface RetainerStep {
  /** The reference from the previous step: property or variable name, or `[index]`. Empty on the first step. */
  edge: string
  /** V8's edge type: `property`, `element`, `context`, `internal`, `hidden`, `shortcut`. Empty on the first step. */
  edgeType: string
  /** The object's class; synthetic and `(system)` objects show their own name, closures `name()`. */
  node: string
  /** V8's node type: `object`, `array`, `closure`, `hidden`, `synthetic`, `string`, ... */
  nodeType: string
  /** The object's `@id`, as DevTools shows it. */
  id: number
}

/** A group whose instance count grows with the number of jobs. */
export interface Suspect {
  name: string
  countDelta: number
  /** New instances per job; present only when `jobsBetween` was given. */
  perJob?: number
  selfSizeDelta: Bytes
  retainedSizeDelta: Bytes
  /**
   * Shortest path to one instance (preferably one created between the
   * snapshots) from the program's roots (the global object, Node's
   * environment and module records), or from V8's stack and handles only
   * when nothing else holds it, e.g.
   * `global → app (Object) → leaks (Array) → [100] (Order)`.
   * Empty when no instance is reachable.
   */
  retainerPath: string
  /** The same path as data. */
  retainers: RetainerStep[]
  /** `@id` of the instance the path leads to. */
  sampleId?: number
  /** A sentence: `Order: +900 instances (1.00 per job), +35.2 KB self, +119.5 KB retained; one instance is retained via …`. */
  message: string
}

/** Totals of one snapshot. */
export interface HeapSnapshotTotals {
  nodeCount: number
  edgeCount: number
  totalSize: Bytes
}

/** `diffHeapSnapshots()`'s result. */
export interface HeapDiff {
  before: HeapSnapshotTotals
  after: HeapSnapshotTotals
  totalSizeDelta: Bytes
  jobsBetween?: number
  /** The `top` changed groups, largest self-size growth first. */
  groups: HeapGroupDelta[]
  /**
   * Groups that grow with the job count, most likely cause first: program
   * classes before V8-internal groups (`(string)`, `(system)`...), then by
   * retained-size growth (the object holding the others comes first). With
   * `jobsBetween`, a group is a suspect when it gained ≥ 1 instance per 100
   * jobs (and ≥ 2); without, ≥ 10 instances and ≥ 10%. At most `top`.
   */
  suspects: Suspect[]
  /** A sentence: `heap +137.6 KB (+3630 objects) over 900 jobs; 2 groups grow: Order (1.00/job), ...`. */
  message: string
}

export interface DiffHeapSnapshotsOptions {
  /**
   * Jobs run between the two snapshots (> 0, need not be an integer).
   * Enables `perJob` and the per-job suspect threshold. Default: none.
   */
  jobsBetween?: number
  /** Maximum number of groups and of suspects returned; integer 1–10000. Default 20. */
  top?: number
  /** Aborts the analysis: the promise rejects with `ERR_LEAKGUARD_ABORTED` (cause: `signal.reason`). Not accepted by the Sync variant. */
  signal?: AbortSignal
}

export interface SummarizeHeapSnapshotOptions {
  /** Maximum number of groups returned; integer 1–10000. Default 20. */
  top?: number
  /** Aborts the analysis (`ERR_LEAKGUARD_ABORTED`). Not accepted by the Sync variant. */
  signal?: AbortSignal
}

/**
 * Compares two heap snapshots natively, off the main thread (the two files
 * are parsed on two threads): per-group count/self/retained deltas, the
 * groups growing with the job count, and a retainer path for each.
 * Rejects with `ERR_LEAKGUARD_MALFORMED_SNAPSHOT` (message gives the byte
 * offset) for truncated, non-JSON or non-snapshot files, `ERR_LEAKGUARD_IO`
 * when a file cannot be read, `ERR_LEAKGUARD_INVALID_ARGUMENT` /
 * `ERR_LEAKGUARD_INVALID_OPTION` for bad arguments.
 */
export declare function diffHeapSnapshots(
  before: HeapSnapshotPath,
  after: HeapSnapshotPath,
  options?: DiffHeapSnapshotsOptions
): Promise<HeapDiff>
/** Synchronous twin of `diffHeapSnapshots` (blocks the calling thread; no `signal`). */
export declare function diffHeapSnapshotsSync(
  before: HeapSnapshotPath,
  after: HeapSnapshotPath,
  options?: Omit<DiffHeapSnapshotsOptions, 'signal'>
): HeapDiff
/** Per-group totals of one snapshot, like DevTools' Summary view, off the main thread. */
export declare function summarizeHeapSnapshot(
  path: HeapSnapshotPath,
  options?: SummarizeHeapSnapshotOptions
): Promise<HeapSummary>
/** Synchronous twin of `summarizeHeapSnapshot`. */
export declare function summarizeHeapSnapshotSync(
  path: HeapSnapshotPath,
  options?: Omit<SummarizeHeapSnapshotOptions, 'signal'>
): HeapSummary

// ---- Memory assertions (lib/assert/assert.js) ------------------------------------

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
