// measureGrowth / assertMemoryBounded on the real addon, in processes started
// WITHOUT --expose-gc (node --test does not pass it): the leak scenarios of
// __test__/fixtures/leaks each run in a fresh child process, two at a time.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AssertionError } from 'node:assert'
import { createRequire } from 'node:module'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import fs from 'node:fs'
import os from 'node:os'

const require = createRequire(import.meta.url)
const { measureGrowth, assertMemoryBounded } = require('../index.js')
const dir = path.dirname(fileURLToPath(import.meta.url))

test('bad arguments and options reject with coded errors naming the option and value', async () => {
  await assert.rejects(measureGrowth('nope'), {
    name: 'TypeError',
    code: 'ERR_LEAKGUARD_INVALID_ARGUMENT',
    message: 'The "fn" argument must be a function (received \'nope\')'
  })
  await assert.rejects(
    measureGrowth(() => {}, { iterations: -1 }),
    {
      name: 'RangeError',
      code: 'ERR_LEAKGUARD_INVALID_OPTION',
      message: 'options.iterations must be an integer in [10, 1000000000] (received -1)'
    }
  )
  await assert.rejects(
    measureGrowth(() => {}, { iterations: 20, samples: 40 }),
    {
      name: 'RangeError',
      message: 'options.samples must be at most options.iterations (20) (received 40)'
    }
  )
  await assert.rejects(
    measureGrowth(() => {}, { samples: 10 }),
    {
      name: 'RangeError',
      message: 'options.samples must be an integer in [20, 1000] (received 10)'
    }
  )
  await assert.rejects(
    measureGrowth(() => {}, { failOn: ['heap'] }),
    {
      name: 'RangeError',
      code: 'ERR_LEAKGUARD_INVALID_OPTION',
      message: /options\.failOn must be an array of 'heapUsed'/
    }
  )
  await assert.rejects(
    measureGrowth(() => {}, { failOn: 'rss' }),
    { name: 'TypeError', code: 'ERR_LEAKGUARD_INVALID_OPTION' }
  )
  await assert.rejects(
    measureGrowth(() => {}, { alpha: 0 }),
    { name: 'RangeError', message: /options\.alpha must be a number > 0 and <= 0\.5 \(received 0\)/ }
  )
  await assert.rejects(
    assertMemoryBounded(() => {}, { iteration: 10 }),
    { name: 'TypeError', message: /options\.iteration is not a known option/ }
  )
  await assert.rejects(
    measureGrowth(() => {}, { checkResources: 'yes' }),
    { name: 'TypeError', message: "options.checkResources must be a boolean (received 'yes')" }
  )
})

test('a trivial function is bounded; the report has every metric and the samples it was decided on', async () => {
  assert.equal(typeof globalThis.gc, 'undefined', 'this test must run without --expose-gc')
  const report = await assertMemoryBounded((i) => i * 2)
  // gc was obtained without leaving a global behind.
  assert.equal(typeof globalThis.gc, 'undefined')
  assert.equal(report.iterations, 2000)
  assert.equal(report.warmup, 400)
  assert.equal(report.verdict.bounded, true, report.verdict.message)
  assert.equal(report.confirmed, false, 'no confirmation run when nothing grew')
  assert.deepEqual(report.verdict.failed, [])
  assert.match(report.verdict.message, /^Memory bounded over 2000 iterations: heapUsed -?[\d.]+ B per iteration/)
  for (const m of ['heapUsed', 'external', 'arrayBuffers', 'rss', 'code']) {
    const g = report.metrics[m]
    assert.equal(typeof g.bytesPerIteration, 'number', m)
    assert.ok(g.pValue >= 0 && g.pValue <= 1, `${m} p ${g.pValue}`)
    assert.equal(typeof g.growthBytes, 'number', m)
    assert.equal(g.failed, false, `${m}: ${g.reason}`)
    assert.equal(report.samples[m].length, 33, m)
  }
  assert.deepEqual(report.samples.iteration.slice(0, 3), [0, 63, 125])
  assert.equal(report.samples.iteration.at(-1), 2000)
  // Forced GC really ran: after it, heapUsed (data) sits near the live set,
  // far below what 2400 calls' garbage would leave without collection.
  assert.ok(report.samples.heapUsed.every((v) => v > 0))
  assert.deepEqual(report.leftOpen, [])
})

test('a leak fails with an AssertionError that names metric, bytes per iteration, confidence and iterations', async () => {
  const kept = []
  const err = await assertMemoryBounded((i) => {
    kept.push({ id: i, payload: new Array(32).fill(i) })
  }).then(
    () => null,
    (e) => e
  )
  assert.ok(err instanceof AssertionError, String(err))
  assert.equal(err.code, 'ERR_ASSERTION')
  assert.equal(err.operator, 'assertMemoryBounded')
  assert.match(
    err.message,
    /^heapUsed grew [\d.]+ (B|KB) per iteration over 4000 iterations \(p<0\.001, Theil–Sen slope; 65 post-GC samples; still growing over the last 2000\); external flat, arrayBuffers flat/
  )
  assert.doesNotMatch(err.message, /leak detected/i)
  const perIteration = err.report.metrics.heapUsed.bytesPerIteration
  // 32 SMIs + array + record + slot: ~400 B on 64-bit V8.
  assert.ok(perIteration > 250 && perIteration < 700, `slope ${perIteration}`)
  assert.deepEqual(err.expected, { heapUsedBytesPerIteration: 0 })
  assert.equal(err.actual.heapUsedBytesPerIteration, Math.round(perIteration * 10) / 10)
  assert.equal(err.report.verdict.bounded, false)
  // Growth over the 2000 iterations was confirmed by 2000 more.
  assert.equal(err.report.confirmed, true)
  assert.equal(err.report.iterations, 4000)
  assert.equal(kept.length, 400 + 4000)
})

test('resources left open by every iteration fail the assertion with kind, type and creation site', async () => {
  const timers = []
  // A growth threshold no 100 timers reach: the resources alone make the verdict.
  const leaveTimer = () => {
    timers.push(setTimeout(() => {}, 60_000).unref())
  }
  const options = { iterations: 100, samples: 20, warmup: 10, minGrowthBytes: 16 << 20 }
  const err = await assertMemoryBounded(leaveTimer, options).then(
    () => null,
    (e) => e
  )
  assert.ok(err instanceof AssertionError, String(err))
  assert.equal(err.report.metrics.heapUsed.failed, false, err.message)
  assert.deepEqual(err.report.verdict.failed, ['leftOpen'])
  assert.match(
    err.message,
    /^Memory bounded over 100 iterations: .* Each iteration left open: 1 Timeout timer \(created at .*assert\.spec\.mjs:\d+:\d+\)\.$/
  )
  const [group] = err.report.leftOpen
  assert.equal(group.kind, 'timer')
  assert.equal(group.type, 'Timeout')
  assert.equal(group.count, 100)
  assert.equal(group.perIteration, 1)
  assert.deepEqual(err.actual, { leftOpenPerIteration: 1 })
  // Without resource checks the same handler passes, and nothing is tracked.
  const report = await assertMemoryBounded(leaveTimer, { ...options, checkResources: false })
  assert.deepEqual(report.leftOpen, [])
  for (const t of timers) clearTimeout(t)
})

test('countObjects writes its snapshots into a private 0700 directory of its own, removed afterwards', async () => {
  // A hostile local user can pre-create files at guessable names in a shared
  // tmpdir; the snapshots (every string of the process) must not go there.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-assert-tmp-'))
  const savedTmpdir = process.env.TMPDIR
  process.env.TMPDIR = tmp
  const seen = []
  try {
    await measureGrowth(
      () => {
        if (seen.length > 0) return
        for (const entry of fs.readdirSync(tmp, { recursive: true })) {
          if (!entry.endsWith('.heapsnapshot')) continue
          const dir = path.dirname(path.join(tmp, entry))
          seen.push({ entry, dirMode: fs.statSync(dir).mode & 0o777, inTmpdirItself: dir === tmp })
        }
      },
      { iterations: 100, samples: 20, warmup: 0, countObjects: true, checkResources: false }
    )
  } finally {
    if (savedTmpdir === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = savedTmpdir
  }
  assert.equal(seen.length, 1, 'the first snapshot exists while the iterations run')
  assert.equal(seen[0].inTmpdirItself, false, seen[0].entry)
  assert.equal(seen[0].dirMode, 0o700)
  assert.deepEqual(fs.readdirSync(tmp), [], 'nothing is left behind')
  fs.rmdirSync(tmp)
})

test('countObjects names the constructor that grows per iteration', async () => {
  class OrderRecord {
    constructor(i) {
      this.id = i
      this.lines = new Array(200).fill(i)
    }
  }
  const orders = []
  const err = await assertMemoryBounded(
    (i) => {
      orders.push(new OrderRecord(i))
    },
    { iterations: 500, samples: 20, countObjects: true, checkResources: false }
  ).then(
    () => null,
    (e) => e
  )
  assert.ok(err instanceof AssertionError, String(err))
  const record = err.report.objects.find((o) => o.name === 'OrderRecord')
  assert.ok(record, JSON.stringify(err.report.objects))
  assert.equal(record.countDelta, err.report.iterations)
  assert.equal(record.perIteration, 1)
  assert.match(err.message, /Heap objects added per iteration: .*\b1 OrderRecord \(\d+ B\)/)
  // Off by default: no snapshots, no objects.
  assert.equal((await measureGrowth((i) => i, { iterations: 100, samples: 20, checkResources: false })).objects, null)
})

test('async functions run with the requested concurrency, each index once', async () => {
  let inFlight = 0
  let maxInFlight = 0
  const seen = new Uint8Array(100 + 400)
  const report = await measureGrowth(
    async (i) => {
      seen[i]++
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      await new Promise((resolve) => setImmediate(resolve))
      inFlight--
    },
    { iterations: 400, warmup: 100, samples: 20, concurrency: 8 }
  )
  assert.equal(maxInFlight, 8)
  assert.ok(
    seen.every((n) => n === 1),
    'every index from 0 to warmup + iterations - 1 exactly once'
  )
  assert.equal(report.verdict.bounded, true, report.verdict.message)
})

test("fn's own error rejects measureGrowth with that error", async () => {
  const boom = new Error('job failed')
  await assert.rejects(
    measureGrowth(
      (i) => {
        if (i === 50) throw boom
      },
      { checkResources: false }
    ),
    (e) => e === boom
  )
  await assert.rejects(
    measureGrowth(async (i) => {
      if (i === 50) throw boom
    }),
    (e) => e === boom
  )
})

test('RSS is reported but fails only when asked for', async () => {
  const report = await measureGrowth((i) => i, { iterations: 200, samples: 20, failOn: ['rss'], checkResources: false })
  assert.deepEqual(report.options.failOn, ['rss'])
  assert.equal(report.metrics.heapUsed.failed, false)
  assert.equal(report.metrics.rss.failed, report.metrics.rss.growing)
})

// ---- the leak scenarios, each in a fresh process ---------------------------

const runner = path.join(dir, 'fixtures', 'run-scenario.js')
let running = 0
const queue = []
function scenario(file, variant, runs, options = {}) {
  return new Promise((resolve, reject) => {
    const start = () => {
      running++
      execFile(
        process.execPath,
        [runner, file, variant, String(runs), JSON.stringify(options)],
        { timeout: 120_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          running--
          if (queue.length) queue.shift()()
          if (err) return reject(new Error(`${file} ${variant}: ${err.message}\n${stderr}`))
          try {
            resolve(JSON.parse(stdout))
          } catch {
            reject(new Error(`${file} ${variant}: bad output ${stdout}\n${stderr}`))
          }
        }
      )
    }
    // Two at a time: the machine has two cores and each process measures only itself.
    if (running < 2) start()
    else queue.push(start)
  })
}

const LEAKS = [
  'global-array',
  'global-map',
  'listener',
  'pool',
  'stream',
  'closure',
  'timer',
  'cache',
  'slow',
  'buffer'
]
const CONTROLS = ['bounded-cache', 'warmup', 'sawtooth', 'temp-1mb', 'rolling-window']
const CONTROL_RUNS = 5
// The slow leak (~64 B/iteration) is sized so that it adds a few hundred KB.
const sized = (name) => (name === 'slow' ? { iterations: 6000 } : {})

// Started together so the pool stays busy; each test awaits its own result.
const pending = new Map()
for (const name of LEAKS) pending.set(`${name}:leaky`, scenario(`${name}.js`, 'leaky', 1, sized(name)))
for (const name of LEAKS) pending.set(`${name}:fixed`, scenario(`${name}.js`, 'fixed', CONTROL_RUNS, sized(name)))
for (const name of CONTROLS) pending.set(`control-${name}`, scenario(`control-${name}.js`, 'control', CONTROL_RUNS))

for (const name of LEAKS) {
  const fixture = require(`./fixtures/leaks/${name}.js`)
  test(
    `leak scenario "${fixture.rootCause}" is detected on ${fixture.expect.metrics.join(' + ')}` +
      (fixture.expect.leftOpen
        ? ` and as one ${fixture.expect.leftOpen.type} ${fixture.expect.leftOpen.kind} left open per job`
        : ''),
    async () => {
      const [run] = await pending.get(`${name}:leaky`)
      assert.equal(run.bounded, false, run.message)
      for (const m of fixture.expect.metrics) assert.ok(run.failed.includes(m), `${m} should fail: ${run.message}`)
      // The metric the leak is in is the one the message leads with.
      assert.ok(run.message.startsWith(`${fixture.expect.metrics[0]} grew `), run.message)
      assert.match(run.message, /per iteration over \d+ iterations \(p[<=]/)
      if (fixture.expect.leftOpen) {
        assert.ok(run.failed.includes('leftOpen'), run.message)
        const g = run.leftOpen[0]
        assert.equal(g.kind, fixture.expect.leftOpen.kind)
        assert.equal(g.type, fixture.expect.leftOpen.type)
        assert.equal(g.perIteration, 1)
        assert.ok(g.site.includes(`${name}.js:`), g.site)
        assert.match(run.message, new RegExp(`Each iteration left open: 1 .*\\(created at .*${name}\\.js:\\d+:\\d+\\)`))
      } else {
        assert.deepEqual(run.leftOpen, [], 'plain memory leaks leave no resource open')
      }
    }
  )
}

for (const name of LEAKS) {
  const fixture = require(`./fixtures/leaks/${name}.js`)
  test(`fixed version of "${fixture.rootCause}" passes ${CONTROL_RUNS} runs out of ${CONTROL_RUNS}`, async () => {
    const runs = await pending.get(`${name}:fixed`)
    assert.equal(runs.length, CONTROL_RUNS)
    for (const run of runs) {
      assert.equal(run.bounded, true, run.message)
      assert.deepEqual(run.leftOpen, [])
    }
  })
}

for (const name of CONTROLS) {
  const fixture = require(`./fixtures/leaks/control-${name}.js`)
  test(`control "${fixture.description}" never fails (${CONTROL_RUNS} runs)`, async () => {
    const runs = await pending.get(`control-${name}`)
    assert.equal(runs.length, CONTROL_RUNS)
    for (const run of runs) assert.equal(run.bounded, true, run.message)
  })
}
