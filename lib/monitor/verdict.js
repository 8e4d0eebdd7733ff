'use strict'
// Verdicts on the monitor's series, with the native trend statistics
// (src/trend through lib/trend), and the OOM projection of every verdict.
//
// Two ways to a heap verdict, because a leaking heap gets fewer and fewer full
// GCs as it grows (V8 raises its old-generation limit with the heap):
// - exact: the trend of the figures read right after full GCs (V8's own, and
//   leakguard's confirmation GCs). Needs `minSamples` of them.
// - confirmed: the trend of the old generation read at every check (cheap,
//   dense, an upper bound of the live heap that also holds promoted garbage),
//   plus one full GC showing that most of that growth is live: the live
//   heap after it, minus the lowest old-generation reading at the start of
//   the window (which is at least what was live then), is a lower bound of
//   the live growth. And the growth must go on: a full GC earlier by the
//   time the rate takes to add twice minGrowth must find at least half of
//   that growth since (a warm-up step after the first readings shows none),
//   above every full GC's figure up to it.
// Either way, the samples must span a time that shrinks with the danger:
// half the window for a slow leak, EVIDENCE_BYTES / rate for a fast one,
// ETA_SHARE of the time left before the limit for one heading to an OOM; never
// less than two sampling intervals.

const { formatBytes, formatP } = require('../common/format')
const { assessTrendF64 } = require('../trend/trend')

/** Growth that is evidence by itself: a verdict needs no longer than the time this much growth takes. */
const EVIDENCE_BYTES = 16 * 1024 * 1024
const EVIDENCE_FDS = 256
/** Minimum growth of open fds for a warning (a pool opening its connections is not a leak). */
const MIN_GROWTH_FDS = 16
/** Share of the time left before a limit that a verdict may wait for (the warning must come before T/4). */
const ETA_SHARE = 1 / 8
/** The confirmed path's full GC must find at least this share of the old generation's growth live. */
const LIVE_SHARE = 0.5

/** Growth must exceed this many times the metric's largest swing (see Churn in series.js). */
const CHURN_MARGIN = 2

/**
 * The growth a verdict needs: `floor` (options.minGrowthBytes, or 16 fds), or
 * CHURN_MARGIN times the largest fall the metric showed, whichever is larger.
 * Never more than `evidence`: that much growth is evidence by itself.
 */
function minGrowthFor(floor, churn, evidence) {
  return Math.max(floor, Math.min(evidence, CHURN_MARGIN * churn))
}

/** Why a growth below `ctx.minGrowth` is no evidence, for the reasons. */
function floorText(ctx) {
  const shown = (n) => (ctx.metric === 'fds' ? `${Math.round(n)} fds` : formatBytes(n))
  if (ctx.minGrowth > CHURN_MARGIN * ctx.churn) return `the ${shown(ctx.minGrowth)} a verdict needs`
  return `the ${shown(ctx.minGrowth)} a verdict needs (twice the ${shown(ctx.churn)} its readings have fallen by: memory on its way out)`
}

/** Smallest span of samples a verdict needs, ms (see the header). */
function requiredSpanMs(o, slopePerMs, etaMs, evidence) {
  const max = o.windowMs / 2
  const min = Math.min(max, 2 * o.intervalMs)
  let span = max
  if (slopePerMs > 0) span = Math.min(span, evidence / slopePerMs)
  if (etaMs !== null && Number.isFinite(etaMs)) span = Math.min(span, etaMs * ETA_SHARE)
  return Math.max(min, span)
}

/** max − min of a series: a trend cannot rise by more than this. */
function rangeOf(s) {
  let lo = Infinity
  let hi = -Infinity
  for (let i = 0; i < s.len; i++) {
    const y = s.y[i]
    if (y < lo) lo = y
    if (y > hi) hi = y
  }
  return hi - lo
}

/**
 * The native trend of a series against time (slope per second) and, when at
 * least `minSamples` jobs were counted over it and `withJobs`, against jobs.
 */
function fitSeries(s, o, minGrowth, withJobs) {
  const n = s.len
  if (n < o.minSamples) return null
  const t0 = s.t[0]
  const xs = new Float64Array(n)
  for (let i = 0; i < n; i++) xs[i] = (s.t[i] - t0) / 1000
  const ys = s.y.subarray(0, n)
  // Few samples are taken as they are: a floor of 6 blocks leaves 3 points in
  // the recent half, too few for its p < 0.05 ever to hold.
  const blocks = Math.min(o.floorBlocks, Math.max(8, n >> 1), n)
  const opts = { alpha: o.alpha, minGrowth, floorBlocks: blocks }
  const a = assessTrendF64(xs, ys, opts)
  if (!a) return null
  const jobsSpan = s.jobs[n - 1] - s.jobs[0]
  let perJob = null
  if (withJobs && jobsSpan >= o.minSamples) {
    const js = new Float64Array(n)
    for (let i = 0; i < n; i++) js[i] = s.jobs[i] - s.jobs[0]
    perJob = assessTrendF64(js, ys, opts)
  }
  return { a, perJob, n, t0, span: s.t[n - 1] - t0, jobsSpan, blocks }
}

/**
 * Where the growth leads: `{ metric, limit, limitBytes, etaMs, atJobs }`.
 * `level` was read at `levelAt`; the projection starts from its trend value now.
 */
function project(target, level, levelAt, now, slopePerMs, perJob, jobsNow) {
  if (!target || !(target.limit > 0) || !(slopePerMs > 0)) return null
  // A target may carry its own level (growth of external memory ends at the RSS limit).
  const from = target.level ?? level
  const levelNow = from + slopePerMs * Math.max(0, now - (target.levelAt ?? levelAt))
  const left = Math.max(0, target.limit - levelNow)
  return {
    metric: target.metric,
    limit: target.limit,
    limitBytes: target.metric === 'fds' ? null : target.limit,
    etaMs: Math.round(left / slopePerMs),
    atJobs: perJob !== null && perJob > 0 ? Math.round(jobsNow + left / perJob) : null,
    limitName: target.name
  }
}

/** The verdict from samples read right after full GCs (or exact counts: fds). */
function assessExact(s, o, ctx) {
  const f = fitSeries(s, o, ctx.minGrowth, true)
  if (!f) return null
  const { a, perJob } = f
  const slopePerMs = a.overall.slope / 1000
  const bytesPerJob = perJob ? perJob.overall.slope : null
  const proj = project(ctx.target, s.y[f.n - 1], s.t[f.n - 1], ctx.now, slopePerMs, bytesPerJob, ctx.jobs)
  const needMs = requiredSpanMs(o, slopePerMs, proj ? proj.etaMs : null, ctx.evidence)
  let growing = a.growing
  let reason = a.reason
  let pending = false
  if (!growing && a.overall.pValue < o.alpha && a.overall.slope > 0 && a.overall.growth < ctx.minGrowth) {
    reason = `grows ${formatBytes(a.overall.growth, { signed: true })} over the window, less than ${floorText(ctx)}`
  }
  if (f.span < needMs) {
    pending = true
    if (growing)
      reason = `grows, but the samples span ${formatDuration(f.span)} of the ${formatDuration(needMs)} this rate needs`
    growing = false
  } else if (growing && bytesPerJob !== null && bytesPerJob < ctx.minPerJob) {
    growing = false
    reason = `grows ${formatBytes(bytesPerJob)}/job, below options.minBytesPerJob (${ctx.minPerJob})`
  }
  return {
    metric: ctx.metric,
    growing,
    pending,
    reason,
    basis: ctx.basis,
    slopeBytesPerSec: a.overall.slope,
    bytesPerJob,
    growthBytes: a.overall.growth,
    pValue: a.overall.pValue,
    tau: a.overall.tau,
    samples: f.n,
    windowMs: f.span,
    jobs: f.jobsSpan,
    requiredSpanMs: needMs,
    minGrowthBytes: ctx.minGrowth,
    projection: proj
  }
}

/**
 * The verdict from the cheap series (read at every check) confirmed by the
 * latest exact sample. Also says whether a confirmation GC would help now:
 * `confirmAfterMs` is how old the latest exact sample may be.
 */
function assessConfirmed(cheap, exact, o, ctx) {
  if (cheap.len < o.minSamples || rangeOf(cheap) < ctx.minGrowth) return null
  const f = fitSeries(cheap, o, ctx.minGrowth, false)
  if (!f?.a.growing) return null
  const slopePerMs = f.a.overall.slope / 1000
  // The earliest upper bound of the live heap: the lowest reading of the first floor block.
  const firstEnd = f.t0 + f.span / f.blocks
  let base = Infinity
  let baseAt = f.t0
  let baseJobs = cheap.jobs[0]
  for (let i = 0; i < cheap.len && cheap.t[i] <= firstEnd; i++) {
    if (cheap.y[i] < base) {
      base = cheap.y[i]
      baseAt = cheap.t[i]
      baseJobs = cheap.jobs[i]
    }
  }
  const k = exact.len - 1
  const projCheap = project(ctx.target, cheap.y[cheap.len - 1], cheap.t[cheap.len - 1], ctx.now, slopePerMs, null, 0)
  const cheapNeed = requiredSpanMs(o, slopePerMs, projCheap ? projCheap.etaMs : null, ctx.evidence)
  const out = {
    metric: ctx.metric,
    growing: false,
    pending: true,
    reason: '',
    basis: 'confirmed',
    slopeBytesPerSec: f.a.overall.slope,
    bytesPerJob: null,
    growthBytes: f.a.overall.growth,
    pValue: f.a.overall.pValue,
    tau: f.a.overall.tau,
    samples: f.n,
    windowMs: f.span,
    jobs: f.jobsSpan,
    requiredSpanMs: cheapNeed,
    minGrowthBytes: ctx.minGrowth,
    projection: projCheap,
    confirmAfterMs: Math.max(cheapNeed / 4, ctx.minConfirmGapMs)
  }
  const what = ctx.cheapLabel
  if (f.span < cheapNeed) {
    // A confirmation now would come too early to count: it must follow most of the growth.
    out.reason = `${what} grows ${formatBytes(f.a.overall.slope)}/s; the readings span ${formatDuration(f.span)} of the ${formatDuration(cheapNeed)} this rate needs`
    out.confirmAfterMs = undefined
    return out
  }
  if (k < 0 || exact.t[k] - baseAt < cheapNeed / 2) {
    out.reason = `${what} grows ${formatBytes(f.a.overall.slope)}/s; waiting for a full GC to tell how much of it is live`
    out.confirmAfterMs = 0
    return out
  }
  let tc = exact.t[k]
  let level = exact.y[k]
  let levelJobs = exact.jobs[k]
  if (ctx.exactLags) {
    // External memory after a full GC still counts the Buffers freed since the
    // GC before (V8 reports them at its next GC): one reading may hold a
    // temporary or two. The lowest reading of the last floor block is as
    // recent and holds fewer.
    const lastStart = f.t0 + (f.span * (f.blocks - 1)) / f.blocks
    for (let i = cheap.len - 1; i >= 0 && cheap.t[i] >= lastStart; i--) {
      if (cheap.y[i] < level) {
        level = cheap.y[i]
        tc = cheap.t[i]
        levelJobs = cheap.jobs[i]
      }
    }
  }
  const live = level - base
  const dt = tc - baseAt
  const rate = live / dt
  const jobsSpan = levelJobs - baseJobs
  const bytesPerJob = jobsSpan >= o.minSamples ? live / jobsSpan : null
  const proj = project(ctx.target, level, tc, ctx.now, rate, bytesPerJob, ctx.jobs)
  const need = requiredSpanMs(o, rate, proj ? proj.etaMs : null, ctx.evidence)
  out.requiredSpanMs = need
  const mostlyLive = rate >= LIVE_SHARE * slopePerMs
  if (!(live >= ctx.minGrowth && mostlyLive)) {
    out.pending = false
    out.unconfirmed = true
    out.reason =
      `${what} grows ${formatBytes(f.a.overall.slope)}/s, but a full GC found only ` +
      `${formatBytes(live, { signed: true })} live since the start of the window` +
      (mostlyLive ? `, less than ${floorText(ctx)}` : ': garbage, not a leak')
    return out
  }
  Object.assign(out, {
    slopeBytesPerSec: rate * 1000,
    bytesPerJob,
    growthBytes: live,
    windowMs: dt,
    jobs: jobsSpan,
    projection: proj,
    confirmAfterMs: Math.max(need / 4, ctx.minConfirmGapMs)
  })
  if (dt < need) {
    out.reason = `grows ${formatBytes(rate * 1000)}/s of live heap, but the samples span ${formatDuration(dt)} of the ${formatDuration(need)} this rate needs`
    return out
  }
  if (bytesPerJob !== null && bytesPerJob < ctx.minPerJob) {
    out.pending = false
    out.reason = `grows ${formatBytes(bytesPerJob)}/job, below options.minBytesPerJob (${ctx.minPerJob})`
    return out
  }
  // One full GC cannot tell a leak from a step: code compiled, a pool or a
  // cache filled after the window's first readings, then nothing more. The
  // growth must go on between two full GCs (see continuationOf).
  const c = continuationOf(exact, k, level, tc, rate, ctx)
  if (c.pending) {
    out.reason = `a full GC found ${formatBytes(live)} live; waiting for another, ${formatDuration(c.gapMs)} after it, to show the growth goes on`
    out.confirmAfterMs = c.gapMs
    return out
  }
  if (!c.goesOn) {
    out.pending = false
    out.unconfirmed = true
    out.reason =
      `${what} grows ${formatBytes(f.a.overall.slope)}/s and a full GC found ${formatBytes(live)} live since the ` +
      `start of the window, but only ${formatBytes(c.grown, { signed: true })} since the full GC ${formatDuration(c.spanMs)} ` +
      `before it, less than half of what that rate adds: a step, not a leak`
    return out
  }
  out.pending = false
  out.growing = true
  out.reason = `${what} grows ${formatBytes(f.a.overall.slope)}/s (${formatP(f.a.overall.pValue)}) and full GCs found ${formatBytes(live)} of it live, growing on`
  return out
}

/**
 * Whether the live growth goes on: the latest full GC (`level`, read at
 * `tc`) against the latest earlier one at least `gapMs` before it. The gap
 * is the time the growth `rate` takes to add twice the metric's minGrowth,
 * so that half of it clears the swings of a single reading; a step seen by
 * the window's first readings shows nothing between two full GCs after it.
 * The earlier figure is the highest of the full GCs up to that one: what a
 * full GC finds live swings too (7.02, 6.84, 4.82, 6.04, 7.07 MB of old
 * generation after V8's own full GCs of a worker with a 1 MB temporary per
 * job and no leak), and a low one must not pass for the start of a growth.
 */
function continuationOf(exact, k, level, tc, rate, ctx) {
  const gapMs = Math.max(ctx.minConfirmGapMs, (2 * ctx.minGrowth) / rate)
  let j = k - 1
  while (j >= 0 && exact.t[j] > exact.t[k] - gapMs) j--
  if (j < 0) return { pending: true, gapMs }
  let before = exact.y[j]
  for (let i = 0; i < j; i++) if (exact.y[i] > before) before = exact.y[i]
  const spanMs = tc - exact.t[j]
  const grown = level - before
  return { pending: false, gapMs, spanMs, grown, goesOn: grown >= LIVE_SHARE * rate * spanMs }
}

// ---- wording ----------------------------------------------------------------------

function formatDuration(ms) {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} d`
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`
  return `${(ms / 1000).toFixed(1)} s`
}

/** "~6 min", "~45 s", "~3.2 h". */
function formatEta(ms) {
  if (ms >= 30 * 86_400_000) return 'more than 30 days'
  if (ms >= 86_400_000) return `~${(ms / 86_400_000).toFixed(1)} days`
  if (ms >= 3_600_000) return `~${(ms / 3_600_000).toFixed(1)} h`
  if (ms >= 60_000) return `~${Math.round(ms / 60_000)} min`
  return `~${Math.max(1, Math.round(ms / 1000))} s`
}

/** "350k", "1.2M", "900". */
function formatCount(n) {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`
  if (n >= 1e4) return `${Math.round(n / 1e3)}k`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`
  return String(Math.round(n))
}

/** "1.10 KB/job", "6.6 KB/s", "+1.00/job" (fds). */
function rateOf(t) {
  if (t.metric === 'fds') {
    return t.bytesPerJob !== null ? `+${t.bytesPerJob.toFixed(2)}/job` : `+${t.slopeBytesPerSec.toFixed(2)}/s`
  }
  return t.bytesPerJob !== null ? `${formatBytes(t.bytesPerJob)}/job` : `${formatBytes(t.slopeBytesPerSec)}/s`
}

/** "; at this rate the 4.0 GB heap limit is reached in ~6 min (~350k more jobs)". */
function projectionText(p, jobsNow) {
  if (!p) return ''
  const limit = p.metric === 'fds' ? `${p.limit}` : formatBytes(p.limit)
  const when = p.etaMs === 0 ? 'is already reached' : `is reached in ${formatEta(p.etaMs)}`
  const jobs = p.atJobs !== null && p.etaMs > 0 ? ` (~${formatCount(p.atJobs - jobsNow)} more jobs)` : ''
  return `; at this rate the ${limit} ${p.limitName} ${when}${jobs}`
}

module.exports = {
  assessExact,
  continuationOf,
  minGrowthFor,
  assessConfirmed,
  requiredSpanMs,
  project,
  rateOf,
  projectionText,
  formatDuration,
  formatEta,
  MIN_GROWTH_FDS,
  EVIDENCE_BYTES,
  EVIDENCE_FDS
}
