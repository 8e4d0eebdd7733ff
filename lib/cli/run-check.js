'use strict'
// Runs one check in a child process (lib/cli/check-child.js) and collects
// its result over IPC. The user's handler never runs in the CLI's process: a
// leak (or an autoTrack patch, or a heap snapshot) in the handler must not be
// measured together with the CLI's own allocations, and a handler that
// crashes or exhausts the heap must still leave us able to say so.

const path = require('node:path')
const { fork } = require('node:child_process')
const { UsageError } = require('./args')

const CHILD = path.join(__dirname, 'check-child.js')

/**
 * Runs one check in a child process and resolves with its raw result (see
 * lib/cli/check-child.js). Rejects with an Error carrying `usage: true` when
 * the module cannot be used (no handler export, load failure).
 */
function runCheck(opts, progress) {
  return new Promise((resolve, reject) => {
    // --expose-gc makes the forced GCs between samples cheap and certain.
    const child = fork(CHILD, [], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    let settled = false
    let stderrTail = ''
    const passThrough = (chunk) => {
      progress.log(chunk.toString())
    }
    child.stdout.on('data', passThrough)
    child.stderr.on('data', (chunk) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-4000)
      passThrough(chunk)
    })
    child.on('message', (msg) => {
      if (msg.type === 'progress') progress.update(msg)
      else if (msg.type === 'result') {
        settled = true
        resolve(msg.result)
      } else if (msg.type === 'error') {
        settled = true
        const err = new Error(msg.error.message)
        err.usage = msg.error.usage
        err.childStack = msg.error.stack
        reject(err)
      }
    })
    child.on('error', (err) => {
      if (!settled) {
        settled = true
        reject(err)
      }
    })
    child.on('exit', (code, signal) => {
      progress.clear()
      if (!settled) {
        settled = true
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        const err = new Error(`the check process ${how} before reporting${stderrTail ? `:\n${stderrTail.trim()}` : ''}`)
        reject(err)
      }
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
        jobTimeoutMs: opts.jobTimeoutMs
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
