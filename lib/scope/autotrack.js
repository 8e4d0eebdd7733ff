'use strict'
// autoTrack instrumentation: attributes timers, listeners and handles that a
// job creates WITHOUT going through its scope (typically inside a library) to
// the job, through AsyncLocalStorage.
//
// Why patching rather than an async_hooks `init` hook: an init hook is called
// for every promise in the process while it is enabled (PromiseHook), which
// costs every job, guarded or not; patching costs one ALS lookup per timer or
// listener, and only while an autoTrack scope exists. It also attributes only
// what user-level code asked for: Node's internal timers (the HTTP date cache,
// socket keep-alive) are not blamed on the job that happened to create them.
// The price: code holding a reference taken before patching (ESM
// `import { setTimeout } from 'node:timers'`) is not seen.
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
const { als, openScopes, forwards, orig } = require('./context')

const RESTORE_DELAY_MS = 250
const STACK_LIMIT = 12

const {
  setTimeout: origSetTimeout,
  setInterval: origSetInterval,
  setImmediate: origSetImmediate,
  clearTimeout: origClearTimeout
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

function holder(fn) {
  const h = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = STACK_LIMIT
  // Frames are collected now, but V8 formats `.stack` only when read: the cost
  // of formatting is paid only for resources still open at close.
  Error.captureStackTrace(h, fn)
  Error.stackTraceLimit = limit
  return h
}

// A record references its resource, never its scope: the scope holds its
// records while open and lets go of them at close (detach), so a resource left
// open keeps at most itself alive, as it would without leakguard.
function record(scope, kind, type, target, ev, fn, site) {
  if (state.muted) return
  scope._autoAdd({ kind, type, target, ev, fn, removed: false, holder: scope._stacks ? holder(site) : undefined })
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
        holder: s._stacks ? holder(patchedAddEvent) : undefined
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
const patchedConnect = handleRecorder(origConnect, 'socket')
const patchedListen = handleRecorder(origListen, 'server')
const patchedSpawn = handleRecorder(origSpawn, 'child_process')

const patches = [
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
patches.push(
  [timers, 'setTimeout', origSetTimeout, patches[0][3]],
  [timers, 'setInterval', origSetInterval, patches[1][3]],
  [timers, 'setImmediate', origSetImmediate, patches[2][3]]
)

function install() {
  for (const [obj, key, orig, patched] of patches) {
    // Only replace what is still the original: someone else's wrapper (fake
    // timers, an APM) stays in place and is simply not instrumented.
    if (obj[key] === orig) obj[key] = patched
  }
  installed = true
}

function uninstall() {
  for (const [obj, key, orig, patched] of patches) {
    if (obj[key] === patched) obj[key] = orig
  }
  installed = false
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
      return typeof t.rawListeners === 'function' && t.rawListeners(rec.ev).includes(rec.fn)
    // A socket an http.Agent manages (it listens for 'agentRemove') belongs to
    // the agent's bounded keep-alive pool, not to the job that opened it.
    case 'socket':
      return !t.destroyed && t.listenerCount('agentRemove') === 0
    case 'server':
      return t.listening || t._handle != null
    case 'stream':
      return !t.destroyed
    case 'child_process':
      return t.exitCode === null && t.signalCode === null
    default:
      return false
  }
}

function disposeRecord(rec) {
  const t = rec.target
  switch (rec.kind) {
    case 'timer':
      if (rec.type === 'Immediate') timers.clearImmediate(t)
      else origClearTimeout(t)
      return
    case 'listener':
      if (rec.capture !== undefined) t.removeEventListener(rec.ev, rec.fn, rec.capture)
      else t.removeListener(rec.ev, rec.fn)
      return
    case 'server':
      t.close()
      return
    case 'child_process':
      t.kill()
      return
    default:
      t.destroy()
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

// ---- creation sites -----------------------------------------------------------

const libDir = require('node:path').join(__dirname, '..') + require('node:path').sep
const cwd = process.cwd() + require('node:path').sep

/** First frame outside Node internals, node_modules and leakguard's lib/: `file:line:col`. */
function siteOf(h) {
  if (h === undefined) return undefined
  const stack = h.stack
  if (typeof stack !== 'string') return undefined
  const lines = stack.split('\n')
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]
    const open = line.lastIndexOf('(')
    let loc = open !== -1 && line.endsWith(')') ? line.slice(open + 1, -1) : line.slice(line.indexOf('at ') + 3)
    if (loc.startsWith('async ')) loc = loc.slice(6)
    if (loc.startsWith('file://')) loc = decodeURIComponent(loc.slice(7))
    if (loc.startsWith('node:') || loc === 'native' || loc.startsWith('<anonymous>')) continue
    if (loc.includes('/node_modules/') || loc.startsWith(libDir)) continue
    return loc.startsWith(cwd) ? loc.slice(cwd.length) : loc
  }
  return undefined
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
