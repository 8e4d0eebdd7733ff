'use strict'
// A worker thread inside the `leakguard check` child (started by
// lib/cli/check-child.js). It keeps working when the child's main thread
// cannot: a handler stuck in a synchronous loop blocks every timer and
// message of the main thread, but not this thread. Twice a second it
//   - reports to the CLI, on its own pipe (fd 4, not the IPC channel, which
//     the main thread owns), which jobs are running and for how long; the CLI
//     decides whether a job ran past --job-timeout and stops the child;
//   - checks that the CLI is still alive: if the CLI died (even by SIGKILL,
//     when it could not stop us), it removes the check's temporary directory
//     and kills this process, so that no orphan spins at 100% CPU.
// The main thread marks jobs in a SharedArrayBuffer (two stores per job, no
// allocation, nothing that could show up in the measurements).

const fs = require('node:fs')
const { workerData } = require('node:worker_threads')

const { jobs: shared, fd, ppid, dir, everyMs } = workerData
const jobs = new Float64Array(shared)
// Per slot: the job seen there last, and when it was first seen.
const seenJob = new Float64Array(jobs.length).fill(-1)
const seenAt = new Float64Array(jobs.length)

function parentGone() {
  // A dead parent re-parents us (to init or a subreaper): our ppid changes.
  return process.ppid !== ppid
}

function tick() {
  if (parentGone()) {
    try {
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    } finally {
      process.kill(process.pid, 'SIGKILL')
    }
    return
  }
  const now = Date.now()
  const running = []
  for (let s = 0; s < jobs.length; s++) {
    const job = jobs[s]
    if (job < 0) {
      seenJob[s] = -1
      continue
    }
    if (seenJob[s] !== job) {
      seenJob[s] = job
      seenAt[s] = now
    }
    running.push([job, now - seenAt[s]])
  }
  try {
    fs.writeSync(fd, `${JSON.stringify({ running })}\n`)
  } catch {
    // The CLI stopped reading (it is exiting): nothing to tell any more.
  }
}

setInterval(tick, everyMs)
