// leakguard/otel: the SDK's MetricReader sees leakguard's instruments with
// sane values; without @opentelemetry/api the subpath fails with a coded error.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import dc from 'node:diagnostics_channel'
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  InMemoryMetricExporter,
  AggregationTemporality
} from '@opentelemetry/sdk-metrics'
import { registerMetrics } from 'leakguard/otel'
import { guard, monitor, BoundedCache, codes } from 'leakguard'
import { installWithoutPeers, runIsolated, rmSync, leakUntilWarning } from './fleet-util.mjs'

function sdk() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  // Exports only when asked (forceFlush/collect): no timer-driven flakiness.
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 2 ** 31 - 1 })
  const provider = new MeterProvider({ readers: [reader] })
  return { reader, exporter, provider, meter: provider.getMeter('fleet-test') }
}

/** { name: [{ attributes, value }] } from one collection. */
async function collect(reader) {
  const { resourceMetrics, errors } = await reader.collect()
  assert.deepEqual(errors, [])
  const out = {}
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics)
      out[m.descriptor.name] = {
        unit: m.descriptor.unit,
        points: m.dataPoints.map((d) => ({ attributes: d.attributes, value: d.value }))
      }
  }
  return out
}

function pointValue(metrics, name, attrs) {
  assert.ok(metrics[name], `instrument ${name} was not collected (have: ${Object.keys(metrics).join(', ')})`)
  const hits = metrics[name].points.filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
  assert.equal(hits.length, 1, `${name} ${JSON.stringify(attrs)}: ${JSON.stringify(metrics[name].points)}`)
  return hits[0].value
}

test('the SDK metric reader sees memory, jobs, left-open and cache instruments with sane values', async () => {
  const { reader, exporter, provider, meter } = sdk()
  const cache = new BoundedCache({ max: 100, name: 'fleet-otel-users' })
  const handle = registerMetrics({ meter, caches: { users: cache } })
  try {
    const bus = new EventEmitter()
    bus.setMaxListeners(0)
    const leaky = guard(
      async (i) => {
        bus.on('tick', () => i)
        cache.set(`k${i % 5}`, 'v'.repeat(10))
        cache.get(`k${(i + 1) % 5}`)
      },
      { name: 'otel-leaky', autoTrack: 'dispose', onLeftOpen: 'ignore' }
    )
    for (let i = 0; i < 30; i++) await leaky(i)

    const m = await collect(reader)
    const ref = process.memoryUsage()
    const rss = pointValue(m, 'leakguard.memory', { type: 'rss' })
    assert.equal(m['leakguard.memory'].unit, 'By')
    assert.ok(Math.abs(rss - ref.rss) / ref.rss < 0.1, `rss ${rss} vs ${ref.rss}`)
    assert.ok(
      pointValue(m, 'leakguard.memory', { type: 'heapUsed' }) <=
        pointValue(m, 'leakguard.memory', { type: 'heapTotal' })
    )
    assert.equal(pointValue(m, 'leakguard.jobs', { 'job.name': 'otel-leaky' }), 30)
    assert.equal(pointValue(m, 'leakguard.scope.left_open', { 'job.name': 'otel-leaky', kind: 'listener' }), 30)
    const stats = cache.stats()
    assert.equal(pointValue(m, 'leakguard.cache.sets', { cache: 'users' }), stats.sets)
    assert.equal(pointValue(m, 'leakguard.cache.hits', { cache: 'users' }), stats.hits)
    assert.equal(pointValue(m, 'leakguard.cache.misses', { cache: 'users' }), stats.misses)
    assert.equal(stats.sets, 30)
    assert.ok(stats.hits >= 25 && stats.hits + stats.misses === 30)
    assert.equal(pointValue(m, 'leakguard.cache.entries', { cache: 'users' }), 5)
    assert.equal(pointValue(m, 'leakguard.cache.size', { cache: 'users' }), cache.calculatedSize)

    // Through an exporter as well (what a real OTLP pipeline sees).
    await reader.forceFlush()
    const exported = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics.map((x) => x.descriptor.name)))
    assert.ok(exported.includes('leakguard.jobs') && exported.includes('leakguard.memory'))
  } finally {
    handle.unregister()
    cache.clear()
    await provider.shutdown()
  }
  assert.equal(dc.channel('leakguard:job:end').hasSubscribers, false, 'unregister() unsubscribed')
})

test('warnings and limits are counted; unregister stops observing', async () => {
  const { reader, provider, meter } = sdk()
  const handle = registerMetrics({ meter, prefix: 'app.lg.' })
  try {
    dc.channel('leakguard:warning').publish({ metric: 'rss', message: 'rss grows' })
    dc.channel('leakguard:limit').publish({ metric: 'heapUsed' })
    const m = await collect(reader)
    assert.equal(pointValue(m, 'app.lg.warnings', { metric: 'rss' }), 1)
    assert.equal(pointValue(m, 'app.lg.limits', { metric: 'heapUsed' }), 1)
    const rssBefore = pointValue(m, 'app.lg.memory', { type: 'rss' })
    handle.unregister()
    dc.channel('leakguard:warning').publish({ metric: 'rss', message: 'rss grows' })
    const ballast = Buffer.alloc(32 << 20, 1) // moves RSS: a callback still observing would see it
    const after = await collect(reader)
    assert.equal(pointValue(after, 'app.lg.warnings', { metric: 'rss' }), 1, 'no more counting after unregister()')
    // A cumulative reader repeats the last observation; a live callback would report the new RSS.
    assert.equal(
      pointValue(after, 'app.lg.memory', { type: 'rss' }),
      rssBefore,
      'no more observations after unregister()'
    )
    assert.ok(ballast.length > 0)
  } finally {
    handle.unregister()
    await provider.shutdown()
  }
})

test('with a monitor: the trend instruments show a real leak in bytes per job, and its warning is counted', {
  timeout: 90_000
}, async () => {
  const { reader, provider, meter } = sdk()
  const m = monitor({ intervalMs: 10, checkEveryMs: 20, fullGcEveryMs: 20, windowMs: 4000, emitWarning: false })
  const handle = registerMetrics({ meter, monitor: m })
  let retained
  try {
    retained = await leakUntilWarning(m, guard, { name: 'otel-leak' })
    const got = await collect(reader)
    assert.equal(pointValue(got, 'leakguard.warnings', { metric: 'heapUsed' }), 1)
    assert.equal(pointValue(got, 'leakguard.trend.growing', { metric: 'heapUsed' }), 1)
    const perJob = pointValue(got, 'leakguard.trend.slope_per_job', { metric: 'heapUsed' })
    assert.ok(perJob > 4096 && perJob < 16384, `~8 KB retained per job, instrument says ${perJob} B/job`)
    assert.equal(got['leakguard.trend.slope'].unit, 'By/s')
    assert.ok(pointValue(got, 'leakguard.trend.slope', { metric: 'heapUsed' }) > 0)
    assert.ok(retained.length > 0)
  } finally {
    handle.unregister()
    m.stop()
    retained = null
    await provider.shutdown()
  }
})

test('registerMetrics validates its options', () => {
  assert.throws(() => registerMetrics({ meter: {} }), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: 'options.meter must be an OpenTelemetry Meter (received {})'
  })
  assert.throws(() => registerMetrics({ prefix: '.x' }), {
    name: 'RangeError',
    message: /^options\.prefix must be an OpenTelemetry instrument name prefix/
  })
  assert.throws(() => registerMetrics({ caches: { a: null } }), {
    name: 'TypeError',
    message: /^options\.caches\.a must be a BoundedCache/
  })
})

test('without @opentelemetry/api installed: the main package loads, the subpath names the missing package', () => {
  const dir = installWithoutPeers()
  try {
    const r = runIsolated(dir, [
      '-e',
      `
      require('leakguard')
      try { require('leakguard/otel') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`
    ])
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), {
      code: 'ERR_LEAKGUARD_MISSING_PEER',
      message:
        "leakguard/otel needs the optional peer dependency '@opentelemetry/api', which is not installed: run `npm install @opentelemetry/api`"
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
