'use strict'
// One time series of the monitor: columns of Float64Array (time, value, jobs
// counted), trimmed by time (the sliding window) and by count (maxSamples), so
// that the native trend borrows them in place and the monitor stays bounded.
// Columns start small and double up to `cap`: most series of most monitors
// never hold more than a few hundred samples.

const INITIAL = 64

class Series {
  constructor(cap) {
    this.cap = cap
    this.len = 0
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

module.exports = { Series }
