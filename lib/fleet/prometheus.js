'use strict'
// leakguard/prometheus: leakguard's figures as prom-client metrics, so that a
// fleet of workers is watched and alerted on in Prometheus (see
// examples/prometheus/alerts.yml). prom-client is an optional peer dependency:
// it is loaded from the user's install, and only by this subpath.

const { requirePeer } = require('../common/peer')
const client = requirePeer('prom-client', 'leakguard/prometheus')
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

function checkRegistry(registry) {
  if (registry === undefined) return client.register
  return checkMethods('options.registry', registry, ['registerMetric', 'removeSingleMetric'], 'a prom-client Registry')
}

/**
 * Registers leakguard's metrics on a prom-client registry.
 * @param {{ registry?: import('prom-client').Registry, prefix?: string, monitor?: object,
 *   caches?: object[] | Record<string, object> }} [options]
 * @returns {{ registry: import('prom-client').Registry, metricNames: string[], unregister(): void }}
 */
function registerMetrics(options) {
  const { opts, monitor, caches } = resolveExporterOptions(options, ['registry'])
  const registry = checkRegistry(opts.registry)
  const p = checkPrefix(
    'options.prefix',
    opts.prefix,
    'leakguard_',
    /^[a-zA-Z_:][a-zA-Z0-9_:]*$|^$/,
    'a Prometheus metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)'
  )

  const created = []
  const make = (Type, config) => {
    const m = new Type({ ...config, name: p + config.name, registers: [registry] })
    created.push(m)
    return m
  }

  make(client.Gauge, {
    name: 'memory_bytes',
    help: 'Process memory read at scrape time: rss (native), heapTotal, heapUsed, external (V8 heap statistics).',
    labelNames: ['type'],
    collect() {
      for (const [type, bytes] of memoryFigures()) this.set({ type }, bytes)
    }
  })

  if (monitor) {
    make(client.Gauge, {
      name: 'trend_slope_bytes_per_second',
      help: "Robust (Theil-Sen) slope of the monitor's post-GC memory floor, per metric.",
      labelNames: ['metric'],
      collect() {
        this.reset()
        for (const t of trendFigures(monitor)) {
          if (t.slopePerSecond !== undefined) this.set({ metric: t.metric }, t.slopePerSecond)
        }
      }
    })
    make(client.Gauge, {
      name: 'trend_slope_bytes_per_job',
      help: 'Slope of the post-GC memory floor per finished guarded job, per metric.',
      labelNames: ['metric'],
      collect() {
        this.reset()
        for (const t of trendFigures(monitor)) {
          if (t.slopePerJob !== undefined) this.set({ metric: t.metric }, t.slopePerJob)
        }
      }
    })
    make(client.Gauge, {
      name: 'trend_growing',
      help: '1 when the monitor finds the metric growing with significance (a leak verdict), else 0.',
      labelNames: ['metric'],
      collect() {
        this.reset()
        for (const t of trendFigures(monitor)) this.set({ metric: t.metric }, t.growing ? 1 : 0)
      }
    })
  }

  const warnings = make(client.Counter, {
    name: 'warnings_total',
    help: 'Memory trend warnings raised by leakguard monitors, per metric.',
    labelNames: ['metric']
  })
  const limits = make(client.Counter, {
    name: 'limits_total',
    help: 'Absolute memory limits crossed, per metric.',
    labelNames: ['metric']
  })
  const jobs = make(client.Counter, {
    name: 'jobs_total',
    help: 'Jobs finished through guard()/withScope(), per job name.',
    labelNames: ['job_name']
  })
  const leftOpen = make(client.Counter, {
    name: 'left_open_total',
    help: 'Timers, listeners and handles a job left open when its scope closed, per job name and kind.',
    labelNames: ['job_name', 'kind']
  })
  const disposed = make(client.Counter, {
    name: 'disposed_total',
    help: 'Resources the job scopes disposed, per job name and kind.',
    labelNames: ['job_name', 'kind']
  })
  const cleanupErrors = make(client.Counter, {
    name: 'cleanup_errors_total',
    help: 'Errors thrown by job-scope disposers, per job name.',
    labelNames: ['job_name']
  })

  if (caches.length > 0) {
    for (const stat of CACHE_COUNTERS) {
      make(client.Counter, {
        name: `cache_${stat}_total`,
        help: `BoundedCache ${stat}, per cache (read from stats() at scrape time).`,
        labelNames: ['cache'],
        collect() {
          this.reset()
          for (const { cache, stats } of cacheFigures(caches)) {
            if (typeof stats[stat] === 'number') this.inc({ cache }, stats[stat])
          }
        }
      })
    }
    make(client.Gauge, {
      name: 'cache_entries',
      help: 'Entries held by a BoundedCache.',
      labelNames: ['cache'],
      collect() {
        this.reset()
        for (const { cache, stats } of cacheFigures(caches)) this.set({ cache }, stats.size)
      }
    })
    make(client.Gauge, {
      name: 'cache_size_bytes',
      help: 'Bytes of keys and values held by a BoundedCache (off the V8 heap).',
      labelNames: ['cache'],
      collect() {
        this.reset()
        for (const { cache, stats } of cacheFigures(caches)) this.set({ cache }, stats.calculatedSize)
      }
    })
  }

  const events = subscribeEvents({
    job: (job) => jobs.inc({ job_name: job }),
    leftOpen: (job, kind, n) => leftOpen.inc({ job_name: job, kind }, n),
    disposed: (job, kind, n) => disposed.inc({ job_name: job, kind }, n),
    cleanupError: (job, n) => cleanupErrors.inc({ job_name: job }, n),
    warning: (metric) => warnings.inc({ metric }),
    limit: (metric) => limits.inc({ metric })
  })

  // The label is `job_name`, not `job`: Prometheus sets `job` on every
  // scraped series (the scrape job) and would rename ours to `exported_job`.
  const metricNames = created.map((m) => m.name)
  let registered = true
  return {
    registry,
    metricNames,
    /** Removes the metrics from the registry and stops listening. Idempotent. */
    unregister() {
      if (!registered) return
      registered = false
      events.close()
      for (const name of metricNames) registry.removeSingleMetric(name)
    }
  }
}

module.exports = { registerMetrics }
