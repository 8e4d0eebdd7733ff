'use strict'
// autoTrack instrumentation: attributes timers, listeners and handles that a
// job creates WITHOUT going through its scope (typically inside a library) to
// the job, through AsyncLocalStorage.
//
// What is seen: timers (global, `node:timers`, `node:timers/promises`, also
// when imported by name from ESM), EventEmitter and EventTarget listeners,
// client sockets (net, tls, and those an http/https Agent opens for an agent
// the job created), servers, UDP sockets, fs.watch watchers, fs streams and
// child processes.
//
// Why patching rather than an async_hooks `init` hook: an init hook is called
// for every promise in the process while it is enabled (PromiseHook), which
// costs every job, guarded or not; patching costs one ALS lookup per timer or
// listener, and only while an autoTrack scope exists. It also attributes only
// what user-level code asked for: Node's internal timers (the HTTP date cache,
// socket keep-alive) are not blamed on the job that happened to create them,
// and neither is what global fetch() opens in its process-wide pool. ESM named
// imports of builtins (`import { setInterval } from 'node:timers'`) are live
// bindings that Node updates from the patched module objects
// (module.syncBuiltinESMExports()); only a reference copied into a variable
// before the patches went in is not seen.
//
// Patches are installed when the first autoTrack scope opens and restored a
// little after the last one closes: flipping EventEmitter.prototype on every
// job would invalidate V8's inline caches for every `emitter.on` call site in
// the process, job after job.

const EventEmitter = require('node:events')
const fs = require('node:fs')
const net = require('node:net')
const timers = require('node:timers')
const { ChildProcess } = require('node:child_process')
const { captureStack, siteOf } = require('../common/sites')
const { als, openScopes, forwards, orig } = require('./context')

const RESTORE_DELAY_MS = 250

const {
  setTimeout: origSetTimeout,
  setInterval: origSetInterval,
  setImmediate: origSetImmediate,
  clearTimeout: origClearTimeout,
  clearImmediate: origClearImmediate
} = orig

let active = 0 // open autoTrack scopes
let installed = false
let restoreTimer = null
let idleWaiters = []
// muted: set while JobScope itself adds a listener (tracked explicitly).
// active: some autoTrack scope is open (plain scopes then remember their parent).
const state = { muted: false, active: false }

/** The innermost open autoTrack scope of the current async context, if any. */
function owner() {
  return ownerOf(als.getStore())
}

/** The innermost open autoTrack scope from scope id `id` outwards, if any. */
function ownerOf(id) {
  while (id !== undefined) {
    const s = openScopes.get(id)
    if (s === undefined) id = forwards.get(id)
    else if (s._auto !== 0) return s._state === 0 ? s : undefined
    else id = s._parent
  }
  return undefined
}

// A record references its resource, never its scope: the scope holds its
// records while open and lets go of them at close (detach), so a resource left
// open keeps at most itself alive, as it would without leakguard.
// `ev` and `fn`: for a listener, its event and function; for a promise timer,
// the AbortSignal and the listener timers/promises added to it; for a socket,
// OWN_AGENT when an http.Agent the job created opened it.
function record(scope, kind, type, target, ev, fn, site) {
  if (state.muted) return
  scope._autoAdd({ kind, type, target, ev, fn, removed: false, holder: scope._stacks ? captureStack(site) : undefined })
}

// ---- timers -----------------------------------------------------------------

function wrapTimer(orig, type, kind) {
  const wrapped = {
    [orig.name](...args) {
      const t = Reflect.apply(orig, this, args)
      const s = owner()
      if (s !== undefined) record(s, kind, type, t, undefined, undefined, wrapped)
      return t
    }
  }[orig.name]
  // Keep util.promisify(setTimeout) working, as on the original.
  for (const key of Reflect.ownKeys(orig)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue
    Object.defineProperty(wrapped, key, Object.getOwnPropertyDescriptor(orig, key))
  }
  return wrapped
}

// node:timers/promises creates its Timeout/Immediate internally, where no
// patch reaches: an async_hooks init hook, enabled only for the duration of
// one such call in an autoTrack job, hands it over.
let capturedTimer
let captureHook
function captureTimer(fn, thisArg, args) {
  captureHook ??= require('node:async_hooks').createHook({
    init(_id, type, _trigger, resource) {
      if (capturedTimer === undefined && (type === 'Timeout' || type === 'Immediate')) capturedTimer = resource
    }
  })
  capturedTimer = undefined
  // The AbortSignal listener timers/promises adds is its own business: the
  // timer is what is recorded.
  const muted = state.muted
  state.muted = true
  captureHook.enable()
  try {
    return Reflect.apply(fn, thisArg, args)
  } finally {
    captureHook.disable()
    state.muted = muted
  }
}

/** The listener a call added to `signal` (to remove it when the timer is disposed), if any. */
function addedAbortListener(signal, before) {
  if (signal === undefined) return undefined
  const after = EventEmitter.getEventListeners(signal, 'abort')
  return after.length > before ? after[after.length - 1] : undefined
}

function signalOf(options) {
  const signal = options !== null && typeof options === 'object' ? options.signal : undefined
  return signal instanceof AbortSignal ? signal : undefined
}

function abortListenerCount(signal) {
  return signal === undefined ? 0 : EventEmitter.getEventListeners(signal, 'abort').length
}

/** timers/promises setTimeout(delay, value, options) and setImmediate(value, options). */
function wrapPromiseTimer(orig, type, optionsIndex) {
  const wrapped = {
    [orig.name](...args) {
      const s = owner()
      if (s === undefined || state.muted) return Reflect.apply(orig, this, args)
      const signal = signalOf(args[optionsIndex])
      const before = abortListenerCount(signal)
      const p = captureTimer(orig, this, args)
      const t = capturedTimer
      capturedTimer = undefined
      if (t !== undefined) record(s, 'timer', type, t, signal, addedAbortListener(signal, before), wrapped)
      return p
    }
  }[orig.name]
  return wrapped
}

/**
 * timers/promises setInterval(delay, value, options): an async generator whose
 * interval starts with its first next(), so that call is the one watched.
 */
function wrapPromiseInterval(orig) {
  const wrapped = function setInterval(...args) {
    const it = Reflect.apply(orig, this, args)
    const s = owner()
    if (s === undefined || state.muted) return it
    const holder = s._stacks ? captureStack(wrapped) : undefined
    const signal = signalOf(args[2])
    const next = it.next
    let started = false
    // for await caches the next method: later calls pass straight through.
    it.next = function next_(...a) {
      if (started) return Reflect.apply(next, it, a)
      started = true
      const s = owner()
      if (s === undefined || state.muted) return Reflect.apply(next, it, a)
      const before = abortListenerCount(signal)
      const r = captureTimer(next, it, a)
      const t = capturedTimer
      capturedTimer = undefined
      if (t !== undefined) {
        s._autoAdd({
          kind: 'timer',
          type: 'Interval',
          target: t,
          ev: signal,
          fn: addedAbortListener(signal, before),
          removed: false,
          holder
        })
      }
      return r
    }
    return it
  }
  return wrapped
}

// ---- listeners ----------------------------------------------------------------

const eeProto = EventEmitter.prototype
const origOn = eeProto.on
const origAddListener = eeProto.addListener
const origPrepend = eeProto.prependListener
const origInit = EventEmitter.init
const etProto = EventTarget.prototype
const origAddEvent = etProto.addEventListener
const origRemoveEvent = etProto.removeEventListener

/** EventTarget records by target, so removeEventListener can mark them closed. */
const etRecords = new WeakMap()

function emitterType(target, ev) {
  const ctor = target.constructor
  return `${ctor?.name || 'EventEmitter'}#${typeof ev === 'symbol' ? ev.toString() : ev}`
}

function onListener(target, ev, fn, site) {
  const s = owner()
  if (s === undefined || state.muted) return
  // A listener on an emitter the job created itself dies with that emitter:
  // only listeners on emitters that outlive the job are leaks.
  if (s._born?.has(target)) return
  if (s._ctrl !== undefined && target === s._ctrl.signal) return
  record(s, 'listener', emitterType(target, ev), target, ev, fn, site)
}

function patchedOn(ev, fn) {
  const r = Reflect.apply(origOn, this, arguments)
  onListener(this, ev, fn, patchedOn)
  return r
}
function patchedPrepend(ev, fn) {
  const r = Reflect.apply(origPrepend, this, arguments)
  onListener(this, ev, fn, patchedPrepend)
  return r
}
function patchedInit(_opts) {
  const r = Reflect.apply(origInit, this, arguments)
  const s = owner()
  if (s !== undefined) {
    ;(s._born ??= new WeakSet()).add(this)
    // fs streams are recorded here, in their creator's stack (they open their
    // file on a later tick, where the creation site is lost).
    if (this instanceof ReadStream || this instanceof WriteStream) {
      record(s, 'stream', this.constructor.name, this, undefined, undefined, patchedInit)
    }
  }
  return r
}
function patchedAddEvent(type, fn, options) {
  const r = Reflect.apply(origAddEvent, this, arguments)
  // `once` and `signal` listeners are removed by EventTarget internally, where
  // removeEventListener is not called: they cannot be followed, so are skipped.
  if (fn != null && !(options !== null && typeof options === 'object' && (options.once || options.signal))) {
    const s = owner()
    if (s !== undefined && !state.muted && !(s._ctrl !== undefined && this === s._ctrl.signal)) {
      const capture = typeof options === 'boolean' ? options : !!options?.capture
      const rec = {
        kind: 'listener',
        type: `${this.constructor?.name || 'EventTarget'}#${type}`,
        target: this,
        ev: type,
        fn,
        capture,
        removed: false,
        holder: s._stacks ? captureStack(patchedAddEvent) : undefined
      }
      s._autoAdd(rec)
      let list = etRecords.get(this)
      if (list === undefined) etRecords.set(this, (list = []))
      list.push(rec)
    }
  }
  return r
}
function patchedRemoveEvent(type, fn, options) {
  const list = etRecords.get(this)
  if (list !== undefined) {
    const capture = typeof options === 'boolean' ? options : !!options?.capture
    for (let i = 0; i < list.length; i++) {
      const rec = list[i]
      if (rec.ev === type && rec.fn === fn && rec.capture === capture) {
        rec.removed = true
        list.splice(i, 1)
        break
      }
    }
    if (list.length === 0) etRecords.delete(this)
  }
  return Reflect.apply(origRemoveEvent, this, arguments)
}

// ---- handles ------------------------------------------------------------------

const origConnect = net.Socket.prototype.connect
const origListen = net.Server.prototype.listen
const origSpawn = ChildProcess.prototype.spawn
const ReadStream = fs.ReadStream
const WriteStream = fs.WriteStream

function handleRecorder(orig, kind) {
  const wrapped = function (...args) {
    const s = owner()
    if (s !== undefined) record(s, kind, this.constructor?.name || kind, this, undefined, undefined, wrapped)
    return Reflect.apply(orig, this, args)
  }
  return wrapped
}
// Sockets are recorded at connect: a server's accepted sockets belong to the
// server, not to whichever job happens to be running.
const patchedListen = handleRecorder(origListen, 'server')
const patchedSpawn = handleRecorder(origSpawn, 'child_process')

// An http/https Agent's sockets belong to its pool. A pool the job created
// (`new http.Agent({ keepAlive: true })` per job) is the guide's "new
// connection pool per job": its sockets are the job's. A pool created outside
// the job (one agent for the worker) is bounded and not the job's.
const OWN_AGENT = 'agent'
let creatingAgent // the Agent whose createSocket() is running

function patchedConnect(...args) {
  const s = owner()
  if (s !== undefined) {
    const agent = creatingAgent
    if (agent === undefined)
      record(s, 'socket', this.constructor?.name || 'socket', this, undefined, undefined, patchedConnect)
    else if (s._born?.has(agent))
      record(s, 'socket', this.constructor?.name || 'socket', this, OWN_AGENT, undefined, patchedConnect)
  }
  return Reflect.apply(origConnect, this, args)
}

function wrapCreateSocket(orig) {
  return function createSocket(...args) {
    const prev = creatingAgent
    creatingAgent = this
    try {
      return Reflect.apply(orig, this, args)
    } finally {
      creatingAgent = prev
    }
  }
}

// Global fetch() keeps its connections (and its timers) in one pool for the
// whole process: nothing it opens is the job's, so it runs outside the job.
function wrapFetch(orig) {
  return function fetch(...args) {
    return als.exit(() => Reflect.apply(orig, this, args))
  }
}

// UDP sockets are recorded when they bind (explicitly, or on their first
// send), if the job created them: a metrics client made for the whole worker
// often binds on its first send, which may well happen inside a job.
function wrapDgramBind(orig) {
  const wrapped = function bind(...args) {
    const r = Reflect.apply(orig, this, args)
    const s = owner()
    if (s?._born?.has(this)) record(s, 'socket', 'dgram.Socket', this, undefined, undefined, wrapped)
    return r
  }
  return wrapped
}

function wrapWatch(orig) {
  const wrapped = function watch(...args) {
    const w = Reflect.apply(orig, this, args)
    const s = owner()
    if (s !== undefined) record(s, 'watcher', w.constructor?.name || 'FSWatcher', w, undefined, undefined, wrapped)
    return w
  }
  return wrapped
}

// ---- installing -----------------------------------------------------------------

let patches // [object, key, original, patched], built at the first install

function buildPatches() {
  const http = require('node:http')
  const dgram = require('node:dgram')
  const timersPromises = require('node:timers/promises')
  const list = [
    [globalThis, 'setTimeout', origSetTimeout, wrapTimer(origSetTimeout, 'Timeout', 'timer')],
    [globalThis, 'setInterval', origSetInterval, wrapTimer(origSetInterval, 'Interval', 'timer')],
    [globalThis, 'setImmediate', origSetImmediate, wrapTimer(origSetImmediate, 'Immediate', 'timer')],
    [eeProto, 'on', origOn, patchedOn],
    [eeProto, 'addListener', origAddListener, patchedOn],
    [eeProto, 'prependListener', origPrepend, patchedPrepend],
    [EventEmitter, 'init', origInit, patchedInit],
    [etProto, 'addEventListener', origAddEvent, patchedAddEvent],
    [etProto, 'removeEventListener', origRemoveEvent, patchedRemoveEvent],
    [net.Socket.prototype, 'connect', origConnect, patchedConnect],
    [net.Server.prototype, 'listen', origListen, patchedListen],
    [ChildProcess.prototype, 'spawn', origSpawn, patchedSpawn]
  ]
  // The timers module object shares the global functions.
  list.push(
    [timers, 'setTimeout', origSetTimeout, list[0][3]],
    [timers, 'setInterval', origSetInterval, list[1][3]],
    [timers, 'setImmediate', origSetImmediate, list[2][3]]
  )
  const add = (obj, key, wrap) => {
    const o = obj[key]
    if (typeof o === 'function') list.push([obj, key, o, wrap(o)])
  }
  add(timersPromises, 'setTimeout', (o) => wrapPromiseTimer(o, 'Timeout', 2))
  add(timersPromises, 'setImmediate', (o) => wrapPromiseTimer(o, 'Immediate', 1))
  add(timersPromises, 'setInterval', wrapPromiseInterval)
  add(http.Agent.prototype, 'createSocket', wrapCreateSocket)
  add(dgram.Socket.prototype, 'bind', wrapDgramBind)
  add(fs, 'watch', wrapWatch)
  add(globalThis, 'fetch', wrapFetch)
  return list
}

// ESM named imports of builtins follow the module objects only when asked to.
function syncEsm() {
  require('node:module').syncBuiltinESMExports()
}

function install() {
  patches ??= buildPatches()
  for (const [obj, key, orig, patched] of patches) {
    // Only replace what is still the original: someone else's wrapper (fake
    // timers, an APM) stays in place and is simply not instrumented.
    if (obj[key] === orig) obj[key] = patched
  }
  installed = true
  syncEsm()
}

function uninstall() {
  for (const [obj, key, orig, patched] of patches) {
    if (obj[key] === patched) obj[key] = orig
  }
  installed = false
  syncEsm()
  const waiters = idleWaiters
  idleWaiters = []
  for (const w of waiters) w()
}

/** A scope with autoTrack opened. */
function acquire() {
  active++
  state.active = true
  if (restoreTimer !== null) {
    origClearTimeout(restoreTimer)
    restoreTimer = null
  }
  if (!installed) install()
}

/** A scope with autoTrack closed. */
function release() {
  if (--active > 0) return
  state.active = false
  if (restoreTimer !== null) return
  restoreTimer = origSetTimeout(() => {
    restoreTimer = null
    if (active === 0 && installed) uninstall()
  }, RESTORE_DELAY_MS)
  restoreTimer.unref()
}

// ---- open/closed state and disposal of recorded resources ---------------------

function isOpen(rec) {
  const t = rec.target
  switch (rec.kind) {
    case 'timer':
      return t._destroyed !== true
    case 'listener':
      if (rec.fn === undefined) return false
      if (rec.capture !== undefined) return !rec.removed
      // A destroyed stream emits nothing more: its listeners go with it (what
      // stream.finished() and body readers leave on a consumed stream).
      if (t.destroyed === true) return false
      return typeof t.rawListeners === 'function' && t.rawListeners(rec.ev).includes(rec.fn)
    case 'socket':
      if (rec.type === 'dgram.Socket') return dgramRunning(t)
      // A socket an http.Agent manages (it listens for 'agentRemove') belongs
      // to the agent's pool: the job's only when the job created the agent.
      return !t.destroyed && (rec.ev === OWN_AGENT || t.listenerCount('agentRemove') === 0)
    case 'server':
      return t.listening || t._handle != null
    case 'stream':
      return !t.destroyed
    case 'watcher':
      return t._handle != null
    case 'child_process':
      return t.exitCode === null && t.signalCode === null
    default:
      return false
  }
}

// A closed UDP socket says so through its public API only by throwing.
function dgramRunning(t) {
  try {
    t.address()
    return true
  } catch (e) {
    return e?.code !== 'ERR_SOCKET_DGRAM_NOT_RUNNING'
  }
}

function disposeRecord(rec) {
  const t = rec.target
  switch (rec.kind) {
    case 'timer':
      if (rec.type === 'Immediate') origClearImmediate(t)
      else origClearTimeout(t)
      // A promise timer's listener on the caller's AbortSignal would stay
      // there until the signal aborts: the timer it cancels is gone.
      if (rec.fn !== undefined) rec.ev.removeEventListener('abort', rec.fn)
      return
    case 'listener':
      if (rec.capture !== undefined) t.removeEventListener(rec.ev, rec.fn, rec.capture)
      else t.removeListener(rec.ev, rec.fn)
      return
    case 'server':
    case 'watcher':
      t.close()
      return
    case 'child_process':
      t.kill()
      return
    default:
      if (rec.type === 'dgram.Socket') t.close()
      else t.destroy()
  }
}

/**
 * Called for every record when its scope closes: the record drops its captured
 * stack (whose frames hold the job's functions and receivers), and an
 * EventTarget listener's record leaves the per-target list that outlives the
 * scope.
 */
function detach(rec) {
  rec.holder = undefined
  if (rec.capture === undefined || rec.removed) return
  rec.removed = true
  const list = etRecords.get(rec.target)
  if (list === undefined) return
  const i = list.indexOf(rec)
  if (i !== -1) list.splice(i, 1)
  if (list.length === 0) etRecords.delete(rec.target)
}

module.exports = {
  acquire,
  release,
  isOpen,
  disposeRecord,
  detach,
  siteOf,
  state,
  ownerOf,
  /** Test hooks: whether the patches are in place, and a promise for their removal. */
  installed: () => installed,
  whenRestored: () => (installed ? new Promise((resolve) => idleWaiters.push(resolve)) : Promise.resolve())
}
