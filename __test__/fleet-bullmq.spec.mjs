// BullMQ with a real Redis (Debian's redis-server on a free loopback port,
// started here and stopped after): guarded processors at volume, a leaking
// processor cleaned and reported, the shared cache inside it, and the
// recycle net closing the worker between two jobs.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { Queue, QueueEvents } from 'bullmq'
import { recycle, monitor, scopeStats, resetScopeStats, BoundedCache } from 'leakguard'
import { startRedis } from './fleet-util.mjs'

const require = createRequire(import.meta.url)
const { createWorker } = require('../examples/bullmq/worker.js')

let redis
let connection
const queues = []

before(async () => {
  redis = await startRedis()
  connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null }
})

after(async () => {
  for (const q of queues) await q.close()
  await redis?.stop()
})

async function queueWith(name, count, data = (n) => ({ n, userId: n % 25 })) {
  const queue = new Queue(name, { connection })
  queues.push(queue)
  await queue.addBulk(
    Array.from({ length: count }, (_, n) => ({ name: 'job', data: data(n), opts: { removeOnComplete: false } }))
  )
  return queue
}

/** Resolves when `count` jobs of the queue completed (or rejects on the first failure). */
function completions(name, count) {
  const events = new QueueEvents(name, { connection })
  let done = 0
  const results = []
  const finished = new Promise((resolve, reject) => {
    events.on('completed', ({ returnvalue }) => {
      results.push(typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue)
      if (++done === count) resolve(results)
    })
    events.on('failed', ({ jobId, failedReason }) => reject(new Error(`job ${jobId} failed: ${failedReason}`)))
  })
  return { ready: events.waitUntilReady(), finished, close: () => events.close() }
}

test('a guarded processor handles 1000 jobs; a listener leaked per job is removed and reported; the cache and the monitor work inside', {
  timeout: 60_000
}, async () => {
  resetScopeStats()
  const m = monitor({ intervalMs: 10, checkEveryMs: 20, emitWarning: false })
  const warnings = []
  m.on('warning', (w) => warnings.push(w))
  const name = 'lg-fleet-1000'
  const watch = completions(name, 1000)
  await watch.ready
  await queueWith(name, 1000)
  const cache = new BoundedCache({ max: 100, name: 'fleet-bullmq-users' })
  const { worker, bus } = createWorker({
    connection,
    queueName: name,
    concurrency: 16,
    leak: true,
    cache,
    name: 'bullmq-leaky'
  })
  try {
    const results = await watch.finished
    assert.equal(results.length, 1000)
    assert.deepEqual(
      results.map((r) => r.n).sort((a, b) => a - b),
      Array.from({ length: 1000 }, (_, n) => n * 2)
    )
    // The listener each job left on the shared bus was removed when its job ended...
    assert.equal(bus.listenerCount('settings'), 0)
    // ...and reported, with the line that added it.
    const stats = scopeStats('bullmq-leaky')
    assert.equal(stats.jobs, 1000)
    assert.equal(stats.failed, 0)
    assert.equal(stats.jobsWithLeftOpen, 1000)
    assert.equal(stats.leftOpen[0].kind, 'listener')
    assert.equal(stats.leftOpen[0].count, 1000)
    assert.match(stats.leftOpen[0].site, /examples\/bullmq\/worker\.js:\d+/)
    assert.match(stats.message, /^bullmq-leaky leaves 1 .* open per job/)
    // 25 distinct users: 25 misses, the other 975 lookups hit the shared store.
    const s = cache.stats()
    assert.equal(s.misses, 25)
    assert.equal(s.hits, 975)
    assert.equal(s.size, 25)
    assert.equal(results.filter((r) => r.plan === 'pro').length, (1000 / 25) * 9)
    // The monitor counted the guarded jobs (per-job figures) and sampled during the run;
    // with the listeners disposed there is nothing to warn about.
    assert.equal(m.jobs, 1000)
    assert.ok(m.samples().some((x) => x.source === 'rss' && x.rss > 0))
    assert.deepEqual(warnings, [])
  } finally {
    m.stop()
    await worker.close()
    await watch.close()
    cache.clear()
  }
})

test('recycle at maxJobs fires between jobs and the worker closes before taking another', {
  timeout: 60_000
}, async () => {
  const name = 'lg-fleet-recycle'
  const total = 120
  const maxJobs = 50
  await queueWith(name, total)
  const net = recycle({ maxJobs })
  let atEvent
  net.on('recycle', (e) => {
    atEvent = { jobs: e.jobs, inFlight: net.inFlight, reason: e.reason, message: e.message }
  })
  const { worker } = createWorker({
    connection,
    queueName: name,
    concurrency: 1,
    leak: true,
    recycle: net,
    name: 'bullmq-recycled'
  })
  await new Promise((resolve) => worker.once('closed', resolve))
  const queue = new Queue(name, { connection })
  queues.push(queue)
  const counts = await queue.getJobCounts('completed', 'waiting', 'active', 'failed')
  net.stop()
  assert.deepEqual(atEvent && { jobs: atEvent.jobs, inFlight: atEvent.inFlight, reason: atEvent.reason }, {
    jobs: maxJobs,
    inFlight: 0,
    reason: 'maxJobs'
  })
  // Exactly maxJobs jobs ran: none was interrupted, none was taken after the event.
  assert.deepEqual(counts, { completed: maxJobs, waiting: total - maxJobs, active: 0, failed: 0 })
  assert.equal(net.jobs, maxJobs)
  assert.match(
    atEvent.message,
    /Recycling is a safety net, not the fix: 50 of 50 jobs left resources open: 50× listener .* in job 'bullmq-recycled'/
  )
})
