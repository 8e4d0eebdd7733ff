/// <reference types="node" />
// Types of lib/scope/scope.js: job scopes.
import type { Milliseconds } from '../common/units.js'
import type { RecycleOptions, Recycler } from '../fleet/recycle.js'

/** What a resource left open by a job is: its kind, then its type within the kind. */
export type LeftOpenKind =
  | 'timer'
  | 'listener'
  | 'socket'
  | 'server'
  | 'stream'
  | 'watcher'
  | 'child_process'
  | 'handle'

/**
 * Where a resource was created: the user's own call site and, when a package under
 * node_modules created it, that package. E.g. a socket a driver opened reads
 * "left open by ioredis@5.4.1, called from src/worker.js:42:7".
 */
export interface CreationSite {
  /**
   * The user's call site, `'path/to/file.js:12:5'` (relative to the working directory when
   * under it): the first stack frame outside Node internals, node_modules and leakguard's own
   * `lib/` (leakguard's `examples/` count as the user's code, also when installed).
   * `undefined` unless `captureStacks` is on, or when no such frame was among the 16 captured.
   */
  site: string | undefined
  /**
   * The package that created it, `'name@version'` (from its package.json), when the innermost
   * frame outside Node and leakguard lies under node_modules; else `undefined`.
   */
  package: string | undefined
  /** That package's own frame, `'node_modules/ioredis/built/Redis.js:120:9'`, when `package` is set. */
  packageSite: string | undefined
}

/** One resource a job created without its scope and left open (autoTrack). */
export interface LeftOpenResource extends CreationSite {
  /** `'timer'`, `'listener'`, `'socket'`, `'server'`, `'stream'`, `'watcher'` or `'child_process'`. */
  kind: LeftOpenKind
  /**
   * `'Timeout'`, `'Interval'`, `'Immediate'`; for listeners `'<EmitterClass>#<event>'`
   * (e.g. `'EventEmitter#message'`, `'EventTarget#abort'`); for handles the class name
   * (`'Socket'`, `'TLSSocket'`, `'Server'`, `'WriteStream'`, `'FSWatcher'`, `'ChildProcess'`),
   * `'dgram.Socket'` for a UDP socket.
   */
  type: string
  /** True when `autoTrack: 'dispose'` closed it. */
  disposed: boolean
}

/** What closing one scope did; published on the `leakguard:job:end` diagnostics channel. */
export interface ScopeReport {
  /** The job name (`options.name`, else the handler's function name, else `'anonymous'`). */
  name: string
  /** From scope creation to the end of its disposal, in ms (sub-ms precision). */
  durationMs: Milliseconds
  /** How the job ended: resolved, rejected/threw, or hit `options.timeoutMs`. */
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
  timeoutMs?: Milliseconds
  /**
   * How long close() waits for each async disposer, in ms (integer, 1 to 2^31-1; default 10000).
   * A disposer that does not settle in time adds an `ERR_LEAKGUARD_TIMEOUT` error to the report
   * and disposal goes on.
   */
  disposeTimeoutMs?: Milliseconds
  /** @deprecated Renamed `timeoutMs` (durations end in `Ms`); still accepted, with a warning once. */
  timeout?: Milliseconds
  /** @deprecated Renamed `disposeTimeoutMs`; still accepted, with a warning once. */
  disposeTimeout?: Milliseconds
  /**
   * Attribute timers (setTimeout/setInterval/setImmediate, global or from `node:timers`, and
   * `node:timers/promises` setTimeout/setImmediate/setInterval, also when an ES module imports
   * them by name), EventEmitter/EventTarget listeners, client sockets (net, tls, and the
   * keep-alive sockets of an http/https Agent the job created), UDP sockets, servers, fs.watch
   * watchers, fs streams and child processes that the job creates WITHOUT its scope (e.g.
   * inside a library) to the job, and report those still open at close in `leftOpen`.
   * `'dispose'` also closes them (a timers/promises timer is cleared without settling its
   * promise). Not reported: listeners on emitters the job itself created or on destroyed
   * streams, EventTarget listeners added with `once`/`signal`, the sockets of an agent created
   * outside the job (a worker-wide pool), and what global `fetch()` opens (its pool is the
   * process's). Costs about one
   * AsyncLocalStorage lookup per timer or listener created anywhere in the process while an
   * autoTrack scope is open. Default `false`.
   */
  autoTrack?: boolean | 'dispose'
  /**
   * With autoTrack, record each resource's creation site and the package that created it
   * (`LeftOpenResource.site`, `.package`, `.packageSite`). Costs a stack capture (a few µs) per
   * timer/listener/handle created in the job. Default `false`.
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
 * An EventTarget-like target (`addEventListener`/`removeEventListener`): Node's `EventTarget`,
 * `AbortSignal`, a DOM node. Declared here so that the types need no DOM `lib`.
 */
export interface EventTargetLike {
  addEventListener(type: string, listener: EventListenerLike, options?: ListenerOptions | boolean): unknown
  removeEventListener(type: string, listener: EventListenerLike, options?: ListenerOptions | boolean): unknown
}

/** An EventTarget listener: a function, or an object with `handleEvent`. */
export type EventListenerLike = ((event: any) => void) | { handleEvent(event: any): void }

/** The `addEventListener` options a scope passes on to the target (`AddEventListenerOptions` of the DOM). */
export interface ListenerOptions {
  once?: boolean
  capture?: boolean
  passive?: boolean
  signal?: AbortSignal
}

/**
 * One job's resources, closed together, last opened first (DisposableStack semantics).
 * `guard()`/`withScope()` create and close one per job; `currentScope()` finds it.
 * Every method throws `ERR_LEAKGUARD_SCOPE_CLOSED` once the scope is closed
 * (`track()` disposes its argument first).
 */
export declare class JobScope implements AsyncDisposable, Disposable {
  /**
   * A scope closed by hand (`await scope.close()`). `timeoutMs`, `onLeftOpen`, `onReport` and
   * `retainCheck` act only through guard()/withScope(); here they are validated and ignored.
   */
  constructor(
    options?: Pick<ScopeOptions, 'name' | 'disposeTimeoutMs' | 'disposeTimeout' | 'autoTrack' | 'captureStacks'>
  )
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
  on<T extends EmitterLike | EventTargetLike>(
    target: T,
    event: string | symbol,
    listener: (...args: any[]) => void,
    options?: ListenerOptions | boolean
  ): T
  /** Like on(), at most once. */
  once<T extends EmitterLike | EventTargetLike>(
    target: T,
    event: string | symbol,
    listener: (...args: any[]) => void,
    options?: ListenerOptions | boolean
  ): T
  /** `target.addEventListener(type, listener, options)`, removed at close. Returns `target`. */
  addEventListener<T extends EventTargetLike>(
    target: T,
    type: string,
    listener: EventListenerLike,
    options?: ListenerOptions | boolean
  ): T
  /**
   * Closes `resource` at close with the first of `Symbol.asyncDispose`, `Symbol.dispose`,
   * `destroy()`, `close()`, `end()`, `terminate()` it has (a returned promise is awaited
   * within `disposeTimeoutMs`). Returns `resource`.
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

/**
 * The scope of the job running in the current async context, for code that only runs inside
 * jobs (`requireScope().setTimeout(...)` needs no undefined check).
 * @throws {Error} `ERR_LEAKGUARD_NO_SCOPE` outside `guard()`/`withScope()` (a `new JobScope()`
 * is not entered), and in a callback that runs after its job ended.
 */
export declare function requireScope(): JobScope

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
  /** What jobs left open, by kind, type, site and package, most frequent first (at most 100 per name). */
  leftOpen: Array<CreationSite & { kind: LeftOpenKind; type: string; count: number; perJob: number }>
  /**
   * E.g. `"resize-image leaves 1 Timeout open per job (src/resize.js:12:5)"`, or with a package
   * `"sync leaves 1 Socket open per job (left open by ioredis@5.4.1, called from src/sync.js:42:7)"`.
   */
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
