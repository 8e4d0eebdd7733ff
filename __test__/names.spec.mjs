// Renamed names (CONTRIBUTING.md, "Names": durations end in Ms, byte figures in Bytes): each old
// name still works, acts as its new name, and warns once per old name with a DeprecationWarning
// (code LEAKGUARD_RENAMED); both names at once are refused. Each case runs in a fresh process,
// since a warning is given once per process.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Runs `body` (an async function body using `lg` = require('leakguard')); returns { result, warnings }. */
function run(body) {
  const script = `
    const lg = require('leakguard')
    const warnings = []
    process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }))
    // leakguard's timers are unref'd: keep the process up until the body is done.
    const alive = setInterval(() => {}, 1000)
    ;(async () => { ${body} })().then(
      (result) => setImmediate(() => {
        clearInterval(alive)
        process.stdout.write(JSON.stringify({ result, warnings }))
      }),
      (err) => { console.error(err); process.exit(1) }
    )`
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

const renamedWarnings = (warnings) => warnings.filter((w) => w.code === 'LEAKGUARD_RENAMED')

test('guard({ timeout }) acts as timeoutMs and warns once, naming the new name', () => {
  const { result, warnings } = run(`
    const slow = () => new Promise((resolve) => setTimeout(resolve, 5000).unref())
    const codes = []
    for (let i = 0; i < 3; i++) {
      await lg.guard(slow, { timeout: 20 })().catch((e) => codes.push(e.code))
    }
    await lg.withScope(slow, { timeout: 20 }).catch((e) => codes.push(e.code))
    return codes
  `)
  assert.deepEqual(result, Array(4).fill('ERR_LEAKGUARD_TIMEOUT'))
  const renamed = renamedWarnings(warnings)
  assert.equal(renamed.length, 1, JSON.stringify(warnings))
  assert.equal(renamed[0].name, 'DeprecationWarning')
  assert.match(renamed[0].message, /^options\.timeout is renamed options\.timeoutMs /)
})

test('disposeTimeout acts as disposeTimeoutMs (JobScope, guard) and warns once', () => {
  const { result, warnings } = run(`
    const scope = new lg.JobScope({ disposeTimeout: 30 })
    scope.defer(() => new Promise(() => {}))
    const err = await scope.close().catch((e) => e)
    const reports = []
    const job = lg.guard((x) => { lg.currentScope().defer(() => new Promise(() => {})) }, { disposeTimeout: 30, onReport: (r) => reports.push(r) })
    await job(1).catch(() => {})
    return { message: err.message, guardErrors: reports[0].errors.length }
  `)
  assert.match(result.message, /did not settle within 30 ms \(disposeTimeoutMs\)/)
  assert.equal(result.guardErrors, 1)
  const renamed = renamedWarnings(warnings)
  assert.equal(renamed.length, 1, JSON.stringify(warnings))
  assert.match(renamed[0].message, /^options\.disposeTimeout is renamed options\.disposeTimeoutMs /)
})

test('an old name beside its new name is a RangeError; the known-options list shows only new names', () => {
  const { result } = run(`
    const out = []
    for (const f of [
      () => lg.guard(() => {}, { timeout: 10, timeoutMs: 10 }),
      () => new lg.JobScope({ disposeTimeout: 10, disposeTimeoutMs: 10 }),
      () => lg.guard(() => {}, { timeot: 10 })
    ]) {
      try { f(); out.push(null) } catch (e) { out.push({ name: e.name, code: e.code, message: e.message }) }
    }
    out.push(await lg.measureGrowth(() => {}, { minGrowth: 1, minGrowthBytes: 1 }).then(() => null, (e) => ({ name: e.name, code: e.code, message: e.message })))
    return out
  `)
  assert.deepEqual(result[0], {
    name: 'RangeError',
    code: 'ERR_LEAKGUARD_INVALID_OPTION',
    message: 'options.timeout is the old name of options.timeoutMs: pass only options.timeoutMs'
  })
  assert.equal(
    result[1].message,
    'options.disposeTimeout is the old name of options.disposeTimeoutMs: pass only options.disposeTimeoutMs'
  )
  assert.equal(result[2].code, 'ERR_LEAKGUARD_INVALID_OPTION')
  assert.match(result[2].message, /^options\.timeot is not a known option \(known: .*timeoutMs/)
  assert.doesNotMatch(result[2].message, /timeout,|disposeTimeout,/)
  assert.deepEqual(result[3], {
    name: 'RangeError',
    code: 'ERR_LEAKGUARD_INVALID_OPTION',
    message: 'options.minGrowth is the old name of options.minGrowthBytes: pass only options.minGrowthBytes'
  })
})

test('measureGrowth({ minGrowth }) acts as minGrowthBytes; report.options.minGrowth still reads, warning once', () => {
  const { result, warnings } = run(`
    const opts = { iterations: 100, samples: 20, warmup: 10, checkResources: false, minGrowth: 12345 }
    const a = await lg.measureGrowth(() => {}, opts)
    const b = await lg.measureGrowth(() => {}, opts)
    return {
      bytes: a.options.minGrowthBytes,
      old: [a.options.minGrowth, b.options.minGrowth],
      keys: Object.keys(a.options),
      callerUnchanged: opts.minGrowth === 12345 && !('minGrowthBytes' in opts)
    }
  `)
  assert.equal(result.bytes, 12345)
  assert.deepEqual(result.old, [12345, 12345])
  assert.ok(result.keys.includes('minGrowthBytes') && !result.keys.includes('minGrowth'))
  assert.equal(result.callerUnchanged, true)
  const renamed = renamedWarnings(warnings)
  assert.deepEqual(
    renamed.map((w) => w.message.split(' (')[0]),
    [
      'options.minGrowth is renamed options.minGrowthBytes',
      'GrowthReport.options.minGrowth is renamed GrowthReport.options.minGrowthBytes'
    ]
  )
})

test("the 'recycle' event: limitJobs / limitBytes; the old limit still reads (not enumerable), warning once", () => {
  const { result, warnings } = run(`
    const byJobs = lg.recycle({ maxJobs: 2 })
    byJobs.jobEnded()
    const j = byJobs.jobEnded()
    byJobs.stop()
    const byRss = lg.recycle({ maxRss: 1 })
    const r = byRss.jobEnded()
    byRss.stop()
    const quiet = warnings.length
    return {
      jobs: { limitJobs: j.limitJobs, limitBytes: j.limitBytes ?? null, limit: j.limit },
      rss: { limitJobs: r.limitJobs ?? null, limitBytes: r.limitBytes, limit: r.limit },
      keys: Object.keys(j),
      json: Object.keys(JSON.parse(JSON.stringify(j))),
      quiet
    }
  `)
  assert.deepEqual(result.jobs, { limitJobs: 2, limitBytes: null, limit: 2 })
  assert.deepEqual(result.rss, { limitJobs: null, limitBytes: 1, limit: 1 })
  assert.ok(!result.keys.includes('limit') && !result.json.includes('limit'))
  assert.equal(result.quiet, 0, 'spreading and serialising the event does not warn')
  const renamed = renamedWarnings(warnings)
  assert.equal(renamed.length, 1, JSON.stringify(warnings))
  assert.match(
    renamed[0].message,
    /^RecycleEvent\.limit is renamed RecycleEvent\.limitJobs \/ RecycleEvent\.limitBytes /
  )
})

test('warning codes are spelled once, in lib/common/warnings.js, and each is documented', async () => {
  const { readdirSync, readFileSync } = await import('node:fs')
  const { createRequire } = await import('node:module')
  const { warningCodes, WARNING_TYPE } = createRequire(import.meta.url)('../lib/common/warnings.js')
  const files = (dir, ext) =>
    readdirSync(path.join(root, dir), { recursive: true })
      .filter((f) => f.endsWith(ext))
      .map((f) => path.join(dir, f))
  const spelled = []
  for (const f of files('lib', '.js')) {
    if (f === path.join('lib', 'common', 'warnings.js')) continue
    const text = readFileSync(path.join(root, f), 'utf8')
    for (const m of text.matchAll(/'(LEAKGUARD_[A-Z_]+|LeakGuardWarning)'/g)) spelled.push(`${f}: ${m[1]}`)
  }
  assert.deepEqual(spelled, [], `use warningCodes / WARNING_TYPE of lib/common/warnings.js`)
  const docs = [...files('docs', '.md'), 'README.md', 'CONTRIBUTING.md', ...files('lib', '.d.ts')]
    .map((f) => readFileSync(path.join(root, f), 'utf8'))
    .join('\n')
  const undocumented = Object.values(warningCodes).filter((code) => !docs.includes(code))
  assert.deepEqual(undocumented, [], 'warning codes no page or .d.ts names')
  assert.equal(WARNING_TYPE, 'LeakGuardWarning')
})
