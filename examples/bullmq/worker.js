'use strict'
// A BullMQ worker with leakguard: a guarded processor (per-job cleanup), a
// shared off-heap BoundedCache, and the recycle net closing the worker
// between two jobs. Needs a Redis server:
//
//   redis-server --port 6379 --save '' --appendonly no &
//   REDIS_URL=redis://127.0.0.1:6379 node examples/bullmq/worker.js
//
// It enqueues JOBS jobs (default 2000), processes them, prints the scope
// statistics and the cache stats, and exits. __test__/fleet-bullmq.spec.mjs
// drives createWorker() against a redis-server it starts itself.

const { EventEmitter } = require('node:events')
const { Queue, Worker } = require('bullmq')
const { guard, BoundedCache, recycle, scopeStats } = require('leakguard')

/**
 * The job handler. `leak: true` makes it subscribe to a shared emitter per
 * job and never unsubscribe, the guide's "event listener added per job";
 * guard(..., { autoTrack: 'dispose' }) removes those listeners when the job
 * ends and reports them.
 */
function makeProcessor ({ bus, cache, leak = false, name = 'resize-image', recycle: net }) {
  return guard(async (job) => {
    if (leak) bus.on('settings', () => job.id)
    // A lookup shared by every job (off the V8 heap, bounded).
    const key = `user:${job.data.userId}`
    let user = cache.get(key)
    if (user === undefined) {
      user = { id: job.data.userId, plan: job.data.userId % 3 === 0 ? 'pro' : 'free' }
      cache.set(key, user)
    }
    return { n: job.data.n * 2, plan: user.plan }
  }, { name, autoTrack: 'dispose', captureStacks: leak, onLeftOpen: 'ignore', ...(net ? { recycle: net } : {}) })
}

/**
 * @param {{ connection: object, queueName: string, concurrency?: number, leak?: boolean,
 *   recycle?: import('leakguard').Recycler, cache?: BoundedCache, bus?: EventEmitter, name?: string }} options
 */
function createWorker (options) {
  const { connection, queueName, concurrency = 8, leak = false, recycle: net, name } = options
  const bus = options.bus ?? new EventEmitter()
  bus.setMaxListeners(0)
  const cache = options.cache ?? new BoundedCache({ max: 1000, ttl: 60_000, name: 'bullmq-example-users' })
  const processor = makeProcessor({ bus, cache, leak, name, recycle: net })
  const worker = new Worker(queueName, processor, { connection, concurrency, autorun: true })
  if (net) {
    // The net fires as the job's scope closes: before BullMQ takes another
    // job, close() stops fetching and waits for the jobs still running.
    net.on('recycle', (event) => {
      console.warn(event.message)
      worker.close()
    })
  }
  return { worker, bus, cache }
}

async function main () {
  const url = new URL(process.env.REDIS_URL || 'redis://127.0.0.1:6379')
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null }
  const jobs = Number(process.env.JOBS || 2000)
  const queueName = `leakguard-example-${process.pid}`
  const queue = new Queue(queueName, { connection })
  await queue.addBulk(Array.from({ length: jobs }, (_, n) => ({ name: 'resize', data: { n, userId: n % 50 }, opts: { removeOnComplete: true } })))
  const net = recycle({ maxJobs: jobs })
  const { worker, cache } = createWorker({ connection, queueName, leak: true, recycle: net })
  await new Promise((resolve) => worker.once('closed', resolve))
  for (const s of scopeStats()) console.log(s.message)
  console.log('cache', cache.stats())
  await queue.obliterate({ force: true })
  await queue.close()
}

if (require.main === module) {
  main().catch((err) => { console.error(err); process.exitCode = 1 })
}

module.exports = { createWorker, makeProcessor }
