'use strict'
// The process in which `leakguard check` runs the user's job handler (forked
// by lib/cli/run-check.js, IPC only). It loads the module, runs warm-up and measured
// jobs with the guards on, takes two heap snapshots some jobs apart, diffs
// them, and sends one `result` message with the raw facts; lib/cli/verdict.js turns
// them into the verdict. Nothing here prints: stdout/stderr belong to the
// user's handler.

const fs = require('node:fs')
const v8 = require('node:v8')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { Worker } = require('node:worker_threads')
const { clip, describePath } = require('../common/format')

const PROGRESS_EVERY_MS = 80
/** How often the watchdog thread reports the running jobs to the CLI. */
const WATCHDOG_EVERY_MS = 250
/** The pipe the CLI reads the watchdog's reports from (see run-check.js). */
const WATCHDOG_FD = 4

/** Where the check is: 'load' until the handler's module is loaded. */
let phase = 'load'
/** The check's private temporary directory (made by the CLI), removed if we are orphaned. */
let tmpDir

let lastProgress = 0
function progress(phase, done, total, force = false) {
  const now = Date.now()
  if (!force && done !== total && now - lastProgress < PROGRESS_EVERY_MS) return
  lastProgress = now
  send({ type: 'progress', phase, done, total })
}

/**
 * process.send, unless the channel is closed (the CLI died, or the handler
 * called process.disconnect()): then 'disconnect' below ends this process,
 * and a send must not throw ERR_IPC_CHANNEL_CLOSED from inside a job.
 */
function send(msg, done) {
  if (process.connected) process.send(msg, done)
}

class ModuleUsageError extends Error {}

/**
 * The jobs running now, one slot per concurrent lane, in a SharedArrayBuffer
 * the watchdog thread reads (lib/cli/check-watchdog.js): a job's index, or -1
 * for a free slot. Marking a job costs two stores and allocates nothing.
 */
class RunningJobs {
  constructor(lanes) {
    this.shared = new SharedArrayBuffer(8 * lanes)
    this.slots = new Float64Array(this.shared).fill(-1)
    this.free = Array.from({ length: lanes }, (_, k) => lanes - 1 - k)
    this.count = 0
    this.keepAlive = null
  }

  begin(i) {
    this.count++
    const slot = this.free.length > 0 ? this.free.pop() : -1
    if (slot >= 0) this.slots[slot] = i
    return slot
  }

  end(slot) {
    this.count--
    if (slot >= 0) {
      this.slots[slot] = -1
      this.free.push(slot)
    }
    if (this.count === 0 && this.keepAlive !== null) {
      clearInterval(this.keepAlive)
      this.keepAlive = null
    }
  }
}

/**
 * Starts the watchdog thread. Best effort: without it the CLI cannot stop a
 * handler that blocks the event loop, but the check itself still runs.
 */
function startWatchdog(running) {
  try {
    const worker = new Worker(path.join(__dirname, 'check-watchdog.js'), {
      workerData: {
        jobs: running.shared,
        fd: WATCHDOG_FD,
        ppid: process.ppid,
        dir: tmpDir,
        everyMs: WATCHDOG_EVERY_MS
      },
      stdout: true,
      stderr: true
    })
    worker.unref()
    worker.on('error', () => {})
  } catch {
    // No worker threads here: the check runs unwatched.
  }
}

async function loadHandler(file, exportName) {
  let ns
  try {
    // import() loads ESM and CommonJS alike; for CommonJS, `default` is module.exports.
    ns = await import(pathToFileURL(file).href)
  } catch (err) {
    throw new ModuleUsageError(`cannot load ${describePath(file)}: ${clip(String(err?.message), 2000)}`, {
      cause: err
    })
  }
  const def = ns.default
  let handler
  if (exportName !== undefined) {
    handler = ns[exportName] ?? def?.[exportName]
    if (typeof handler !== 'function') {
      throw new ModuleUsageError(
        `${describePath(file)} has no function export '${clip(exportName, 60)}' (exports: ${clip(exportsOf(ns).join(', ') || 'none', 400)})`
      )
    }
  } else {
    handler = typeof def === 'function' ? def : def && typeof def.default === 'function' ? def.default : undefined
    if (handler === undefined) {
      throw new ModuleUsageError(
        `${describePath(file)} has no default export function nor a function module.exports (exports: ${clip(exportsOf(ns).join(', ') || 'none', 400)}); pass --export <name>`
      )
    }
  }
  const makeJob = ns.makeJob ?? def?.makeJob
  if (makeJob !== undefined && typeof makeJob !== 'function') {
    throw new ModuleUsageError(`${describePath(file)} exports makeJob, but it is not a function`)
  }
  return { handler, makeJob: makeJob || ((i) => ({ id: i, data: { i } })) }
}

function exportsOf(ns) {
  const names = new Set(Object.keys(ns).filter((k) => k !== 'default'))
  if (ns.default && typeof ns.default === 'object') for (const k of Object.keys(ns.default)) names.add(k)
  return [...names]
}

/**
 * Runs the handler on job `i`. Job errors are counted, not fatal: leaks on
 * error paths are real leaks. Only a first job that throws aborts (the
 * handler is most likely broken, or needs a makeJob export).
 */
async function runJob(state, i) {
  const slot = state.running.begin(i)
  try {
    await settleWithin(state.handler(state.makeJob(i)), state.jobTimeoutMs, i)
  } catch (err) {
    if (err instanceof ModuleUsageError) throw err
    state.errors.count++
    if (state.errors.first === undefined) state.errors.first = err?.stack ? String(err.stack) : String(err)
    if (i === 0) throw new ModuleUsageError(`the first job threw: ${err?.message}`, { cause: err })
  } finally {
    state.running.end(slot)
  }
}

/**
 * `result` (a job's return value), or a ModuleUsageError naming job `i` if it
 * has not settled within `ms` (0 = no limit): a handler that never settles
 * would otherwise stall the check for ever, or let this process exit
 * half-way once nothing else is pending. The timer keeps the process alive
 * on purpose, and is cleared as soon as the job settles.
 */
function settleWithin(result, ms, i) {
  if (!ms || result === null || typeof result !== 'object' || typeof result.then !== 'function') return result
  let timer
  const expired = new Promise((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ModuleUsageError(
            `job ${i} did not settle within ${ms} ms (--job-timeout): the handler must resolve or reject for every job; raise --job-timeout for slow jobs`
          )
        ),
      ms
    )
  })
  return Promise.race([result, expired]).finally(() => clearTimeout(timer))
}

/** Runs jobs [from, from + n), `concurrency` at a time, reporting each completion. */
async function runJobs(state, from, n, concurrency, onDone) {
  let next = from
  const end = from + n
  let finished = 0
  async function lane() {
    while (next < end) {
      await runJob(state, next++)
      onDone(++finished)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane))
}

/** The figures measureGrowth samples, the same way: heapUsed is the data part, compiled code is apart. */
function readMemory() {
  const h = v8.getHeapStatistics()
  const c = v8.getHeapCodeStatistics()
  const code = c.code_and_metadata_size + c.bytecode_and_metadata_size
  const m = process.memoryUsage()
  return {
    heapUsed: h.used_heap_size - code,
    external: h.external_memory,
    arrayBuffers: m.arrayBuffers,
    rss: m.rss,
    code
  }
}

/**
 * Warm-up, sampled here for the chart only (the JIT, lazy singletons and
 * caches filling up make it climb, which is why it is excluded from the
 * trend), then the measured jobs through measureGrowth() (lib/assert/assert.js):
 * the same sampling, trend test and left-open accounting as
 * assertMemoryBounded(), so the CLI and a user's test agree.
 */
async function measure(state, opts) {
  const { measureGrowth } = require('../assert/assert')
  const { withScope } = require('../scope/scope')
  const total = opts.warmup + opts.jobs
  const samples = []
  // Warm-up jobs run in an autoTrack scope like the measured ones, so that
  // installing autoTrack's patches (and the deopts that follow) happens here
  // and not inside the measured run.
  const warmScope = { name: 'warm-up', autoTrack: true, onLeftOpen: 'ignore' }
  const warmState = { ...state, handler: (job) => withScope(() => state.handler(job), warmScope) }
  const warmStep = Math.max(1, Math.ceil(opts.warmup / 10))
  global.gc()
  samples.push({ job: 0, ...readMemory() })
  let done = 0
  while (done < opts.warmup) {
    const n = Math.min(warmStep, opts.warmup - done)
    const base = done
    await runJobs(warmState, base, n, opts.concurrency, (k) => progress('warmup', base + k, total))
    done += n
    await new Promise((resolve) => setImmediate(resolve))
    // Two passes: weak callbacks and finalizers of the first free memory too.
    global.gc()
    global.gc()
    // measureGrowth takes its own first sample right after the warm-up.
    if (done < opts.warmup) samples.push({ job: done, ...readMemory() })
  }
  let next = opts.warmup
  const report = await measureGrowth(
    async () => {
      await runJob(state, next++)
      // measureGrowth confirms growth with a second run as long as the first.
      if (next <= total) progress('measure', next, total)
      else progress('confirm', next - total, opts.jobs)
    },
    {
      iterations: opts.jobs,
      warmup: 0,
      samples: Math.min(80, opts.jobs),
      concurrency: opts.concurrency,
      ...(opts.minGrowth === undefined ? {} : { minGrowthBytes: opts.minGrowth }),
      name: path.basename(opts.module)
    }
  )
  if (report.confirmed) progress('confirm', opts.jobs, opts.jobs, true)
  else progress('measure', total, total, true)
  const s = report.samples
  for (let k = 0; k < s.iteration.length; k++) {
    const sample = { job: opts.warmup + s.iteration[k] }
    for (const name of Object.keys(s)) if (name !== 'iteration') sample[name] = s[name][k]
    samples.push(sample)
  }
  const metrics = {}
  for (const [name, m] of Object.entries(report.metrics)) {
    metrics[name] = {
      bytesPerJob: m.bytesPerIteration,
      pValue: m.pValue,
      growthBytes: m.growthBytes,
      netBytes: m.netBytes,
      growing: m.growing,
      failed: m.failed,
      reason: m.reason
    }
  }
  const leftOpen = report.leftOpen.map((g) => ({
    kind: g.kind,
    type: g.type,
    site: g.site,
    package: g.package,
    packageSite: g.packageSite,
    count: g.count,
    perJob: g.perIteration
  }))
  return {
    samples,
    metrics,
    leftOpen,
    verdict: report.verdict,
    minGrowth: report.options.minGrowthBytes,
    measuredJobs: report.iterations,
    confirmed: report.confirmed === true,
    next
  }
}

/**
 * Writes a snapshot from a fresh macrotask: called from here, this file's
 * frames (holding the handler and the last job) would be "(Stack roots)" and
 * give the shortest, least useful retainer paths.
 */
function writeFromEmptyStack(snapshot, file) {
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        resolve(snapshot.writeHeapSnapshot(file))
      } catch (err) {
        reject(err)
      }
    })
  })
}

async function heapDiff(state, opts, first) {
  const snapshot = require('../snapshot/snapshot')
  if (opts.snapshotJobs === 0) return { heapDiff: null, heapDiffNote: 'skipped (--snapshot-jobs 0)' }
  // The CLI made this private directory (mkdtemp, 0700) and removes it when
  // this process ends, however it ends; the snapshots go as soon as they are
  // diffed, to give the disk space back early.
  const dir = opts.dir
  try {
    progress('snapshot', 0, opts.snapshotJobs, true)
    const before = await writeFromEmptyStack(snapshot, path.join(dir, 'before.heapsnapshot'))
    await runJobs(state, first, opts.snapshotJobs, opts.concurrency, (k) => progress('snapshot', k, opts.snapshotJobs))
    const after = await writeFromEmptyStack(snapshot, path.join(dir, 'after.heapsnapshot'))
    progress('diff', 0, 1, true)
    const diff = await snapshot.diffHeapSnapshots(before, after, { jobsBetween: opts.snapshotJobs, top: 10 })
    progress('diff', 1, 1, true)
    return {
      heapDiff: {
        jobsBetween: opts.snapshotJobs,
        atJobs: [first, first + opts.snapshotJobs],
        suspects: (diff.suspects || []).map((s) => ({
          name: s.name,
          countDelta: s.countDelta,
          perJob: s.perJob,
          selfSizeDelta: s.selfSizeDelta,
          retainedSizeDelta: s.retainedSizeDelta,
          retainerPath: s.retainerPath,
          retainers: s.retainers,
          programPath: s.programPath,
          programSteps: s.programSteps,
          holder: s.holder,
          message: s.message
        }))
      }
    }
  } finally {
    for (const name of ['before.heapsnapshot', 'after.heapsnapshot']) fs.rmSync(path.join(dir, name), { force: true })
  }
}

async function run(opts) {
  const started = Date.now()
  tmpDir = opts.dir
  const running = new RunningJobs(opts.concurrency)
  startWatchdog(running)
  const loaded = await loadHandler(opts.module, opts.exportName)
  phase = 'jobs'
  const state = {
    handler: loaded.handler,
    makeJob: loaded.makeJob,
    jobTimeoutMs: opts.jobTimeoutMs,
    running,
    errors: { count: 0, first: undefined }
  }
  process.on('beforeExit', () => onLoopEmpty(state))
  const m = await measure(state, opts)
  const diff = await heapDiff(state, opts, m.next)
  return {
    tool: 'leakguard',
    command: 'check',
    module: opts.module,
    exportName: opts.exportName ?? null,
    jobs: opts.jobs,
    // measureGrowth runs a second, equal run to confirm growth before calling it a leak.
    measuredJobs: m.measuredJobs,
    confirmed: m.confirmed,
    warmup: opts.warmup,
    concurrency: opts.concurrency,
    minGrowth: m.minGrowth,
    node: process.version,
    durationMs: Date.now() - started,
    samples: m.samples,
    metrics: m.metrics,
    leftOpen: m.leftOpen,
    measureVerdict: m.verdict,
    ...diff,
    jobErrors: state.errors
  }
}

/**
 * The event loop ran empty before the check finished: something it awaits
 * can never settle on its own.
 * - While loading: the module's top-level await waits on nothing that is
 *   still pending, so the module can never finish loading. Say so.
 * - While a job runs with --job-timeout 0 ("wait for ever"): wait for real.
 *   An unref'd socket or timer, or another thread, may still settle the
 *   job, so this process stays alive (the CLI's Ctrl-C or SIGTERM ends it).
 */
function onLoopEmpty(state) {
  if (state === undefined) {
    if (phase !== 'load') return
    finish({
      type: 'error',
      error: {
        message:
          'the module never finishes loading: its top-level await waits on a promise that nothing left in the process can settle',
        usage: true
      }
    })
    return
  }
  if (state.running.count > 0 && state.running.keepAlive === null) {
    state.running.keepAlive = setInterval(() => {}, 1 << 30)
  }
}

process.once('message', (msg) => {
  if (msg?.type !== 'run') return
  // The 'disconnect' listener below would keep the channel, and so this
  // process, alive for ever: only the check's own work may keep it alive
  // (a module that can never load must be told, not waited for).
  process.channel.unref()
  process.on('beforeExit', () => onLoopEmpty(undefined))
  run(msg.options).then(
    (result) => finish({ type: 'result', result }),
    (err) =>
      finish({
        type: 'error',
        error: {
          message: err?.message ? err.message : String(err),
          stack: err?.stack,
          usage: err instanceof ModuleUsageError
        }
      })
  )
})

// The CLI is gone (or the handler closed the channel with
// process.disconnect()): nobody can receive a result any more. The CLI, if
// alive, reports the closed channel; this process must not linger.
process.on('disconnect', () => {
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true })
  process.exit(EXIT_DISCONNECTED)
})

/** Exit code of a check child whose IPC channel closed before it reported. */
const EXIT_DISCONNECTED = 3

let finishing = false
function finish(msg) {
  if (finishing) return
  finishing = true
  // Exit explicitly: a leaky handler may have left intervals and sockets that
  // would keep this process alive for ever.
  if (process.connected) process.send(msg, () => process.exit(0))
  else process.exit(EXIT_DISCONNECTED)
}
