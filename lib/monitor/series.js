'use strict'
// One time series of the monitor: columns of Float64Array (time, value, jobs
// counted), trimmed by time (the sliding window) and by count (maxSamples), so
// that the native trend borrows them in place and the monitor stays bounded.

class Series {
  constructor(cap) {
    this.cap = cap
    this.len = 0
    this.t = new Float64Array(cap)
    this.y = new Float64Array(cap)
    this.jobs = new Float64Array(cap)
  }

  push(t, y, jobs) {
    if (this.len === this.cap) this.drop(this.cap >> 2)
    const i = this.len++
    this.t[i] = t
    this.y[i] = y
    this.jobs[i] = jobs
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
}

/** The later of the last full-GC and last scavenge sample of a metric, if taken after `since`. */
function latest(major, minor, since) {
  const tMajor = major.len ? major.t[major.len - 1] : -Infinity
  const tMinor = minor.len ? minor.t[minor.len - 1] : -Infinity
  if (Math.max(tMajor, tMinor) <= since) return undefined
  return tMajor >= tMinor ? major.last() : minor.last()
}

module.exports = { Series, latest }
