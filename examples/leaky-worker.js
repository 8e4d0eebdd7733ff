'use strict'
// A job handler with four of the field guide's root causes of worker leaks.
// Each job renders an invoice; every job leaves something behind:
//
//   1. a module-level array that keeps every job's payload ("for debugging"),
//   2. a listener per job on a shared emitter, never removed — the emitter
//      holds the listener, the listener's closure holds the job,
//   3. a setInterval per job (a heartbeat), never cleared,
//   4. a memoisation Map keyed by job id, with no eviction policy.
//
// `leakguard check examples/leaky-worker.js` finds all four; fixed-worker.js
// is the same work done with guard() and BoundedCache.

const { EventEmitter } = require('node:events')
const { makeJob, render } = require('./invoice')

const bus = new EventEmitter() // shared for the life of the worker (a queue's event bus)
bus.setMaxListeners(0) // silences Node's warning, as real code often does
let settings = { currency: 'EUR' }
bus.on('settings', (s) => { settings = s })

const processed = [] // 1. grows by one payload per job
const rendered = new Map() // 4. unbounded memo cache

async function handleJob (job) {
  processed.push(job) // 1.
  bus.on('settings', () => { job.staleSettings = true }) // 2.
  setInterval(() => { bus.emit('heartbeat', job.id) }, 30_000) // 3.
  let text = rendered.get(job.id)
  if (text === undefined) {
    text = render(job, settings.currency)
    rendered.set(job.id, text) // 4. every id is new: the cache only grows
  }
  await new Promise((resolve) => setImmediate(resolve)) // the job is async, like real I/O
  return text.length
}

module.exports = handleJob
module.exports.makeJob = makeJob
