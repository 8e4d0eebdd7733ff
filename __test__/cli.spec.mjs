// The `leakguard` command, run as users run it: `node bin/leakguard.js ...` in
// a child process, on fixture handlers that leak and that do not.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const require = createRequire(import.meta.url)
const { Progress, verdictOf, formatCheck } = require('../lib/cli/cli.js')

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = path.join(root, 'bin', 'leakguard.js')
const fixtures = path.join(root, '__test__', 'fixtures', 'cli')
// Small runs: each check takes a couple of seconds on the 2-core VM.
const SMALL = ['--jobs', '250', '--warmup', '50', '--snapshot-jobs', '60']

function cli(args, { cwd = root, env = process.env } = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd, env, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr })
    })
  })
}

test('check on a leaky CommonJS handler exits 1 and names the leak: metric, bytes/job, the open resource and its site', async () => {
  const r = await cli(['check', 'fixtures/cli/leaky.cjs', ...SMALL], { cwd: path.join(root, '__test__') })
  assert.equal(r.code, 1, r.stdout + r.stderr)
  assert.match(r.stdout, /^LEAK: heapUsed grows \+\d+(\.\d+)? KB\/job \(p<0\.001\)/m)
  assert.match(r.stdout, /heapUsed\s+\+\d+(\.\d+)? KB\/job\s+p<0\.001.*GROWS/)
  // The interval: one per job, created at line 8 of the fixture.
  assert.match(r.stdout, /1\.00×\s+Interval \(timer\)\s+at .*leaky\.cjs:8:3/)
  // Not a TTY: plain progress lines on stderr, nothing on stdout but the verdict.
  assert.match(r.stderr, /^measuring \d+\/300$/m)
  assert.doesNotMatch(r.stderr, /\r/)
})

test('check on a bounded ESM handler (default export + makeJob) exits 0', async () => {
  const r = await cli(['check', path.join(fixtures, 'clean.mjs'), ...SMALL])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^BOUNDED: no metric grows per job/m)
  assert.match(r.stdout, /Resources left open per job: none/)
  assert.doesNotMatch(r.stdout, /GROWS/)
  // Only V8-internal groups may move between the snapshots of a bounded handler.
  const heap = r.stdout.slice(r.stdout.indexOf('Heap types growing per job'))
  for (const line of heap
    .split('\n')
    .slice(1)
    .filter((l) => /×\/job/.test(l)))
    assert.match(line, /^ {2}(\(|system \/ )/, line)
})

test('check --json prints only JSON on stdout, with the same facts as the text verdict', async () => {
  const r = await cli(['check', path.join(fixtures, 'leaky.cjs'), ...SMALL, '--json'])
  assert.equal(r.code, 1, r.stderr)
  const result = JSON.parse(r.stdout)
  assert.equal(result.verdict.leak, true)
  assert.deepEqual(result.verdict.growing, ['heapUsed'])
  assert.equal(result.metrics.heapUsed.growing, true)
  // ~1 KB payload per job: between 0.5 and 8 KB/job whatever V8's object layout.
  assert.ok(
    result.metrics.heapUsed.bytesPerJob > 512 && result.metrics.heapUsed.bytesPerJob < 8192,
    String(result.metrics.heapUsed.bytesPerJob)
  )
  assert.ok(result.metrics.heapUsed.pValue < 0.001)
  const interval = result.leftOpen.find((o) => o.type === 'Interval')
  assert.ok(interval, JSON.stringify(result.leftOpen))
  assert.equal(interval.perJob, 1)
  assert.match(interval.site, /leaky\.cjs:8:3$/)
  assert.equal(result.jobs, 250)
  assert.equal(result.warmup, 50)
  // Samples cover warm-up and measured jobs, in job order.
  assert.equal(result.samples[0].job, 0)
  // A leak is confirmed by measureGrowth with a second run as long as the first.
  assert.equal(result.confirmed, true)
  assert.equal(result.measuredJobs, 500)
  assert.equal(result.samples.at(-1).job, 550)
  assert.ok(result.samples.every((s, i) => i === 0 || s.job > result.samples[i - 1].job))
  // The heap diff: one kept Payload and one Timeout per job between the
  // snapshots, the Payload found through the module's `kept` array.
  assert.equal(result.heapDiff.jobsBetween, 60)
  assert.deepEqual(result.heapDiff.atJobs, [550, 610])
  const obj = result.heapDiff.suspects.find((s) => s.name === 'Payload')
  const timeout = result.heapDiff.suspects.find((s) => s.name === 'Timeout')
  assert.ok(obj && timeout, JSON.stringify(result.heapDiff.suspects.map((s) => s.name)))
  assert.ok(Math.abs(obj.perJob - 1) < 0.1, String(obj.perJob))
  assert.ok(Math.abs(timeout.perJob - 1) < 0.1, String(timeout.perJob))
  assert.match(obj.retainerPath, /kept \(Array\)/)
  assert.ok(
    result.verdict.reasons.some((r) => /Payload retained per job in the heap/.test(r)),
    JSON.stringify(result.verdict.reasons)
  )
  // verdictOf() on the JSON gives back the same verdict (the report uses it).
  assert.equal(verdictOf(result).headline, result.verdict.headline)
})

test('check --export picks a named handler; without it the error lists the exports (exit 2)', async () => {
  const ok = await cli(['check', path.join(fixtures, 'named.cjs'), '--export', 'process', ...SMALL, '--json'])
  assert.equal(ok.code, 0, ok.stderr)
  assert.equal(JSON.parse(ok.stdout).exportName, 'process')
  const missing = await cli(['check', path.join(fixtures, 'named.cjs'), ...SMALL])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /has no default export function .*exports: process, makeJob.*pass --export <name>/)
  assert.match(missing.stderr, /^Usage: leakguard check <module>/m)
  const wrong = await cli(['check', path.join(fixtures, 'named.cjs'), '--export', 'nope', ...SMALL])
  assert.equal(wrong.code, 2)
  assert.match(wrong.stderr, /no function export 'nope'/)
})

test('a handler whose first job throws: exit 2 with its error', async () => {
  const r = await cli(['check', path.join(fixtures, 'throws.cjs'), ...SMALL])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /the first job threw: database unreachable/)
  assert.equal(r.stdout, '')
})

test('check stops with exit 2 naming the job when a job never settles (--job-timeout)', async () => {
  const started = Date.now()
  const r = await cli(['check', path.join(fixtures, 'hangs.cjs'), ...SMALL, '--job-timeout', '300'])
  assert.equal(r.code, 2, r.stdout + r.stderr)
  assert.match(r.stderr, /job 30 did not settle within 300 ms \(--job-timeout\)/)
  assert.equal(r.stdout, '')
  assert.ok(Date.now() - started < 30_000)
})

test('bad arguments exit 2 with a usage line naming the flag and the value', async () => {
  const leaky = path.join(fixtures, 'leaky.cjs')
  const cases = [
    [['check', leaky, '--jobs', 'abc'], /--jobs must be an integer >= 20 \(received 'abc'\)/],
    [['check', leaky, '--jobs', '5'], /--jobs must be an integer >= 20 \(received '5'\)/],
    [['check', leaky, '--warmup=-1'], /--warmup must be an integer >= 0 \(received '-1'\)/],
    [['check', leaky, '--concurrency', '0'], /--concurrency must be an integer >= 1 \(received '0'\)/],
    [['check', leaky, '--job-timeout=-5'], /--job-timeout must be an integer >= 0 \(received '-5'\)/],
    [['check', leaky, '--jobs', '20', '--concurrency', '30'], /--concurrency must be <= --jobs \(received 30 > 20\)/],
    [['check', leaky, '--jbos', '3'], /Unknown option '--jbos'/],
    [['check'], /missing argument/],
    [['check', 'no/such/module.js'], /cannot find 'no\/such\/module\.js'/],
    [['diff', leaky], /missing argument/],
    [['diff', leaky, leaky, '--top', 'x'], /--top must be an integer >= 1 \(received 'x'\)/],
    [['demo', 'extra'], /unexpected argument 'extra'/]
  ]
  for (const [args, message] of cases) {
    const r = await cli(args)
    assert.equal(r.code, 2, args.join(' '))
    assert.match(r.stderr, message, args.join(' '))
    assert.match(r.stderr, new RegExp(`^Usage: leakguard ${args[0]} `, 'm'), args.join(' '))
    assert.equal(r.stdout, '')
  }
  const none = await cli([])
  assert.equal(none.code, 2)
  assert.match(none.stderr, /^Usage:/m)
  const unknown = await cli(['chek'])
  assert.equal(unknown.code, 2)
  assert.match(unknown.stderr, /unknown command 'chek'/)
})

test('--help for each command exits 0 and prints its usage', async () => {
  for (const command of ['check', 'diff', 'demo']) {
    const r = await cli([command, '--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, new RegExp(`^Usage: leakguard ${command}`))
    assert.match(r.stdout, /Exit codes: 0/)
  }
  const top = await cli(['--help'])
  assert.equal(top.code, 0)
  assert.match(top.stdout, /leakguard check <module>/)
})

class Capture extends Writable {
  constructor(tty, columns) {
    super()
    this.isTTY = tty
    this.columns = columns
    this.text = ''
  }

  _write(chunk, _enc, cb) {
    this.text += chunk
    cb()
  }
}

test('progress: a \\r-redrawn bar that fits the terminal on a TTY, cleared at the end; quarter lines otherwise', () => {
  const tty = new Capture(true, 50)
  const bar = new Progress(tty)
  for (let i = 1; i <= 200; i++) bar.update({ phase: 'measure', done: i, total: 200 })
  const frames = tty.text.split('\r').filter(Boolean)
  assert.equal(frames.length, 200)
  for (const f of frames) assert.ok(f.replace('\x1b[K', '').length < 50, JSON.stringify(f))
  assert.match(frames.at(-1), /^measuring \[#+\] 200\/200\x1b\[K$/)
  assert.match(frames[99], /^measuring \[#+-+\] 100\/200/)
  bar.log('handler output\n')
  bar.clear()
  assert.ok(tty.text.endsWith('handler output\n'), 'the bar is cleared before child output')

  const plain = new Capture(false)
  const lines = new Progress(plain)
  for (let i = 1; i <= 200; i++) lines.update({ phase: i <= 40 ? 'warmup' : 'measure', done: i, total: 200 })
  assert.deepEqual(plain.text.trim().split('\n'), [
    'warm-up 1/200',
    'measuring 50/200',
    'measuring 100/200',
    'measuring 150/200',
    'measuring 200/200'
  ])
})

test('check leaves no snapshot files behind', async () => {
  // A private TMPDIR, so that other processes' temporary files cannot interfere.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-tmpdir-'))
  try {
    const r = await cli(['check', path.join(fixtures, 'clean.mjs'), ...SMALL, '--json'], {
      env: { ...process.env, TMPDIR: tmp }
    })
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(fs.readdirSync(tmp), [])
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
})

test('demo: the leaky example leaks (memory, a listener and an interval per job), the fixed one is bounded; one report for both', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-demo-'))
  try {
    const r = await cli(['demo', '--jobs', '200'], { cwd: dir })
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const [leaky, fixed] = r.stdout.split(/^(?=leakguard check )/m)
    assert.match(leaky, /examples\/leaky-worker\.js/)
    assert.match(leaky, /^LEAK: heapUsed grows/m)
    assert.match(leaky, /1\.00×\s+EventEmitter#settings \(listener\)\s+at .*examples\/leaky-worker\.js:\d+:\d+/)
    assert.match(leaky, /1\.00×\s+Interval \(timer\)\s+at .*examples\/leaky-worker\.js:\d+:\d+/)
    assert.match(fixed, /examples\/fixed-worker\.js/)
    assert.match(fixed, /^BOUNDED: /m)
    assert.match(fixed, /Resources left open per job: none/)
    assert.match(r.stdout, /Leaky worker: leak found; fixed worker: bounded\./)
    const html = fs.readFileSync(path.join(dir, 'leakguard-report.html'), 'utf8')
    assert.equal((html.match(/<section class="result /g) || []).length, 2)
    assert.match(html, /<section class="result leak" data-module="examples\/leaky-worker\.js">/)
    assert.match(html, /<section class="result bounded" data-module="examples\/fixed-worker\.js">/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('diff on two snapshots written by a child process: the type kept per job, its rate and retainer path', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-diff-'))
  try {
    const [a, b] = [path.join(dir, 'a.heapsnapshot'), path.join(dir, 'b.heapsnapshot')]
    await new Promise((resolve, reject) =>
      execFile(process.execPath, [path.join(fixtures, 'write-snapshots.cjs'), a, b], (err) =>
        err ? reject(err) : resolve()
      )
    )
    const text = await cli(['diff', a, b, '--jobs-between', '300', '--verbose'])
    assert.equal(text.code, 1, text.stderr)
    assert.match(text.stdout, /^ {2}LeakedJob\s+1\.00×\/job\s+\+300 objects/m)
    // Only the running top-level code holds `kept`, so the path starts on the
    // stack; but it leads through the array, not to the job in flight. The
    // view folds the roots; --verbose adds the full path.
    assert.match(
      text.stdout,
      /LeakedJob[^\n]*\n\s+path: … \d+ internal hops? … → .*\(Array\) → \[\d+\] \(LeakedJob\)\n\s+full path: \(GC roots\) → .*\(Array\) → \[\d+\] \(LeakedJob\)$/m
    )
    assert.match(text.stdout, /^ {2}\+ \d+ V8-internal groups? \(strings[^)]*\): \+\d+ objects/m)
    const json = await cli(['diff', a, b, '--jobs-between', '300', '--top', '3', '--json'])
    assert.equal(json.code, 1, json.stderr)
    const d = JSON.parse(json.stdout)
    assert.equal(d.suspects[0].name, 'LeakedJob')
    assert.equal(d.suspects[0].countDelta, 300)
    assert.equal(d.suspects[0].perJob, 1)
    assert.ok(d.suspects.length <= 3)
    // Without a job count there is no per-job claim, so no leak verdict.
    const plain = await cli(['diff', a, b])
    assert.equal(plain.code, 0, plain.stderr)
    assert.match(plain.stdout, /LeakedJob/)
    const bad = await cli(['diff', a, path.join(fixtures, 'leaky.cjs')])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /cannot diff the snapshots/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('diff where only V8-internal groups grow (strings kept per job): one folded line, exit 0', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-diff-'))
  try {
    const [a, b] = [path.join(dir, 'a.heapsnapshot'), path.join(dir, 'b.heapsnapshot')]
    // Each "job" keeps one flat string and nothing else: (string) grows, no program type does.
    const script = `const v8 = require('v8'); const kept = []; module.exports = kept
      const job = (i) => kept.push(('job ' + i + ' ').repeat(4).slice(1))
      for (let i = 0; i < 50; i++) job(i)
      v8.writeHeapSnapshot(process.argv[1])
      for (let i = 50; i < 350; i++) job(i)
      v8.writeHeapSnapshot(process.argv[2])`
    await new Promise((resolve, reject) =>
      execFile(process.execPath, ['-e', script, a, b], (err) => (err ? reject(err) : resolve()))
    )
    const r = await cli(['diff', a, b, '--jobs-between', '300'])
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(
      r.stdout,
      /^No program type grew; only V8-internal groups:\n {2}\+ \d+ V8-internal groups? \(strings[^)]*\): \+\d+ objects, \+[\d.]+ KB self\n$/m
    )
    assert.doesNotMatch(r.stdout, /retained by:|path:/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('verdict: the headline orders the growing metrics by bytes per job', () => {
  const m = (bytesPerJob) => ({ bytesPerJob, pValue: 0.0001, growthBytes: bytesPerJob * 2000, growing: true })
  const flat = { bytesPerJob: 0, pValue: 1, growthBytes: 0, growing: false }
  const v = verdictOf({
    metrics: { heapUsed: m(210), external: m(16 * 1024), arrayBuffers: m(16 * 1024), rss: flat, code: flat },
    leftOpen: []
  })
  assert.deepEqual(v.growing, ['external', 'arrayBuffers', 'heapUsed'])
  assert.match(v.headline, /^LEAK: external grows \+16\.0 KB\/job \(p<0\.001\)$/)
  assert.deepEqual(
    v.reasons.map((r) => r.split(' ')[0]),
    ['external', 'arrayBuffers', 'heapUsed']
  )
})

test('verdict: a resource left open by most jobs, or a program type retained per job, is a leak even when bytes stay under the floor', () => {
  const flat = { bytesPerJob: 20, pValue: 0.2, growthBytes: 4000, growing: false }
  const base = {
    metrics: { heapUsed: flat, external: flat, arrayBuffers: flat, rss: flat, code: flat },
    leftOpen: [],
    heapDiff: { jobsBetween: 100, suspects: [] }
  }
  assert.equal(verdictOf(base).leak, false)
  assert.match(verdictOf(base).headline, /^BOUNDED: /)
  const timers = { ...base, leftOpen: [{ kind: 'timer', type: 'Timeout', site: 'w.js:3:5', count: 90, perJob: 0.9 }] }
  assert.equal(verdictOf(timers).leak, true)
  assert.equal(verdictOf(timers).headline, 'LEAK: 0.90× Timeout (timer) left open per job')
  // Some jobs leaving a socket open for the next one (a pool) is not per-job.
  assert.equal(
    verdictOf({ ...base, leftOpen: [{ kind: 'handle', type: 'Socket', count: 10, perJob: 0.1 }] }).leak,
    false
  )
  const heap = {
    ...base,
    heapDiff: {
      jobsBetween: 100,
      suspects: [
        { name: '(string)', perJob: 3 },
        { name: 'Order', perJob: 1, retainedSizeDelta: 9000 }
      ]
    }
  }
  assert.equal(verdictOf(heap).leak, true)
  assert.equal(verdictOf(heap).headline, 'LEAK: 1 heap type retained per job (Order)')
  // V8's internal groups alone are never a verdict.
  assert.equal(
    verdictOf({
      ...base,
      heapDiff: {
        jobsBetween: 100,
        suspects: [
          { name: '(string)', perJob: 3 },
          { name: 'system / Context', perJob: 1 }
        ]
      }
    }).leak,
    false
  )
})

test('check output lists the program types growing per job and folds V8-internal groups into one line', () => {
  const flat = { bytesPerJob: 20, pValue: 0.2, growthBytes: 4000, growing: false }
  const result = {
    module: '/w/worker.js',
    jobs: 400,
    warmup: 100,
    concurrency: 1,
    durationMs: 2000,
    metrics: { heapUsed: flat, external: flat, arrayBuffers: flat, rss: flat, code: flat },
    leftOpen: [],
    heapDiff: {
      jobsBetween: 200,
      suspects: [
        {
          name: 'Order',
          perJob: 1,
          countDelta: 200,
          selfSizeDelta: 9600,
          retainedSizeDelta: 40960,
          retainerPath: 'global → orders (Array) → [7] (Order)'
        },
        { name: 'system / Context', perJob: 1, countDelta: 200, selfSizeDelta: 8 << 10, retainedSizeDelta: 150 << 10 },
        { name: '(string)', perJob: 12, countDelta: 2400, selfSizeDelta: 90 << 10, retainedSizeDelta: 90 << 10 },
        {
          name: '(concatenated string)',
          perJob: 9,
          countDelta: 1800,
          selfSizeDelta: 60 << 10,
          retainedSizeDelta: 100 << 10
        },
        { name: '(compiled code)', perJob: 0.3, countDelta: 60, selfSizeDelta: 2 << 10, retainedSizeDelta: 17 << 10 }
      ]
    }
  }
  const text = formatCheck(result)
  assert.match(
    text,
    /^Heap types growing per job \(snapshots 200 jobs apart\):\n {2}Order\s+1\.00×\/job\s+\+200 objects\s+\+40\.0 KB retained\n {6}retained by: global → orders \(Array\) → \[7\] \(Order\)\n/m
  )
  // Strings first (the largest), then contexts, then code; self sizes summed: 160 KB.
  assert.match(
    text,
    /\n {2}\+ 4 V8-internal groups \(strings, contexts, compiled code\): \+4460 objects, \+160\.0 KB self\n$/
  )
  for (const name of ['(string)', '(concatenated string)', 'system / Context', '(compiled code)']) {
    assert.ok(!text.split('\n').some((l) => l.trimStart().startsWith(name)), `${name} has a line of its own:\n${text}`)
  }
  // Internal groups alone: no program type listed, the folded line, and no verdict.
  const internalOnly = { ...result, heapDiff: { jobsBetween: 200, suspects: result.heapDiff.suspects.slice(4) } }
  assert.match(
    formatCheck(internalOnly),
    /apart\): none\n {2}\+ 1 V8-internal group \(compiled code\): \+60 objects, \+2\.00 KB self\n$/
  )
  assert.match(verdictOf(internalOnly).headline, /^BOUNDED: /)
})

// Locate: for each root cause of the field guide, `leakguard check` names the
// variable that holds what grows, with its file and line, and the path it
// shows never runs through leakguard's own objects. One run per fixture
// (text with --verbose, and the report, whose embedded JSON has each step's
// script), three at a time.
const LOCATE = ['--jobs', '60', '--warmup', '20', '--snapshot-jobs', '40', '--verbose']
const ROOT_CAUSES = [
  // fixture, the growing type, the variable that holds it (and its text)
  [
    'global-array.cjs',
    'JobRecord',
    /held by processed \(Array\), a module-scope variable of __test__\/fixtures\/locate\/global-array\.cjs:4\b/
  ],
  [
    'map-by-id.cjs',
    'Entry',
    /held by inFlight \(Map\), a module-scope variable of __test__\/fixtures\/locate\/map-by-id\.cjs:4\b/
  ],
  [
    'listener.cjs',
    'Job',
    /held by configBus \(EventEmitter\), a module-scope variable of __test__\/fixtures\/locate\/listener\.cjs:6\b/
  ],
  [
    'closure-array.cjs',
    'Upload',
    /held by retries \(Array\), a module-scope variable of __test__\/fixtures\/locate\/closure-array\.cjs:5\b/
  ],
  [
    'interval.cjs',
    'Heartbeat',
    /held by heartbeat \(Heartbeat\), a closure variable of __test__\/fixtures\/locate\/interval\.cjs:6, captured by the function at __test__\/fixtures\/locate\/interval\.cjs:7\b/
  ],
  [
    'stream.cjs',
    'Request',
    /held by request \(Request\), a closure variable of __test__\/fixtures\/locate\/stream\.cjs:13, captured by the function at __test__\/fixtures\/locate\/stream\.cjs:15\b/
  ],
  [
    'pool.cjs',
    'ConnectionPool',
    /held by this \(ConnectionPool\), a closure variable of __test__\/fixtures\/locate\/pool\.cjs, captured by the function at __test__\/fixtures\/locate\/pool\.cjs:14\b/
  ],
  [
    'memo.cjs',
    'Rendered',
    /held by renderCache \(Map\), a module-scope variable of __test__\/fixtures\/locate\/memo\.cjs:5\b/
  ],
  [
    'buffer.cjs',
    'Buffer',
    /held by thumbnails \(Array\), a module-scope variable of __test__\/fixtures\/locate\/buffer\.cjs:4\b/
  ]
]

// The Buffer's wrapper grows the heap by ~250 B/job: with a 16 KB floor both
// heapUsed and external grow over the short run, and the headline must pick
// external (16 KB/job).
const EXTRA = { 'buffer.cjs': ['--min-growth', '16384'] }

/** Runs `check` on each fixture, `width` at a time; resolves to { fixture: { text, data } }. */
async function checkAll(fixtures, width = 3) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-locate-'))
  const out = {}
  const queue = [...fixtures]
  async function lane() {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const report = path.join(dir, `${f}.html`)
      const r = await cli([
        'check',
        path.join('__test__', 'fixtures', 'locate', f),
        ...LOCATE,
        ...(EXTRA[f] ?? []),
        '--report',
        report
      ])
      const html = fs.existsSync(report) ? fs.readFileSync(report, 'utf8') : ''
      const json = html.match(/<script type="application\/json" id="leakguard-data">(.*?)<\/script>/s)
      out[f] = { ...r, html, data: json ? JSON.parse(json[1])[0] : undefined }
    }
  }
  try {
    await Promise.all(Array.from({ length: width }, lane))
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
  return out
}

let located
const locateAll = () => (located ??= checkAll([...ROOT_CAUSES.map(([f]) => f), 'registry-user.cjs']))
const ownLib = path.join(root, 'lib') + path.sep

for (const [fixture, type, held] of ROOT_CAUSES) {
  test(`locate (${fixture}): check names the variable holding the growing ${type} with its file and line; no path runs through leakguard's own objects`, async () => {
    const r = (await locateAll())[fixture]
    assert.equal(r.code, 1, r.stdout + r.stderr)
    // The suspect's lines: its own, then "held by", "path", "full path".
    const block = r.stdout.match(new RegExp(`^ {2}${type} .*\\n((?: {6}.*\\n)+)`, 'm'))
    assert.ok(block, `no ${type} among the heap types:\n${r.stdout}`)
    assert.match(block[1], held)
    // The path seen from the program starts after Node's internal hops
    // (folded) and reaches the type; the full path is there with --verbose.
    assert.match(block[1], new RegExp(`^ {6}path: … \\d+ internal hops? … → .*\\(${type}\\)$`, 'm'))
    assert.match(block[1], /^ {6}full path: /m)
    const variable = held.source.match(/^held by (\w+)/)[1]
    assert.match(r.stdout, new RegExp(`^Look at: .*\\b${variable} \\(`, 'm'))
    // Every program type's path: no step is the harness's, none is defined
    // in leakguard's lib/. (V8's internal groups, folded in the text, may be
    // leakguard's own: the JIT compiling its functions between the snapshots.)
    assert.ok(r.data, 'the report embeds the result')
    for (const s of r.data.heapDiff.suspects.filter((x) => !/^\(|^system \//.test(x.name))) {
      for (const step of s.retainers) {
        assert.ok(!step.harness, `${s.name}: ${s.retainerPath}`)
        assert.ok(!(step.script ?? '').startsWith(ownLib), `${s.name} via ${step.script}: ${s.retainerPath}`)
      }
      assert.doesNotMatch(s.retainerPath, /_onImmediate|idleWaiters|setStorage/, s.name)
    }
  })
}

test('locate: the headline names the largest growth first (a Buffer per job grows external by 16 KB, heapUsed by its wrapper)', async () => {
  const r = (await locateAll())['buffer.cjs']
  assert.match(r.stdout, /^LEAK: external grows \+1[5-7]\.\d+ KB\/job \(p<0\.001\)/m)
  const growing = r.data.verdict.growing
  assert.ok(growing.includes('heapUsed'), `heapUsed grows too: ${JSON.stringify(growing)}`)
  assert.notEqual(growing[0], 'heapUsed')
  const rates = growing.map((m) => r.data.metrics[m].bytesPerJob)
  assert.deepEqual(
    rates,
    [...rates].sort((a, b) => b - a)
  )
})

test('locate: a module-scope array inside node_modules is blamed on its package (name@version), beside the line that requires it', async () => {
  const r = (await locateAll())['registry-user.cjs']
  assert.equal(r.code, 1, r.stdout + r.stderr)
  assert.match(
    r.stdout,
    /held by registered \(Array\), a module-scope variable of job-registry@2\.3\.1 \(__test__\/fixtures\/locate\/node_modules\/job-registry\/index\.js:5\), required at __test__\/fixtures\/locate\/registry-user\.cjs:3, \+1\.00 Registration per job/
  )
  assert.match(
    r.stdout,
    /^Look at: registered \(Array\) in job-registry@2\.3\.1 \(__test__\/fixtures\/locate\/node_modules\/job-registry\/index\.js:5\), required at __test__\/fixtures\/locate\/registry-user\.cjs:3$/m
  )
  const s = r.data.heapDiff.suspects.find((x) => x.name === 'Registration')
  assert.equal(s.holder.package, 'job-registry@2.3.1')
  assert.equal(s.holder.importedAt.line, 3)
  // The report's Top suspects block names the package too.
  const top = r.html.match(/<div class="top-suspects">(.*?)<\/div>/s)
  assert.ok(top, 'a Top suspects block')
  assert.match(top[1], /registered/)
  assert.match(top[1], /job-registry@2\.3\.1/)
  assert.match(
    top[1],
    /required at <a class="site" href="file:\/\/[^"]*registry-user\.cjs">__test__\/fixtures\/locate\/registry-user\.cjs:3<\/a>/
  )
})

test("check blames the package that left a resource open, beside the user's call line (text, JSON, HTML)", async () => {
  const worker = path.join(root, '__test__', 'fixtures', 'blame', 'check-worker.js')
  const callLine =
    fs
      .readFileSync(worker, 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('CALL:query')) + 1
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-blame-'))
  try {
    const report = path.join(tmp, 'report.html')
    const args = ['check', worker, '--jobs', '100', '--warmup', '20', '--snapshot-jobs', '0']
    const text = await cli([...args, '--report', report])
    assert.equal(text.code, 1, text.stderr)
    const at = `called from __test__/fixtures/blame/check-worker.js:${callLine}:`
    assert.match(text.stdout, new RegExp(`1\\.00×  Socket \\(socket\\)  left open by leaky-driver@1\\.4\\.2, ${at}`))
    assert.match(
      text.stdout,
      new RegExp(`EventEmitter#reconnect \\(listener\\)  left open by leaky-driver@1\\.4\\.2, ${at}`)
    )
    const html = fs.readFileSync(report, 'utf8')
    assert.match(html, /left open by leaky-driver@1\.4\.2, called from <a /)
    const json = await cli([...args, '--json'])
    const socket = JSON.parse(json.stdout).leftOpen.find((r) => r.type === 'Socket')
    assert.equal(socket.package, 'leaky-driver@1.4.2')
    assert.match(socket.site, new RegExp(`check-worker\\.js:${callLine}:`))
    assert.match(socket.packageSite, /node_modules\/leaky-driver\/index\.js:\d+:\d+$/)
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
})
