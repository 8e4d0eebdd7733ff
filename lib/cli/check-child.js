'use strict'
// The process in which `leakguard check` runs the user's job handler (forked
// by lib/cli/run-check.js, IPC only). It loads the module, runs warm-up and measured
// jobs with the guards on, takes two heap snapshots some jobs apart, diffs
// them, and sends one `result` message with the raw facts; lib/cli/verdict.js turns
// them into the verdict. Nothing here prints: stdout/stderr belong to the
// user's handler.

const fs = require('node:fs')
const v8 = require('node:v8')
const os = require('node:os')
const path = require('node:path')
const { pathToFileURL } = require('node:url')

const PROGRESS_EVERY_MS = 80

let lastProgress = 0
function progress(phase, done, total, force = false) {
  const now = Date.now()
  if (!force && done !== total && now - lastProgress < PROGRESS_EVERY_MS) return
  lastProgress = now
  process.send({ type: 'progress', phase, done, total })
}

class ModuleUsageError extends Error {}

async function loadHandler(file, exportName) {
  let ns
  try {
    // import() loads ESM and CommonJS alike; for CommonJS, `default` is module.exports.
    ns = await import(pathToFileURL(file).href)
  } catch (err) {
    throw new ModuleUsageError(`cannot load ${file}: ${err?.message}`, { cause: err })
  }
  const def = ns.default
  let handler
  if (exportName !== undefined) {
    handler = ns[exportName] ?? def?.[exportName]
    if (typeof handler !== 'function') {
      throw new ModuleUsageError(
        `${file} has no function export '${exportName}' (exports: ${exportsOf(ns).join(', ') || 'none'})`
      )
    }
  } else {
    handler = typeof def === 'function' ? def : def && typeof def.default === 'function' ? def.default : undefined
    if (handler === undefined) {
      throw new ModuleUsageError(
        `${file} has no default export function nor a function module.exports (exports: ${exportsOf(ns).join(', ') || 'none'}); pass --export <name>`
      )
    }
  }
  const makeJob = ns.makeJob ?? def?.makeJob
  if (makeJob !== undefined && typeof makeJob !== 'function') {
    throw new ModuleUsageError(`${file} exports makeJob, but it is not a function`)
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
  try {
    await settleWithin(state.handler(state.makeJob(i)), state.jobTimeoutMs, i)
  } catch (err) {
    if (err instanceof ModuleUsageError) throw err
    state.errors.count++
    if (state.errors.first === undefined) state.errors.first = err?.stack ? String(err.stack) : String(err)
    if (i === 0) throw new ModuleUsageError(`the first job threw: ${err?.message}`, { cause: err })
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-check-'))
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
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function run(opts) {
  const started = Date.now()
  const loaded = await loadHandler(opts.module, opts.exportName)
  const state = {
    handler: loaded.handler,
    makeJob: loaded.makeJob,
    jobTimeoutMs: opts.jobTimeoutMs,
    errors: { count: 0, first: undefined }
  }
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

process.once('message', (msg) => {
  if (msg?.type !== 'run') return
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

function finish(msg) {
  // Exit explicitly: a leaky handler may have left intervals and sockets that
  // would keep this process alive for ever.
  process.send(msg, () => process.exit(0))
}
