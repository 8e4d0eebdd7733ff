'use strict'
// monitor(): memory and fd trend warnings for long-running workers, with the
// OOM projection and an opt-in autopsy. The capability's entry: it drives the
// process-wide sampling thread of src/sampler (RSS and open fds, read
// natively into a ring) and the trend statistics of src/trend (through
// lib/trend). Its parts: options.js (defaults and bounds), series.js (the
// sample columns), gc-signals.js (GC detection, heap readings, confirmation
// GCs), verdict.js (the statistics and the projection), limits.js (what the
// projection aims at), autopsy.js (two heap snapshots and their native diff),
// delivery.js (emitWarning, worker_thread -> main thread, IPC to the parent).
//
// Where the main-thread time goes (the target: ≤ 0.1% of one core at
// defaults, busy or idle; `npm run bench -- monitor` measures it):
// - RSS and fds are read by the native thread; JS pulls them as one
//   Float64Array per check.
// - Heap figures are read right after full GCs (gc-signals.js), and once per
//   check (every second by default, four times a second while a limit is
//   less than a minute away): old generation and external memory, ~35 µs.
// - The verdicts: native trend calls on Float64Array views, skipped for a
//   series that did not change since the last check.

const { EventEmitter } = require('node:events')
const { isMainThread, threadId } = require('node:worker_threads')
const native = require('../common/native')
const { formatBytes, formatP } = require('../common/format')
const channels = require('../common/channels')
const { invalidArgType, invalidArgValue } = require('../common/errors')
const { warningCodes, emitLeakguardWarning } = require('../common/warnings')
const { monitorRecycleOption } = require('../fleet/recycle')
const { resolveOptions, LIMIT_KEYS } = require('./options')
const { Series } = require('./series')
const gcs = require('./gc-signals')
const verdict = require('./verdict')
const { heapLimitBytes, memoryLimitBytes, fdLimitCount } = require('./limits')
const { postToHost, onWorkerWarning, onWorkerAutopsy, sendToParent, notice } = require('./delivery')
const { Autopsy } = require('./autopsy')

/** The thread's buffer the native sampler writes into (one crossing, no allocation per check). */
const PULL_BUFFER = new Float64Array(3 * 256)
const kDispose = Symbol.dispose || Symbol.for('nodejs.dispose')

/** The metrics that can raise a trend warning, with their warning code and wording. */
const METRICS = {
  heapUsed: { code: warningCodes.HEAP_GROWTH, label: 'heapUsed' },
  external: { code: warningCodes.EXTERNAL_GROWTH, label: 'external memory (Buffers, ArrayBuffers, native)' },
  arrayBuffers: { code: warningCodes.ARRAY_BUFFERS_GROWTH, label: 'arrayBuffers (Buffers and ArrayBuffers)' },
  fds: { code: warningCodes.FD_GROWTH, label: 'open fds' }
}
const TREND_METRICS = Object.keys(METRICS)

/** arrayBuffers costs a process.memoryUsage() (~8 µs hot, ~90 µs cold): read it with a full-GC sample at most this often. */
const ARRAY_BUFFERS_EVERY_MS = 5000
/** Checks run four times as often while a projected limit is less than this many check periods away. */
const URGENT_CHECKS = 60
/** Confirmation GCs never come closer than this many check periods. */
const CONFIRM_GAP_CHECKS = 2
/** Verdicts are computed every this many checks (every check while a limit is near). */
const ASSESS_EVERY_CHECKS = 5
/** Jobs counted between two looks at the clock for a timer that does not fire (see _countJobs). */
const JOBS_PER_CLOCK_LOOK = 32
/** The check timer is starved when it is this many periods late while jobs end. */
const STARVED_PERIODS = 3

/**
 * Monitors this thread keeps alive until stop(), whether or not anything
 * refers to them: `monitor({ emitWarning: true })` alone at the top of a
 * worker is a monitor nothing refers to, and must keep working. Past
 * KEEP_ALIVE running monitors, the others are held weakly: one that nothing
 * refers to any more is collected and cleaned up (`dropped`), so that
 * monitors created per job or per test and never stopped cannot add up.
 */
const KEEP_ALIVE = 16
const keptAlive = new Set()
let warnedMany = false
let warnedBlocked = false

/**
 * Cleanup of a monitor dropped without stop(): `held` holds everything it
 * must release, and nothing that leads back to the monitor.
 */
const dropped = new FinalizationRegistry((held) => {
  held.sampler.stop()
  clearTimeout(held.loop.timer)
  gcs.detach(held.loop.ref)
  if (held.stopReceiving) held.stopReceiving()
})

/** Runs a monitor's check from its timer; holds the monitor weakly, so that a dropped one can be collected. */
function tick(loop) {
  const m = loop.ref.deref()
  if (m === undefined || m._stopped) return
  m._tickedAt = Date.now()
  try {
    m._check()
  } catch (err) {
    // A guard that runs for weeks in production must not take the worker down
    // with a fault of its own: say so once, keep sampling.
    if (!m._checkFailed && m._o.emitWarning) {
      emitLeakguardWarning(
        `leakguard's monitor check failed and will go on: ${err?.message ?? err}`,
        warningCodes.MONITOR_CHECK_FAILED,
        err?.stack
      )
    }
    m._checkFailed = true
  }
  if (!m._stopped) schedule(loop, m._delay)
}

function schedule(loop, delay) {
  loop.timer = setTimeout(tick, delay, loop)
  loop.timer.unref()
}

class Monitor extends EventEmitter {
  constructor(options) {
    super()
    const o = resolveOptions(options)
    this._o = o
    // Before the sampler starts, so that a bad recycle option leaves nothing running.
    this._ownRecycler = monitorRecycleOption('options.recycle', options?.recycle, this)
    this._intervalMs = o.intervalMs
    this._jobs = 0
    this._lastHeapAt = -Infinity
    this._lastMajorAt = -Infinity
    this._abAt = -Infinity
    const cap = o.maxSamples
    // Native thread: RSS and open fds.
    this._rss = new Series(cap)
    this._fds = new Series(cap, o.windowMs)
    // Right after full GCs: heapUsed, external, arrayBuffers, old generation.
    this._heap = new Series(cap, o.windowMs)
    this._external = new Series(cap)
    this._arrayBuffers = new Series(cap, o.windowMs)
    this._oldExact = new Series(cap)
    // At every check (and after full GCs): old generation, external memory.
    this._old = new Series(cap)
    this._extNow = new Series(cap, o.windowMs)
    // After scavenges, for 'sample' listeners only.
    this._minorHeap = new Series(cap)
    this._minorExternal = new Series(cap)
    // How far each metric's readings swing (see Churn): growth must exceed twice that.
    this._churn = {
      heapUsed: this._heap.churn,
      external: this._extNow.churn,
      arrayBuffers: this._arrayBuffers.churn,
      fds: this._fds.churn
    }
    this._series = [
      this._rss,
      this._fds,
      this._heap,
      this._external,
      this._arrayBuffers,
      this._oldExact,
      this._old,
      this._extNow,
      this._minorHeap,
      this._minorExternal
    ]
    // Heap samples not yet published as 'sample' events: [time, heapUsed, external, arrayBuffers|NaN, kind, jobs].
    this._pendingHeap = []
    // metric -> { warning, verdict, at } while a warning stands: the warning
    // raised, and the latest growing verdict (trend() shows it when the latest
    // readings cannot be tested).
    this._active = new Map()
    this._limitHit = new Map() // metric -> true while above its limit
    this._cache = new Map() // metric -> { key, result } of the exact verdict
    this._confirmBackoff = new Map() // metric -> ms a confirmation must wait after one found garbage
    this._stopped = false
    this._lastCheckAt = -Infinity
    this._delay = o.checkEveryMs
    this._checksSinceAssess = 0
    this._rssError = null
    this._autopsy = o.autopsy ? new Autopsy(this, o.autopsy) : null
    this._sampler = new native.RssSampler(o.intervalMs)
    const ref = gcs.attach(this)
    // A first reading now: an OOM half a minute away cannot wait a check period for it.
    this._old.push(Date.now(), gcs.readOldGen(), 0)
    this._stopReceiving = null
    if (isMainThread && o.workerWarnings) {
      // Weakly too: the thread's receivers must not keep a dropped monitor alive.
      const stopWarnings = onWorkerWarning((w) => ref.deref()?._deliverWorkerWarning(w))
      const stopAutopsies = onWorkerAutopsy((a) => ref.deref()?._deliverWorkerAutopsy(a))
      this._stopReceiving = () => {
        stopWarnings()
        stopAutopsies()
      }
    }
    this._tickedAt = Date.now()
    this._checkFailed = false
    this._sinceClockLook = 0
    this._loop = { ref, timer: null }
    schedule(this._loop, this._delay)
    dropped.register(this, { sampler: this._sampler, loop: this._loop, stopReceiving: this._stopReceiving }, this._loop)
    if (keptAlive.size < KEEP_ALIVE) keptAlive.add(this)
    else if (!warnedMany && o.emitWarning) {
      warnedMany = true
      emitLeakguardWarning(
        `${KEEP_ALIVE + 1} monitors are running in this thread: stop() the ones you no longer need. ` +
          `leakguard keeps the first ${KEEP_ALIVE} alive until stop(); the others stop sampling when nothing refers to them any more.`,
        warningCodes.TOO_MANY_MONITORS,
        'One monitor per thread is enough: it sees the whole heap. Each one holds its own samples.'
      )
    }
  }

  /** Options after defaults (read-only copy). */
  get options() {
    return { ...this._o, limits: { ...this._o.limits }, autopsy: this._o.autopsy && { ...this._o.autopsy } }
  }

  /** Jobs counted so far (guard()/withScope() scopes that ended, plus jobDone()). */
  get jobs() {
    return this._jobs
  }

  get stopped() {
    return this._stopped
  }

  /** Counts `n` finished jobs (default 1), for bytes-per-job figures. */
  jobDone(n = 1) {
    if (n !== 1) {
      if (typeof n !== 'number') throw invalidArgType('n', 'a non-negative safe integer', n)
      if (!Number.isSafeInteger(n) || n < 0) throw invalidArgValue('n', 'a non-negative safe integer', n)
      if (this._jobs + n > Number.MAX_SAFE_INTEGER) {
        throw invalidArgValue(
          'n',
          `at most ${Number.MAX_SAFE_INTEGER - this._jobs} (the job count must stay a safe integer)`,
          n
        )
      }
    } else if (this._jobs === Number.MAX_SAFE_INTEGER) {
      throw invalidArgValue('n', '0 (the job count is at Number.MAX_SAFE_INTEGER)', n)
    }
    this._countJobs(n)
  }

  /**
   * Counts jobs, and runs the check between jobs when its timer is starved:
   * jobs that end back to back without the event loop running between them
   * (Piscina's default atomics: 'sync' runs a worker's tasks so, and parks it
   * in Atomics.wait() when idle) would otherwise never see a check. The clock
   * is read once per JOBS_PER_CLOCK_LOOK jobs.
   */
  _countJobs(n) {
    this._jobs += n
    if ((this._sinceClockLook += n) < JOBS_PER_CLOCK_LOOK || this._stopped) return
    this._sinceClockLook = 0
    const now = Date.now()
    if (now - this._tickedAt < STARVED_PERIODS * this._delay) return
    if (!warnedBlocked && this._o.emitWarning) {
      warnedBlocked = true
      notice(
        warningCodes.EVENT_LOOP_BLOCKED,
        `the event loop of ${threadId === 0 ? 'the main thread' : `worker thread ${threadId}`} has not run for ` +
          `${verdict.formatDuration(now - this._tickedAt)} while jobs ended: they run back to back without yielding to it ` +
          "(Piscina's default atomics: 'sync' does this). leakguard's monitor now checks between jobs; timers, I/O and " +
          "its samples after V8's own full GCs still wait. With Piscina, pass atomics: 'async'.",
        'Seen by leakguard monitor(): its check timer was late by several periods while jobs were counted.'
      )
    }
    this._tickedAt = now
    this._check()
  }

  /** Heap figures right after a GC (`old`: old-generation bytes, read after full GCs only). */
  _heapSample(now, stats, old, major) {
    const jobs = this._jobs
    let ab = NaN
    if (major) {
      this._lastMajorAt = now
      this._heap.push(now, stats.used_heap_size, jobs)
      this._external.push(now, stats.external_memory, jobs)
      this._extNow.push(now, stats.external_memory, jobs)
      if (old !== undefined) {
        this._oldExact.push(now, old, jobs)
        this._old.push(now, old, jobs)
      }
      if (now - this._abAt >= Math.max(ARRAY_BUFFERS_EVERY_MS, this._o.checkEveryMs)) {
        this._abAt = now
        ab = process.memoryUsage().arrayBuffers
        this._arrayBuffers.push(now, ab, jobs)
      }
    } else {
      this._lastHeapAt = now
      this._minorHeap.push(now, stats.used_heap_size, jobs)
      this._minorExternal.push(now, stats.external_memory, jobs)
    }
    if (this.listenerCount('sample') > 0 || channels.sample.hasSubscribers) {
      if (this._pendingHeap.length < this._o.maxSamples * 6) {
        this._pendingHeap.push(now, stats.used_heap_size, stats.external_memory, ab, major ? 1 : 0, jobs)
      }
    }
  }

  /** The checks: samples in, limits, verdicts, warnings. Runs on the unref'd timer. */
  _check() {
    if (this._stopped) return
    const now = Date.now()
    const o = this._o
    const jobs = this._jobs
    const publishing = this.listenerCount('sample') > 0 || channels.sample.hasSubscribers
    const pulled = this._pullNow(publishing)
    // The cheap heap readings of every check (see gc-signals.js).
    const stats = gcs.readHeapStats()
    this._old.push(now, gcs.readOldGen(), jobs)
    this._extNow.push(now, stats.external_memory, jobs)
    const since = now - o.windowMs
    for (const s of this._series) s.trim(since)

    if (publishing) {
      this._publishSamples(pulled, jobs)
      gcs.armScavengeSample()
    } else {
      this._pendingHeap.length = 0
    }

    this._maybeFullGc(now)
    this._checkLimits(now, stats)
    this._lastCheckAt = now

    // Verdicts every ASSESS_EVERY_CHECKS checks, and at every check while a
    // limit is near: the readings above are what must not wait.
    const urgent = this._delay < o.checkEveryMs || this._quickUrgent()
    if (!urgent && ++this._checksSinceAssess < ASSESS_EVERY_CHECKS) return
    this._checksSinceAssess = 0
    const trends = this._assessAll(now)
    // A confirmation GC when a cheap series grows and no full GC says yet
    // whether it is live; one per check at most, within the GC budget.
    const asking = []
    for (const metric of ['heapUsed', 'external']) {
      const u = trends[metric]?.cheap
      if (!u || u.growing || u.confirmAfterMs === undefined) continue
      const exact = metric === 'heapUsed' ? this._oldExact : this._external
      const wait = Math.max(u.confirmAfterMs, this._confirmBackoff.get(metric) ?? 0, CONFIRM_GAP_CHECKS * this._delay)
      if (now - exact.lastTime() >= wait) asking.push(metric)
    }
    if (asking.length > 0 && gcs.confirmGc(now)) {
      const again = this._assessAll(Date.now())
      for (const metric of asking) {
        const u = again[metric]?.cheap
        if (u?.unconfirmed) {
          const was = this._confirmBackoff.get(metric) ?? u.confirmAfterMs
          this._confirmBackoff.set(metric, Math.min(o.windowMs / 2, Math.max(2 * was, u.confirmAfterMs)))
        } else {
          this._confirmBackoff.delete(metric)
        }
        trends[metric] = again[metric]
      }
    }
    this._decide(trends, now)
    this._delay = this._urgent(trends) ? Math.max(10, Math.round(o.checkEveryMs / 4)) : o.checkEveryMs
  }

  /**
   * Before the trends have their samples: the old generation's rise from its
   * lowest reading in the window, projected onto the heap limit, is less than
   * URGENT_CHECKS check periods away.
   */
  _quickUrgent() {
    const old = this._old
    if (old.len < 2) return false
    let lo = 0
    for (let i = 1; i < old.len - 1; i++) if (old.y[i] < old.y[lo]) lo = i
    const last = old.len - 1
    const rise = old.y[last] - old.y[lo]
    const dt = old.t[last] - old.t[lo]
    if (!(rise > 0 && dt > 0)) return false
    return (this._target('heapUsed').limit - old.y[last]) / (rise / dt) < URGENT_CHECKS * this._o.checkEveryMs
  }

  /** True while a projected limit is less than URGENT_CHECKS check periods away. */
  _urgent(trends) {
    if (this._quickUrgent()) return true
    const soon = URGENT_CHECKS * this._o.checkEveryMs
    for (const metric of TREND_METRICS) {
      const t = trends[metric]
      for (const r of [t?.exact, t?.cheap]) {
        if (r?.projection && r.pValue < 0.05 && r.projection.etaMs < soon) return true
      }
    }
    return false
  }

  /** Every metric's verdicts: `{ [metric]: { exact, cheap, best } }` (null where too few samples). */
  _assessAll(now) {
    const out = {}
    for (const metric of TREND_METRICS) out[metric] = this._assess(metric, now)
    return out
  }

  _assess(metric, now) {
    const o = this._o
    const evidence = metric === 'fds' ? verdict.EVIDENCE_FDS : Math.max(verdict.EVIDENCE_BYTES, o.minGrowthBytes)
    const churn = this._churn[metric].value()
    const ctx = {
      metric,
      now,
      jobs: this._jobs,
      target: this._target(metric),
      minGrowth: verdict.minGrowthFor(metric === 'fds' ? verdict.MIN_GROWTH_FDS : o.minGrowthBytes, churn, evidence),
      churn,
      minPerJob: metric === 'fds' ? 0 : o.minBytesPerJob,
      evidence,
      basis: metric === 'fds' ? 'count' : 'full-gc',
      minConfirmGapMs: CONFIRM_GAP_CHECKS * this._delay,
      cheapLabel: metric === 'heapUsed' ? 'the old generation' : 'external memory',
      // A full GC's external figure can still hold freed Buffers (see assessConfirmed).
      exactLags: metric === 'external'
    }
    const s = this._exactSeries(metric)
    // The exact verdict changes only with new samples or the window sliding,
    // and its projection with time: recomputed when either moved.
    const key = `${s.len}:${s.len ? s.t[0] : 0}:${s.lastTime()}:${Math.floor(now / 10_000)}:${ctx.minGrowth}`
    let exact
    const hit = this._cache.get(metric)
    if (hit && hit.key === key) exact = hit.result
    else {
      exact = verdict.assessExact(s, o, ctx)
      this._cache.set(metric, { key, result: exact })
    }
    let cheap = null
    if (metric === 'heapUsed') cheap = verdict.assessConfirmed(this._old, this._oldExact, o, ctx)
    else if (metric === 'external') cheap = verdict.assessConfirmed(this._extNow, this._external, o, ctx)
    let best
    if (exact?.growing) best = exact
    else if (cheap?.growing) best = cheap
    else if (exact && !exact.pending) best = exact
    else best = cheap ?? exact
    return best ? { exact, cheap, best } : null
  }

  _exactSeries(metric) {
    if (metric === 'heapUsed') return this._heap
    if (metric === 'fds') return this._fds
    return metric === 'external' ? this._external : this._arrayBuffers
  }

  /** What the growth of `metric` is projected onto. */
  _target(metric) {
    const limits = this._o.limits
    if (metric === 'heapUsed') {
      return limits.heapUsed !== undefined
        ? { metric, limit: limits.heapUsed, name: 'limits.heapUsed' }
        : { metric, limit: heapLimitBytes(), name: 'heap limit' }
    }
    if (metric === 'fds') {
      if (limits.fds !== undefined) return { metric, limit: limits.fds, name: 'limits.fds' }
      const limit = fdLimitCount()
      return limit === null ? null : { metric, limit, name: 'open-fd limit (ulimit -n)' }
    }
    if (limits.external !== undefined) return { metric: 'external', limit: limits.external, name: 'limits.external' }
    // Off-heap growth ends at the process's memory limit: projected from RSS.
    if (this._rss.len === 0) return null
    return {
      metric: 'rss',
      limit: limits.rss ?? memoryLimitBytes(),
      name: limits.rss !== undefined ? 'limits.rss' : 'memory limit',
      level: this._rss.last(),
      levelAt: this._rss.lastTime()
    }
  }

  /** Raises and clears warnings from this check's verdicts. */
  _decide(trends, now) {
    const best = Object.fromEntries(TREND_METRICS.map((m) => [m, trends[m]?.best ?? null]))
    // Leaked Buffers also grow the heap by their JS wrappers (~200 B each).
    // When external memory grows at least twice as fast, that heap growth is
    // the same leak: name the external memory, mention the heap; and while
    // the external verdict is still pending, wait for it.
    const heap = best.heapUsed
    const ext = [best.external, best.arrayBuffers].find((t) => t && (t.growing || t.pending))
    let heapNote = ''
    if (heap?.growing && ext && heap.slopeBytesPerSec * 2 <= ext.slopeBytesPerSec) {
      best.heapUsed = {
        ...heap,
        growing: false,
        pending: !ext.growing,
        reason: `grows ${verdict.rateOf(heap)}, but external memory grows ${verdict.rateOf(ext)}: the heap growth is the JS objects holding it`
      }
      heapNote = `; heapUsed grows too (${verdict.rateOf(heap)}), the JS objects that hold this memory`
    }
    for (const metric of TREND_METRICS) {
      const t = best[metric]
      const raised = this._active.get(metric)
      if (t?.growing) {
        if (raised) Object.assign(raised, { verdict: t, at: now })
        else this._raise(metric, t, metric === 'heapUsed' || metric === 'fds' ? '' : heapNote)
      } else if (raised && decides(t)) {
        this._active.delete(metric)
      }
    }
  }

  _publishSamples(pulled, jobs) {
    const out = []
    for (let i = 0; i < pulled.length; i += 3) {
      out.push(rssSample(pulled[i], pulled[i + 1], pulled[i + 2], jobs))
    }
    const p = this._pendingHeap
    for (let i = 0; i < p.length; i += 6) {
      out.push({
        time: p[i],
        source: 'gc',
        rss: undefined,
        heapUsed: p[i + 1],
        external: p[i + 2],
        arrayBuffers: Number.isNaN(p[i + 3]) ? undefined : p[i + 3],
        gc: p[i + 4] ? 'major' : 'minor',
        fds: undefined,
        jobs: p[i + 5]
      })
    }
    p.length = 0
    out.sort((a, b) => a.time - b.time)
    for (const s of out) {
      if (channels.sample.hasSubscribers) channels.sample.publish(s)
      this.emit('sample', s)
    }
  }

  /** A full collection now, when none happened for `fullGcEveryMs` (opt-in). */
  _maybeFullGc(now) {
    const every = this._o.fullGcEveryMs
    if (every === 0 || now - this._lastMajorAt < every) return
    gcs.collectNow('scheduled')
  }

  _checkLimits(now, stats) {
    const limits = this._o.limits
    if (
      limits.rss === undefined &&
      limits.heapUsed === undefined &&
      limits.external === undefined &&
      limits.fds === undefined
    ) {
      return
    }
    // Heap figures as of the latest post-GC sample since the last check, else now.
    const heapUsed = latest(this._heap, this._minorHeap, this._lastCheckAt) ?? stats.used_heap_size
    const external = latest(this._external, this._minorExternal, this._lastCheckAt) ?? stats.external_memory
    const values = { rss: this._rss.last(), heapUsed, external, fds: this._fds.last() }
    for (const metric of LIMIT_KEYS) {
      const limit = limits[metric]
      const value = values[metric]
      if (limit === undefined || value === undefined) continue
      if (value >= limit) {
        if (this._limitHit.get(metric)) continue
        this._limitHit.set(metric, true)
        const shown = (n) => (metric === 'fds' ? String(n) : formatBytes(n))
        const event = {
          metric,
          limitBytes: limit,
          valueBytes: value,
          time: now,
          threadId,
          message: `${metric} is ${shown(value)}, over the configured limit of ${shown(limit)}`
        }
        if (channels.limit.hasSubscribers) channels.limit.publish(event)
        this.emit('limit', event)
        if (this._o.sendToParent) sendToParent({ type: 'leakguard:limit', limit: event })
        if (this._autopsy && metric !== 'fds') this._autopsy.request({ limit: event })
      } else {
        this._limitHit.delete(metric)
      }
    }
  }

  _raise(metric, t, note = '') {
    const { code, label } = METRICS[metric]
    const p = t.projection ?? null
    const span = verdict.formatDuration(t.windowMs)
    let detail
    if (metric === 'fds') {
      detail = `+${Math.round(t.growthBytes)} over ${span} (${t.samples} samples)`
    } else if (t.basis === 'confirmed') {
      detail = `+${formatBytes(t.growthBytes)} live over ${span}, confirmed by two full GCs (${t.samples} readings)`
    } else {
      detail = `+${formatBytes(t.growthBytes)} over ${span} on the post-GC floor of ${t.samples} samples`
    }
    if (t.bytesPerJob !== null && metric !== 'fds')
      detail += `, ${formatBytes(t.slopeBytesPerSec)}/s over ${t.jobs} jobs`
    const grows = metric === 'fds' ? '' : ' grows'
    const warning = {
      metric,
      code,
      slopeBytesPerSec: t.slopeBytesPerSec,
      bytesPerJob: t.bytesPerJob,
      growthBytes: t.growthBytes,
      windowMs: t.windowMs,
      pValue: t.pValue,
      basis: t.basis,
      projection: p && {
        metric: p.metric,
        limitBytes: p.limitBytes,
        limit: p.limit,
        etaMs: p.etaMs,
        atJobs: p.atJobs
      },
      threadId,
      pid: process.pid,
      time: Date.now(),
      message:
        `${label}${grows} ${verdict.rateOf(t)} (${formatP(t.pValue)})${verdict.projectionText(p, this._jobs)}: ` +
        `${detail}${note}` +
        (threadId !== 0 ? ` [worker thread ${threadId}]` : '')
    }
    this._active.set(metric, { warning, verdict: t, at: warning.time })
    if (channels.warning.hasSubscribers) channels.warning.publish(warning)
    this.emit('warning', warning)
    if (this._o.emitWarning) {
      emitLeakguardWarning(
        warning.message,
        code,
        'Reported by leakguard monitor(); see warning.metric, the slope figures and warning.projection.'
      )
    }
    postToHost({ type: 'leakguard:warning', warning })
    if (this._o.sendToParent) sendToParent({ type: 'leakguard:warning', warning })
    if (this._autopsy && metric === 'heapUsed') this._autopsy.request({ warning })
  }

  _deliverWorkerWarning(warning) {
    if (this._stopped) return
    this.emit('warning', warning)
  }

  _deliverWorkerAutopsy(autopsy) {
    if (this._stopped) return
    this.emit('autopsy', autopsy)
  }

  /** Memory samples in the window, oldest first: RSS (with open fds) and post-GC heap samples. */
  samples() {
    this._pullNow()
    const out = []
    const r = this._rss
    const f = this._fds
    for (let i = 0, k = 0; i < r.len; i++) {
      while (k < f.len && f.t[k] < r.t[i]) k++
      const fds = k < f.len && f.t[k] === r.t[i] ? f.y[k] : undefined
      const s = rssSample(r.t[i], r.y[i], fds, r.jobs[i])
      out.push(s)
    }
    const h = this._heap
    const ab = this._arrayBuffers
    let k = 0
    for (let i = 0; i < h.len; i++) {
      while (k < ab.len && ab.t[k] < h.t[i]) k++
      const abv = k < ab.len && ab.t[k] === h.t[i] ? ab.y[k] : undefined
      out.push({
        time: h.t[i],
        source: 'gc',
        rss: undefined,
        heapUsed: h.y[i],
        external: this._external.y[i],
        arrayBuffers: abv,
        gc: 'major',
        fds: undefined,
        jobs: h.jobs[i]
      })
    }
    const m = this._minorHeap
    for (let i = 0; i < m.len; i++) {
      out.push({
        time: m.t[i],
        source: 'gc',
        rss: undefined,
        heapUsed: m.y[i],
        external: this._minorExternal.y[i],
        arrayBuffers: undefined,
        gc: 'minor',
        fds: undefined,
        jobs: m.jobs[i]
      })
    }
    out.sort((a, b) => a.time - b.time)
    return out
  }

  /**
   * Moves the native ring's new samples into the window. With `collect`,
   * also returns them (flat [t, rss, fds, ...]) for the 'sample' listeners.
   */
  _pullNow(collect = false) {
    const out = collect ? [] : null
    if (this._stopped) return out
    const jobs = this._jobs
    const buf = PULL_BUFFER
    for (;;) {
      let n
      try {
        n = this._sampler.pullInto(buf)
      } catch (err) {
        // The native thread cannot read RSS here (non-Linux, /proc unreadable).
        // Heap verdicts do not need it: report once, to a listener only, so
        // that an unhandled 'error' never takes the worker down.
        if (!this._rssError) {
          this._rssError = err
          if (this.listenerCount('error') > 0) this.emit('error', err)
        }
        return out
      }
      for (let i = 0; i < 3 * n; i += 3) {
        this._rss.push(buf[i], buf[i + 1], jobs)
        if (!Number.isNaN(buf[i + 2])) this._fds.push(buf[i], buf[i + 2], jobs)
        if (out !== null) out.push(buf[i], buf[i + 1], buf[i + 2])
      }
      if (3 * n < buf.length) return out
    }
  }

  /** The current trend of every metric (null where there are too few samples), with its projection. */
  trend() {
    this._pullNow()
    const now = Date.now()
    const all = this._assessAll(now)
    const out = {}
    for (const metric of TREND_METRICS) out[metric] = this._shownTrend(metric, all[metric]?.best ?? null, now)
    const rss = this._rss.len
      ? verdict.assessExact(this._rss, this._o, {
          metric: 'rss',
          now,
          jobs: this._jobs,
          target: { metric: 'rss', limit: this._o.limits.rss ?? memoryLimitBytes(), name: 'memory limit' },
          minGrowth: this._o.minGrowthBytes,
          churn: 0,
          minPerJob: 0,
          evidence: verdict.EVIDENCE_BYTES,
          basis: 'rss'
        })
      : null
    return {
      heapUsed: out.heapUsed,
      external: out.external,
      arrayBuffers: out.arrayBuffers,
      fds: out.fds,
      rss: rss && publicTrend(rss, 0),
      jobs: this._jobs,
      warnings: Array.from(this._active.values(), (a) => a.warning),
      overhead: { fullGcs: gcs.caused.fullGcs, gcPauseMs: gcs.caused.pauseMs, sinceMs: now - gcs.caused.since }
    }
  }

  /**
   * What trend() shows for a metric. A warning stands until a verdict says the
   * metric no longer grows; between two GC steps the readings can be too flat
   * or too few to test (the 64 MB child of the specs had none for 4.5 s of the
   * 19 s from its warning to its death). Then the warning's metric shows the latest growing verdict,
   * its projection counted down to now, rather than nothing.
   */
  _shownTrend(metric, fresh, now) {
    const held = this._active.get(metric)
    if (!held || decides(fresh)) return fresh && publicTrend(fresh, 0)
    const ageMs = Math.max(0, now - held.at)
    const why = fresh ? fresh.reason : 'too few readings to test'
    const shown = publicTrend(
      {
        ...held.verdict,
        reason: `the verdict of ${verdict.formatDuration(ageMs)} ago, kept while its warning stands; the latest readings cannot be tested yet (${why})`
      },
      ageMs
    )
    if (shown.projection) shown.projection.etaMs = Math.max(0, shown.projection.etaMs - ageMs)
    return shown
  }

  /** Stops sampling (idempotent). The last monitor of the process stops the native thread. */
  stop() {
    if (this._stopped) return
    this._stopped = true
    keptAlive.delete(this)
    dropped.unregister(this._loop)
    clearTimeout(this._loop.timer)
    this._sampler.stop()
    gcs.detach(this._loop.ref)
    if (this._stopReceiving) this._stopReceiving()
    if (this._ownRecycler) this._ownRecycler.stop()
    if (this._autopsy) this._autopsy.stop()
  }

  [kDispose]() {
    this.stop()
  }
}

function rssSample(time, rss, fds, jobs) {
  return {
    time,
    source: 'rss',
    rss,
    heapUsed: undefined,
    external: undefined,
    arrayBuffers: undefined,
    gc: undefined,
    fds: fds === undefined || Number.isNaN(fds) ? undefined : fds,
    jobs
  }
}

/** Whether a verdict settles a standing warning: it still grows, or it tested and found no growth. */
function decides(t) {
  return t !== null && (t.growing || !t.pending)
}

/** A verdict as m.trend() shows it; `ageMs` is how long ago it was reached. */
function publicTrend(t, ageMs) {
  return {
    metric: t.metric,
    growing: t.growing,
    pending: t.pending,
    reason: t.reason,
    basis: t.basis,
    slopeBytesPerSec: t.slopeBytesPerSec,
    bytesPerJob: t.bytesPerJob,
    growthBytes: t.growthBytes,
    pValue: t.pValue,
    tau: t.tau,
    samples: t.samples,
    windowMs: t.windowMs,
    jobs: t.jobs,
    requiredSpanMs: t.requiredSpanMs,
    minGrowthBytes: t.minGrowthBytes,
    ageMs,
    projection: t.projection
      ? {
          metric: t.projection.metric,
          limitBytes: t.projection.limitBytes,
          limit: t.projection.limit,
          etaMs: t.projection.etaMs,
          atJobs: t.projection.atJobs
        }
      : null
  }
}

/** The later of the last full-GC and last scavenge sample of a metric, if taken after `since`. */
function latest(major, minor, since) {
  const tMajor = major.lastTime()
  const tMinor = minor.lastTime()
  if (Math.max(tMajor, tMinor) <= since) return undefined
  return tMajor >= tMinor ? major.last() : minor.last()
}

/**
 * Starts a memory monitor. See index.d.ts for every option.
 * @param {object} [options]
 */
function monitor(options) {
  return new Monitor(options)
}

/** State of the process-wide sampling thread: { running, subscribers, intervalMs, samples, threadName }. */
function samplerInfo() {
  return native.samplerInfo()
}

module.exports = { monitor, Monitor, onWorkerWarning, samplerInfo }
