// The monitor's own lifecycle (issue 18: a monitor dropped without stop(),
// jobDone() bounds; issue 19: Piscina's default atomics), on real processes,
// worker threads and a real Piscina pool.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { createRequire } from 'node:module'
import { runNode } from './monitor-util.mjs'

const require = createRequire(import.meta.url)
const { monitor, codes } = require('../index.js')
const here = path.dirname(fileURLToPath(import.meta.url))
const _root = path.resolve(here, '..')

/** Runs a Node script in a fresh process; it must exit 0. */
async function node(args) {
  const { code, stdout, stderr } = await runNode(args)
  assert.equal(code, 0, stderr)
  return { stdout, stderr }
}

test('500 monitors dropped without stop(): the first 16 keep running, the other 484 are collected, with one warning', async () => {
  const script = `
    const v8 = require('node:v8')
    const { monitor, samplerInfo } = require('./lib/monitor/monitor.js')
    const gc = require('./lib/common/gc.js').fullGc
    const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
    ;(async () => {
      gc()
      const heap0 = v8.getHeapStatistics().used_heap_size
      for (let i = 0; i < 500; i++) monitor().on('warning', () => {})
      const created = samplerInfo().subscribers
      // Collection, then the registry's cleanup callbacks, which run as tasks.
      for (let k = 0; k < 50 && samplerInfo().subscribers > 16; k++) {
        gc()
        await pause(20)
      }
      gc()
      console.log(JSON.stringify({
        created,
        subscribers: samplerInfo().subscribers,
        running: samplerInfo().running,
        heapPerMonitor: (v8.getHeapStatistics().used_heap_size - heap0) / 500
      }))
    })()
  `
  const { stdout, stderr } = await node(['-e', script])
  const out = JSON.parse(stdout)
  assert.equal(out.created, 500)
  // Fire-and-forget monitors (nothing refers to them) keep working, up to 16 per thread.
  assert.equal(out.subscribers, 16, 'the dropped monitors past 16 still hold the sampling thread')
  assert.equal(out.running, true)
  // Each held ~576 KB before; the 16 kept ones hold a few KB each now.
  assert.ok(out.heapPerMonitor < 4096, `${out.heapPerMonitor} B of heap per monitor created`)
  const warnings = stderr.match(/\[LEAKGUARD_TOO_MANY_MONITORS\]/g) ?? []
  assert.equal(warnings.length, 1, stderr)
  assert.match(stderr, /17 monitors are running in this thread: stop\(\) the ones you no longer need/)
})

test('a monitor nothing refers to keeps sampling after full GCs until stop()', async () => {
  const script = `
    const { monitor, samplerInfo } = require('./lib/monitor/monitor.js')
    const gc = require('./lib/common/gc.js').fullGc
    const samples = []
    monitor({ intervalMs: 5, checkEveryMs: 10 }).on('sample', (s) => samples.push(s))
    ;(async () => {
      for (let k = 0; k < 10; k++) {
        gc()
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      console.log(JSON.stringify({ subscribers: samplerInfo().subscribers, rss: samples.filter((s) => s.source === 'rss').length }))
    })()
  `
  const out = JSON.parse((await node(['-e', script])).stdout)
  assert.equal(out.subscribers, 1)
  assert.ok(out.rss >= 10, `${out.rss} RSS samples`)
})

test('a monitor that is still referenced keeps sampling after full GCs', async () => {
  const script = `
    const { monitor, samplerInfo } = require('./lib/monitor/monitor.js')
    const gc = require('./lib/common/gc.js').fullGc
    const m = monitor({ intervalMs: 5, checkEveryMs: 10 })
    ;(async () => {
      for (let k = 0; k < 10; k++) {
        gc()
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      console.log(JSON.stringify({ subscribers: samplerInfo().subscribers, stopped: m.stopped, rss: m.samples().filter((s) => s.source === 'rss').length }))
      m.stop()
    })()
  `
  const out = JSON.parse((await node(['-e', script])).stdout)
  assert.deepEqual({ subscribers: out.subscribers, stopped: out.stopped }, { subscribers: 1, stopped: false })
  assert.ok(out.rss >= 10, `${out.rss} RSS samples`)
})

test('jobDone() refuses counts past Number.MAX_SAFE_INTEGER with a coded RangeError', () => {
  const m = monitor({ emitWarning: false })
  try {
    for (const n of [2 ** 64, 2 ** 53, Number.MAX_VALUE]) {
      assert.throws(() => m.jobDone(n), {
        name: 'RangeError',
        code: codes.INVALID_ARGUMENT,
        message: /^The "n" argument must be a non-negative safe integer \(received /
      })
    }
    assert.equal(m.jobs, 0)
    m.jobDone(Number.MAX_SAFE_INTEGER)
    // The total is bounded too: one more would no longer count exactly.
    assert.throws(() => m.jobDone(1), { name: 'RangeError', code: codes.INVALID_ARGUMENT, message: /job count/ })
    assert.equal(m.jobs, Number.MAX_SAFE_INTEGER)
  } finally {
    m.stop()
  }
})

test("a monitor inside a Piscina worker with Piscina's default atomics ('sync') keeps working: the leak's warning reaches the main thread, and the worker says why once", async () => {
  const { stdout, stderr } = await node([
    path.join(here, 'fixtures', 'piscina-sync.js'),
    JSON.stringify({ maxTasks: 100_000, monitorOptions: { intervalMs: 100, checkEveryMs: 100, windowMs: 6000 } })
  ])
  const out = JSON.parse(stdout)
  assert.equal(out.atomics, 'sync')
  assert.ok(out.warnings.length >= 1, `no warning after ${out.tasks} tasks`)
  const w = out.warnings[0]
  assert.equal(w.metric, 'heapUsed')
  assert.ok(out.threadIds.includes(w.threadId), `warning from thread ${w.threadId}, pool threads ${out.threadIds}`)
  // ~8 KB retained per task (1024 small integers).
  assert.ok(w.bytesPerJob > 6000 && w.bytesPerJob < 11000, w.message)
  // The worker's monitor noticed its event loop did not run between jobs, and said how to fix it, once per thread.
  const notes = stderr.match(/\[LEAKGUARD_EVENT_LOOP_BLOCKED\]/g) ?? []
  assert.ok(notes.length >= 1 && notes.length <= out.threadIds.length, stderr)
  assert.match(stderr, /atomics: 'async'/)
})

test('a check that throws neither crashes the worker nor stops the monitor: one warning, sampling goes on', async () => {
  const script = `
    const { monitor } = require('./index.js')
    const warnings = []
    process.on('warning', (w) => warnings.push(w.code))
    const m = monitor({ intervalMs: 10, checkEveryMs: 10 })
    let calls = 0
    m._check = () => { calls++; throw new Error('injected fault') }
    setTimeout(() => {
      m.stop()
      console.log(JSON.stringify({ calls, warnings }))
    }, 300)
  `
  const { stdout } = await node(['-e', script])
  const { calls, warnings } = JSON.parse(stdout)
  assert.ok(calls >= 3, `the check ran ${calls} times`)
  assert.deepEqual(
    warnings.filter((c) => c === 'LEAKGUARD_MONITOR_CHECK_FAILED'),
    ['LEAKGUARD_MONITOR_CHECK_FAILED']
  )
})

test('eight worker_threads obtaining gc() at the same moment all get it (V8 flags are process-wide)', async () => {
  const script = `
    const { Worker } = require('node:worker_threads')
    const body = "require(process.cwd() + '/lib/common/gc.js').fullGc(); require('node:worker_threads').parentPort.postMessage('ok')"
    ;(async () => {
      let ok = 0
      for (let round = 0; round < 5; round++) {
        const workers = Array.from({ length: 8 }, () => new Worker(body, { eval: true }))
        const results = await Promise.allSettled(workers.map((w) => new Promise((resolve, reject) => {
          w.once('message', resolve)
          w.once('error', reject)
        })))
        ok += results.filter((r) => r.status === 'fulfilled').length
        await Promise.all(workers.map((w) => w.terminate()))
      }
      console.log(JSON.stringify({ ok }))
    })()
  `
  const { stdout } = await node(['-e', script])
  assert.deepEqual(JSON.parse(stdout), { ok: 40 })
})
