'use strict'
// monitor(): memory trend warnings for long-running workers. The capability's
// entry: it drives the process-wide sampling thread of src/sampler (RSS, read
// natively into a ring) and the trend statistics of src/trend (through
// lib/trend). Its parts: options.js (defaults and bounds), series.js (the
// sample columns), gc-signals.js (full/minor GC detection and heap figures),
// delivery.js (emitWarning, worker_thread -> main thread, IPC to the parent).
//
// Where the main-thread time goes (the budget is ~1 µs per sample):
// - RSS is read by the process-wide native thread (src/sampler) into a ring,
//   timestamped natively; JS pulls it as one Float64Array only when something
//   needs it (an rss limit, 'sample' listeners, samples(), trend()).
// - Heap figures are taken right after garbage collections with
//   v8.getHeapStatistics() (see gc-signals.js), without paying for every GC.
//   arrayBuffers exists only through process.memoryUsage() (~8 µs), so it is
//   read with the first full-GC sample after each check only.
// - One unref'd timer per monitor runs the checks every `checkEveryMs`:
//   limits, then the native trend on Float64Array views (no per-element
//   conversion), and only when a new full-GC sample arrived.
//
// Why verdicts use full-GC samples only: after a scavenge, heapUsed still holds
// every promoted-then-dead object of the old generation, and that grows in a
// healthy worker until the next mark-compact (measured here: +2 MB over 30k
// jobs of a leak-free loop, no mark-compact at all). Only the heap after a full
// collection is the live set.

const { EventEmitter } = require('node:events')
const { isMainThread, threadId } = require('node:worker_threads')
const native = require('../common/native')
const { formatBytes, formatP } = require('../common/format')
const { fullGc } = require('../common/gc')
const channels = require('../common/channels')
const { invalidArgType, invalidArgValue } = require('../common/errors')
const { monitorRecycleOption } = require('../fleet/recycle')
const { assessTrendF64 } = require('../trend/trend')
const { resolveOptions, LIMIT_KEYS } = require('./options')
const { Series, latest } = require('./series')
const { attach, detach, armScavengeSample, readHeapStats } = require('./gc-signals')
const { postToHost, onWorkerWarning, sendToParent, emitProcessWarning } = require('./delivery')

const EMPTY = new Float64Array(0)
const kDispose = Symbol.dispose || Symbol.for('nodejs.dispose')

/** The metrics that can raise a trend warning, with their warning code and wording. */
const METRICS = {
  heapUsed: { code: 'LEAKGUARD_HEAP_GROWTH', label: 'heapUsed' },
  external: { code: 'LEAKGUARD_EXTERNAL_GROWTH', label: 'external memory (Buffers, ArrayBuffers, native)' },
  arrayBuffers: { code: 'LEAKGUARD_ARRAY_BUFFERS_GROWTH', label: 'arrayBuffers (Buffers and ArrayBuffers)' }
}
const TREND_METRICS = Object.keys(METRICS)

/** "1.1 KB/job" when jobs were counted, else "6.6 KB/s". */
function rateOf(t) {
  return t.bytesPerJob !== null ? `${formatBytes(t.bytesPerJob)}/job` : `${formatBytes(t.slopeBytesPerSec)}/s`
}

function formatDuration(ms) {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`
  return `${(ms / 1000).toFixed(1)} s`
}

// ---- the monitor ---------------------------------------------------------------

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
    this._rss = new Series(o.maxSamples)
    this._minorHeap = new Series(o.maxSamples)
    this._minorExternal = new Series(o.maxSamples)
    this._heap = new Series(o.maxSamples)
    this._external = new Series(o.maxSamples)
    this._arrayBuffers = new Series(o.maxSamples)
    // Heap samples not yet published as 'sample' events: [time, heapUsed, external, arrayBuffers|NaN, kind, jobs].
    this._pendingHeap = []
    this._active = new Map() // metric -> warning currently raised
    this._limitHit = new Map() // metric -> true while above its limit
    this._stopped = false
    this._lastCheckAt = -Infinity
    this._assessedLen = -1
    this._assessedFirst = 0
    this._assessedLast = 0
    this._rssError = null
    this._abWanted = true
    this._sampler = new native.RssSampler(o.intervalMs)
    attach(this)
    if (isMainThread && o.workerWarnings) {
      this._stopReceiving = onWorkerWarning((w) => this._deliverWorkerWarning(w))
    }
    this._timer = setInterval(() => this._check(), o.checkEveryMs)
    this._timer.unref()
  }

  /** Options after defaults (read-only copy). */
  get options() {
    return { ...this._o, limits: { ...this._o.limits } }
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
      if (typeof n !== 'number') throw invalidArgType('n', 'a non-negative integer', n)
      if (!Number.isInteger(n) || n < 0) throw invalidArgValue('n', 'a non-negative integer', n)
    }
    this._jobs += n
  }

  _heapSample(now, stats, major) {
    const jobs = this._jobs
    let ab = NaN
    if (major) {
      this._lastMajorAt = now
      this._heap.push(now, stats.used_heap_size, jobs)
      this._external.push(now, stats.external_memory, jobs)
      // ~8 µs, and full GCs can come several per second in a busy worker:
      // read it with the first full-GC sample after each check only.
      if (this._abWanted) {
        this._abWanted = false
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

  /** A full collection now, when none happened for `fullGcEveryMs` (opt-in). */
  _maybeFullGc(now) {
    const every = this._o.fullGcEveryMs
    if (every === 0 || now - this._lastMajorAt < every) return
    fullGc()
    this._heapSample(Date.now(), readHeapStats(), true)
  }

  /** Pulls RSS, publishes samples, checks limits and trends. Runs on the unref'd timer. */
  _check() {
    if (this._stopped) return
    const now = Date.now()
    const o = this._o
    const publishing = this.listenerCount('sample') > 0 || channels.sample.hasSubscribers
    // RSS stays in the native ring until someone needs it (an rss limit, a
    // 'sample' listener, samples(), trend()): a check that does not cross into
    // native code costs a few µs less, and checks run when caches are cold.
    const pulled = publishing || o.limits.rss !== undefined ? this._pullNow() : EMPTY
    const since = now - o.windowMs
    this._rss.trim(since)
    this._heap.trim(since)
    this._external.trim(since)
    this._minorHeap.trim(since)
    this._minorExternal.trim(since)
    this._arrayBuffers.trim(since)

    if (publishing) {
      this._publishSamples(pulled, this._jobs)
      armScavengeSample()
    } else {
      this._pendingHeap.length = 0
    }

    this._abWanted = true
    this._maybeFullGc(now)
    this._checkLimits(now)
    this._lastCheckAt = now
    // Verdicts change only with new full-GC samples or the window sliding past
    // old ones: skip the (native) trend otherwise; full GCs are rare.
    const h = this._heap
    const first = h.len ? h.t[0] : 0
    const last = h.len ? h.t[h.len - 1] : 0
    if (h.len === this._assessedLen && first === this._assessedFirst && last === this._assessedLast) return
    this._assessedLen = h.len
    this._assessedFirst = first
    this._assessedLast = last
    const trends = {}
    for (const metric of TREND_METRICS) trends[metric] = this._assess(metric)
    // Leaked Buffers also grow the heap by their JS wrappers (~200 B each).
    // When external memory grows at least twice as fast, that heap growth is
    // the same leak: name the external memory, mention the heap.
    const heap = trends.heapUsed
    const ext = trends.external?.growing ? trends.external : trends.arrayBuffers
    let heapNote = ''
    if (heap?.growing && ext?.growing && heap.slopeBytesPerSec * 2 <= ext.slopeBytesPerSec) {
      heap.growing = false
      heap.reason = `grows ${rateOf(heap)}, but external memory grows ${rateOf(ext)}: the heap growth is the JS objects holding it`
      heapNote = `; heapUsed grows too (${rateOf(heap)}), the JS objects that hold this memory`
    }
    for (const metric of TREND_METRICS) {
      const t = trends[metric]
      const raised = this._active.get(metric)
      if (t?.growing) {
        if (!raised) this._raise(metric, t, metric === 'heapUsed' ? '' : heapNote)
      } else if (raised && t) {
        this._active.delete(metric)
      }
    }
  }

  _publishSamples(pulled, jobs) {
    const out = []
    for (let i = 0; i < pulled.length; i += 2) {
      out.push({
        time: pulled[i],
        source: 'rss',
        rss: pulled[i + 1],
        heapUsed: undefined,
        external: undefined,
        arrayBuffers: undefined,
        gc: undefined,
        jobs
      })
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

  _checkLimits(now) {
    const limits = this._o.limits
    if (limits.rss === undefined && limits.heapUsed === undefined && limits.external === undefined) return
    let heapUsed = latest(this._heap, this._minorHeap, this._lastCheckAt)
    let external = latest(this._external, this._minorExternal, this._lastCheckAt)
    if (heapUsed === undefined && (limits.heapUsed !== undefined || limits.external !== undefined)) {
      // No GC since the last check: the heap has not grown by much, a current reading (~0.2 µs) will do.
      const stats = readHeapStats()
      heapUsed = stats.used_heap_size
      external = stats.external_memory
    }
    const values = { rss: this._rss.last(), heapUsed, external }
    for (const metric of LIMIT_KEYS) {
      const limit = limits[metric]
      const value = values[metric]
      if (limit === undefined || value === undefined) continue
      if (value >= limit) {
        if (this._limitHit.get(metric)) continue
        this._limitHit.set(metric, true)
        const event = {
          metric,
          limitBytes: limit,
          valueBytes: value,
          time: now,
          threadId,
          message: `${metric} is ${formatBytes(value)}, over the configured limit of ${formatBytes(limit)}`
        }
        if (channels.limit.hasSubscribers) channels.limit.publish(event)
        this.emit('limit', event)
        if (this._o.sendToParent) sendToParent({ type: 'leakguard:limit', limit: event })
      } else {
        this._limitHit.delete(metric)
      }
    }
  }

  /** The trend of one metric over the window, or null with too few samples. */
  _assess(metric) {
    const s = metric === 'heapUsed' ? this._heap : metric === 'rss' ? this._rss : this[`_${metric}`]
    const o = this._o
    const n = s.len
    const minSamples = o.minSamples
    if (n < minSamples) return null
    const t0 = s.t[0]
    // No verdict before the samples span half the window: at start-up everything
    // grows (code, caches, pools), and only time tells a warm-up from a leak.
    if (s.t[n - 1] - t0 < o.windowMs / 2) return null
    const xs = new Float64Array(n)
    for (let i = 0; i < n; i++) xs[i] = (s.t[i] - t0) / 1000
    const ys = s.y.subarray(0, n)
    const floorBlocks = Math.max(6, Math.min(o.floorBlocks, n >> 1))
    const opts = { alpha: o.alpha, minGrowth: o.minGrowthBytes, floorBlocks }
    const a = assessTrendF64(xs, ys, opts)
    if (!a) return null
    const jobs0 = s.jobs[0]
    const jobsSpan = s.jobs[n - 1] - jobs0
    let bytesPerJob = null
    let perJob = null
    if (jobsSpan >= minSamples) {
      const js = new Float64Array(n)
      for (let i = 0; i < n; i++) js[i] = s.jobs[i] - jobs0
      perJob = assessTrendF64(js, ys, opts)
      if (perJob) bytesPerJob = perJob.overall.slope
    }
    let growing = a.growing
    let reason = a.reason
    if (growing && bytesPerJob !== null && bytesPerJob < o.minBytesPerJob) {
      growing = false
      reason = `grows ${formatBytes(bytesPerJob)}/job, below options.minBytesPerJob (${o.minBytesPerJob})`
    }
    return {
      metric,
      growing,
      reason,
      slopeBytesPerSec: a.overall.slope,
      bytesPerJob,
      growthBytes: a.overall.growth,
      pValue: a.overall.pValue,
      tau: a.overall.tau,
      samples: n,
      windowMs: s.t[n - 1] - t0,
      jobs: jobsSpan
    }
  }

  _raise(metric, t, note = '') {
    const { code, label } = METRICS[metric]
    const rate = rateOf(t)
    const extra = t.bytesPerJob !== null ? `, ${formatBytes(t.slopeBytesPerSec)}/s over ${t.jobs} jobs` : ''
    const warning = {
      metric,
      code,
      slopeBytesPerSec: t.slopeBytesPerSec,
      bytesPerJob: t.bytesPerJob,
      growthBytes: t.growthBytes,
      windowMs: t.windowMs,
      pValue: t.pValue,
      threadId,
      pid: process.pid,
      time: Date.now(),
      message:
        `${label} grows ${rate} (${formatP(t.pValue)}) over ${formatDuration(t.windowMs)}: ` +
        `+${formatBytes(t.growthBytes)} on the post-GC floor of ${t.samples} samples${extra}${note}` +
        (threadId !== 0 ? ` [worker thread ${threadId}]` : '')
    }
    this._active.set(metric, warning)
    if (channels.warning.hasSubscribers) channels.warning.publish(warning)
    this.emit('warning', warning)
    if (this._o.emitWarning) {
      emitProcessWarning(
        warning.message,
        code,
        'Reported by leakguard monitor(); see warning.metric and the slope figures.'
      )
    }
    postToHost(warning)
    if (this._o.sendToParent) sendToParent({ type: 'leakguard:warning', warning })
  }

  _deliverWorkerWarning(warning) {
    if (this._stopped) return
    this.emit('warning', warning)
  }

  /** Memory samples in the window, oldest first: RSS samples and post-GC heap samples. */
  samples() {
    this._pullNow()
    const out = []
    const r = this._rss
    for (let i = 0; i < r.len; i++) {
      out.push({
        time: r.t[i],
        source: 'rss',
        rss: r.y[i],
        heapUsed: undefined,
        external: undefined,
        arrayBuffers: undefined,
        gc: undefined,
        jobs: r.jobs[i]
      })
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
        jobs: m.jobs[i]
      })
    }
    out.sort((a, b) => a.time - b.time)
    return out
  }

  /** Moves the native ring's new RSS samples into the window; returns them (flat [t, rss, ...]). */
  _pullNow() {
    if (this._stopped) return EMPTY
    let pulled
    try {
      pulled = this._sampler.pull()
    } catch (err) {
      // The native thread cannot read RSS here (non-Linux, /proc unreadable).
      // Heap verdicts do not need it: report once, to a listener only, so
      // that an unhandled 'error' never takes the worker down.
      if (!this._rssError) {
        this._rssError = err
        if (this.listenerCount('error') > 0) this.emit('error', err)
      }
      return EMPTY
    }
    const jobs = this._jobs
    for (let i = 0; i < pulled.length; i += 2) this._rss.push(pulled[i], pulled[i + 1], jobs)
    return pulled
  }

  /** The current trend of every metric (null where there are too few samples). */
  trend() {
    this._pullNow()
    return {
      heapUsed: this._assess('heapUsed'),
      external: this._assess('external'),
      arrayBuffers: this._assess('arrayBuffers'),
      rss: this._assess('rss'),
      jobs: this._jobs,
      warnings: [...this._active.values()]
    }
  }

  /** Stops sampling (idempotent). The last monitor of the process stops the native thread. */
  stop() {
    if (this._stopped) return
    this._stopped = true
    clearInterval(this._timer)
    this._sampler.stop()
    detach(this)
    if (this._stopReceiving) this._stopReceiving()
    if (this._ownRecycler) this._ownRecycler.stop()
  }

  [kDispose]() {
    this.stop()
  }
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
