'use strict'
// Runs one check in a child process (lib/cli/check-child.js) and collects
// its result over IPC. The user's handler never runs in the CLI's process: a
// leak (or an autoTrack patch, or a heap snapshot) in the handler must not be
// measured together with the CLI's own allocations, and a handler that
// crashes or exhausts the heap must still leave us able to say so.
//
// The CLI also stands guard over the child, because the child cannot always
// guard itself:
// - --job-timeout: the child times out a job that never settles, but a job
//   that blocks its event loop (a synchronous endless loop) stops the child's
//   own timers. The child's watchdog thread (check-watchdog.js) reports the
//   running jobs on fd 4 twice a second, even then; past the timeout (plus a
//   grace for the child's own timer to win), the CLI kills the child and
//   fails naming the job. If the reports stop altogether, the CLI stops
//   waiting too.
// - Signals: SIGTERM, SIGINT or SIGHUP to the CLI kill the child first (and
//   remove the temporary directory), then end the CLI by the same signal.
//   If the CLI dies without a chance to do that (SIGKILL), the child sees its
//   IPC channel close or its parent change, and ends itself.
// - The temporary directory for the heap snapshots is made here, and removed
//   here when the child ends, however it ends (a child killed while writing
//   a 5 MB snapshot cannot clean up after itself).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { fork } = require('node:child_process')
const { UsageError } = require('./args')

const CHILD = path.join(__dirname, 'check-child.js')
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP']
/** Exit code of a check child whose IPC channel closed (check-child.js). */
const EXIT_DISCONNECTED = 3

/**
 * How long past --job-timeout the CLI waits before it stops a job itself: the
 * child's own timer normally ends the job first, with its own message.
 */
function graceMs(jobTimeoutMs) {
  return Math.max(1000, Math.round(jobTimeoutMs / 10))
}

class CheckFailure extends Error {
  constructor(message, { usage = false } = {}) {
    super(message)
    this.usage = usage
  }
}

/**
 * Runs one check in a child process and resolves with its raw result (see
 * lib/cli/check-child.js). Rejects with an Error carrying `usage: true` when
 * the module cannot be used (no handler export, load failure, a job that
 * never settles or blocks the process).
 */
function runCheck(opts, progress) {
  return new Promise((resolve, reject) => {
    // Private (0700) and unguessable: the snapshots hold the handler's heap.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-check-'))
    let child
    try {
      // --expose-gc makes the forced GCs between samples cheap and certain.
      child = fork(CHILD, [], {
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe']
      })
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true })
      reject(err)
      return
    }
    let settled = false
    let failure = null
    let stderrTail = ''
    let lastReport = Date.now()
    let reporting = false
    let running = []

    const finish = (err, result) => {
      if (settled) return
      settled = true
      if (err) reject(err)
      else resolve(result)
    }
    /** Ends the check with `err` once the child is gone (it is killed now). */
    const stop = (err) => {
      if (failure === null) failure = err
      child.kill('SIGKILL')
    }

    const onSignal = (signal) => {
      stop(new CheckFailure(`interrupted by ${signal}`))
      child.once('exit', () => {
        // The CLI's own handlers are gone by now (see 'exit' below): if no
        // one else listens, the signal ends this process as it would have
        // without us, with the shell's 128 + signal status.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
      })
    }
    for (const signal of SIGNALS) process.on(signal, onSignal)

    const passThrough = (chunk) => {
      progress.log(chunk.toString())
    }
    child.stdout.on('data', passThrough)
    child.stderr.on('data', (chunk) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-4000)
      passThrough(chunk)
    })

    // The watchdog's reports: one JSON line per tick.
    let partial = ''
    child.stdio[4].on('data', (chunk) => {
      const lines = (partial + chunk.toString()).split('\n')
      partial = lines.pop()
      for (const line of lines) {
        try {
          running = JSON.parse(line).running
        } catch {
          continue
        }
        lastReport = Date.now()
        reporting = true
        overdue()
      }
    })
    child.stdio[4].on('error', () => {})

    const limit = opts.jobTimeoutMs
    const overdue = () => {
      if (!limit || failure !== null) return
      for (const [job, ms] of running) {
        if (ms >= limit + graceMs(limit)) {
          stop(
            new CheckFailure(
              `job ${job} did not finish within ${limit} ms (--job-timeout) and its process stopped responding: ` +
                'the handler blocks the event loop (a synchronous endless loop?); the check was stopped. ' +
                'Raise --job-timeout for slow synchronous jobs',
              { usage: true }
            )
          )
          return
        }
      }
    }
    // If the reports stop altogether (the whole child is stuck), the CLI
    // stops waiting after the same limit.
    const silence = limit
      ? setInterval(() => {
          if (!reporting || failure !== null) return
          const quiet = Date.now() - lastReport
          if (quiet >= limit + graceMs(limit)) {
            const job = running.length > 0 ? `job ${running[0][0]}` : 'the check'
            stop(
              new CheckFailure(
                `the check process stopped responding for ${quiet} ms during ${job} (--job-timeout ${limit} ms); the check was stopped`,
                { usage: true }
              )
            )
          }
        }, 500)
      : null
    silence?.unref()

    let disconnected = false
    child.on('disconnect', () => {
      disconnected = true
    })
    child.on('message', (msg) => {
      if (msg.type === 'progress') progress.update(msg)
      else if (msg.type === 'result') {
        finish(null, msg.result)
      } else if (msg.type === 'error') {
        const err = new CheckFailure(msg.error.message, { usage: msg.error.usage })
        err.childStack = msg.error.stack
        finish(err)
      }
    })
    child.on('error', (err) => {
      if (failure === null) failure = err
      // A child that never started emits no 'exit'.
      if (child.pid === undefined) {
        for (const s of SIGNALS) process.removeListener(s, onSignal)
        if (silence) clearInterval(silence)
        fs.rmSync(dir, { recursive: true, force: true })
        finish(err)
      }
    })
    child.on('exit', (code, signal) => {
      progress.clear()
      if (silence) clearInterval(silence)
      for (const s of SIGNALS) process.removeListener(s, onSignal)
      fs.rmSync(dir, { recursive: true, force: true })
      if (failure !== null) return finish(failure)
      if (disconnected && code === EXIT_DISCONNECTED) {
        return finish(
          new CheckFailure(
            'the check process closed its IPC channel before reporting (does the handler call process.disconnect()?): ' +
              'leakguard check reports the result through that channel',
            { usage: true }
          )
        )
      }
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      finish(new Error(`the check process ${how} before reporting${stderrTail ? `:\n${stderrTail.trim()}` : ''}`))
    })
    child.send({
      type: 'run',
      options: {
        module: opts.module,
        exportName: opts.exportName,
        jobs: opts.jobs,
        warmup: opts.warmup,
        concurrency: opts.concurrency,
        snapshotJobs: opts.snapshotJobs,
        minGrowth: opts.minGrowth,
        jobTimeoutMs: opts.jobTimeoutMs,
        dir
      }
    })
  })
}

async function runCheckOrExplain(opts, progress) {
  try {
    return await runCheck(opts, progress)
  } catch (err) {
    if (err.usage) throw new UsageError('check', err.message)
    throw err
  }
}

module.exports = { runCheck, runCheckOrExplain }
