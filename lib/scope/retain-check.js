'use strict'
// retainCheck: a job payload still reachable RETAIN_GCS major GCs after its
// job ended is what "a closure captures an object that outlives the job"
// looks like from outside. WeakRefs are checked when a major GC is observed
// (a PerformanceObserver on 'gc' entries, running only while payloads are
// watched); the FinalizationRegistry forgets payloads as soon as they are
// collected, so the watch list stays short.

const { codes } = require('../common/errors')
const { emitLeakguardWarning } = require('../common/warnings')
const { countRetainedPayload } = require('./stats')

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

/** Watches the object arguments of a job that just ended. */
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
  countRetainedPayload(w.name)
  const message = `a payload of job "${w.name}" is still reachable ${majorGcs - w.endGc} major GCs after the job ended: something (a closure, a listener, a cache, a global) retains it`
  const h = w.cfg.retainCheck
  if (typeof h === 'function') {
    try {
      h({ name: w.name, majorGcs: majorGcs - w.endGc, message })
    } catch (e) {
      emitLeakguardWarning(`options.retainCheck threw: ${e?.message}`, codes.PAYLOAD_RETAINED)
    }
  } else if (!warnedRetained.has(w.name)) {
    if (warnedRetained.size < 1000) warnedRetained.add(w.name)
    emitLeakguardWarning(message, codes.PAYLOAD_RETAINED)
  }
}

module.exports = { watchPayload }
