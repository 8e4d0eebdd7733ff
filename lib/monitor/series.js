'use strict'
// One time series of the monitor: columns of Float64Array (time, value, jobs
// counted), trimmed by time (the sliding window) and by count (maxSamples), so
// that the native trend borrows them in place and the monitor stays bounded.
// Columns start small and double up to `cap`: most series of most monitors
// never hold more than a few hundred samples.

const INITIAL = 64

class Series {
  /** `churnMs` > 0: also track how far its readings fall (`churn`, see Churn), over that window. */
  constructor(cap, churnMs = 0) {
    this.cap = cap
    this.len = 0
    this.churn = churnMs > 0 ? new Churn(churnMs) : null
    const n = Math.min(INITIAL, cap)
    this.t = new Float64Array(n)
    this.y = new Float64Array(n)
    this.jobs = new Float64Array(n)
  }

  push(t, y, jobs) {
    if (this.len === this.t.length) {
      if (this.len < this.cap) this.grow(Math.min(this.cap, this.len * 2))
      else this.drop(this.cap >> 2)
    }
    const i = this.len++
    this.t[i] = t
    this.y[i] = y
    this.jobs[i] = jobs
    if (this.churn !== null) this.churn.observe(t, y)
  }

  grow(n) {
    for (const k of ['t', 'y', 'jobs']) {
      const bigger = new Float64Array(n)
      bigger.set(this[k].subarray(0, this.len))
      this[k] = bigger
    }
  }

  drop(n) {
    if (n <= 0) return
    n = Math.min(n, this.len)
    this.t.copyWithin(0, n, this.len)
    this.y.copyWithin(0, n, this.len)
    this.jobs.copyWithin(0, n, this.len)
    this.len -= n
  }

  /** Drops samples older than `since`. */
  trim(since) {
    if (this.len === 0 || this.t[0] >= since) return
    let n = 0
    while (n < this.len && this.t[n] < since) n++
    this.drop(n)
  }

  last() {
    return this.len ? this.y[this.len - 1] : undefined
  }

  lastTime() {
    return this.len ? this.t[this.len - 1] : -Infinity
  }
}

/**
 * The largest fall a metric has shown, from a reading to a later lower one:
 * how far a reading can sit above what is live. External memory keeps a freed
 * 1 MB Buffer counted until V8's ArrayBuffer sweeper reports it (a full GC
 * later, or the next one), and a full GC in the middle of a job finds the
 * job's working set alive: growth no larger than such swings is no evidence.
 * Kept over the current and the previous window, so that a swing that slid
 * out of the window still counts. Constant memory: a peak and two falls.
 */
class Churn {
  constructor(epochMs) {
    this.epochMs = epochMs
    this.start = -Infinity
    this.peak = -Infinity
    this.fall = 0
    this.previous = 0
  }

  observe(t, y) {
    if (t - this.start >= this.epochMs) {
      this.previous = this.fall
      this.fall = 0
      this.peak = y
      this.start = t
    } else if (y > this.peak) {
      this.peak = y
    } else if (this.peak - y > this.fall) {
      this.fall = this.peak - y
    }
  }

  /** The largest fall seen in this window or the previous one. */
  value() {
    return Math.max(this.fall, this.previous)
  }
}

module.exports = { Series, Churn }
