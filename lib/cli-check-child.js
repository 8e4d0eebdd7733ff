'use strict'
// The process in which `leakguard check` runs the user's job handler (forked
// by lib/cli.js, IPC only). It loads the module, runs warm-up and measured
// jobs with the guards on, takes two heap snapshots some jobs apart, diffs
// them, and sends one `result` message with the raw facts; lib/cli.js turns
// them into the verdict. Nothing here prints: stdout/stderr belong to the
// user's handler.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pathToFileURL } = require('node:url')

const PROGRESS_EVERY_MS = 80

let lastProgress = 0
function progress (phase, done, total, force = false) {
  const now = Date.now()
  if (!force && done !== total && now - lastProgress < PROGRESS_EVERY_MS) return
  lastProgress = now
  process.send({ type: 'progress', phase, done, total })
}

class ModuleUsageError extends Error {}

async function loadHandler (file, exportName) {
  let ns
  try {
    // import() loads ESM and CommonJS alike; for CommonJS, `default` is module.exports.
    ns = await import(pathToFileURL(file).href)
  } catch (err) {
    throw new ModuleUsageError(`cannot load ${file}: ${err && err.message}`, { cause: err })
  }
  const def = ns.default
  let handler
  if (exportName !== undefined) {
    handler = ns[exportName] ?? (def && def[exportName])
    if (typeof handler !== 'function') {
      throw new ModuleUsageError(`${file} has no function export '${exportName}' (exports: ${exportsOf(ns).join(', ') || 'none'})`)
    }
  } else {
    handler = typeof def === 'function' ? def : def && typeof def.default === 'function' ? def.default : undefined
    if (handler === undefined) {
      throw new ModuleUsageError(`${file} has no default export function nor a function module.exports (exports: ${exportsOf(ns).join(', ') || 'none'}); pass --export <name>`)
    }
  }
  const makeJob = ns.makeJob ?? (def && def.makeJob)
  if (makeJob !== undefined && typeof makeJob !== 'function') {
    throw new ModuleUsageError(`${file} exports makeJob, but it is not a function`)
  }
  return { handler, makeJob: makeJob || ((i) => ({ id: i, data: { i } })) }
}

function exportsOf (ns) {
  const names = new Set(Object.keys(ns).filter((k) => k !== 'default'))
  if (ns.default && typeof ns.default === 'object') for (const k of Object.keys(ns.default)) names.add(k)
  return [...names]
}

/** Optional sibling capability: undefined when this build does not have it yet. */
function optional (name) {
  try {
    return require(name)
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(name.replace('./', ''))) return undefined
    throw err
  }
}

function forceGc () {
  // The parent starts us with --expose-gc; two passes let weak callbacks and
  // FinalizationRegistry cleanups of the first pass free their memory too.
  global.gc()
  global.gc()
}

function readMemory () {
  const m = process.memoryUsage()
  return { heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss }
}

/**
 * Runs `n` jobs starting at index `from`, `concurrency` at a time, calling
 * `onDone(count)` as they finish. Job errors are counted, not fatal: leaks on
 * error paths are real leaks. Only a first job that throws aborts (the handler
 * is most likely broken or needs a different makeJob).
 */
async function runJobs (state, from, n, concurrency, onDone) {
  let next = from
  const end = from + n
  let finished = 0
  async function lane () {
    while (next < end) {
      const i = next++
      try {
        await state.handler(state.makeJob(i))
      } catch (err) {
        state.errors.count++
        if (state.errors.first === undefined) state.errors.first = err && err.stack ? String(err.stack) : String(err)
        if (i === 0) throw new ModuleUsageError(`the first job threw: ${err && err.message}`, { cause: err })
      }
      finished++
      if (onDone) onDone(finished)
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane))
}

/**
 * Samples memory after forced GCs at spaced job counts through warm-up and
 * the measured jobs, then fits the per-job trend of each metric over the
 * measured part with the native trend test (src/trend).
 */
async function measure (state, opts) {
  const { assessTrend } = require('./trend')
  const total = opts.warmup + opts.jobs
  const points = Math.min(120, total)
  const step = Math.max(1, Math.floor(total / points))
  const samples = []
  forceGc()
  samples.push({ job: 0, ...readMemory() })
  let done = 0
  while (done < total) {
    const n = Math.min(step, total - done)
    const base = done
    const phase = () => (done < opts.warmup ? 'warmup' : 'measure')
    await runJobs(state, done, n, opts.concurrency, (k) => progress(base + k < opts.warmup ? 'warmup' : 'measure', base + k, total))
    done += n
    forceGc()
    samples.push({ job: done, ...readMemory() })
    progress(phase(), done, total)
  }
  const measured = samples.filter((s) => s.job >= opts.warmup)
  const metrics = {}
  for (const name of ['heapUsed', 'external', 'arrayBuffers', 'rss']) {
    const fit = assessTrend(measured.map((s) => s.job), measured.map((s) => s[name]), { floorBlocks: Math.min(40, measured.length) })
    metrics[name] = fit === null
      ? { bytesPerJob: 0, pValue: 1, growthBytes: 0, growing: false, reason: 'too few samples' }
      : {
          bytesPerJob: fit.overall.slope,
          pValue: fit.overall.pValue,
          growthBytes: fit.overall.growth,
          growing: fit.growing,
          intercept: fit.overall.intercept,
          reason: fit.reason
        }
  }
  return { samples, metrics }
}

/** Tallies what autoTrack reports left open per job, keyed by kind/type/site. */
function makeLeftOpenTally () {
  const byKey = new Map()
  return {
    enabled: true,
    counting: false,
    add (report) {
      if (!this.counting || !report || !Array.isArray(report.leftOpen)) return
      for (const r of report.leftOpen) {
        const site = firstUserFrame(r.site)
        const key = `${r.kind}\0${r.type}\0${site}`
        const row = byKey.get(key)
        if (row) row.count++
        else byKey.set(key, { kind: r.kind, type: r.type, site, count: 1 })
      }
    },
    rows (jobs) {
      return [...byKey.values()]
        .map((r) => ({ ...r, perJob: r.count / jobs }))
        .sort((a, b) => b.count - a.count)
    }
  }
}

/** The first stack frame outside node internals and leakguard itself: where the user's code created it. */
function firstUserFrame (site) {
  if (!site) return undefined
  const lines = String(site).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('at ') || /:\d+:\d+\)?$/.test(l))
  const ours = path.join(__dirname, path.sep)
  const frame = lines.find((l) => !l.includes('node:') && !l.includes(ours)) ?? lines[0]
  return frame ? frame.replace(/^at /, '') : String(site).split('\n')[0]
}

async function heapDiff (state, opts) {
  const snapshot = optional('./snapshot')
  if (!snapshot) return { heapDiff: null, heapDiffNote: 'not available in this build (lib/snapshot.js missing)' }
  if (opts.snapshotJobs === 0) return { heapDiff: null, heapDiffNote: 'skipped (--snapshot-jobs 0)' }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-check-'))
  try {
    const total = opts.warmup + opts.jobs
    progress('snapshot', 0, opts.snapshotJobs, true)
    const before = await snapshot.writeHeapSnapshot(path.join(dir, 'before.heapsnapshot'))
    await runJobs(state, total, opts.snapshotJobs, opts.concurrency, (k) => progress('snapshot', k, opts.snapshotJobs))
    const after = await snapshot.writeHeapSnapshot(path.join(dir, 'after.heapsnapshot'))
    progress('diff', 0, 1, true)
    const diff = await snapshot.diffHeapSnapshots(before, after, { jobsBetween: opts.snapshotJobs, top: 10 })
    progress('diff', 1, 1, true)
    return {
      heapDiff: {
        jobsBetween: opts.snapshotJobs,
        atJobs: [total, total + opts.snapshotJobs],
        suspects: (diff.suspects || []).map((s) => ({
          name: s.name,
          countDelta: s.countDelta,
          perJob: s.perJob,
          selfSizeDelta: s.selfSizeDelta,
          retainedSizeDelta: s.retainedSizeDelta,
          retainerPath: s.retainerPath,
          message: s.message
        }))
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

async function run (opts) {
  const started = Date.now()
  const loaded = await loadHandler(opts.module, opts.exportName)
  const scope = optional('./scope')
  const tally = makeLeftOpenTally()
  let handler = loaded.handler
  let leftOpenNote
  if (scope && typeof scope.guard === 'function') {
    // An outer autoTrack scope around the user's handler: what the job leaves
    // behind without going through a scope of its own is attributed to it.
    handler = scope.guard(loaded.handler, {
      name: path.basename(opts.module),
      autoTrack: true,
      captureStacks: true,
      onLeftOpen: (report) => tally.add(report)
    })
  } else {
    leftOpenNote = 'not tracked in this build (lib/scope.js missing)'
  }
  const state = { handler, makeJob: loaded.makeJob, errors: { count: 0, first: undefined } }
  // Count left-open resources over the measured jobs only: warm-up may open
  // things once (pools, lazy singletons) that are not per-job.
  const m = await measureWithTally(state, opts, () => { tally.counting = true })
  tally.counting = false
  const diff = await heapDiff(state, opts)
  return {
    tool: 'leakguard',
    command: 'check',
    module: opts.module,
    exportName: opts.exportName ?? null,
    jobs: opts.jobs,
    warmup: opts.warmup,
    concurrency: opts.concurrency,
    node: process.version,
    durationMs: Date.now() - started,
    samples: m.samples,
    metrics: m.metrics,
    leftOpen: leftOpenNote ? [] : tally.rows(opts.jobs),
    leftOpenNote,
    ...diff,
    jobErrors: state.errors
  }
}

async function measureWithTally (state, opts, onWarmupDone) {
  if (opts.warmup === 0) onWarmupDone()
  const inner = state.handler
  let started = 0
  state.handler = (job) => {
    if (started++ === opts.warmup) onWarmupDone()
    return inner(job)
  }
  try {
    return await measure(state, opts)
  } finally {
    state.handler = inner
  }
}

process.once('message', (msg) => {
  if (!msg || msg.type !== 'run') return
  run(msg.options).then(
    (result) => finish({ type: 'result', result }),
    (err) => finish({
      type: 'error',
      error: { message: err && err.message ? err.message : String(err), stack: err && err.stack, usage: err instanceof ModuleUsageError }
    })
  )
})

function finish (msg) {
  // Exit explicitly: a leaky handler may have left intervals and sockets that
  // would keep this process alive for ever.
  process.send(msg, () => process.exit(0))
}
