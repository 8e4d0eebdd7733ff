// leakguard/prometheus: a real HTTP scrape of prom-client's registry output;
// without prom-client installed, the main package still loads and the
// subpath fails with a coded error naming the package.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { EventEmitter } from 'node:events'
import dc from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import client from 'prom-client'
import { registerMetrics } from 'leakguard/prometheus'
import { guard, monitor, BoundedCache, codes } from 'leakguard'
import {
  installWithoutPeers,
  runIsolated,
  rmSync,
  parsePrometheus,
  sampleOf,
  leakUntilWarning,
  root
} from './fleet-util.mjs'

const require = createRequire(import.meta.url)

function serve(registry) {
  const server = http.createServer(async (req, res) => {
    res.setHeader('Content-Type', registry.contentType)
    res.end(await registry.metrics())
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

function scrape(server) {
  const { port } = server.address()
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d) => {
          body += d
        })
        res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }))
      })
      .on('error', reject)
  })
}

test('ESM and CommonJS subpaths are the same module', () => {
  assert.equal(registerMetrics, require('leakguard/prometheus').registerMetrics)
})

test('a real HTTP scrape shows memory, job, left-open and cache metrics with sane values', async () => {
  const registry = new client.Registry()
  const cache = new BoundedCache({ max: 100, name: 'fleet-prom-users' })
  const metrics = registerMetrics({ registry, caches: [cache] })
  const server = await serve(registry)
  try {
    const bus = new EventEmitter()
    bus.setMaxListeners(0)
    const leaky = guard(
      async (job) => {
        bus.on('tick', () => job)
        if (cache.get(`u${job.i % 10}`) === undefined) cache.set(`u${job.i % 10}`, { id: job.i })
      },
      { name: 'prom-leaky', autoTrack: 'dispose', onLeftOpen: 'ignore' }
    )
    const tidy = guard(async () => {}, { name: 'prom-tidy' })
    for (let i = 0; i < 50; i++) await leaky({ i })
    for (let i = 0; i < 7; i++) await tidy()

    const res = await scrape(server)
    assert.equal(res.status, 200)
    assert.match(res.type, /^text\/plain; version=0\.0\.4/)
    const s = parsePrometheus(res.body)
    const ref = process.memoryUsage()
    const rss = sampleOf(s, 'leakguard_memory_bytes', { type: 'rss' })
    assert.ok(Math.abs(rss - ref.rss) / ref.rss < 0.1, `rss ${rss} vs ${ref.rss}`)
    const heapUsed = sampleOf(s, 'leakguard_memory_bytes', { type: 'heapUsed' })
    assert.ok(heapUsed > 0 && heapUsed <= sampleOf(s, 'leakguard_memory_bytes', { type: 'heapTotal' }))
    assert.ok(sampleOf(s, 'leakguard_memory_bytes', { type: 'external' }) > 0)
    assert.equal(sampleOf(s, 'leakguard_jobs_total', { job_name: 'prom-leaky' }), 50)
    assert.equal(sampleOf(s, 'leakguard_jobs_total', { job_name: 'prom-tidy' }), 7)
    assert.equal(sampleOf(s, 'leakguard_left_open_total', { job_name: 'prom-leaky', kind: 'listener' }), 50)
    assert.equal(s.filter((x) => x.name === 'leakguard_left_open_total' && x.labels.job_name === 'prom-tidy').length, 0)
    // 10 distinct keys: 10 misses then sets, 40 hits.
    assert.equal(sampleOf(s, 'leakguard_cache_hits_total', { cache: 'fleet-prom-users' }), 40)
    assert.equal(sampleOf(s, 'leakguard_cache_misses_total', { cache: 'fleet-prom-users' }), 10)
    assert.equal(sampleOf(s, 'leakguard_cache_sets_total', { cache: 'fleet-prom-users' }), 10)
    assert.equal(sampleOf(s, 'leakguard_cache_entries', { cache: 'fleet-prom-users' }), 10)
    assert.equal(sampleOf(s, 'leakguard_cache_size_bytes', { cache: 'fleet-prom-users' }), cache.calculatedSize)

    // Collected on scrape: the next scrape sees the next figures.
    cache.get('u1')
    await tidy()
    const s2 = parsePrometheus((await scrape(server)).body)
    assert.equal(sampleOf(s2, 'leakguard_cache_hits_total', { cache: 'fleet-prom-users' }), 41)
    assert.equal(sampleOf(s2, 'leakguard_jobs_total', { job_name: 'prom-tidy' }), 8)
  } finally {
    server.close()
    metrics.unregister()
    cache.clear()
  }
  assert.equal(await registry.metrics(), '\n', 'unregister() removed every metric')
  assert.equal(dc.channel('leakguard:job:end').hasSubscribers, false, 'and unsubscribed')
})

test('warnings and limits published by the monitor are counted per metric', async () => {
  const registry = new client.Registry()
  const metrics = registerMetrics({ registry, prefix: 'w_' })
  try {
    dc.channel('leakguard:warning').publish({ metric: 'heapUsed', message: 'heapUsed grows' })
    dc.channel('leakguard:warning').publish({ metric: 'heapUsed', message: 'heapUsed grows' })
    dc.channel('leakguard:limit').publish({ metric: 'rss' })
    const s = parsePrometheus(await registry.metrics())
    assert.equal(sampleOf(s, 'w_warnings_total', { metric: 'heapUsed' }), 2)
    assert.equal(sampleOf(s, 'w_limits_total', { metric: 'rss' }), 1)
    assert.ok(metrics.metricNames.every((n) => n.startsWith('w_')))
  } finally {
    metrics.unregister()
  }
})

test('the monitor publishes samples and warnings on diagnostics channels only when subscribed; the exporter shows its trend', {
  timeout: 90_000
}, async () => {
  const sampleCh = dc.channel('leakguard:sample')
  const warningCh = dc.channel('leakguard:warning')
  // Count publications on the real channel objects: with no subscriber the
  // monitor must not even build the messages, let alone publish them.
  const published = { sample: 0, warning: 0 }
  // (Node swaps a channel's prototype when it gains subscribers: call the current one.)
  sampleCh.publish = function (msg) {
    published.sample++
    return Object.getPrototypeOf(this).publish.call(this, msg)
  }
  warningCh.publish = function (msg) {
    published.warning++
    return Object.getPrototypeOf(this).publish.call(this, msg)
  }
  const fast = { intervalMs: 10, checkEveryMs: 20, fullGcEveryMs: 20, windowMs: 4000, emitWarning: false }
  // biome-ignore lint/correctness/noUnusedVariables: holds the leaked jobs' memory until the test drops it
  let retained = []
  try {
    // 1. Nobody subscribed: a monitor that runs and warns publishes nothing.
    const quiet = monitor(fast)
    retained = await leakUntilWarning(quiet, guard, { name: 'quiet-leak' })
    const quietTrend = quiet.trend()
    quiet.stop()
    assert.equal(quietTrend.warnings.length, 1, 'the leak was found')
    assert.deepEqual(published, { sample: 0, warning: 0 })
    retained = []

    // 2. Subscribed: samples and the warning arrive; the exporter reads the monitor.
    const samples = []
    const warnings = []
    const onSample = (s) => samples.push(s)
    const onWarning = (w) => warnings.push(w)
    sampleCh.subscribe(onSample)
    warningCh.subscribe(onWarning)
    const m = monitor(fast)
    const registry = new client.Registry()
    const metrics = registerMetrics({ registry, monitor: m })
    try {
      retained = await leakUntilWarning(m, guard, { name: 'loud-leak' })
      await new Promise((resolve) => setTimeout(resolve, 30)) // one more check: samples are published per check
      assert.ok(
        published.sample > 0 && samples.length === published.sample,
        JSON.stringify({ published, samples: samples.length })
      )
      assert.ok(
        samples.some((x) => x.source === 'rss' && x.rss > 0),
        'RSS samples'
      )
      assert.ok(
        samples.some((x) => x.source === 'gc' && x.heapUsed > 0),
        'post-GC heap samples'
      )
      assert.equal(warnings.length, 1)
      assert.equal(published.warning, 1)
      assert.equal(warnings[0].metric, 'heapUsed')

      const s = parsePrometheus(await registry.metrics())
      assert.equal(sampleOf(s, 'leakguard_warnings_total', { metric: 'heapUsed' }), 1)
      assert.equal(sampleOf(s, 'leakguard_trend_growing', { metric: 'heapUsed' }), 1)
      const perJob = sampleOf(s, 'leakguard_trend_slope_bytes_per_job', { metric: 'heapUsed' })
      assert.ok(perJob > 4096 && perJob < 16384, `~8 KB retained per job, exporter says ${perJob} B/job`)
      assert.ok(sampleOf(s, 'leakguard_trend_slope_bytes_per_second', { metric: 'heapUsed' }) > 0)
      assert.ok(sampleOf(s, 'leakguard_jobs_total', { job_name: 'loud-leak' }) >= m.trend().heapUsed.jobs)
    } finally {
      metrics.unregister()
      m.stop()
      sampleCh.unsubscribe(onSample)
      warningCh.unsubscribe(onWarning)
    }
  } finally {
    delete sampleCh.publish
    delete warningCh.publish
    retained = null
  }
})

test('job labels are capped so that per-id job names cannot explode the series', async () => {
  const registry = new client.Registry()
  const metrics = registerMetrics({ registry })
  try {
    for (let i = 0; i < 250; i++) await guard(async () => {}, { name: `job-${i}` })()
    const s = parsePrometheus(await registry.metrics()).filter((x) => x.name === 'leakguard_jobs_total')
    assert.equal(s.length, 201)
    assert.equal(sampleOf(s, 'leakguard_jobs_total', { job_name: '_other' }), 50)
  } finally {
    metrics.unregister()
  }
})

test('registerMetrics validates its options', () => {
  assert.throws(() => registerMetrics({ registry: {} }), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: 'options.registry must be a prom-client Registry (received {})'
  })
  assert.throws(() => registerMetrics({ prefix: '9x' }), {
    name: 'RangeError',
    code: codes.INVALID_OPTION,
    message: /^options\.prefix must be a Prometheus metric name prefix/
  })
  assert.throws(() => registerMetrics({ caches: [{}] }), {
    name: 'TypeError',
    message: /^options\.caches\[0\] must be a BoundedCache/
  })
  assert.throws(() => registerMetrics({ monitor: {} }), {
    name: 'TypeError',
    message: /^options\.monitor must be a monitor\(\) instance/
  })
  assert.throws(() => registerMetrics({ registy: 1 }), {
    name: 'TypeError',
    message: /^options\.registy is not a known option/
  })
})

test('without prom-client installed: require("leakguard") works, the subpath names the missing package', () => {
  const dir = installWithoutPeers()
  try {
    const ok = runIsolated(dir, ['-e', "const l = require('leakguard'); console.log(typeof l.guard, typeof l.recycle)"])
    assert.equal(ok.status, 0, ok.stderr)
    assert.equal(ok.stdout.trim(), 'function function')
    const cjs = runIsolated(dir, [
      '-e',
      `
      try { require('leakguard/prometheus') } catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, cause: e.cause && e.cause.code })) }`
    ])
    assert.equal(cjs.status, 0, cjs.stderr)
    assert.deepEqual(JSON.parse(cjs.stdout), {
      name: 'Error',
      code: 'ERR_LEAKGUARD_MISSING_PEER',
      message:
        "leakguard/prometheus needs the optional peer dependency 'prom-client', which is not installed: run `npm install prom-client`",
      cause: 'MODULE_NOT_FOUND'
    })
    const esm = runIsolated(dir, [
      '--input-type=module',
      '-e',
      "import('leakguard/prometheus').catch((e) => console.log(e.code))"
    ])
    assert.equal(esm.stdout.trim(), 'ERR_LEAKGUARD_MISSING_PEER', esm.stderr)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('examples/prometheus/alerts.yml only uses metrics and labels that registerMetrics exports', () => {
  const rules = readFileSync(path.join(root, 'examples/prometheus/alerts.yml'), 'utf8')
  const used = new Set(rules.match(/leakguard_[a-z_]+/g))
  assert.ok(used.size >= 8, [...used].join(' '))
  const registry = new client.Registry()
  const fakeMonitor = { trend: () => ({}), on() {}, off() {} }
  const metrics = registerMetrics({
    registry,
    monitor: fakeMonitor,
    caches: [new BoundedCache({ max: 1, name: 'fleet-alerts' })]
  })
  try {
    for (const name of used)
      assert.ok(metrics.metricNames.includes(name), `alerts.yml uses ${name}, which is not exported`)
    const labels = new Set(registry.getMetricsAsArray().flatMap((m) => m.labelNames))
    for (const [, list] of rules.matchAll(/by \(([a-z_, ]+)\)/g)) {
      for (const label of list.split(',').map((x) => x.trim())) {
        if (label !== 'instance') assert.ok(labels.has(label), `alerts.yml groups by ${label}, which no metric has`)
      }
    }
  } finally {
    metrics.unregister()
  }
})
