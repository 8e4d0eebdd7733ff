'use strict'
// JobScope: one job's resources, closed together in `finally`. Everything a
// job opens through its scope (timers, listeners, streams, sockets, deferred
// cleanups, disposables) is closed when the job ends, last opened first
// closed, the way DisposableStack does it (Node 20 has none). With autoTrack,
// the scope also holds what autotrack.js attributed to the job, and reports
// (or disposes) what is still open at close.
//
// The per-job path stays in JS: it is made of calls only the JS engine can
// make (clearTimeout, removeListener, destroy); a napi call costs 25-250 ns
// before any argument conversion. See README, "Job scopes", for the figures.

const { performance } = require('node:perf_hooks')
const { codes, leakguardError, invalidArgType } = require('../common/errors')
const { emitLeakguardWarning } = require('../common/warnings')
const { als, openScopes, forwards, orig } = require('./context')
const { resolveOptions } = require('./options')
const { recordStats } = require('./stats')
const autotrack = require('./autotrack')

const {
  setTimeout: setTimeoutOrig,
  setInterval: setIntervalOrig,
  setImmediate: setImmediateOrig,
  clearTimeout: clearTimeoutOrig,
  clearInterval: clearIntervalOrig,
  clearImmediate: clearImmediateOrig
} = orig

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
    const cfg = _cfg ?? resolveOptions(options, 'options')
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
   * disposers awaited, each within `disposeTimeoutMs`). Resolves to the report;
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
    const ms = this._cfg.disposeTimeoutMs
    return new Promise((resolve) => {
      const t = setTimeoutOrig(() => {
        this._err(
          leakguardError(
            'TIMEOUT',
            `a disposer of job scope "${this._name}" did not settle within ${ms} ms (disposeTimeoutMs)`
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
            emitLeakguardWarning(
              `an async disposer of job scope "${this._name}" failed after a synchronous dispose: ${e?.message}`,
              codes.SCOPE_CLOSED
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
            const at = autotrack.siteOf(rec.holder)
            leftOpen.push({
              kind: rec.kind,
              type: rec.type,
              site: at?.site,
              package: at?.package,
              packageSite: at?.packageSite,
              disposed
            })
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

module.exports = { JobScope, SuppressedError, aggregate, isThenable }
