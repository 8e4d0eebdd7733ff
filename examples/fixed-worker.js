'use strict'
// leaky-worker.js, fixed. The same work, with each root cause removed:
//
//   1. no module-level history of payloads (only a bounded count survives),
//   2. the per-job listener goes through the job's scope: removed at job end,
//   3. the heartbeat goes through the scope too: cleared at job end,
//   4. the memo cache is a BoundedCache (LRU, 500 entries, off the V8 heap).
//
// guard() runs every call in a fresh scope closed in `finally`, whether the
// job resolves or throws.

const { EventEmitter } = require('node:events')
const { makeJob, render } = require('./invoice')
const { guard, requireScope, BoundedCache } = require('leakguard')

const bus = new EventEmitter()
bus.setMaxListeners(0)
let settings = { currency: 'EUR' }
bus.on('settings', (s) => { settings = s })

let processedCount = 0 // 1. a number, not an array of payloads
const rendered = new BoundedCache({ max: 500, name: 'examples:rendered-invoices' }) // 4.

const handleJob = guard(async function handleJob (job) {
  const scope = requireScope()
  processedCount++
  scope.on(bus, 'settings', () => { job.staleSettings = true }) // 2.
  scope.setInterval(() => { bus.emit('heartbeat', job.id) }, 30_000) // 3.
  let text = rendered.get(job.id)
  if (text === undefined) {
    text = render(job, settings.currency)
    rendered.set(job.id, text)
  }
  await new Promise((resolve) => setImmediate(resolve))
  return text.length
}, { name: 'render-invoice' })

module.exports = handleJob
module.exports.makeJob = makeJob
module.exports.processedCount = () => processedCount
