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

  // Blind to the swing, +1.5 MB live clears the 1 MiB minGrowthBytes: only a
  // second full GC (showing the growth goes on) stands between it and a warning.
  const blind = verdict.assessConfirmed(cheap, exact, o, ctxFor(0, o))
  assert.equal(blind.unconfirmed, undefined, blind.reason)
  assert.match(blind.reason, /^a full GC found 1\.\d+ MB live; waiting for another/)

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
  // Live external memory grows 16 KB/s (32 B/job at 500 jobs/s); a full GC at 180 s reads it as
  // it is, the one at 359.5 s reads 1 MB more: two 1 MB temporaries counted where the readings
  // before counted one.
  const rate = 16384
  for (let s = 1; s <= 360; s++) {
    cheap.push(s * 1000, 2.9 * MB + s * rate, s * 500)
    if (s === 180) exact.push(s * 1000, 2.9 * MB + s * rate, s * 500)
  }
  exact.push(359_500, 3.9 * MB + 359.5 * rate, 359.5 * 500)
  cheap.push(359_500, exact.y[1], exact.jobs[1])
  const ctx = { ...ctxFor(0, o), now: 360_000, jobs: 180_000 }
  const blind = verdict.assessConfirmed(cheap, exact, o, ctx)
  const r = verdict.assessConfirmed(cheap, exact, o, { ...ctx, exactLags: true })
  assert.ok(blind.bytesPerJob > 37, `blind: ${blind.bytesPerJob} B/job`)
  assert.equal(r.growing, true, r.reason)
  assert.ok(Math.abs(r.bytesPerJob - 32.768) < 1, `${r.bytesPerJob} B/job`)
  assert.ok(Math.abs(r.growthBytes - rate * 355) < rate * 20, `${r.growthBytes} B`)
})

/**
 * The soak's false heapUsed warning, shaped: the old generation read every
 * second by a worker whose live heap steps up by `step` bytes over its first
 * `stepSecs` (code compiled, caches filled) and then stays put, while the
 * garbage that scavenges promote adds 5 KB/s between V8's rare full GCs (at
 * `fullGcs`, seconds). The first, at 425 s, finds the step live (the soak's:
 * +2.7 MB over 7 min, 19 B/job at 400 jobs/s). `leak` instead keeps 8 KB/s
 * from the start.
 */
function stepOrLeak({ step = 2.7 * MB, stepSecs = 240, leak = false, fullGcs = [425] }) {
  const cheap = new Series(4096)
  const exact = new Series(4096)
  const live = (s) => 40 * MB + (leak ? s * 8192 : (step * Math.min(s, stepSecs)) / stepSecs)
  let lastGc = 0
  const end = Math.max(430, ...fullGcs)
  for (let s = 1; s <= end; s++) {
    if (fullGcs.includes(s)) {
      lastGc = s
      exact.push(s * 1000, live(s), s * 400)
    }
    cheap.push(s * 1000, live(s) + (s - lastGc) * 5_000, s * 400)
  }
  const now = cheap.lastTime()
  const ctx = {
    ...ctxFor(0, { minGrowthBytes: MB }),
    metric: 'heapUsed',
    now,
    jobs: (now / 1000) * 400,
    target: { metric: 'heapUsed', limit: 4096 * MB, name: 'heap limit' },
    cheapLabel: 'the old generation'
  }
  return { cheap, exact, ctx }
}

test('heapUsed: a step early in the window, found live by one full GC, is no verdict; a growth that goes on is', () => {
  const o = resolveOptions({ intervalMs: 1000, checkEveryMs: 1000, windowMs: 600_000 })

  // One full GC finds +2.7 MB live since the first readings, as in the soak: no verdict yet.
  const one = stepOrLeak({})
  const first = verdict.assessConfirmed(one.cheap, one.exact, o, one.ctx)
  assert.equal(first.growing, false, first.reason)
  assert.equal(first.pending, true, first.reason)
  assert.ok(first.growthBytes > 2.5 * MB, `${first.growthBytes}`)
  assert.match(first.reason, /^a full GC found 2\.\d+ MB live; waiting for another, [\d.]+ min after it/)
  // The monitor asks for that GC when the rate found would have added twice minGrowth.
  const rate = first.slopeBytesPerSec / 1000
  assert.ok(Math.abs(first.confirmAfterMs - (2 * MB) / rate) < 1, `${first.confirmAfterMs} ms`)

  // The second full GC, that long after, finds the same heap, and with the garbage it freed the
  // old generation's readings stop growing: no verdict at all.
  const two = stepOrLeak({ fullGcs: [425, 425 + Math.ceil(first.confirmAfterMs / 1000)] })
  assert.equal(verdict.assessConfirmed(two.cheap, two.exact, o, two.ctx), null)

  // A larger step (8 MB in the first minute), with a full GC of V8's own at 200 s: nothing more since.
  const big = stepOrLeak({ step: 8 * MB, stepSecs: 60, fullGcs: [200, 425] })
  const b = verdict.assessConfirmed(big.cheap, big.exact, o, big.ctx)
  assert.equal(b.growing, false, b.reason)
  assert.equal(b.pending, false, b.reason)
  assert.equal(b.unconfirmed, true)
  assert.match(
    b.reason,
    /found 7\.\d+ MB live since the start of the window, but only 0 B since the full GC 3\.8 min before it, less than half of what that rate adds: a step, not a leak$/
  )

  // A leak of 8 KB/s: the second full GC, as far after the first, finds it grown on.
  const leak1 = stepOrLeak({ leak: true })
  const l1 = verdict.assessConfirmed(leak1.cheap, leak1.exact, o, leak1.ctx)
  assert.equal(l1.pending, true, l1.reason)
  const leak2 = stepOrLeak({ leak: true, fullGcs: [425, 425 + Math.ceil(l1.confirmAfterMs / 1000)] })
  const l2 = verdict.assessConfirmed(leak2.cheap, leak2.exact, o, leak2.ctx)
  assert.equal(l2.growing, true, l2.reason)
  assert.ok(Math.abs(l2.bytesPerJob - 20.48) < 1, `${l2.bytesPerJob} B/job`)
  assert.match(l2.reason, /full GCs found [\d.]+ MB of it live, growing on$/)
})

test('continuation: measured from the highest full GC up to the earlier one, not from a low swing', () => {
  // A heap that does not grow, read by full GCs at 100, 200 and 425 s as 42, 40 and 42.2 MB.
  const exact = new Series(64)
  exact.push(100_000, 42 * MB, 0)
  exact.push(200_000, 40 * MB, 0)
  exact.push(425_000, 42.2 * MB, 0)
  const ctx = { minGrowth: MB, minConfirmGapMs: 2000 }
  const rate = 15_360 / 1000 // 15 KB/s: the gap is 2 MiB / rate = 136.5 s, so the GC at 200 s is the earlier one
  const c = verdict.continuationOf(exact, 2, 42.2 * MB, 425_000, rate, ctx)
  assert.equal(c.pending, false)
  assert.ok(Math.abs(c.gapMs - 136_533) < 1, `${c.gapMs}`)
  assert.equal(c.spanMs, 225_000)
  // From 40 MB it would have grown 2.2 MB, more than half of 15 KB/s over 225 s (1.65 MB);
  // from the 42 MB the GC before it found, 0.2 MB.
  assert.ok(Math.abs(c.grown - 0.2 * MB) < 1, `${c.grown}`)
  assert.equal(c.goesOn, false)
  // No full GC far enough before the latest: wait for one.
  const early = verdict.continuationOf(exact, 2, 42.2 * MB, 425_000, 4096 / 1000, ctx)
  assert.equal(early.pending, true)
  assert.ok(Math.abs(early.gapMs - 512_000) < 1, `${early.gapMs}`)
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
