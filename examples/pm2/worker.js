'use strict'
// A job worker with leakguard's three layers, as run under pm2
// (examples/pm2/ecosystem.config.js) — and runnable on its own:
//
//   LEAKGUARD_MAX_JOBS=500 node examples/pm2/worker.js
//
// - guard(): each job runs in a scope; what it forgets to clean up
//   (the listener below) is removed and reported at the end of the job.
// - monitor(): trend warnings on the post-GC memory floor.
// - recycle: after maxJobs (or maxRss), exit 0 between two jobs, after the
//   running ones finished; pm2 restarts the process. The message says what
//   leaks: restarting is the safety net, not the fix.

const { EventEmitter } = require('node:events')
const { guard, monitor, recycle } = require('leakguard')

const maxJobs = Number(process.env.LEAKGUARD_MAX_JOBS || 10_000)
const maxRss = Number(process.env.LEAKGUARD_MAX_RSS_MB || 512) * 2 ** 20
const jobMs = Number(process.env.LEAKGUARD_JOB_MS || 5)

// Stands in for a queue or message-bus client shared by every job.
const bus = new EventEmitter()
bus.setMaxListeners(0)

const net = recycle({ maxJobs, maxRss, exit: true })
// The monitor warns on a growing post-GC heap (bytes per job), and hands its
// warnings to the net so that the recycle message quotes them.
const m = monitor({ recycle: net, emitWarning: false })
m.on('warning', (w) => console.warn(`[worker ${process.pid}] ${w.message}`))
m.on('recycle', (event) => console.warn(`[worker ${process.pid}] ${event.message}`))

const handle = guard(async (job) => {
  // The classic leak: a listener per job on a long-lived emitter. autoTrack
  // attributes it to the job and, with 'dispose', removes it at job end.
  bus.on('config-changed', () => job.id)
  await new Promise((resolve) => setTimeout(resolve, jobMs))
  return job.id * 2
}, { name: 'example-job', autoTrack: 'dispose', onLeftOpen: 'ignore', recycle: net })

let processed = 0
process.on('exit', () => console.log(`[worker ${process.pid}] processed ${processed} jobs, ${bus.listenerCount('config-changed')} listeners left on the bus`))

async function main () {
  for (let id = 1; ; id++) {
    await handle({ id })
    processed++
  }
}

main()
