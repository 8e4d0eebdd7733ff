'use strict'
// Memory assertions for tests: run a function many times, sample memory after
// forced full collections at spaced points, and decide with the trend module
// (Theil–Sen slope + Mann–Kendall test over the post-GC floor, warm-up aware)
// whether memory grows with the number of calls. `measureGrowth` returns the
// finding as data; `assertMemoryBounded` turns a leak into an AssertionError
// that says what grew, by how much per iteration, with what confidence, and
// which resources each iteration left open.

const { formatBytes, formatP } = require('../common/format')
const v8 = require('node:v8')
const path = require('node:path')
const fs = require('node:fs')
const os = require('node:os')
const { AssertionError } = require('node:assert')
const { assessTrend } = require('../trend/trend')
const { fullGc } = require('../common/gc')
const { readRss } = require('../common/memory')
const scope = require('../scope/scope')
const { describeSite } = require('../common/sites')
const { invalidArgType, invalidOptionType, invalidOptionValue } = require('../common/errors')
const { readOptions, checkInteger, checkNumber, checkBoolean, checkString, warnRenamed } = require('../common/options')

const { MEASURED_METRICS: METRICS, VERDICT_METRICS: DEFAULT_FAIL_ON } = require('../common/metric-names')

const OPTION_KEYS = [
  'iterations',
  'warmup',
  'samples',
  'concurrency',
  'alpha',
  'minBytesPerIteration',
  'minGrowthBytes',
  'failOn',
  'checkResources',
  'leftOpenRatio',
  'name',
  'countObjects'
]

// Old names (before the naming rule: byte figures end in Bytes), still accepted with a warning.
const RENAMED = { minGrowth: 'minGrowthBytes' }

const DEFAULTS = Object.freeze({
  iterations: 2000,
  samples: 32,
  concurrency: 1,
  // Stricter than the monitor's 0.01: a flaky test costs more than a late warning.
  alpha: 0.001,
  minBytesPerIteration: 8,
  // The first run in a fresh process still creeps by up to ~55 KB of data
  // that is not compiled code (feedback vectors, inline caches, lazily built
  // internals of Node and of the JobScope): measured on the bounded controls
  // of __test__/fixtures/leaks. 128 KB over the run is ~2.4x that, and is what
  // a 64 B/iteration leak adds over the default 2000 iterations.
  minGrowthBytes: 128 * 1024,
  checkResources: true,
  leftOpenRatio: 0.5
})

function resolveOptions(options) {
  const o = readOptions('options', options, OPTION_KEYS, { renamed: RENAMED })
  const iterations = checkInteger('options.iterations', o.iterations, { min: 10, max: 1e9 }) ?? DEFAULTS.iterations
  const warmup =
    checkInteger('options.warmup', o.warmup, { min: 0, max: 1e9 }) ??
    // Long enough for the JIT to have compiled the hot paths: tier-ups add
    // code in steps of ~10 KB that look like growth if they fall in the run.
    Math.max(100, Math.round(iterations / 5))
  // The floor keeps one point per pair of samples; below 10 points the
  // Mann–Kendall test cannot reach p < 0.001 even on a perfect line.
  const samples = checkInteger('options.samples', o.samples, { min: 20, max: 1000 }) ?? DEFAULTS.samples
  if (samples > iterations) {
    throw invalidOptionValue('options.samples', `at most options.iterations (${iterations})`, samples)
  }
  const concurrency =
    checkInteger('options.concurrency', o.concurrency, { min: 1, max: 100_000 }) ?? DEFAULTS.concurrency
  const alpha = checkNumber('options.alpha', o.alpha, { min: 0, max: 0.5, exclusiveMin: true }) ?? DEFAULTS.alpha
  const minBytesPerIteration =
    checkNumber('options.minBytesPerIteration', o.minBytesPerIteration, { min: 0 }) ?? DEFAULTS.minBytesPerIteration
  const minGrowthBytes = checkNumber('options.minGrowthBytes', o.minGrowthBytes, { min: 0 }) ?? DEFAULTS.minGrowthBytes
  let failOn = DEFAULT_FAIL_ON
  if (o.failOn !== undefined) {
    if (!Array.isArray(o.failOn))
      throw invalidOptionType('options.failOn', `an array of ${METRICS.map((m) => `'${m}'`).join(' | ')}`, o.failOn)
    for (const m of o.failOn) {
      if (!METRICS.includes(m)) {
        throw invalidOptionValue('options.failOn', `an array of ${METRICS.map((x) => `'${x}'`).join(' | ')}`, o.failOn)
      }
    }
    failOn = [...new Set(o.failOn)]
  }
  const checkResources = checkBoolean('options.checkResources', o.checkResources) ?? DEFAULTS.checkResources
  const leftOpenRatio =
    checkNumber('options.leftOpenRatio', o.leftOpenRatio, { min: 0, max: 1, exclusiveMin: true }) ??
    DEFAULTS.leftOpenRatio
  const name = checkString('options.name', o.name)
  const countObjects = checkBoolean('options.countObjects', o.countObjects) ?? false
  const resolved = {
    iterations,
    warmup,
    samples,
    concurrency,
    alpha,
    minBytesPerIteration,
    minGrowthBytes,
    failOn,
    checkResources,
    leftOpenRatio,
    name,
    countObjects
  }
  // The old name stays readable in report.options (not enumerable: printing the report does not warn).
  Object.defineProperty(resolved, 'minGrowth', {
    get() {
      warnRenamed('GrowthReport.options.minGrowth', 'GrowthReport.options.minGrowthBytes')
      return minGrowthBytes
    },
    enumerable: false,
    configurable: true
  })
  return resolved
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

/**
 * Runs `fn` warm-up + `iterations` times, sampling memory after forced full
 * GCs at `samples + 1` evenly spaced points, and returns a report (never
 * throws for a leak). Rejects with a coded TypeError/RangeError for bad
 * arguments, and with `fn`'s own error if `fn` throws.
 */
async function measureGrowth(fn, options) {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
  const opts = resolveOptions(options)
  const withScope = opts.checkResources ? scope.withScope : null

  // Resources left open, grouped by what and where they were created.
  const leftOpenGroups = new Map()
  let measuring = false
  const scopeOptions = withScope && {
    name: opts.name ?? (fn.name || 'measureGrowth'),
    autoTrack: true,
    captureStacks: true,
    onLeftOpen: 'ignore',
    onReport(report) {
      if (!measuring || !report || !Array.isArray(report.leftOpen)) return
      for (const r of report.leftOpen) {
        const key = `${r.kind}\0${r.type}\0${r.site ?? ''}\0${r.package ?? ''}`
        const g = leftOpenGroups.get(key)
        if (g) g.count++
        else {
          const { kind, type, site = null, package: pkg = null, packageSite = null } = r
          leftOpenGroups.set(key, { kind, type, site, package: pkg, packageSite, count: 1 })
        }
      }
    }
  }

  const call = withScope ? (i) => withScope(() => fn(i), scopeOptions) : (i) => fn(i)

  let sawPromise = false
  async function runRange(from, to) {
    if (opts.concurrency === 1) {
      for (let i = from; i < to; i++) {
        const r = call(i)
        if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
          sawPromise = true
          await r
        }
      }
      return
    }
    let next = from
    const lane = async () => {
      while (next < to) {
        const i = next++
        await call(i)
      }
    }
    sawPromise = true
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, to - from) }, lane))
  }

  const points = opts.samples + 1
  // Preallocated (for a possible confirmation run too) so that sampling itself
  // does not add to the heap it measures.
  const capacity = 2 * opts.samples + 1
  const at = new Float64Array(capacity)
  const series = {
    heapUsed: new Float64Array(capacity),
    external: new Float64Array(capacity),
    arrayBuffers: new Float64Array(capacity),
    rss: new Float64Array(capacity),
    code: new Float64Array(capacity)
  }
  async function sample(k, iteration) {
    // Let close callbacks and pending I/O of the last calls run, so that what
    // the calls released is garbage by the time the collector runs.
    if (sawPromise) await nextTurn()
    // One full collection per sample: a second one in the same turn frees
    // next to nothing more (weak callbacks run in a later task), doubles the
    // time to verdict, and a spike that survives is removed by the floor.
    fullGc()
    const h = v8.getHeapStatistics()
    const c = v8.getHeapCodeStatistics()
    const code = c.code_and_metadata_size + c.bytecode_and_metadata_size
    at[k] = iteration
    // Optimised code, deopt data and bytecode live in the same heap; a
    // function tiering up mid-run adds 10-100 KB that is not data the
    // iterations keep. heapUsed here is the data part (~0.8 ms per read).
    series.heapUsed[k] = h.used_heap_size - code
    series.code[k] = code
    series.external[k] = h.external_memory
    series.arrayBuffers[k] = process.memoryUsage().arrayBuffers
    series.rss[k] = readRss()
  }

  const started = performance.now()
  await runRange(0, opts.warmup)
  measuring = true
  const base = opts.warmup
  // The first snapshot is written before the baseline sample, so whatever
  // writing it leaves in the heap is in every sample and not a step.
  const snapshots = opts.countObjects ? snapshotDir() : null
  if (snapshots) snapshots.files.push(writeSnapshot(snapshots.dir, 'before'))
  await sample(0, 0)
  const runSegment = async (first, last) => {
    for (let s = first; s <= last; s++) {
      const from = base + Math.round(((s - 1) * opts.iterations) / opts.samples)
      const to = base + Math.round((s * opts.iterations) / opts.samples)
      await runRange(from, to)
      await sample(s, to - base)
    }
  }
  await runSegment(1, opts.samples)
  let assessed = assessAll(points)
  // A checked metric that grew over the run is confirmed by a second run as
  // long as the first: a leak keeps growing through it, while a warm-up that
  // ended late in the first run (or a JIT creep) flattens out. The verdict is
  // taken on both runs together, with the second as the "recent" half; only
  // memory that grows costs the extra time.
  const grew = opts.failOn.some((m) => {
    const a = assessed[m]
    return (
      a.overall.pValue < opts.alpha &&
      a.overall.slope >= opts.minBytesPerIteration &&
      a.overall.slope > 0 &&
      a.overall.growth >= opts.minGrowthBytes
    )
  })
  if (grew) {
    await runSegment(points, capacity - 1)
    assessed = assessAll(capacity)
  }
  const used = grew ? capacity : points
  const iterations = grew ? 2 * opts.iterations : opts.iterations
  measuring = false
  const durationMs = performance.now() - started
  let objects = null
  if (snapshots) {
    snapshots.files.push(writeSnapshot(snapshots.dir, 'after'))
    try {
      objects = await objectsAddedPerIteration(snapshots.files, iterations)
    } finally {
      fs.rmSync(snapshots.dir, { recursive: true, force: true })
    }
  }

  function assessAll(n) {
    const xs = Array.from(at.subarray(0, n))
    const trendOptions = {
      alpha: opts.alpha,
      minSlope: opts.minBytesPerIteration,
      minGrowth: opts.minGrowthBytes,
      // Minimum of each pair of samples: a spike that survives a forced GC
      // (seen at 0.2-0.45 MB) is one high sample and never both of a pair.
      floorBlocks: Math.floor(n / 2),
      recentFraction: 0.5
    }
    const out = {}
    for (const m of METRICS) out[m] = assessTrend(xs, Array.from(series[m].subarray(0, n)), trendOptions)
    return out
  }

  const metrics = {}
  for (const m of METRICS) {
    const a = assessed[m]
    metrics[m] = {
      bytesPerIteration: a.overall.slope,
      pValue: a.overall.pValue,
      growthBytes: a.overall.growth,
      netBytes: series[m][used - 1] - series[m][0],
      recentBytesPerIteration: a.recent ? a.recent.slope : null,
      growing: a.growing,
      failed: a.growing && opts.failOn.includes(m),
      reason: a.reason
    }
  }

  const leftOpen = [...leftOpenGroups.values()]
    .map((g) => ({ ...g, perIteration: g.count / iterations }))
    .sort((a, b) => b.count - a.count)
  const leftOpenFailed = leftOpen.filter((g) => g.perIteration >= opts.leftOpenRatio)

  const failed = METRICS.filter((m) => metrics[m].failed)
  if (leftOpenFailed.length > 0) failed.push('leftOpen')
  const slice = (a) => Array.from(a.subarray(0, used))
  const report = {
    iterations,
    warmup: opts.warmup,
    confirmed: grew,
    durationMs,
    metrics,
    leftOpen,
    objects,
    samples: {
      iteration: slice(at),
      heapUsed: slice(series.heapUsed),
      external: slice(series.external),
      arrayBuffers: slice(series.arrayBuffers),
      rss: slice(series.rss),
      code: slice(series.code)
    },
    verdict: { bounded: failed.length === 0, failed, message: '' },
    options: opts
  }
  report.verdict.message = describeReport(report, leftOpenFailed)
  return report
}

/**
 * A private directory for the two snapshots of `countObjects` (mode 0700,
 * created fresh by mkdtemp): heap snapshots hold every string of the process,
 * so they must not land at a guessable name in a shared tmpdir.
 */
function snapshotDir() {
  return { dir: fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-growth-')), files: [] }
}

function writeSnapshot(dir, name) {
  return v8.writeHeapSnapshot(path.join(dir, `${name}.heapsnapshot`))
}

/**
 * Program types whose instance count grew by at least half an object per
 * iteration between the two snapshots, by the native diff (off the main
 * thread), largest retained growth first.
 */
async function objectsAddedPerIteration([before, after], iterations) {
  const { diffHeapSnapshots } = require('../snapshot/snapshot')
  const diff = await diffHeapSnapshots(before, after, { jobsBetween: iterations, top: 20 })
  return diff.suspects
    .filter((d) => d.perJob >= 0.5)
    .map((d) => ({
      name: d.name,
      countDelta: d.countDelta,
      perIteration: d.perJob,
      sizeDelta: d.selfSizeDelta,
      retainedSizeDelta: d.retainedSizeDelta,
      retainerPath: d.retainerPath
    }))
}

function formatCount(n) {
  return Number.isInteger(n) ? String(n) : n.toFixed(2)
}

/**
 * The one sentence of a report: e.g. `heapUsed grew 1.02 KB per iteration
 * over 2000 iterations (p<0.001, Theil–Sen slope; 33 post-GC samples);
 * external flat. Each iteration left open: 1 Timeout (created at x.js:7:3)`.
 */
function describeReport(report, leftOpenFailed) {
  const { metrics, iterations } = report
  const n = report.samples.iteration.length
  const parts = []
  // Largest first: for a Buffer leak, external leads and heapUsed (the JS
  // wrappers) follows.
  const failedMetrics = METRICS.filter((m) => metrics[m].failed).sort(
    (a, b) => metrics[b].bytesPerIteration - metrics[a].bytesPerIteration
  )
  for (const m of failedMetrics) {
    const g = metrics[m]
    parts.push(
      `${m} grew ${formatBytes(g.bytesPerIteration)} per iteration over ${iterations} iterations ` +
        `(${formatP(g.pValue)}, Theil–Sen slope; ${n} post-GC samples` +
        `${report.confirmed ? `; still growing over the last ${iterations / 2}` : ''})`
    )
  }
  const others = METRICS.filter((m) => !metrics[m].failed).map((m) => {
    const g = metrics[m]
    if (g.growing) return `${m} grew ${formatBytes(g.bytesPerIteration)} per iteration (not checked)`
    return `${m} flat`
  })
  let text
  if (failedMetrics.length > 0) {
    text = `${parts.join('; ')}; ${others.join(', ')}.`
  } else {
    const h = metrics.heapUsed
    text =
      `Memory bounded over ${iterations} iterations: heapUsed ${formatBytes(h.bytesPerIteration)} per iteration ` +
      `(${formatP(h.pValue)}; ${n} post-GC samples); ${others.filter((o) => !o.startsWith('heapUsed')).join(', ')}.`
  }
  if (report.objects && report.objects.length > 0 && !report.verdict.bounded) {
    const list = report.objects
      .slice(0, 5)
      .map(
        (o) =>
          `${formatCount(Math.round(o.perIteration * 100) / 100)} ${o.name} (${formatBytes(o.sizeDelta / iterations)})`
      )
    text += ` Heap objects added per iteration: ${list.join(', ')}.`
  }
  if (leftOpenFailed.length > 0) {
    const list = leftOpenFailed.map(
      (g) =>
        `${formatCount(Math.round(g.perIteration * 100) / 100)} ${g.type}${g.kind && g.kind.toLowerCase() !== String(g.type).toLowerCase() ? ` ${g.kind}` : ''} (${describeSite(g, 'created at ', 'created at site unknown')})`
    )
    text += ` Each iteration left open: ${list.join(', ')}.`
  }
  return text
}

/**
 * Like `measureGrowth`, but rejects with an `AssertionError` (node:assert)
 * when a checked metric grows or iterations leave resources open; resolves
 * with the report otherwise. `err.report` holds the full report.
 */
async function assertMemoryBounded(fn, options) {
  const report = await measureGrowth(fn, options)
  if (report.verdict.bounded) return report
  const actual = {}
  const expected = {}
  for (const m of report.verdict.failed) {
    if (m === 'leftOpen') {
      actual.leftOpenPerIteration = report.leftOpen
        .filter((g) => g.perIteration >= report.options.leftOpenRatio)
        .reduce((sum, g) => sum + g.perIteration, 0)
      expected.leftOpenPerIteration = 0
    } else {
      actual[`${m}BytesPerIteration`] = Math.round(report.metrics[m].bytesPerIteration * 10) / 10
      expected[`${m}BytesPerIteration`] = 0
    }
  }
  const err = new AssertionError({
    message: report.verdict.message,
    actual,
    expected,
    operator: 'assertMemoryBounded'
  })
  err.report = report
  // Keeps the caller's frame on top rather than leakguard's internals.
  if (Error.captureStackTrace) Error.captureStackTrace(err, assertMemoryBounded)
  throw err
}

module.exports = { measureGrowth, assertMemoryBounded }
