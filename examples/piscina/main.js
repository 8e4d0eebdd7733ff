'use strict'
// A Piscina pool of 4 threads running guarded tasks (examples/piscina/task.js)
// that share one named, off-heap BoundedCache; a monitor warning raised inside
// a worker thread reaches this (main) thread.
//
//   node examples/piscina/main.js            # healthy tasks: no warning
//   LEAK=1 node examples/piscina/main.js     # leaking tasks: a worker's warning arrives here

const path = require('node:path')
const { Piscina } = require('piscina')
const { monitor, BoundedCache } = require('leakguard')

/**
 * Runs tasks on a 4-thread pool until `tasks` ran or (with `untilWarning`) a
 * worker's warning reached the main thread.
 */
async function run ({ tasks = 4000, leak = false, untilWarning = false, batch = 64, cacheName = 'piscina-example-users', monitorOptions } = {}) {
  // Opens the store the workers share (same name, same options), and warms it:
  // the workers read what this thread wrote, no copy per thread.
  const users = new BoundedCache({ name: cacheName, max: 1000, ttl: 60_000 })
  for (let userId = 0; userId < 40; userId++) users.set(`user:${userId}`, { id: userId, quota: 1000 + userId })
  // The host monitor also receives the warnings of monitors in worker threads.
  const host = monitor({ emitWarning: false })
  const warnings = []
  host.on('warning', (w) => warnings.push(w))
  const pool = new Piscina({
    filename: path.join(__dirname, 'task.js'),
    minThreads: 4,
    maxThreads: 4,
    // Piscina's default ('sync') parks an idle worker in Atomics.wait(), which
    // also stops its event loop: the monitor's timer in the worker would then
    // only run during tasks. 'async' waits with Atomics.waitAsync() instead.
    atomics: 'async',
    workerData: { leak, cacheName, monitorOptions }
  })
  const threadIds = new Set(pool.threads.map((t) => t.threadId))
  const results = []
  try {
    let id = 0
    while (id < tasks && !(untilWarning && warnings.length > 0)) {
      const n = Math.min(batch, tasks - id)
      const wave = []
      for (let k = 0; k < n; k++, id++) wave.push(pool.run({ id, userId: id % 40 }))
      results.push(...await Promise.all(wave))
    }
    for (const t of pool.threads) threadIds.add(t.threadId)
    return { results, warnings, threadIds: [...threadIds], cache: users.stats() }
  } finally {
    host.stop()
    await pool.destroy()
  }
}

if (require.main === module) {
  const leak = process.env.LEAK === '1'
  run({
    tasks: leak ? 40_000 : 4000,
    leak,
    untilWarning: leak,
    // Fast settings so that the demo concludes in seconds, not minutes.
    monitorOptions: { intervalMs: 10, checkEveryMs: 20, fullGcEveryMs: 20, windowMs: 4000 }
  }).then(({ results, warnings, cache }) => {
    console.log(`${results.length} tasks on 4 threads; shared cache: ${cache.hits} hits, ${cache.misses} misses, ${cache.size} entries`)
    for (const w of warnings) console.log(`warning from worker thread ${w.threadId}: ${w.message}`)
    if (!leak && warnings.length === 0) console.log('no memory warning')
  }, (err) => { console.error(err); process.exitCode = 1 })
}

module.exports = { run }
