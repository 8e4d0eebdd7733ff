// The monitor's verdicts against the swings of its own readings (issue 14's
// 10-minute soak: a worker with a 1 MB temporary per job got one false
// "external memory grows" warning at 360 s, +1.05 MB "live": one temporary
// that V8 still counted in external memory, against a reading taken when it
// did not). The verdict code on series shaped like that run, then the monitor
// on a real worker.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { runNode } from './monitor-util.mjs'

const require = createRequire(import.meta.url)
const { Series, Churn } = require('../lib/monitor/series.js')
const verdict = require('../lib/monitor/verdict.js')
const { resolveOptions } = require('../lib/monitor/options.js')

const MB = 1024 * 1024

test('Churn: the largest fall from a reading to a later one, kept over this window and the previous one', () => {
  const c = new Churn(1000)
  c.observe(0, 10)
  c.observe(100, 12)
  c.observe(200, 9) // 3 below the peak of 12
  c.observe(300, 20)
  c.observe(400, 18)
  assert.equal(c.value(), 3)
  c.observe(1000, 20) // next window: the fall of 3 is still remembered
  c.observe(1100, 19)
  assert.equal(c.value(), 3)
  c.observe(2000, 30) // a window later it is gone; the fall of 1 went with the window before
  assert.equal(c.value(), 1)
  c.observe(3000, 31)
  assert.equal(c.value(), 0)
})

test('Churn: a leak that only grows shows no fall', () => {
  const c = new Churn(60_000)
  for (let t = 0; t < 60_000; t += 100) c.observe(t, 1e6 + t * 37)
  assert.equal(c.value(), 0)
})

test('minGrowthFor: the option, or twice the largest fall, capped at the evidence', () => {
  assert.equal(verdict.minGrowthFor(MB, 0, 16 * MB), MB)
  assert.equal(verdict.minGrowthFor(MB, 0.3 * MB, 16 * MB), MB)
  assert.equal(verdict.minGrowthFor(MB, 1.5 * MB, 16 * MB), 3 * MB)
  assert.equal(verdict.minGrowthFor(MB, 40 * MB, 16 * MB), 16 * MB)
  assert.equal(verdict.minGrowthFor(16, 3, 256), 16)
  assert.equal(verdict.minGrowthFor(16, 20, 256), 40)
})

/**
 * External memory read every second for 360 s: 2.9 MB (one 1 MB temporary
 * still counted, as in the soak's worker), creeping up 2.5 MB, with a dip of
 * 1 MB at 6 s where a full GC's accounting caught up. The exact series holds
 * that full GC and a confirmation GC at 359.5 s which finds +1.5 MB over the
 * dip: what is live, plus or minus one temporary.
 */
function swingingSeries() {
  const cheap = new Series(4096)
  const exact = new Series(4096)
  for (let s = 1; s <= 360; s++) {
    const t = s * 1000
    const dip = s === 6
    const y = 2.9 * MB + (s / 360) * 2.5 * MB - (dip ? MB : 0)
    cheap.push(t, y, s * 450)
    if (dip) exact.push(t, y, s * 450)
  }
  exact.push(359_500, 2.9 * MB + 0.5 * MB, 359 * 450 + 200)
  return { cheap, exact }
}

function ctxFor(churn, o) {
  const evidence = verdict.EVIDENCE_BYTES
  return {
    metric: 'external',
    now: 360_000,
    jobs: 360 * 450,
    target: { metric: 'rss', limit: 23.5 * 1024 * MB, name: 'memory limit', level: 200 * MB, levelAt: 360_000 },
    minGrowth: verdict.minGrowthFor(o.minGrowthBytes, churn, evidence),
    churn,
    minPerJob: 0,
    evidence,
    basis: 'full-gc',
    minConfirmGapMs: 2000,
    cheapLabel: 'external memory'
  }
}

test('a confirmation finding less live growth than twice the swings is no verdict, and says so', () => {
  const o = resolveOptions({ intervalMs: 1000, checkEveryMs: 1000, windowMs: 600_000 })
  const { cheap, exact } = swingingSeries()
  const churn = new Churn(o.windowMs)
  for (let i = 0; i < cheap.len; i++) churn.observe(cheap.t[i], cheap.y[i])
  assert.ok(churn.value() > 0.99 * MB, `the dip is a fall of 1 MB (${churn.value()})`)

  // Blind to the swing, +1.5 MB live clears the 1 MiB minGrowthBytes: a warning.
  const blind = verdict.assessConfirmed(cheap, exact, o, ctxFor(0, o))
  assert.equal(blind.growing, true, blind.reason)

  const r = verdict.assessConfirmed(cheap, exact, o, ctxFor(churn.value(), o))
  assert.equal(r.growing, false, r.reason)
  assert.equal(r.unconfirmed, true)
  assert.ok(r.minGrowthBytes > 1.98 * MB && r.minGrowthBytes <= 2 * MB, `needs ${r.minGrowthBytes}`)
  assert.match(
    r.reason,
    /found only \+1\.\d+ MB live since the start of the window, less than the 1\.9\d MB a verdict needs \(twice the 1016\.\d KB its readings have fallen by: memory on its way out\)/
  )
})

test('external memory: a confirmation reading that still counts freed Buffers does not inflate the growth', () => {
  const o = resolveOptions({ intervalMs: 1000, checkEveryMs: 1000, windowMs: 600_000 })
  const cheap = new Series(4096)
  const exact = new Series(4096)
  // Live external memory grows 4 KB/s (8 B/job at 500 jobs/s); the full GC at 359.5 s reads 1 MB
  // more: two 1 MB temporaries counted where the readings before counted one.
  for (let s = 1; s <= 360; s++) cheap.push(s * 1000, 2.9 * MB + s * 4096, s * 500)
  exact.push(359_500, 3.9 * MB + 359.5 * 4096, 359.5 * 500)
  cheap.push(359_500, exact.y[0], exact.jobs[0])
  const ctx = { ...ctxFor(0, o), now: 360_000, jobs: 180_000 }
  const blind = verdict.assessConfirmed(cheap, exact, o, ctx)
  const r = verdict.assessConfirmed(cheap, exact, o, { ...ctx, exactLags: true })
  assert.ok(blind.bytesPerJob > 12, `blind: ${blind.bytesPerJob} B/job`)
  assert.equal(r.growing, true, r.reason)
  assert.ok(Math.abs(r.bytesPerJob - 8.192) < 0.5, `${r.bytesPerJob} B/job`)
  assert.ok(Math.abs(r.growthBytes - 4096 * 355) < 4096 * 20, `${r.growthBytes} B`)
})

test('a real leak still clears a floor raised by the swings', () => {
  const o = resolveOptions({ intervalMs: 1000, checkEveryMs: 1000, windowMs: 60_000 })
  const cheap = new Series(4096)
  const exact = new Series(4096)
  // 16 KB/job at 500 jobs/s kept, plus the same 1 MB temporaries as above.
  for (let s = 1; s <= 60; s++) {
    const y = 2.9 * MB + s * 500 * 16384 - (s % 7 === 0 ? MB : 0)
    cheap.push(s * 1000, y, s * 500)
    if (s % 7 === 0) exact.push(s * 1000, y, s * 500)
  }
  const churn = new Churn(o.windowMs)
  for (let i = 0; i < cheap.len; i++) churn.observe(cheap.t[i], cheap.y[i])
  const ctx = { ...ctxFor(churn.value(), o), now: 60_000, jobs: 60 * 500 }
  const exactVerdict = verdict.assessExact(exact, { ...o, minSamples: 6 }, ctx)
  assert.equal(exactVerdict.growing, true, exactVerdict.reason)
  assert.ok(Math.abs(exactVerdict.bytesPerJob - 16384) / 16384 < 0.05, `per job ${exactVerdict.bytesPerJob}`)
})

test('exact verdict: growth within the swings says so', () => {
  const o = resolveOptions({ intervalMs: 1000, checkEveryMs: 1000, windowMs: 60_000 })
  const s = new Series(256)
  for (let i = 0; i < 40; i++) s.push(i * 1000, 10 * MB + i * 40_000, i * 100)
  const ctx = { ...ctxFor(MB, o), now: 40_000, jobs: 4000, basis: 'full-gc' }
  const r = verdict.assessExact(s, { ...o, windowMs: 20_000 }, ctx)
  assert.equal(r.growing, false)
  assert.equal(r.minGrowthBytes, 2 * MB)
  assert.match(r.reason, /less than the 2\.\d+ MB a verdict needs \(twice the 1\.\d+ MB/)
})

test('a worker with a 1 MB temporary per job: the monitor sees external memory swing by ~1 MB and asks twice that', async () => {
  const script = `
    const { monitor } = require('./index.js')
    const m = monitor({ emitWarning: false, intervalMs: 100, checkEveryMs: 100, windowMs: 6000, fullGcEveryMs: 500 })
    let sink = 0, i = 0
    const t0 = Date.now()
    function job() {
      if (i % 2 === 0) sink += new Array(131072).fill(i).length
      else sink += Buffer.alloc(1 << 20, 1)[i % 100]
      i++
      m.jobDone()
      if (Date.now() - t0 < 4000) return setTimeout(job, 1)
      const t = m.trend()
      console.log(JSON.stringify({ jobs: i, external: t.external, warnings: t.warnings.length }))
      m.stop()
    }
    job()
  `
  const { code, stdout, stderr } = await runNode(['-e', script])
  assert.equal(code, 0, stderr)
  const r = JSON.parse(stdout.trim().split('\n').pop())
  assert.ok(r.jobs > 500, `jobs ${r.jobs}`)
  assert.equal(r.warnings, 0)
  assert.ok(r.external, 'an external trend')
  // One 1 MB Buffer counted, then not: twice ~1 MB.
  assert.ok(
    r.external.minGrowthBytes >= 1.8 * MB && r.external.minGrowthBytes <= 4.5 * MB,
    `needs ${r.external.minGrowthBytes}`
  )
})
