'use strict'
// The Piscina task: a guarded job in a worker thread. Every thread of the pool
// opens the same named BoundedCache (one off-heap store for the process), and
// runs a monitor whose warnings reach the main thread (examples/piscina/main.js).

const { workerData } = require('piscina')
const { guard, monitor, BoundedCache } = require('leakguard')

const { leak = false, cacheName = 'piscina-example-users', monitorOptions = {} } = workerData || {}

// Same name and options in every thread: the same store, bounded once.
const users = new BoundedCache({ name: cacheName, max: 1000, ttl: 60_000 })
const m = monitor({ emitWarning: false, ...monitorOptions })
void m // lives as long as the thread; never keeps it alive

// With `leak`, each task keeps ~8 KB forever (say, a copy of its payload): the monitor of this thread sees
// its post-GC heap floor grow per job and warns; the host hears about it.
const retained = []

module.exports = guard(async function resize ({ id, userId }) {
  let user = users.get(`user:${userId}`)
  if (user === undefined) {
    user = { id: userId, quota: 100 + (userId % 7) }
    users.set(`user:${userId}`, user)
  }
  users.set(`done:${id}`, process.hrtime.bigint().toString()) // bounded: old ones are evicted
  if (leak) retained.push(new Array(1024).fill(id))
  // Some per-job garbage, like any real job.
  const parts = []
  for (let k = 0; k < 50; k++) parts.push({ k, tag: `p-${id}-${k}` })
  return { id, quota: user.quota, parts: parts.length }
}, { name: 'piscina-resize' })
