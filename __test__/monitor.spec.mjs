// The memory monitor on real workers: forked children and worker_threads run
// small jobs with and without leaks; the native sampling thread is counted
// through /proc/self/task.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import * as esm from 'leakguard'
import { runChild as runChildOf, runNode } from './monitor-util.mjs'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'

// The flag is on only while this context hands its `gc` over; leakguard's
// own forced GCs switch it off again, so later contexts would not get one.
v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc', undefined, {})
v8.setFlagsFromString('--no-expose-gc')

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))
const _root = path.resolve(here, '..')
const fixture = path.join(here, 'fixtures', 'monitor-jobs.js')
const { monitor, onWorkerWarning, codes } = require('../index.js')
const channels = require('../lib/common/channels.js')
const { samplerInfo } = require('../lib/monitor/monitor.js')

/** Runs the job fixture in a forked child; resolves with its result, IPC messages and stderr. */
const runChild = (opts) => runChildOf(fixture, opts, { timeoutMs: 90_000 })

function assertAssessedWithoutWarning(r) {
  assert.deepEqual(
    r.warnings.map((w) => w.message),
    [],
    `${r.scenario} warned`
  )
  // The verdict was actually reached on enough full-GC samples (else the test proves nothing).
  assert.ok(r.trend.heapUsed, `${r.scenario}: no heap assessment after ${r.jobs} jobs (${r.heapSamples} heap samples)`)
  assert.equal(r.trend.heapUsed.growing, false, r.trend.heapUsed.reason)
  assert.equal(r.trend.heapUsed.pending, false, `${r.scenario}: ${r.trend.heapUsed.reason}`)
}

test('a forked worker leaking ~1 KB per job gets a heap warning in bytes/job, delivered over IPC and emitWarning', async () => {
  const { result, messages, stderr } = await runChild({
    scenario: 'leak',
    countVia: 'channel',
    monitorOptions: { sendToParent: true, emitWarning: true }
  })
  const heap = result.warnings.filter((w) => w.metric === 'heapUsed')
  assert.equal(heap.length, 1, JSON.stringify(result.warnings))
  const w = heap[0]
  assert.ok(result.jobs < 20_000, `warned only after ${result.jobs} jobs`)
  assert.ok(w.bytesPerJob > 700 && w.bytesPerJob < 2000, `bytesPerJob ${w.bytesPerJob}`)
  assert.match(w.message, /^heapUsed grows 1\.\d+ KB\/job \(p[<=]0\.0\d+\)/)
  assert.ok(w.pValue < 0.01)
  assert.ok(w.slopeBytesPerSec > 0 && w.growthBytes > 1 << 20 && w.windowMs > 0)
  assert.equal(w.threadId, 0)
  assert.equal(w.code, 'LEAKGUARD_HEAP_GROWTH')
  // The parent got the same warning over IPC.
  const sent = messages.filter((m) => m.type === 'leakguard:warning')
  assert.equal(sent.length, 1)
  assert.deepEqual(sent[0].warning, w)
  // And process.emitWarning printed it with its type and code.
  assert.match(stderr, /\[LEAKGUARD_HEAP_GROWTH\] LeakGuardWarning: heapUsed grows/)
})

test('the same worker with the leak fixed gets no warning', async () => {
  const { result, messages } = await runChild({ scenario: 'fixed', jobs: 4000, monitorOptions: { sendToParent: true } })
  assertAssessedWithoutWarning(result)
  assert.ok(result.jobs >= 4000)
  assert.equal(messages.filter((m) => m.type === 'leakguard:warning').length, 0)
})

test('a Buffer leak is named as external/arrayBuffers memory, not heap', async () => {
  const { result } = await runChild({ scenario: 'buffer-leak' })
  const metrics = result.warnings.map((w) => w.metric)
  assert.ok(metrics.includes('external') || metrics.includes('arrayBuffers'), JSON.stringify(metrics))
  assert.ok(!metrics.includes('heapUsed'), JSON.stringify(result.warnings))
  const w = result.warnings[0]
  assert.ok(w.bytesPerJob > 900 && w.bytesPerJob < 1400, `bytesPerJob ${w.bytesPerJob}`)
  assert.match(w.message, /^(external memory|arrayBuffers) \(Buffers/)
})

test('no warning for a bounded cache filling up, a warm-up plateau, a garbage sawtooth, a large temporary per job', async () => {
  const results = []
  for (const [scenario, jobs] of [
    ['cache', 4000],
    ['warmup', 4000],
    ['sawtooth', 4000],
    ['bigtemp', 300]
  ]) {
    results.push((await runChild({ scenario, jobs })).result)
  }
  for (const r of results) assertAssessedWithoutWarning(r)
})

test('a monitor in a worker_thread delivers its warning to the main thread with the threadId, and on its leakguard:warning channel once', async () => {
  const received = []
  const stopReceiving = onWorkerWarning((w) => received.push(w))
  const host = monitor({ intervalMs: 50, emitWarning: false })
  // A second host monitor re-emits it too: the channel must still see it once.
  const host2 = monitor({ intervalMs: 50, emitWarning: false })
  const onHost = []
  const onHost2 = []
  host.on('warning', (w) => onHost.push(w))
  host2.on('warning', (w) => onHost2.push(w))
  const published = []
  const onPublished = (w) => published.push(w)
  channels.warning.subscribe(onPublished)
  const worker = new Worker(fixture, {
    workerData: { fixture: 'monitor-jobs', scenario: 'leak' },
    stderr: true,
    stdout: true
  })
  // threadId becomes -1 once the worker has exited: keep it now.
  const workerThreadId = worker.threadId
  try {
    const [msg] = await once(worker, 'message')
    assert.equal(msg.type, 'result')
    assert.ok(msg.result.warnings.length >= 1)
    // BroadcastChannel delivery is asynchronous: wait for it rather than sleep.
    while (received.length === 0) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(received[0].threadId, workerThreadId)
    assert.ok(workerThreadId > 0)
    assert.equal(received[0].metric, 'heapUsed')
    assert.match(received[0].message, new RegExp(`\\[worker thread ${workerThreadId}\\]$`))
    while (onHost.length === 0 || onHost2.length === 0) await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(onHost[0], received[0])
    assert.deepEqual(onHost2[0], received[0])
    // The host's diagnostics channel: every worker warning, with its threadId, once each.
    const fromWorker = published.filter((w) => w.threadId !== 0)
    assert.deepEqual(fromWorker, received)
    assert.equal(fromWorker[0].threadId, workerThreadId)
  } finally {
    channels.warning.unsubscribe(onPublished)
    stopReceiving()
    host.stop()
    host2.stop()
    await worker.terminate()
  }
})

test('sampling continues while the event loop is blocked by a 2-second busy loop', () => {
  const m = monitor({ intervalMs: 5 })
  try {
    const start = Date.now()
    while (Date.now() - start < 2000) {
      /* blocked: no timer, no callback can run */
    }
    const end = Date.now()
    const inside = m.samples().filter((s) => s.source === 'rss' && s.time > start + 1 && s.time < end - 1)
    // 2 s at 5 ms is 400 samples; allow a loaded 2-core machine to drop most of them.
    assert.ok(inside.length >= 100, `only ${inside.length} samples inside the busy loop`)
    for (const s of inside) assert.ok(s.rss > 1 << 20)
  } finally {
    m.stop()
  }
})

test('the monitor itself is bounded: at most maxSamples per series', () => {
  const m = monitor({ intervalMs: 1, maxSamples: 64, windowMs: 600_000 })
  try {
    const start = Date.now()
    while (Date.now() - start < 300) {
      /* ~300 native samples */
    }
    const rss = m.samples().filter((s) => s.source === 'rss')
    assert.ok(rss.length >= 40 && rss.length <= 64, `${rss.length} RSS samples kept`)
    // The newest are kept, the oldest dropped.
    assert.ok(rss.at(-1).time > start + 200)
  } finally {
    m.stop()
  }
})

test('50 monitors and 20 abruptly terminated worker_threads: one shared native thread, none left, the process exits on its own', async () => {
  const script = `
    const fs = require('node:fs')
    const { Worker } = require('node:worker_threads')
    const { monitor } = require('./index.js')
    const threads = () => fs.readdirSync('/proc/self/task').filter((t) => {
      try { return fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim() === 'leakguard-smplr' } catch { return false }
    }).length
    // A new thread names itself once it runs: poll briefly for the expected count.
    const settle = async (want) => {
      for (let i = 0; i < 200 && threads() !== want; i++) await new Promise((resolve) => setTimeout(resolve, 5))
      return threads()
    }
    ;(async () => {
      const out = {}
      const ms = Array.from({ length: 50 }, (_, i) => monitor({ intervalMs: 1 + (i % 7) }))
      out.with50 = await settle(1)
      for (const m of ms) m.stop()
      out.after50 = threads() // joined synchronously by the last stop()
      const src = "const { monitor } = require(" + JSON.stringify(process.cwd() + '/index.js') + ");" +
        "globalThis.m = monitor({ intervalMs: 2 }); require('node:worker_threads').parentPort.postMessage('up');" +
        "setInterval(() => { globalThis.junk = Array(1000).fill(Math.random()) }, 1)"
      const workers = []
      for (let i = 0; i < 20; i++) {
        const w = new Worker(src, { eval: true })
        await new Promise((resolve) => w.once('message', resolve))
        workers.push(w)
      }
      out.with20 = await settle(1)
      await Promise.all(workers.map((w) => w.terminate()))
      out.after20 = threads()
      // Left running on purpose: it must not keep the process alive or block its exit.
      globalThis.forgotten = monitor({ intervalMs: 1 })
      out.forgotten = await settle(1)
      console.log(JSON.stringify(out))
    })()
  `
  const { code, signal, stdout, stderr } = await runNode(['-e', script], { timeoutMs: 60_000 })
  assert.equal(signal, null, `the process did not exit on its own: ${stderr}`)
  assert.equal(code, 0, stderr)
  assert.deepEqual(JSON.parse(stdout), { with50: 1, after50: 0, with20: 1, after20: 0, forgotten: 1 })
})

test('limits fire a limit event once per crossing; samples are published as events and on the channel', async () => {
  const m = monitor({
    intervalMs: 5,
    checkEveryMs: 10,
    fullGcEveryMs: 10,
    limits: { rss: 1024, heapUsed: 1024 },
    emitWarning: false
  })
  const fromChannel = []
  const onSample = (s) => fromChannel.push(s)
  channels.sample.subscribe(onSample)
  try {
    const limitsSeen = []
    m.on('limit', (e) => limitsSeen.push(e))
    const samples = []
    m.on('sample', (s) => samples.push(s))
    while (limitsSeen.length < 2 || !samples.some((s) => s.source === 'gc')) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    const rss = limitsSeen.find((e) => e.metric === 'rss')
    assert.equal(rss.limitBytes, 1024)
    assert.ok(rss.valueBytes > 1024)
    assert.match(rss.message, /^rss is [\d.]+ MB, over the configured limit of 1\.00 KB$/)
    assert.equal(limitsSeen.filter((e) => e.metric === 'rss').length, 1, 'a limit fires once while it stays crossed')
    assert.ok(samples.some((s) => s.source === 'rss' && s.rss > 0))
    const gc = samples.find((s) => s.source === 'gc' && s.gc === 'major')
    assert.ok(gc && gc.heapUsed > 0 && gc.arrayBuffers >= 0)
    assert.ok(fromChannel.length >= samples.length - 1)
  } finally {
    channels.sample.unsubscribe(onSample)
    m.stop()
  }
})

test('full GCs are seen without a gc observer (FinalizationRegistry sentinel); heap figures after them feed samples()', async () => {
  const m = monitor({ intervalMs: 5, emitWarning: false })
  try {
    const heapSamples = () => m.samples().filter((s) => s.source === 'gc')
    assert.equal(heapSamples().length, 0)
    for (let i = 0; i < 3; i++) {
      gc()
      const before = heapSamples().length
      // The registry's callback runs as a task after the collection: wait for it, do not sleep blindly.
      while (heapSamples().length === before) await new Promise((resolve) => setTimeout(resolve, 6))
    }
    const majors = heapSamples()
    assert.ok(majors.length >= 3)
    for (const s of majors) {
      assert.equal(s.gc, 'major')
      assert.ok(s.heapUsed > 0 && s.external >= 0)
    }
    // arrayBuffers (~8 µs to read) comes with the first full-GC sample after each check only.
    assert.ok(majors[0].arrayBuffers > 0)
    assert.ok(
      majors.filter((s) => s.arrayBuffers !== undefined).length <=
        1 + Math.ceil((majors.at(-1).time - majors[0].time) / m.options.checkEveryMs)
    )
  } finally {
    m.stop()
  }
})

test('scavenges alone produce no full-GC sample (the sentinel is not collected by a scavenge)', async () => {
  const kinds = { major: 0, minor: 0 }
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) kinds.major++
      else if (e.detail.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) kinds.minor++
    }
  })
  obs.observe({ entryTypes: ['gc'] })
  const m = monitor({ intervalMs: 1, emitWarning: false })
  try {
    let sink = 0
    while (kinds.minor < 20) {
      for (let i = 0; i < 20_000; i++) sink += new Array(16).fill(i).length
      await new Promise((resolve) => setImmediate(resolve))
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
    const majors = m.samples().filter((s) => s.gc === 'major').length
    assert.ok(sink > 0)
    assert.ok(
      majors <= kinds.major,
      `${majors} full-GC samples for ${kinds.major} full GCs and ${kinds.minor} scavenges`
    )
  } finally {
    obs.disconnect()
    m.stop()
  }
})

test('jobs are counted from the job-end channel and jobDone(); stop() and Symbol.dispose release the native thread', () => {
  const before = samplerInfo().subscribers
  const d = monitor()
  assert.deepEqual(
    [
      d.options.intervalMs,
      d.options.checkEveryMs,
      d.options.windowMs,
      d.options.alpha,
      d.options.minGrowthBytes,
      d.options.emitWarning,
      d.options.sendToParent,
      d.options.fullGcEveryMs
    ],
    [1000, 1000, 600_000, 0.01, 1 << 20, true, false, 0]
  )
  d.stop()
  const m = monitor({ intervalMs: 20 })
  assert.equal(samplerInfo().subscribers, before + 1)
  assert.equal(samplerInfo().running, true)
  channels.jobEnd.publish({ name: 'job' })
  channels.jobEnd.publish({ name: 'job' })
  m.jobDone()
  m.jobDone(3)
  assert.equal(m.jobs, 6)
  assert.equal(m.trend().jobs, 6)
  m[Symbol.dispose]()
  assert.equal(m.stopped, true)
  m.stop()
  assert.equal(samplerInfo().subscribers, before)
  channels.jobEnd.publish({ name: 'job' })
  assert.equal(m.jobs, 6, 'a stopped monitor no longer counts')
  assert.throws(() => m.jobDone(-1), {
    name: 'RangeError',
    code: codes.INVALID_ARGUMENT,
    message: /^The "n" argument must be a non-negative safe integer \(received -1\)$/
  })
})

test('bad options are coded errors naming the option and the value', () => {
  const bad = [
    [1, TypeError, /^options must be an object \(received 1\)$/],
    [{ intervalMs: 0 }, RangeError, /^options\.intervalMs must be an integer in \[1, 3600000\] \(received 0\)$/],
    [{ intervalMs: '5' }, TypeError, /^options\.intervalMs must be an integer \(received '5'\)$/],
    [
      { intervalMs: 100, checkEveryMs: 50 },
      RangeError,
      /^options\.checkEveryMs must be >= options\.intervalMs \(100\) \(received 50\)$/
    ],
    [{ alpha: 0 }, RangeError, /^options\.alpha must be a number > 0 and <= 0\.5 \(received 0\)$/],
    [{ minGrowthBytes: -1 }, RangeError, /options\.minGrowthBytes/],
    [{ emitWarning: 'yes' }, TypeError, /^options\.emitWarning must be a boolean \(received 'yes'\)$/],
    [{ limits: { rss: 0 } }, RangeError, /^options\.limits\.rss must be a number > 0 \(received 0\)$/],
    [{ limits: { heap: 1 } }, TypeError, /^options\.limits\.heap is not a known option/],
    [{ intervalms: 5 }, TypeError, /^options\.intervalms is not a known option/],
    [{ windowMs: 10, intervalMs: 5 }, RangeError, /options\.windowMs must be at least 3 × options\.intervalMs/]
  ]
  const before = samplerInfo().subscribers
  for (const [options, type, message] of bad) {
    assert.throws(
      () => monitor(options),
      { name: type.name, code: 'ERR_LEAKGUARD_INVALID_OPTION', message },
      JSON.stringify(options)
    )
  }
  assert.equal(samplerInfo().subscribers, before, 'a rejected monitor subscribes nothing')
  assert.throws(() => onWorkerWarning('x'), { name: 'TypeError', code: 'ERR_LEAKGUARD_INVALID_ARGUMENT' })
  assert.equal(esm.monitor, monitor)
  assert.equal(esm.onWorkerWarning, onWorkerWarning)
})
