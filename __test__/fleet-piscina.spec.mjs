// Piscina: a pool of 4 threads runs guarded tasks that share one named,
// off-heap BoundedCache; a monitor warning raised inside a worker thread
// reaches the main thread. Drives examples/piscina/main.js.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { BoundedCache, onWorkerWarning } from 'leakguard'

const require = createRequire(import.meta.url)
const { run } = require('../examples/piscina/main.js')

const fast = { intervalMs: 10, checkEveryMs: 20, fullGcEveryMs: 20, windowMs: 4000 }

test('4 threads, guarded tasks, one shared named cache: the workers read what the main thread wrote', {
  timeout: 60_000
}, async () => {
  const cacheName = 'fleet-piscina-shared'
  const { results, warnings, threadIds, cache } = await run({ tasks: 4000, cacheName, monitorOptions: fast })
  assert.equal(threadIds.length, 4)
  assert.ok(
    threadIds.every((id) => id > 0),
    `worker threadIds ${threadIds}`
  )
  assert.equal(results.length, 4000)
  // Every task got the user the main thread stored, through the native store.
  for (const r of results) assert.equal(r.quota, 1000 + (r.id % 40))
  assert.deepEqual(
    results.map((r) => r.id),
    Array.from({ length: 4000 }, (_, i) => i)
  )
  // One store for the process: 4000 hits, no miss; each task's own key is bounded by max (1000).
  assert.equal(cache.hits, 4000)
  assert.equal(cache.misses, 0)
  assert.equal(cache.sets, 4040)
  assert.equal(cache.size, 1000)
  assert.equal(cache.evictions, 3040)
  // The store is still open here: the last task's key is visible in the main thread.
  const again = new BoundedCache({ name: cacheName, max: 1000, ttl: 60_000 })
  assert.equal(typeof again.get('done:3999'), 'string')
  assert.equal(again.get('done:0'), undefined, 'evicted by the bound')
  again.clear()
  assert.deepEqual(warnings, [], 'healthy tasks raise no memory warning')
})

test('a monitor warning inside a worker thread reaches the main thread', { timeout: 90_000 }, async () => {
  const direct = []
  const stop = onWorkerWarning((w) => direct.push(w))
  try {
    const { results, warnings, threadIds } = await run({
      tasks: 40_000,
      leak: true,
      untilWarning: true,
      cacheName: 'fleet-piscina-leak',
      monitorOptions: fast
    })
    assert.ok(warnings.length >= 1, `no warning after ${results.length} tasks`)
    const w = warnings[0]
    assert.equal(w.metric, 'heapUsed')
    assert.ok(threadIds.includes(w.threadId), `warning from thread ${w.threadId}, pool threads ${threadIds}`)
    assert.notEqual(w.threadId, 0)
    // ~8 KB retained per task (1024 small integers): the per-job figure says so.
    assert.ok(w.bytesPerJob > 4096 && w.bytesPerJob < 16384, `bytesPerJob ${w.bytesPerJob}`)
    assert.match(w.message, new RegExp(`^heapUsed grows [\\d.]+ KB/job .*\\[worker thread ${w.threadId}\\]$`))
    // The same warning through the lower-level receiver.
    while (direct.length === 0) await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(direct[0], w)
  } finally {
    stop()
  }
})
