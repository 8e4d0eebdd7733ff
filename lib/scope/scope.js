'use strict'
// JobScope: per-job cleanup in `finally` (DESIGN §2.2). Everything a job opens
// through its scope is closed when the job ends, last opened first closed, the
// way DisposableStack does it (Node 20 has none).
//
// The per-job path stays in JS: it is made of calls only the JS engine can
// make (clearTimeout, removeListener, destroy), and the per-name statistics
// are one Map lookup and a few additions (~20 ns), where a napi call costs
// 25-250 ns before any argument conversion (MEASUREMENTS.md). See README,
// "Job scopes", for the figures.

const { AsyncLocalStorage } = require('node:async_hooks')
const { performance } = require('node:perf_hooks')
const timers = require('node:timers')
const { jobEnd, jobStart } = require('../common/channels')
const { recycleOption, isDraining } = require('../fleet/recycle')
const { withCode, leakguardError, invalidArgType, invalidOptionType } = require('../common/errors')
const {
  checkObject,
  checkKnownKeys,
  checkInteger,
  checkString,
  checkFunction,
  checkOneOf
} = require('../common/options')
const autotrack = require('./autotrack')

// What AsyncLocalStorage holds for a job is its scope's id, not the scope.
// Every async resource the job creates (a timer, a socket, a promise) keeps
// the store it was created under, so a resource the job leaves open would
// otherwise keep the whole closed scope — records, report, AbortController,
// arguments — alive: leakguard would make the leak it reports bigger. An id
// below 2^31 is a small integer V8 stores inline (no allocation), so a
// resource left open keeps exactly what it would keep without leakguard.
// Ids are never reused (2^53 jobs), so a late callback never finds another job.
const als = new AsyncLocalStorage()
// id -> JobScope, while the scope is open (entered by guard/withScope only).
const openScopes = new Map()
// id of a closed plain scope -> id of its parent, while an enclosing autoTrack
// scope is open: what a callback the plain scope left running creates is still
// attributed to the outer job, as before it closed.
const forwards = new Map()
let lastId = 0
autotrack.setStorage(als, openScopes, forwards)

// Captured before autoTrack patches anything: the scope's own timers are
// tracked explicitly and must not be recorded twice.
const {
  setTimeout: setTimeoutOrig,
  setInterval: setIntervalOrig,
  setImmediate: setImmediateOrig,
  clearTimeout: clearTimeoutOrig,
  clearInterval: clearIntervalOrig,
  clearImmediate: clearImmediateOrig
} = timers

const DEFAULT_DISPOSE_TIMEOUT = 10_000
const MAX_STATS_NAMES = 1000
const MAX_STATS_SITES = 100
// autoTrack records that closed themselves are pruned when the list reaches
// this length, so a long job creating many short-lived timers stays bounded.
const PRUNE_AT = 1024

// Disposal operations live in one flat array, 4 slots each: no closure or
// object per tracked item on the hot path.
const K_TIMEOUT = 1
const K_INTERVAL = 2
const K_IMMEDIATE = 3
const K_EMITTER = 4
const K_TARGET = 5
const K_RESOURCE = 6
const K_DEFER = 7
const K_USE = 8
const K_USE_ASYNC = 9
const K_TARGET_CAPTURE = 10

// How a tracked resource is closed, in order of preference.
const M_ASYNC_DISPOSE = 1
const M_DISPOSE = 2
const M_DESTROY = 3
const M_CLOSE = 4
const M_END = 5
const M_TERMINATE = 6

const GUARD_KEYS = [
  'name',
  'timeout',
  'disposeTimeout',
  'autoTrack',
  'captureStacks',
  'onLeftOpen',
  'onReport',
  'retainCheck',
  'recycle'
]
const ON_LEFT_OPEN = ['warn', 'throw', 'ignore']

/**
 * An error raised while disposing, with the error it suppressed — the
 * semantics of the TC39 SuppressedError (Node 20 has no such global).
 */
class LeakguardSuppressedError extends Error {
  constructor(error, suppressed, message = 'An error was suppressed during disposal') {
    super(message)
    Object.defineProperty(this, 'error', { value: error, enumerable: true, configurable: true, writable: true })
    Object.defineProperty(this, 'suppressed', {
      value: suppressed,
      enumerable: true,
      configurable: true,
      writable: true
    })
  }

  get name() {
    return 'SuppressedError'
  }
}
// Where the runtime has the real one (explicit resource management), use it.
const SuppressedError =
  typeof globalThis.SuppressedError === 'function' ? globalThis.SuppressedError : LeakguardSuppressedError

/** Folds disposal errors the way `using` does: the latest error suppresses the earlier ones. */
function aggregate(errs) {
  let err = errs[0]
  for (let i = 1; i < errs.length; i++) err = new SuppressedError(errs[i], err)
  return err
}

function normalizeOptions(options, optName, kind = 'scope') {
  const o = checkObject(optName, options)
  checkKnownKeys(optName, o, GUARD_KEYS)
  const autoTrack = o.autoTrack
  if (autoTrack !== undefined && autoTrack !== true && autoTrack !== false && autoTrack !== 'dispose') {
    checkOneOf(`${optName}.autoTrack`, autoTrack, [true, false, 'dispose'])
  }
  const onLeftOpen = o.onLeftOpen
  if (typeof onLeftOpen !== 'function') checkOneOf(`${optName}.onLeftOpen`, onLeftOpen, ON_LEFT_OPEN)
  if (o.retainCheck !== undefined && typeof o.retainCheck !== 'boolean' && typeof o.retainCheck !== 'function') {
    throw invalidOptionType(`${optName}.retainCheck`, 'a boolean or a function', o.retainCheck)
  }
  if (o.captureStacks !== undefined && typeof o.captureStacks !== 'boolean') {
    throw invalidOptionType(`${optName}.captureStacks`, 'a boolean', o.captureStacks)
  }
  const cfg = {
    name: checkString(`${optName}.name`, o.name),
    timeout: checkInteger(`${optName}.timeout`, o.timeout, { min: 1, max: 2 ** 31 - 1 }),
    disposeTimeout:
      checkInteger(`${optName}.disposeTimeout`, o.disposeTimeout, { min: 1, max: 2 ** 31 - 1 }) ??
      DEFAULT_DISPOSE_TIMEOUT,
    auto: autoTrack === 'dispose' ? 2 : autoTrack === true ? 1 : 0,
    captureStacks: o.captureStacks === true,
    onLeftOpen: onLeftOpen ?? 'warn',
    onReport: checkFunction(`${optName}.onReport`, o.onReport),
    retainCheck: o.retainCheck === true || typeof o.retainCheck === 'function' ? o.retainCheck : undefined,
    stats: undefined,
    statsGen: -1,
    recycle: undefined
  }
  if (o.recycle !== undefined) {
    // The recycle net counts finished jobs: only guard() and withScope() report them.
    if (kind === 'scope')
      throw invalidOptionType(
        `${optName}.recycle`,
        'undefined for new JobScope() (pass it to guard() or withScope())',
        o.recycle
      )
    cfg.recycle = recycleOption(`${optName}.recycle`, o.recycle, { allowOptions: kind === 'guard' })
    cfg.onReport = cfg.recycle._onReport(cfg.onReport)
  }
  return cfg
}

function closedError(scope, what) {
  return leakguardError('SCOPE_CLOSED', `${what} called on the closed job scope "${scope.name}"`)
}

function disposeMethod(resource) {
  if (typeof resource[Symbol.asyncDispose] === 'function') return M_ASYNC_DISPOSE
  if (typeof resource[Symbol.dispose] === 'function') return M_DISPOSE
  if (typeof resource.destroy === 'function') return M_DESTROY
  if (typeof resource.close === 'function') return M_CLOSE
  if (typeof resource.end === 'function') return M_END
  if (typeof resource.terminate === 'function') return M_TERMINATE
  return 0
}

function callDispose(resource, method) {
  switch (method) {
    case M_ASYNC_DISPOSE:
      return resource[Symbol.asyncDispose]()
    case M_DISPOSE:
      return resource[Symbol.dispose]()
    case M_DESTROY:
      return resource.destroy()
    case M_CLOSE:
      return resource.close()
    case M_END:
      return resource.end()
    default:
      return resource.terminate()
  }
}

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function'
}

function isEmitter(target) {
  return (
    target !== null &&
    typeof target === 'object' &&
    typeof target.on === 'function' &&
    typeof target.removeListener === 'function'
  )
}

function isEventTarget(target) {
  return (
    target !== null &&
    typeof target === 'object' &&
    typeof target.addEventListener === 'function' &&
    typeof target.removeEventListener === 'function'
  )
}

function checkListener(listener) {
  if (
    typeof listener !== 'function' &&
    !(listener !== null && typeof listener === 'object' && typeof listener.handleEvent === 'function')
  ) {
    throw invalidArgType('listener', 'a function', listener)
  }
}

/**
 * One job's resources, closed together. Created by guard()/withScope(), or
 * directly (`new JobScope(options)`) and closed with `close()` or `await using`.
 */
class JobScope {
  constructor(options, _cfg) {
    const cfg = _cfg ?? normalizeOptions(options, 'options')
    this._cfg = cfg
    this._name = cfg.name ?? 'anonymous'
    this._ops = []
    this._ctrl = undefined
    this._state = 0 // 0 open, 1 closing, 2 closed
    this._closeP = undefined
    this._pending = undefined
    this._timedOut = false
    this._report = undefined
    this._errs = undefined
    this._outcome = undefined
    this._leftOpen = NO_LEFT_OPEN
    this._durationMs = 0
    this._args = undefined
    this._t0 = performance.now()
    this._id = 0 // set when guard()/withScope() enters the scope (als store)
    // Only autoTrack needs the parent's id (to attribute through plain nested scopes).
    this._parent = autotrack.state.active || cfg.auto !== 0 ? als.getStore() : undefined
    this._fwd = undefined // ids forwarded to this autoTrack scope (see forwards)
    this._auto = cfg.auto
    this._stacks = cfg.captureStacks
    this._autoRecs = undefined
    this._born = undefined
    this._timers = 0
    this._listeners = 0
    this._resources = 0
    this._deferred = 0
    if (this._auto !== 0) autotrack.acquire()
  }

  /** The job name this scope reports under. */
  get name() {
    return this._name
  }
  /** True once close() has started. */
  get closed() {
    return this._state !== 0
  }
  /** The report, once the scope is closed. */
  get report() {
    if (this._report === undefined && this._state === 2) this._report = this._buildReport()
    return this._report
  }

  /** Aborted when the scope closes (reason: a coded SCOPE_CLOSED or TIMEOUT error). */
  get signal() {
    if (this._ctrl === undefined) {
      this._ctrl = new AbortController()
      if (this._state !== 0) this._ctrl.abort(closedError(this, 'signal'))
    }
    return this._ctrl.signal
  }

  _open(what) {
    if (this._state !== 0) throw closedError(this, what)
  }

  setTimeout(fn, ms, ...args) {
    this._open('setTimeout')
    const t = setTimeoutOrig(fn, ms, ...args)
    this._ops.push(K_TIMEOUT, t, undefined, undefined)
    return t
  }

  setInterval(fn, ms, ...args) {
    this._open('setInterval')
    const t = setIntervalOrig(fn, ms, ...args)
    this._ops.push(K_INTERVAL, t, undefined, undefined)
    return t
  }

  setImmediate(fn, ...args) {
    this._open('setImmediate')
    const t = setImmediateOrig(fn, ...args)
    this._ops.push(K_IMMEDIATE, t, undefined, undefined)
    return t
  }

  /** Adds `listener` to an EventEmitter (`on`) or EventTarget (`addEventListener`); removed at close. Returns `target`. */
  on(target, event, listener, options) {
    return this._listen(target, event, listener, options, false, 'on')
  }

  /** Like on(), but the listener runs at most once. */
  once(target, event, listener, options) {
    return this._listen(target, event, listener, options, true, 'once')
  }

  /** EventTarget form of on(): `addEventListener(type, listener, options)`, removed at close. */
  addEventListener(target, type, listener, options) {
    if (!isEventTarget(target)) throw invalidArgType('target', 'an EventTarget', target)
    return this._listen(target, type, listener, options, false, 'addEventListener')
  }

  _listen(target, event, listener, options, once, what) {
    this._open(what)
    checkListener(listener)
    const st = autotrack.state
    const muted = st.muted
    st.muted = true
    try {
      if (what !== 'addEventListener' && isEmitter(target)) {
        if (once) target.once(event, listener)
        else target.on(event, listener)
        this._ops.push(K_EMITTER, target, event, listener)
      } else if (isEventTarget(target)) {
        let capture = false
        if (typeof options === 'boolean') capture = options
        else if (options !== null && typeof options === 'object') capture = !!options.capture
        if (once) options = { ...(typeof options === 'object' && options), capture, once: true }
        target.addEventListener(event, listener, options)
        this._ops.push(capture ? K_TARGET_CAPTURE : K_TARGET, target, event, listener)
      } else {
        throw invalidArgType('target', 'an EventEmitter or EventTarget', target)
      }
    } finally {
      st.muted = muted
    }
    return target
  }

  /**
   * Closes `resource` at close through the first of `Symbol.asyncDispose`,
   * `Symbol.dispose`, `destroy()`, `close()`, `end()`, `terminate()` it has.
   * Returns `resource`. After close, disposes it at once and throws.
   */
  track(resource) {
    const method =
      resource !== null && (typeof resource === 'object' || typeof resource === 'function')
        ? disposeMethod(resource)
        : 0
    if (method === 0) {
      throw invalidArgType(
        'resource',
        'disposable (Symbol.asyncDispose, Symbol.dispose, destroy, close, end or terminate)',
        resource
      )
    }
    if (this._state !== 0) {
      try {
        const r = callDispose(resource, method)
        if (isThenable(r)) r.then(undefined, () => {})
      } catch {}
      throw closedError(this, 'track')
    }
    this._ops.push(K_RESOURCE, resource, method, undefined)
    return resource
  }

  /** Runs `fn` at close (LIFO with everything else); a returned promise is awaited. */
  defer(fn) {
    if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
    this._open('defer')
    this._ops.push(K_DEFER, fn, undefined, undefined)
  }

  /**
   * AsyncDisposableStack#use: `null`/`undefined` pass through; else needs
   * Symbol.asyncDispose (preferred) or Symbol.dispose.
   */
  use(disposable) {
    if (disposable === null || disposable === undefined) return disposable
    const isObj = typeof disposable === 'object' || typeof disposable === 'function'
    const async = isObj && typeof disposable[Symbol.asyncDispose] === 'function'
    if (!async && !(isObj && typeof disposable[Symbol.dispose] === 'function')) {
      throw invalidArgType('disposable', 'an object with Symbol.dispose or Symbol.asyncDispose', disposable)
    }
    this._open('use')
    this._ops.push(async ? K_USE_ASYNC : K_USE, disposable, undefined, undefined)
    return disposable
  }

  _autoAdd(rec) {
    let recs = this._autoRecs
    if (recs === undefined) recs = this._autoRecs = []
    else if (recs.length >= PRUNE_AT && (recs.length & 255) === 0) {
      const kept = recs.filter(autotrack.isOpen)
      recs.length = 0
      for (const r of kept) recs.push(r)
    }
    recs.push(rec)
  }

  /**
   * Closes the scope: aborts `signal`, then disposes everything LIFO (async
   * disposers awaited, each within `disposeTimeout`). Resolves to the report;
   * rejects with the disposal error (a SuppressedError chain when several)
   * if a disposer threw. Idempotent: later calls resolve to the same report.
   */
  close() {
    if (this._state !== 0) {
      return this._state === 2
        ? Promise.resolve(this.report)
        : this._closeP.then(
            () => this.report,
            () => this.report
          )
    }
    const r = this._close(undefined, 'ok')
    return (r instanceof Promise ? r : Promise.resolve(r)).then((scope) => {
      const rep = scope.report
      if (rep.errors.length) throw aggregate(rep.errors)
      return rep
    })
  }

  [Symbol.asyncDispose]() {
    return this.close().then(() => undefined)
  }

  /**
   * Synchronous close (`using`): disposers returning a promise are started but
   * not awaited (their rejections are reported as warnings). Throws the
   * disposal error if a disposer threw synchronously.
   */
  [Symbol.dispose]() {
    if (this._state !== 0) return
    this._close(undefined, 'ok', true)
    if (this._errs !== undefined) throw aggregate(this._errs)
  }

  // Returns the scope, or a promise of it once an async disposer is met; the
  // report is built on demand. A second call (the job closed its own scope)
  // returns the first's result.
  _close(jobError, outcome, sync = false) {
    if (this._state !== 0) return this._state === 2 ? this : this._closeP
    this._state = 1
    if (this._ctrl !== undefined && !this._ctrl.signal.aborted) {
      this._ctrl.abort(outcome === 'timeout' ? jobError : closedError(this, 'signal'))
    }
    const i = this._ops.length === 0 ? -1 : this._runOps(this._ops.length - 4, sync)
    if (i === -1) return this._finish(outcome)
    this._closeP = this._closeAsync(i, outcome)
    return this._closeP
  }

  async _closeAsync(pending, outcome) {
    let i = pending
    while (i !== -1) {
      await this._bounded(this._pending)
      this._pending = undefined
      i = this._runOps(i - 4, false)
    }
    return this._finish(outcome)
  }

  _err(e) {
    if (this._errs === undefined) this._errs = [e]
    else this._errs.push(e)
  }

  _bounded(p) {
    const ms = this._cfg.disposeTimeout
    return new Promise((resolve) => {
      const t = setTimeoutOrig(() => {
        this._err(
          leakguardError(
            'TIMEOUT',
            `a disposer of job scope "${this._name}" did not settle within ${ms} ms (disposeTimeout)`
          )
        )
        resolve()
      }, ms)
      t.unref()
      Promise.resolve(p).then(
        () => {
          clearTimeoutOrig(t)
          resolve()
        },
        (e) => {
          clearTimeoutOrig(t)
          this._err(e)
          resolve()
        }
      )
    })
  }

  // Runs ops from index `i` down; returns -1 when done, or the index of an op
  // whose promise (this._pending) must be awaited first.
  _runOps(i, sync) {
    const ops = this._ops
    for (; i >= 0; i -= 4) {
      let r
      try {
        r = this._disposeOp(ops[i], ops[i + 1], ops[i + 2], ops[i + 3])
      } catch (e) {
        this._err(e)
        continue
      }
      if (r !== undefined && isThenable(r)) {
        if (sync) {
          r.then(undefined, (e) =>
            process.emitWarning(
              `an async disposer of job scope "${this._name}" failed after a synchronous dispose: ${e?.message}`,
              { type: 'LeakGuardWarning', code: 'ERR_LEAKGUARD_SCOPE_CLOSED' }
            )
          )
          continue
        }
        this._pending = r
        return i
      }
    }
    if (ops.length !== 0) ops.length = 0
    return -1
  }

  _disposeOp(kind, a, b, c) {
    switch (kind) {
      case K_TIMEOUT:
        if (a._destroyed !== true) {
          clearTimeoutOrig(a)
          this._timers++
        }
        return
      case K_INTERVAL:
        if (a._destroyed !== true) {
          clearIntervalOrig(a)
          this._timers++
        }
        return
      case K_IMMEDIATE:
        if (a._destroyed !== true) {
          clearImmediateOrig(a)
          this._timers++
        }
        return
      case K_EMITTER:
        this._listeners++
        a.removeListener(b, c)
        return
      case K_TARGET:
        this._listeners++
        a.removeEventListener(b, c)
        return
      case K_TARGET_CAPTURE:
        this._listeners++
        a.removeEventListener(b, c, true)
        return
      case K_RESOURCE:
        this._resources++
        return callDispose(a, b)
      case K_DEFER:
        this._deferred++
        return a()
      case K_USE:
        this._resources++
        return a[Symbol.dispose]()
      case K_USE_ASYNC:
        this._resources++
        return a[Symbol.asyncDispose]()
    }
  }

  _finish(outcome) {
    if (this._id !== 0) this._leave()
    if (this._auto !== 0) {
      const recs = this._autoRecs
      if (recs !== undefined) {
        const leftOpen = []
        for (const rec of recs) {
          if (autotrack.isOpen(rec)) {
            let disposed = false
            if (this._auto === 2) {
              try {
                autotrack.disposeRecord(rec)
                disposed = true
              } catch (e) {
                this._err(e)
              }
            }
            // Plain data only: the report must not hold the resource.
            leftOpen.push({ kind: rec.kind, type: rec.type, site: autotrack.siteOf(rec.holder), disposed })
          }
          autotrack.detach(rec)
        }
        if (leftOpen.length !== 0) this._leftOpen = leftOpen
        this._autoRecs = undefined
      }
      this._born = undefined
      if (this._fwd !== undefined) {
        for (const id of this._fwd) forwards.delete(id)
        this._fwd = undefined
      }
      autotrack.release()
    }
    this._parent = undefined
    this._state = 2
    this._outcome = outcome
    this._durationMs = performance.now() - this._t0
    recordStats(this)
    return this
  }

  // Forgets the scope's id: from now on, its id in a resource it left open
  // leads nowhere, or (plain scope) to its still-open autoTrack ancestor.
  _leave() {
    const id = this._id
    openScopes.delete(id)
    if (this._auto === 0 && this._parent !== undefined) {
      const outer = autotrack.ownerOf(this._parent)
      if (outer !== undefined) {
        forwards.set(id, this._parent)
        if (outer._fwd === undefined) outer._fwd = [id]
        else outer._fwd.push(id)
      }
    }
  }

  _buildReport() {
    return {
      name: this._name,
      durationMs: this._durationMs,
      outcome: this._outcome,
      disposed: {
        timers: this._timers,
        listeners: this._listeners,
        resources: this._resources,
        deferred: this._deferred
      },
      leftOpen: this._leftOpen === NO_LEFT_OPEN ? [] : this._leftOpen,
      errors: this._errs === undefined ? [] : this._errs
    }
  }
}

const NO_LEFT_OPEN = Object.freeze([])

// ---- per-name statistics --------------------------------------------------------

const stats = new Map()

let statsGeneration = 0

function newStats(name) {
  return {
    name,
    jobs: 0,
    failed: 0,
    timedOut: 0,
    totalMs: 0,
    maxMs: 0,
    timers: 0,
    listeners: 0,
    resources: 0,
    deferred: 0,
    errors: 0,
    jobsWithLeftOpen: 0,
    retainedPayloads: 0,
    leftOpen: new Map()
  }
}

function recordStats(scope) {
  // guard() caches its entry in its config: no Map lookup per job.
  const cfg = scope._cfg
  let s = cfg !== undefined && cfg.statsGen === statsGeneration ? cfg.stats : stats.get(scope._name)
  if (s === undefined) {
    const key = stats.size < MAX_STATS_NAMES ? scope._name : '<other>'
    s = stats.get(key)
    if (s === undefined) {
      s = newStats(key)
      stats.set(key, s)
    }
  }
  if (cfg !== undefined) {
    cfg.stats = s
    cfg.statsGen = statsGeneration
  }
  s.jobs++
  if (scope._outcome === 'error') s.failed++
  else if (scope._outcome === 'timeout') s.timedOut++
  const d = scope._durationMs
  s.totalMs += d
  if (d > s.maxMs) s.maxMs = d
  s.timers += scope._timers
  s.listeners += scope._listeners
  s.resources += scope._resources
  s.deferred += scope._deferred
  if (scope._errs !== undefined) s.errors += scope._errs.length
  const lo = scope._leftOpen
  if (lo.length !== 0) {
    s.jobsWithLeftOpen++
    for (const r of lo) {
      const key = `${r.kind}\0${r.type}\0${r.site}`
      let e = s.leftOpen.get(key)
      if (e === undefined) {
        if (s.leftOpen.size >= MAX_STATS_SITES) continue
        s.leftOpen.set(key, (e = { kind: r.kind, type: r.type, site: r.site, count: 0 }))
      }
      e.count++
    }
  }
}

const perJobFmt = (n) => (Math.round(n * 100) / 100).toString()

function snapshot(s) {
  const leftOpen = [...s.leftOpen.values()]
    .map((e) => ({ kind: e.kind, type: e.type, site: e.site, count: e.count, perJob: e.count / s.jobs }))
    .sort((a, b) => b.count - a.count)
  const message =
    leftOpen.length === 0
      ? `${s.name}: ${s.jobs} job${s.jobs === 1 ? '' : 's'}, nothing left open`
      : leftOpen
          .map((e) => `${s.name} leaves ${perJobFmt(e.perJob)} ${e.type} open per job${e.site ? ` (${e.site})` : ''}`)
          .join('; ')
  return {
    name: s.name,
    jobs: s.jobs,
    failed: s.failed,
    timedOut: s.timedOut,
    meanMs: s.jobs ? s.totalMs / s.jobs : 0,
    maxMs: s.maxMs,
    disposed: { timers: s.timers, listeners: s.listeners, resources: s.resources, deferred: s.deferred },
    errors: s.errors,
    jobsWithLeftOpen: s.jobsWithLeftOpen,
    retainedPayloads: s.retainedPayloads,
    leftOpen,
    message
  }
}

/** Per-job-name aggregates of every closed scope in this thread; one name, or all. */
function scopeStats(name) {
  if (name !== undefined) {
    checkString('name', name)
    const s = stats.get(name)
    return s === undefined ? undefined : snapshot(s)
  }
  return [...stats.values()].map(snapshot)
}

/** Forgets all statistics (e.g. between test files). */
function resetScopeStats() {
  stats.clear()
  statsGeneration++
}

// ---- retainCheck ----------------------------------------------------------------
// A payload still reachable RETAIN_GCS major GCs after its job ended is what
// "a closure captures an object that outlives the job" looks like from outside.
// WeakRefs are checked when a major GC is observed; the FinalizationRegistry
// forgets payloads as soon as they are collected, so the watch list stays short.

const RETAIN_GCS = 3
const MAX_WATCHED = 1000
const watched = new Map() // id -> { name, ref, endGc, cfg }
let watchId = 0
let majorGcs = 0
let gcObserver
const finalized = new FinalizationRegistry((id) => {
  watched.delete(id)
  if (watched.size === 0) stopGcObserver()
})
const warnedRetained = new Set()

function watchPayload(cfg, args) {
  for (const arg of args) {
    if (arg === null || (typeof arg !== 'object' && typeof arg !== 'function')) continue
    // Bounded: beyond MAX_WATCHED pending payloads, new ones are not watched.
    if (watched.size >= MAX_WATCHED) return
    const id = ++watchId
    const token = { id }
    watched.set(id, { name: cfg.name, ref: new WeakRef(arg), endGc: majorGcs, cfg, token })
    finalized.register(arg, id, token)
  }
  if (gcObserver === undefined) startGcObserver()
}

function startGcObserver() {
  const { PerformanceObserver, constants } = require('node:perf_hooks')
  gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = entry.detail ? entry.detail.kind : entry.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++
    }
    checkRetained()
  })
  gcObserver.observe({ entryTypes: ['gc'] })
}

function stopGcObserver() {
  if (gcObserver !== undefined) {
    gcObserver.disconnect()
    gcObserver = undefined
  }
}

function checkRetained() {
  for (const [id, w] of watched) {
    if (majorGcs - w.endGc < RETAIN_GCS) continue
    watched.delete(id)
    finalized.unregister(w.token)
    if (w.ref.deref() === undefined) continue
    retained(w)
  }
  if (watched.size === 0) stopGcObserver()
}

function retained(w) {
  const s = stats.get(w.name)
  if (s !== undefined) s.retainedPayloads++
  const message = `a payload of job "${w.name}" is still reachable ${majorGcs - w.endGc} major GCs after the job ended: something (a closure, a listener, a cache, a global) retains it`
  const h = w.cfg.retainCheck
  if (typeof h === 'function') {
    try {
      h({ name: w.name, majorGcs: majorGcs - w.endGc, message })
    } catch (e) {
      process.emitWarning(`options.retainCheck threw: ${e?.message}`, {
        type: 'LeakGuardWarning',
        code: 'ERR_LEAKGUARD_PAYLOAD_RETAINED'
      })
    }
  } else if (!warnedRetained.has(w.name)) {
    if (warnedRetained.size < 1000) warnedRetained.add(w.name)
    process.emitWarning(message, { type: 'LeakGuardWarning', code: 'ERR_LEAKGUARD_PAYLOAD_RETAINED' })
  }
}

// ---- guard / withScope ----------------------------------------------------------

// Each (job name, resource, site) is warned about once. The set is bounded:
// job names built from ids would otherwise grow it for ever; once full, one
// last warning says so and later new sites are only counted (scopeStats()).
const WARNED_SITES_MAX = 10_000
const warnedSites = new Set()
let warnedSitesFull = false

function leftOpenMessage(report) {
  const items = report.leftOpen.map((r) => `${r.type}${r.site ? ` (${r.site})` : ''}`)
  return `job "${report.name}" left ${report.leftOpen.length} resource${report.leftOpen.length === 1 ? '' : 's'} open: ${items.join(', ')}`
}

function warnLeftOpen(report) {
  for (const r of report.leftOpen) {
    const key = `${report.name}\0${r.kind}\0${r.type}\0${r.site}`
    if (warnedSites.has(key)) continue
    if (warnedSites.size >= WARNED_SITES_MAX) {
      if (!warnedSitesFull) {
        warnedSitesFull = true
        process.emitWarning(
          `${WARNED_SITES_MAX} distinct left-open resources were warned about (job name, type, site); ` +
            'new ones are no longer warned about, only counted in scopeStats(). Job names that include ids make every job a new name.',
          { type: 'LeakGuardWarning', code: 'ERR_LEAKGUARD_LEFT_OPEN' }
        )
      }
      continue
    }
    warnedSites.add(key)
    process.emitWarning(
      `job "${report.name}" left open: ${r.kind} ${r.type}${r.site ? ` (created at ${r.site})` : ''}${r.disposed ? '; leakguard disposed it' : ''}`,
      { type: 'LeakGuardWarning', code: 'ERR_LEAKGUARD_LEFT_OPEN' }
    )
  }
}

const warnedDisposeErrors = new Set()

// Publishes the report and applies onLeftOpen; returns an error to reject
// the job with (only when the job itself succeeded), or undefined.
function deliver(cfg, report, jobFailed) {
  let err
  if (report.leftOpen.length !== 0) {
    const h = cfg.onLeftOpen
    if (h === 'warn') warnLeftOpen(report)
    else if (h === 'throw') {
      err = withCode(new Error(leftOpenMessage(report)), 'LEFT_OPEN', { report })
    } else if (typeof h === 'function') {
      try {
        h(report)
      } catch (e) {
        report.errors.push(e)
      }
    }
  }
  if (cfg.onReport !== undefined) {
    try {
      cfg.onReport(report)
    } catch (e) {
      report.errors.push(e)
    }
  }
  if (jobEnd.hasSubscribers) jobEnd.publish(report)
  if (report.errors.length !== 0) {
    if (!jobFailed) return aggregate(err === undefined ? report.errors : [...report.errors, err])
    // The job's own error wins; disposal errors stay in the report and are
    // surfaced once per message rather than lost.
    for (const e of report.errors) {
      const key = `${report.name}\0${e?.message}`
      if (warnedDisposeErrors.has(key)) continue
      if (warnedDisposeErrors.size < 1000) warnedDisposeErrors.add(key)
      process.emitWarning(`disposing job scope "${report.name}" after the job failed: ${e?.message}`, {
        type: 'LeakGuardWarning',
        code: 'ERR_LEAKGUARD_SCOPE_CLOSED'
      })
    }
    return undefined
  }
  return jobFailed ? undefined : err
}

function timeoutRace(p, scope, ms) {
  let timer
  const t = new Promise((_resolve, reject) => {
    timer = setTimeoutOrig(() => {
      const err = leakguardError('TIMEOUT', `job "${scope.name}" timed out after ${ms} ms (options.timeout)`)
      scope._timedOut = true
      if (scope._ctrl !== undefined) scope._ctrl.abort(err)
      reject(err)
    }, ms)
    timer.unref()
  })
  return Promise.race([p, t]).finally(() => clearTimeoutOrig(timer))
}

// Written with then() rather than async/await: with AsyncLocalStorage on,
// Node 20 runs a hook for every promise, so each promise saved counts (bench).
function run(cfg, scope, fn, thisArg, args) {
  if (isDraining()) return new Promise(() => {}) // the recycle net is exiting: this job never starts
  if (cfg.recycle !== undefined) cfg.recycle.jobStarted()
  if (jobStart.hasSubscribers) jobStart.publish(scope)
  let r
  try {
    const id = (scope._id = ++lastId)
    openScopes.set(id, scope)
    r = als.run(id, Reflect.apply, fn, thisArg, args)
  } catch (e) {
    return settled(cfg, scope, e, 'error', undefined)
  }
  if (cfg.timeout !== undefined) r = timeoutRace(r, scope, cfg.timeout)
  else if (!isThenable(r)) return settled(cfg, scope, undefined, 'ok', r)
  else if (!(r instanceof Promise)) r = Promise.resolve(r)
  return r.then(
    (v) => settle(cfg, scope, undefined, 'ok', v),
    (e) => settle(cfg, scope, e, scope._timedOut ? 'timeout' : 'error', undefined)
  )
}

function settled(cfg, scope, jobError, outcome, result) {
  try {
    return Promise.resolve(settle(cfg, scope, jobError, outcome, result))
  } catch (e) {
    return Promise.reject(e)
  }
}

function settle(cfg, scope, jobError, outcome, result) {
  const r = scope._close(jobError, outcome)
  if (r instanceof Promise) return r.then(() => conclude(cfg, scope, jobError, outcome, result))
  return conclude(cfg, scope, jobError, outcome, result)
}

function conclude(cfg, scope, jobError, outcome, result) {
  if (cfg.retainCheck !== undefined && scope._args !== undefined) watchPayload(cfg, scope._args)
  scope._args = undefined
  // The report object is only built when someone reads it.
  if (
    scope._leftOpen.length === 0 &&
    scope._errs === undefined &&
    cfg.onReport === undefined &&
    !jobEnd.hasSubscribers
  ) {
    if (outcome !== 'ok') throw jobError
    return result
  }
  const err = deliver(cfg, scope.report, outcome !== 'ok')
  if (outcome !== 'ok') throw jobError
  if (err !== undefined) throw err
  return result
}

/**
 * Wraps a job handler: each call runs in a fresh JobScope (currentScope()),
 * closed in `finally`. Same parameters and `this` as `fn`; returns a promise.
 */
function guard(fn, options) {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
  const cfg = normalizeOptions(options, 'options', 'guard')
  const name = cfg.name ?? (fn.name || 'anonymous')
  const c = { ...cfg, name }
  const guarded = function (...args) {
    const scope = new JobScope(undefined, c)
    if (c.retainCheck !== undefined) scope._args = args
    return run(c, scope, fn, this, args)
  }
  Object.defineProperty(guarded, 'name', { value: fn.name, configurable: true })
  Object.defineProperty(guarded, 'length', { value: fn.length, configurable: true })
  return guarded
}

/** Runs `fn(scope)` in a fresh scope closed when it settles; resolves to fn's result. */
function withScope(fn, options) {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
  const cfg = normalizeOptions(options, 'options', 'withScope')
  const c = cfg.name === undefined ? { ...cfg, name: fn.name || 'anonymous' } : cfg
  const scope = new JobScope(undefined, c)
  return run(c, scope, fn, undefined, [scope])
}

/**
 * The scope of the job running in the current async context, or undefined
 * outside any job — including in a callback the job left running after it ended.
 */
function currentScope() {
  const id = als.getStore()
  return id === undefined ? undefined : openScopes.get(id)
}

module.exports = {
  JobScope,
  SuppressedError,
  guard,
  withScope,
  currentScope,
  scopeStats,
  resetScopeStats,
  /** Internal, for the bench: the per-job statistics update. */
  _recordStats: recordStats
}
