// The recycle safety net: fires once, after the job that crossed the line and
// never inside a job; its message says what leaks; exit waits for running jobs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { spawnSync } from 'node:child_process'
import dc from 'node:diagnostics_channel'
import path from 'node:path'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { guard, withScope, currentScope, monitor, recycle, Recycler, JobScope, processMemory, codes } from 'leakguard'
import { root, leakUntilWarning } from './fleet-util.mjs'

const tick = () => new Promise((resolve) => setImmediate(resolve))

v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc')

test('recycle() validates its options with coded errors', () => {
  assert.throws(() => recycle(), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: 'options must be an object (received undefined)'
  })
  assert.throws(() => recycle({}), {
    name: 'RangeError',
    code: codes.INVALID_OPTION,
    message: /^options must be an object setting at least one of maxJobs, maxRss, maxHeapUsed/
  })
  assert.throws(() => recycle({ maxJobs: -1 }), {
    name: 'RangeError',
    message: 'options.maxJobs must be a positive integer (received -1)'
  })
  assert.throws(() => recycle({ maxRss: '1G' }), {
    name: 'TypeError',
    message: "options.maxRss must be an integer (received '1G')"
  })
  assert.throws(() => recycle({ maxJobs: 1, exit: 'yes' }), {
    name: 'TypeError',
    message: "options.exit must be a boolean (received 'yes')"
  })
  assert.throws(() => recycle({ maxJobs: 1, worker: {} }), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: /^options\.worker must be an object with a close\(\) or destroy\(\) method/
  })
  assert.throws(() => recycle({ maxjobs: 1 }), {
    name: 'TypeError',
    message: /^options\.maxjobs is not a known option/
  })
  assert.throws(() => guard(() => {}, { recycle: { maxJobs: 0 } }), {
    name: 'RangeError',
    message: 'options.recycle.maxJobs must be a positive integer (received 0)'
  })
  assert.throws(() => guard(() => {}, { recycle: 5 }), {
    name: 'TypeError',
    message: 'options.recycle must be an object (received 5)'
  })
  // withScope() runs one job: a net created per call would count to 1 forever.
  assert.throws(() => withScope(() => {}, { recycle: { maxJobs: 2 } }), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: /^options\.recycle must be a Recycler/
  })
  const net = recycle({ maxJobs: 1 })
  assert.throws(() => new JobScope({ recycle: net }), {
    name: 'TypeError',
    message: /^options\.recycle must be undefined for new JobScope\(\)/
  })
  net.stop()
})

test('maxJobs: the event fires once, after the job that reached it finished and was cleaned up', async () => {
  const net = recycle({ maxJobs: 5 })
  const log = []
  const events = []
  net.on('recycle', (e) => {
    log.push(`recycle@${e.jobs}`)
    events.push(e)
  })
  const handler = guard(
    async (i) => {
      log.push(`start ${i}`)
      currentScope().defer(() => log.push(`cleanup ${i}`))
      await tick()
      log.push(`end ${i}`)
    },
    { name: 'sequential', recycle: net }
  )
  for (let i = 1; i <= 8; i++) await handler(i)
  assert.equal(events.length, 1)
  const at = log.indexOf('recycle@5')
  assert.deepEqual(log.slice(at - 3, at + 2), ['start 5', 'end 5', 'cleanup 5', 'recycle@5', 'start 6'])
  assert.equal(events[0].reason, 'maxJobs')
  assert.equal(events[0].jobs, 5)
  assert.equal(events[0].limitJobs, 5)
  assert.equal(events[0].limitBytes, undefined)
  assert.ok(events[0].rss > 0 && events[0].heapUsed > 0)
  assert.equal(net.jobs, 8)
  assert.equal(net.triggered, events[0])
  assert.equal(net.inFlight, 0)
  net.stop()
})

test('with concurrent jobs it fires between jobs: the others keep running, none is interrupted', async () => {
  const net = recycle({ maxJobs: 4 })
  let running = 0
  let seen
  net.on('recycle', (e) => {
    seen = { jobs: e.jobs, running, inFlight: net.inFlight }
  })
  const handler = guard(
    async (ms) => {
      running++
      try {
        await new Promise((resolve) => setTimeout(resolve, ms))
      } finally {
        running--
      }
    },
    { recycle: net }
  )
  // Jobs of different lengths so that the 4th to finish ends while others run.
  await Promise.all([1, 5, 10, 15, 40, 45].map((ms) => handler(ms)))
  assert.equal(seen.jobs, 4)
  // The event came after a job ended: the 2 long jobs were still in flight, counted as such.
  assert.equal(seen.running, 2)
  assert.equal(seen.inFlight, 2)
  net.stop()
})

test('created alone, a Recycler counts every guarded job of the thread (job channels)', async () => {
  const net = recycle({ maxJobs: 3 })
  assert.ok(net instanceof Recycler)
  const fired = []
  net.on('recycle', (e) => fired.push(e.jobs))
  const a = guard(async () => {}, { name: 'a' })
  const b = guard(() => 1, { name: 'b' })
  await a()
  await b()
  await withScope(async () => {})
  await a()
  assert.deepEqual(fired, [3])
  assert.equal(net.jobs, 4)
  net.stop()
  await a()
  assert.equal(net.jobs, 4, 'stop() unsubscribes')
  assert.equal(dc.channel('leakguard:job:end').hasSubscribers, false)
})

test('the message says what leaks: left-open resources with their creation site', async () => {
  const bus = new EventEmitter()
  bus.setMaxListeners(0)
  const net = recycle({ maxJobs: 20 })
  let event
  net.on('recycle', (e) => {
    event = e
  })
  const leaky = guard(
    async (job) => {
      bus.on('message', () => job) // leaks a listener (and the job) per job
      await tick()
    },
    { name: 'leaky-listener', autoTrack: 'dispose', captureStacks: true, onLeftOpen: 'ignore', recycle: net }
  )
  for (let i = 0; i < 20; i++) await leaky({ i })
  assert.equal(bus.listenerCount('message'), 0, 'autoTrack: dispose removed the listeners')
  assert.ok(event, 'recycle fired')
  assert.match(
    event.message,
    /^recycling after job 20: maxJobs 20 reached \(rss [\d.]+ MB, heapUsed [\d.]+ MB\)\. Recycling is a safety net, not the fix: /
  )
  assert.match(
    event.message,
    /20 of 20 jobs left resources open: 20× listener .* in job 'leaky-listener' at .*fleet-recycle\.spec\.mjs:\d+/
  )
  assert.equal(event.leftOpen[0].count, 20)
  assert.equal(event.leftOpen[0].kind, 'listener')
  net.stop()
})

test('the message quotes the latest monitor warning of the thread, or says that nothing was found', async () => {
  const clean = recycle({ maxJobs: 1 })
  let quiet
  clean.on('recycle', (e) => {
    quiet = e
  })
  await guard(async () => {}, { recycle: clean })()
  assert.match(
    quiet.message,
    /neither a monitor nor the job scopes reported a leak; run monitor\(\) and guard\(fn, \{ autoTrack: true \}\) to find what grows\.$/
  )
  assert.equal(quiet.warning, null)
})

test('maxRss and maxHeapUsed: checked after each job, fire after the job that crossed them', async () => {
  // Baselines without the garbage of earlier tests (which a GC could free mid-test,
  // and whose freed memory the allocator may hand back to the OS a little later).
  gc()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const retained = []
  const maxRss = processMemory().rss + (48 << 20)
  const rssNet = recycle({ maxRss })
  const heapNet = recycle({ maxHeapUsed: processMemory().heapUsed + (24 << 20) })
  const fired = []
  rssNet.on('recycle', (e) => fired.push(['rss', e.reason, e.jobs]))
  heapNet.on('recycle', (e) => fired.push(['heap', e.reason, e.jobs]))
  const small = guard(async () => {})
  // Sized at run time: whatever RSS did meanwhile, this job ends 32 MiB over maxRss.
  const bigOffHeap = guard(async () => {
    retained.push(Buffer.alloc(Math.max(maxRss - processMemory().rss, 0) + (32 << 20), 1))
  })
  const bigOnHeap = guard(async () => {
    retained.push(Array.from({ length: 2 << 20 }, (_, i) => ({ i })))
  }) // ~50 MB
  await small()
  await small()
  assert.deepEqual(fired, [])
  await bigOffHeap()
  assert.deepEqual(fired, [['rss', 'maxRss', 3]], 'the Buffer is off the V8 heap: only maxRss fires')
  await bigOnHeap()
  assert.deepEqual(fired[1], ['heap', 'maxHeapUsed', 4])
  assert.match(heapNet.triggered.message, /heapUsed [\d.]+ MB >= maxHeapUsed [\d.]+ MB/)
  rssNet.stop()
  heapNet.stop()
  retained.length = 0
})

test("a throwing recycle listener does not become the job's error; it surfaces as uncaught (child process)", () => {
  const script = `
    const { guard, recycle } = require(${JSON.stringify(root)})
    const net = recycle({ maxJobs: 1 })
    net.on('recycle', () => { throw new Error('listener bug') })
    process.on('uncaughtException', (err) => { console.log('uncaught: ' + err.message) })
    guard(async () => 'done', { recycle: net })().then((v) => console.log('job: ' + v), (e) => console.log('job failed: ' + e.message))
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['job: done', 'uncaught: listener bug'])
})

test('exit: true waits for the running jobs, then exits 0 (child process)', () => {
  const script = `
    const { guard } = require(${JSON.stringify(root)})
    let started = 0, finished = 0
    const handler = guard(async (ms) => {
      started++
      await new Promise((r) => setTimeout(r, ms))
      finished++
    }, { recycle: { maxJobs: 10, exit: true } })
    process.on('exit', (code) => console.log(JSON.stringify({ code, started, finished })))
    // Three lanes of jobs forever: the process only ends through the recycle exit.
    for (let lane = 0; lane < 3; lane++) (async () => { for (;;) await handler(5 + lane * 7) })()
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  assert.equal(out.code, 0)
  // Lanes keep calling the handler; once the exit starts, new calls are held
  // (never started), and every job that had started finished first.
  assert.ok(out.finished >= 10 && out.finished <= 12, JSON.stringify(out))
  assert.equal(out.started, out.finished, 'no job was cut mid-way')
})

test('gracefulExit(worker) closes the worker first (it waits for its active jobs), then exits', () => {
  const script = `
    const { recycle } = require(${JSON.stringify(root)})
    const net = recycle({ maxJobs: 1 })
    const worker = { closed: false, close () { return new Promise((r) => setTimeout(() => { this.closed = true; r() }, 20)) } }
    process.on('exit', (code) => console.log(JSON.stringify({ code, closed: worker.closed })))
    net.on('recycle', () => net.gracefulExit(worker))
    net.jobStarted(); net.jobEnded()
    setInterval(() => {}, 1000) // a busy worker: only the exit ends it
  `
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout.trim()), { code: 0, closed: true })
})

test('gracefulExit rejects a worker it cannot close', async () => {
  const net = recycle({ maxJobs: 1 })
  await assert.rejects(net.gracefulExit({}), { name: 'TypeError', code: codes.INVALID_ARGUMENT })
  net.stop()
})

test('pm2 example worker runs standalone and exits 0 at its recycle threshold', () => {
  const r = spawnSync(process.execPath, [path.join(root, 'examples/pm2/worker.js')], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, LEAKGUARD_MAX_JOBS: '200', LEAKGUARD_JOB_MS: '0' }
  })
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /processed 200 jobs/)
  assert.match(r.stderr + r.stdout, /recycling after job 200: maxJobs 200 reached/)
})

test('monitor({ recycle }): the event comes through the monitor and quotes its leak warning', {
  timeout: 90_000
}, async () => {
  gc()
  const maxRss = processMemory().rss + (160 << 20)
  // Options (not a Recycler): the monitor creates the net and stops it with itself.
  const m = monitor({
    intervalMs: 10,
    checkEveryMs: 20,
    fullGcEveryMs: 20,
    windowMs: 4000,
    emitWarning: false,
    recycle: { maxRss }
  })
  // biome-ignore lint/correctness/noUnusedVariables: holds the leaked jobs' memory until the test drops it
  let retained = []
  // biome-ignore lint/correctness/noUnusedVariables: keeps the big allocation alive past the limit check
  let ballast
  try {
    const viaMonitor = []
    m.on('recycle', (e) => viaMonitor.push(e))
    retained = await leakUntilWarning(m, guard, { name: 'quoted-leak' })
    const [warning] = m.trend().warnings
    assert.ok(warning, 'the monitor found the leak')
    assert.deepEqual(viaMonitor, [], 'no threshold crossed yet')
    // Something big lands: the next job to end crosses maxRss.
    ballast = Buffer.alloc(Math.max(maxRss - processMemory().rss, 0) + (32 << 20), 1)
    await guard(async () => {}, { name: 'after-ballast' })()
    assert.equal(viaMonitor.length, 1)
    const e = viaMonitor[0]
    assert.equal(e.reason, 'maxRss')
    assert.equal(e.warning, warning)
    assert.ok(
      e.message.includes(`Recycling is a safety net, not the fix: the monitor warns: ${warning.message}`),
      e.message
    )
    assert.match(e.message, /heapUsed grows [\d.]+ KB\/job/)
  } finally {
    m.stop()
    retained = null
    ballast = null
  }
  assert.equal(dc.channel('leakguard:job:end').hasSubscribers, false, "the monitor's own net stopped with it")
})
