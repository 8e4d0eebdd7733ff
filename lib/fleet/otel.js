'use strict'
// leakguard/otel: leakguard's figures as OpenTelemetry metrics on a Meter from
// @opentelemetry/api (an optional peer dependency, loaded only by this
// subpath). Observable instruments are read when the SDK collects; event
// counts (jobs, left-open resources, warnings) are counters fed by the
// diagnostics channels.

const { requirePeer } = require('../common/peer')
const api = requirePeer('@opentelemetry/api', 'leakguard/otel')
const { checkMethods } = require('../common/options')
const {
  CACHE_COUNTERS,
  resolveExporterOptions,
  checkPrefix,
  subscribeEvents,
  memoryFigures,
  trendFigures,
  cacheFigures
} = require('./metrics')

function checkMeter(meter) {
  if (meter === undefined) return api.metrics.getMeter('leakguard', require('../../package.json').version)
  return checkMethods('options.meter', meter, ['createCounter', 'addBatchObservableCallback'], 'an OpenTelemetry Meter')
}

/**
 * Creates leakguard's instruments on an OpenTelemetry Meter (default: the
 * global MeterProvider's meter 'leakguard').
 * @param {{ meter?: import('@opentelemetry/api').Meter, prefix?: string, monitor?: object,
 *   caches?: object[] | Record<string, object> }} [options]
 * @returns {{ meter: import('@opentelemetry/api').Meter, unregister(): void }}
 */
function registerMetrics(options) {
  const { opts, monitor, caches } = resolveExporterOptions(options, ['meter'])
  const meter = checkMeter(opts.meter)
  const p = checkPrefix(
    'options.prefix',
    opts.prefix,
    'leakguard.',
    /^$|^[a-zA-Z][a-zA-Z0-9_.\-/]*$/,
    'an OpenTelemetry instrument name prefix ([a-zA-Z][a-zA-Z0-9_.-/]*)'
  )

  const memory = meter.createObservableGauge(`${p}memory`, {
    description: 'Process memory read at collection: rss (native), heapTotal, heapUsed, external.',
    unit: 'By'
  })
  const observables = [memory]
  let slopeSecond, slopeJob, growing
  if (monitor) {
    slopeSecond = meter.createObservableGauge(`${p}trend.slope`, {
      description: "Robust (Theil-Sen) slope of the monitor's post-GC memory floor, per metric.",
      unit: 'By/s'
    })
    slopeJob = meter.createObservableGauge(`${p}trend.slope_per_job`, {
      description: 'Slope of the post-GC memory floor per finished guarded job, per metric.',
      unit: 'By/{job}'
    })
    growing = meter.createObservableGauge(`${p}trend.growing`, {
      description: '1 when the monitor finds the metric growing with significance (a leak verdict), else 0.'
    })
    observables.push(slopeSecond, slopeJob, growing)
  }
  const cacheCounters = {}
  let cacheEntries, cacheBytes
  if (caches.length > 0) {
    for (const stat of CACHE_COUNTERS) {
      cacheCounters[stat] = meter.createObservableCounter(`${p}cache.${stat}`, {
        description: `BoundedCache ${stat}, per cache.`,
        unit: `{${stat === 'hits' || stat === 'misses' ? 'lookup' : 'entry'}}`
      })
      observables.push(cacheCounters[stat])
    }
    cacheEntries = meter.createObservableUpDownCounter(`${p}cache.entries`, {
      description: 'Entries held by a BoundedCache.',
      unit: '{entry}'
    })
    cacheBytes = meter.createObservableUpDownCounter(`${p}cache.size`, {
      description: 'Bytes of keys and values held by a BoundedCache (off the V8 heap).',
      unit: 'By'
    })
    observables.push(cacheEntries, cacheBytes)
  }

  const callback = (result) => {
    for (const [type, bytes] of memoryFigures()) result.observe(memory, bytes, { type })
    if (monitor) {
      for (const t of trendFigures(monitor)) {
        const attrs = { metric: t.metric }
        if (t.slopePerSecond !== undefined) result.observe(slopeSecond, t.slopePerSecond, attrs)
        if (t.slopePerJob !== undefined) result.observe(slopeJob, t.slopePerJob, attrs)
        result.observe(growing, t.growing ? 1 : 0, attrs)
      }
    }
    for (const { cache, stats } of cacheFigures(caches)) {
      const attrs = { cache }
      for (const stat of CACHE_COUNTERS) {
        if (typeof stats[stat] === 'number') result.observe(cacheCounters[stat], stats[stat], attrs)
      }
      result.observe(cacheEntries, stats.size, attrs)
      result.observe(cacheBytes, stats.calculatedSize, attrs)
    }
  }
  meter.addBatchObservableCallback(callback, observables)

  const warnings = meter.createCounter(`${p}warnings`, {
    description: 'Memory trend warnings raised by leakguard monitors, per metric.',
    unit: '{warning}'
  })
  const limits = meter.createCounter(`${p}limits`, {
    description: 'Absolute memory limits crossed, per metric.',
    unit: '{limit}'
  })
  const jobs = meter.createCounter(`${p}jobs`, {
    description: 'Jobs finished through guard()/withScope(), per job name.',
    unit: '{job}'
  })
  const leftOpen = meter.createCounter(`${p}scope.left_open`, {
    description: 'Timers, listeners and handles a job left open when its scope closed, per job name and kind.',
    unit: '{resource}'
  })
  const disposed = meter.createCounter(`${p}scope.disposed`, {
    description: 'Resources the job scopes disposed, per job name and kind.',
    unit: '{resource}'
  })
  const cleanupErrors = meter.createCounter(`${p}scope.cleanup_errors`, {
    description: 'Errors thrown by job-scope disposers, per job name.',
    unit: '{error}'
  })
  const events = subscribeEvents({
    job: (job) => jobs.add(1, { 'job.name': job }),
    leftOpen: (job, kind, n) => leftOpen.add(n, { 'job.name': job, kind }),
    disposed: (job, kind, n) => disposed.add(n, { 'job.name': job, kind }),
    cleanupError: (job, n) => cleanupErrors.add(n, { 'job.name': job }),
    warning: (metric) => warnings.add(1, { metric }),
    limit: (metric) => limits.add(1, { metric })
  })

  let registered = true
  return {
    meter,
    /** Stops observing and counting (OpenTelemetry has no way to delete an instrument). Idempotent. */
    unregister() {
      if (!registered) return
      registered = false
      events.close()
      meter.removeBatchObservableCallback(callback, observables)
    }
  }
}

module.exports = { registerMetrics }
