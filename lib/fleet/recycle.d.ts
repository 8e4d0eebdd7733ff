/// <reference types="node" />
// Types of lib/fleet/recycle.js: the recycle safety net.
import { EventEmitter } from 'node:events'
import type { Bytes, Milliseconds } from '../common/units.js'

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
  /** The `maxJobs` threshold that was crossed (reason `'maxJobs'`), else undefined. */
  limitJobs: number | undefined
  /** The `maxRss` or `maxHeapUsed` threshold that was crossed, else undefined. */
  limitBytes: Bytes | undefined
  /** @deprecated Renamed `limitJobs` / `limitBytes` (byte figures end in `Bytes`); still readable, with a warning once. */
  readonly limit: number
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
/** The events of a `Recycler` and their arguments. */
export interface RecyclerEvents {
  /** Fired once, after the job that crossed a threshold. */
  recycle: [event: RecycleEvent]
  /** No guarded job is running any more (gracefulExit waits for it). */
  idle: []
}

export declare class Recycler extends EventEmitter<RecyclerEvents> {
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
