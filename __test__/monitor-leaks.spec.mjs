// The monitor in production (issue 14), on real workers without forced GCs
// (fullGcEveryMs 0: only V8's own full GCs and the monitor's confirmation
// GCs): every leak of the field guide warns with its metric and bytes/job,
// every control stays silent, a child heading for an OOM warns its parent in
// time with a projection, and the autopsy names the leaking type.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { runChild as runChildOf, pool, jobsFixture } from './monitor-util.mjs'

const require = createRequire(import.meta.url)
const { monitor } = require('../index.js')
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..')
const oomFixture = path.join(here, 'fixtures', 'monitor-oom.js')

/** Settings of a worker that takes minutes to warn at defaults, scaled to seconds: 6 s window, checks every 100 ms. */
const realistic = { intervalMs: 100, checkEveryMs: 100, windowMs: 6000, fullGcEveryMs: 0 }

/** Runs monitor-jobs.js in a forked child; resolves with its result and IPC messages. */
const runChild = (opts) => runChildOf(jobsFixture, opts)

test('every leak kind of the guide warns, naming the metric and bytes/job within ±30% of what it retains', async () => {
  const leaks = [
    // [scenario, bytes per job asked, metric expected]
    ['leak', 1300, 'heapUsed'], // a record pushed to a module array
    ['listener', 1300, 'heapUsed'], // a listener per job on a module emitter
    ['map', 570, 'heapUsed'], // a Map keyed by job id
    ['closure', 7800, 'heapUsed'], // a closure pushed to a hooks array
    ['interval', 960, 'heapUsed'], // an interval per job
    ['buffer-leak', 1024, 'external'], // a Buffer kept per job
    ['stream', 0, 'fds'] // a file opened per job, never closed
  ]
  const results = await pool(leaks, 3, ([scenario, bytes]) =>
    runChild({
      scenario,
      bytes,
      jobs: 1e9,
      minMs: 0,
      maxMs: 60_000,
      measureTruth: true,
      monitorOptions: realistic
    })
  )
  for (let i = 0; i < leaks.length; i++) {
    const [scenario, , metric] = leaks[i]
    const r = results[i].result
    assert.ok(
      r.warnings.length >= 1,
      `${scenario}: no warning after ${r.jobs} jobs in ${r.ms} ms: ${JSON.stringify(r.trend)}`
    )
    const w = r.warnings[0]
    assert.equal(w.metric, metric, `${scenario}: ${w.message}`)
    const truth = metric === 'fds' ? 1 : r.truth[metric]
    assert.ok(
      Math.abs(w.bytesPerJob - truth) <= 0.3 * truth,
      `${scenario}: ${w.bytesPerJob} per job reported, ${truth} retained: ${w.message}`
    )
    // The OOM projection rides along, in the data and in the sentence.
    assert.ok(w.projection && w.projection.etaMs > 0 && w.projection.atJobs > r.warnings[0].atJobs, w.message)
    if (metric === 'fds') {
      assert.equal(w.projection.metric, 'fds')
      assert.match(
        w.message,
        /^open fds \+[01]\.\d\d\/job \(p<0\.001\); at this rate the \d+ open-fd limit \(ulimit -n\) is reached in ~/
      )
    } else {
      assert.equal(w.projection.metric, metric === 'heapUsed' ? 'heapUsed' : 'rss')
      assert.ok(w.projection.limitBytes > 0)
      assert.match(
        w.message,
        /^(heapUsed|external memory \(Buffers, ArrayBuffers, native\)) grows [\d.]+ (B|KB)\/job \(p<0\.001\); at this rate the [\d.]+ GB (heap|memory) limit is reached in ~\d+(\.\d)? (s|min|h|days) \(~[\d.]+[kM]? more jobs\)/
      )
    }
  }
})

test('every control stays silent: bounded cache filling, warm-up plateau, GC sawtooth, 1 MB temporary per job, rolling window, cleaned listener/interval/stream/pool', async () => {
  const controls = [
    'fixed',
    'cache',
    'warmup',
    'sawtooth',
    'bigtemp',
    'rolling',
    'listener-clean',
    'interval-clean',
    'stream-clean',
    'pool-clean'
  ]
  const results = await pool(controls, 4, (scenario) =>
    runChild({ scenario, jobs: 0, minMs: 8000, stopOnWarning: false, monitorOptions: realistic })
  )
  for (const { result: r } of results) {
    assert.deepEqual(
      r.warnings.map((w) => w.message),
      [],
      `${r.scenario} warned`
    )
    // The monitor did read the heap all along (else silence proves nothing).
    assert.ok(r.jobs > 1000, `${r.scenario}: only ${r.jobs} jobs`)
  }
})

test('a child with --max-old-space-size=64 leaking until it dies warns its parent over IPC first, with an ETA within ±50% of its death; its trend() shows the growth until it dies', async () => {
  const child = fork(oomFixture, [], {
    cwd: root,
    execArgv: ['--max-old-space-size=64'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  child.stderr.resume()
  let start = 0
  const warnings = []
  const trends = []
  child.on('message', (m) => {
    if (m.type === 'start') start = m.time
    if (m.type === 'leakguard:warning') warnings.push({ ...m.warning, receivedAt: Date.now() })
    if (m.type === 'trend') trends.push(m)
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  const [code, signal] = await once(child, 'exit')
  const diedAt = Date.now()
  clearTimeout(timer)
  // V8's "JavaScript heap out of memory" aborts the process.
  assert.ok(signal === 'SIGABRT' || code === 134, `the child exited with ${code} / ${signal}, not an OOM`)
  assert.ok(warnings.length >= 1, 'no warning reached the parent before the child died')
  const w = warnings[0]
  assert.equal(w.metric, 'heapUsed')
  assert.equal(w.projection.metric, 'heapUsed')
  assert.equal(w.projection.limitBytes, 64 * 1024 * 1024)
  assert.match(w.message, /at this rate the 64\.0 MB heap limit is reached in ~\d+ s/)
  const predicted = w.time + w.projection.etaMs
  const left = diedAt - w.time
  assert.ok(
    Math.abs(predicted - diedAt) <= 0.5 * left,
    `warned ${w.time - start} ms after the start, ETA ${w.projection.etaMs} ms; died ${left} ms after the warning`
  )
  // Between two GC steps the old generation's readings can be too flat to test;
  // the warning stands, and trend() keeps showing the growth and its countdown.
  assert.ok(trends.length >= 4, `only ${trends.length} trend() reports after the warning`)
  for (const r of trends) {
    const at = `${r.time - w.time} ms after the warning`
    assert.ok(r.heapUsed, `trend().heapUsed is null ${at}`)
    assert.equal(r.heapUsed.growing, true, at)
    assert.ok(r.heapUsed.ageMs >= 0, at)
    assert.equal(r.heapUsed.projection?.metric, 'heapUsed', at)
    assert.ok(r.heapUsed.projection.etaMs >= 0, at)
  }
})

test('an autopsy in a worker_thread names the leaking type with a retainer path, reaches the main thread, and leaves no file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-autopsy-test-'))
  const host = monitor({ emitWarning: false })
  const received = []
  host.on('autopsy', (a) => received.push(a))
  const worker = new Worker(jobsFixture, {
    workerData: {
      fixture: 'monitor-jobs',
      scenario: 'orders',
      jobs: 1e9,
      minMs: 0,
      maxMs: 60_000,
      monitorOptions: { ...realistic, autopsy: { dir, jobs: 500 } }
    },
    stdout: true,
    stderr: true
  })
  try {
    const [msg] = await once(worker, 'message')
    const r = msg.result
    assert.ok(r.warnings.length >= 1 && r.autopsies.length === 1, JSON.stringify(r.trend))
    const a = r.autopsies[0]
    assert.equal(a.status, 'done', a.message)
    assert.equal(a.metric, 'heapUsed')
    const top = a.suspects[0]
    assert.equal(top.name, 'LeakedOrder', JSON.stringify(a.suspects.map((s) => s.name)))
    assert.ok(Math.abs(top.perJob - 1) < 0.05, `perJob ${top.perJob}`)
    assert.match(top.retainerPath, /orders \(Array\) → \[\d+\] \(LeakedOrder\)$/)
    // The warning it came with carries it.
    assert.equal(r.warnings[0].autopsy.suspects[0].name, 'LeakedOrder')
    // The main thread's monitor got it from the worker, with the worker's threadId.
    while (received.length === 0) await new Promise((resolve) => setImmediate(resolve))
    assert.equal(received[0].suspects[0].name, 'LeakedOrder')
    assert.equal(received[0].threadId, worker.threadId)
    assert.deepEqual(fs.readdirSync(dir), [], 'the snapshots were not removed')
  } finally {
    host.stop()
    await worker.terminate()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('an autopsy without the memory headroom is refused, says why, and the refusal reaches the parent over IPC', async () => {
  const { result, messages } = await runChild({
    scenario: 'leak',
    bytes: 4096,
    jobs: 1e9,
    minMs: 0,
    maxMs: 60_000,
    // RSS is capped just above where it starts: no room for a snapshot.
    rssHeadroom: 16 * 1024 * 1024,
    monitorOptions: { ...realistic, sendToParent: true, autopsy: { jobs: 100 } }
  })
  const a = result.autopsies[0]
  assert.ok(a, JSON.stringify(result.warnings.map((w) => w.message)))
  assert.equal(a.status, 'refused')
  assert.deepEqual(a.suspects, [])
  assert.match(
    a.reason,
    /^not enough memory for a heap snapshot: writing one of a [\d.]+ MB heap takes ~[\d.]+ MB outside the heap \(measured ~16× heapUsed\), and the room under limits\.rss \([\d.]+ MB\) is [\d.]+ (B|KB|MB)/
  )
  assert.match(a.message, /^leakguard autopsy refused: not enough memory/)
  const sent = messages.find((m) => m.type === 'leakguard:autopsy')
  assert.ok(sent, 'the parent got no autopsy message')
  assert.equal(sent.autopsy.status, 'refused')
})
