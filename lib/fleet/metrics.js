'use strict'
// What the Prometheus and OpenTelemetry exporters report, gathered once: the
// exporters only map these figures onto their instruments. Event counts come
// from the diagnostics channels (job ends, warnings, limits), figures that are
// cheap to read now (memory, trend, cache stats) are read at collection time.

const channels = require('../common/channels')
const { processMemory } = require('../common/memory')
const { invalidOptionValue } = require('../common/errors')
const { readOptions, checkObject, checkString, checkMethods } = require('../common/options')

// Label values come from job names and warning metrics: bounded so that a
// caller who names jobs by id cannot blow up the metric store.
const MAX_LABEL_VALUES = 200
const OTHER = '_other'

const MEMORY_KINDS = ['rss', 'heapTotal', 'heapUsed', 'external']
const CACHE_COUNTERS = ['hits', 'misses', 'sets', 'evictions', 'expirations']

class BoundedLabels {
  #seen = new Set()
  label(value) {
    const v = typeof value === 'string' && value.length > 0 ? value : 'anonymous'
    if (this.#seen.has(v)) return v
    if (this.#seen.size >= MAX_LABEL_VALUES) return OTHER
    this.#seen.add(v)
    return v
  }
}

function checkMonitor(name, monitor) {
  return checkMethods(name, monitor, ['trend', 'on'], 'a monitor() instance (an object with a trend() method)')
}

/** Caches as `[[label, cache]]`, from an array (labelled by their `name`) or a `{ label: cache }` object. */
function checkCaches(name, caches) {
  if (caches === undefined) return []
  const entries = Array.isArray(caches)
    ? // Array.from visits the holes of a sparse array too (map skips them), so a hole is a coded error.
      Array.from(caches, (c, i) => [
        c && typeof c.name === 'string' && c.name ? c.name : `cache${i}`,
        c,
        `${name}[${i}]`
      ])
    : Object.entries(checkObject(name, caches)).map(([k, c]) => [k, c, `${name}.${k}`])
  const labels = new Set()
  for (const [label, cache, where] of entries) {
    checkMethods(where, cache, ['stats'], 'a BoundedCache (an object with a stats() method)', { optional: false })
    if (labels.has(label))
      throw invalidOptionValue(name, `caches with distinct names (two are labelled '${label}')`, caches)
    labels.add(label)
  }
  return entries.map(([label, cache]) => [label, cache])
}

function checkPrefix(name, prefix, fallback, pattern, what) {
  if (prefix === undefined) return fallback
  checkString(name, prefix, { nonEmpty: false })
  if (!pattern.test(prefix)) throw invalidOptionValue(name, what, prefix)
  return prefix
}

/**
 * Validates the options shared by both exporters.
 * @param {object} options
 * @param {string[]} extraKeys the exporter's own option names
 */
function resolveExporterOptions(options, extraKeys) {
  const opts = readOptions('options', options, ['prefix', 'monitor', 'caches', ...extraKeys])
  return {
    opts,
    monitor: checkMonitor('options.monitor', opts.monitor),
    caches: checkCaches('options.caches', opts.caches)
  }
}

/**
 * Subscribes to the job/warning/limit channels and calls the exporter's
 * handlers with bounded labels. `close()` unsubscribes.
 * @param {{ job?: Function, leftOpen?: Function, disposed?: Function, cleanupError?: Function,
 *   warning?: Function, limit?: Function }} on
 */
function subscribeEvents(on) {
  const jobs = new BoundedLabels()
  const metrics = new BoundedLabels()
  const onJobEnd = (report) => {
    if (!report || typeof report !== 'object') return
    const job = jobs.label(report.name)
    if (on.job) on.job(job)
    if (on.leftOpen && Array.isArray(report.leftOpen)) {
      // One increment per kind, not per item, keeps the hot path to a few calls.
      const byKind = new Map()
      for (const item of report.leftOpen) {
        const kind = item?.kind || 'unknown'
        byKind.set(kind, (byKind.get(kind) || 0) + 1)
      }
      for (const [kind, n] of byKind) on.leftOpen(job, kind, n)
    }
    if (on.disposed && report.disposed && typeof report.disposed === 'object') {
      for (const [kind, n] of Object.entries(report.disposed)) {
        if (typeof n === 'number' && n > 0) on.disposed(job, kind, n)
      }
    }
    const errs = report.errors
    const nErr = Array.isArray(errs) ? errs.length : errs ? 1 : 0
    if (on.cleanupError && nErr > 0) on.cleanupError(job, nErr)
  }
  const onWarning = (w) => {
    if (on.warning) on.warning(metrics.label(w?.metric))
  }
  const onLimit = (e) => {
    if (on.limit) on.limit(metrics.label(e?.metric))
  }
  channels.jobEnd.subscribe(onJobEnd)
  // Every monitor of this thread publishes its warnings and limits here, and
  // the host's worker-warning receiver (which a main-thread monitor opens)
  // publishes those of worker threads once each: one subscription counts all.
  channels.warning.subscribe(onWarning)
  channels.limit.subscribe(onLimit)
  let closed = false
  return {
    close() {
      if (closed) return
      closed = true
      channels.jobEnd.unsubscribe(onJobEnd)
      channels.warning.unsubscribe(onWarning)
      channels.limit.unsubscribe(onLimit)
    }
  }
}

/** `[[kind, bytes]]` for the memory gauges, read now (~2 µs). */
function memoryFigures() {
  const m = processMemory()
  return MEMORY_KINDS.map((k) => [k, m[k]])
}

const TREND_METRICS = ['heapUsed', 'external', 'arrayBuffers', 'rss']

/** The monitor's current trend per metric: `[{ metric, slopePerSecond, slopePerJob, growing }]`. */
function trendFigures(monitor) {
  if (!monitor) return []
  let t
  try {
    t = monitor.trend()
  } catch {
    return [] // the scrape must succeed whatever state the monitor is in
  }
  const out = []
  for (const metric of TREND_METRICS) {
    const fit = t?.[metric]
    if (!fit || typeof fit.slopeBytesPerSec !== 'number') continue // too few samples yet
    out.push({
      metric,
      slopePerSecond: fit.slopeBytesPerSec,
      slopePerJob: typeof fit.bytesPerJob === 'number' ? fit.bytesPerJob : undefined,
      growing: fit.growing === true
    })
  }
  return out
}

/** `[{ cache, stats }]` read now from each cache's stats(). */
function cacheFigures(caches) {
  const out = []
  for (const [label, cache] of caches) {
    let stats
    try {
      stats = cache.stats()
    } catch {
      continue // a closed cache drops out of the scrape instead of failing it
    }
    if (stats && typeof stats === 'object') out.push({ cache: label, stats })
  }
  return out
}

module.exports = {
  MEMORY_KINDS,
  CACHE_COUNTERS,
  resolveExporterOptions,
  checkPrefix,
  subscribeEvents,
  memoryFigures,
  trendFigures,
  cacheFigures
}
