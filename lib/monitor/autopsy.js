'use strict'
// The autopsy (opt-in, `monitor({ autopsy })`): when a heap warning fires or a
// limit is crossed, two heap snapshots `jobs` jobs apart, diffed natively off
// the main thread through the public snapshot API (lib/snapshot); the top
// suspects (type, per job, retainer path) go out as an 'autopsy' event and to
// the host (main thread / IPC parent) with the warning.
//
// Bounded: at most one per `everyMs` (refusals included), files in a private
// directory (mkdtemp, mode 0700) removed unless `keep`. Refused, with the
// figures, when the process lacks the headroom: writing a snapshot blocks the
// thread and takes memory outside the heap. Measured on Node 20 (heaps of
// small objects): a 21 MB heap took +254 MB of RSS and a 32 MB file, a 60 MB
// heap +852 MB and 106 MB, a 150 MB heap +2.1 GB and 263 MB.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { threadId } = require('node:worker_threads')
const { formatBytes } = require('../common/format')
const { writeHeapSnapshot, diffHeapSnapshots } = require('../snapshot/snapshot')
const { readHeapStats } = require('./gc-signals')
const { availableMemoryBytes } = require('./limits')
const { postToHost, sendToParent } = require('./delivery')

/** Memory a snapshot write needs outside the heap, per byte of heapUsed (measured 12-14×, see above). */
const MEMORY_PER_HEAP_BYTE = 16
/** Disk for one snapshot file, per byte of heapUsed (measured 1.5-1.75×). */
const FILE_PER_HEAP_BYTE = 2
/** When no job is counted, the second snapshot comes this long after the first. */
const MAX_WAIT_MS = 60_000
const POLL_MS = 200

class Autopsy {
  constructor(monitor, options) {
    this.m = monitor
    this.o = options
    this.lastAt = -Infinity
    this.running = false
    this.stopped = false
    this.timer = null
    this.dir = null
  }

  /** Starts an autopsy for `trigger` ({ warning } or { limit }) unless one ran within everyMs. */
  request(trigger) {
    const now = Date.now()
    if (this.running || this.stopped || now - this.lastAt < this.o.everyMs) return
    this.lastAt = now
    const refusal = this.headroom()
    if (refusal) {
      this.finish(trigger, { status: 'refused', reason: refusal })
      return
    }
    this.running = true
    this.start(trigger).catch((err) => {
      this.cleanup()
      this.running = false
      this.finish(trigger, { status: 'failed', reason: err.message })
    })
  }

  /** Why a snapshot must not be written now, or null. */
  headroom() {
    const heapUsed = readHeapStats().used_heap_size
    const rss = this.m._rss.last() ?? process.memoryUsage.rss()
    const needMemory = heapUsed * MEMORY_PER_HEAP_BYTE
    let avail = availableMemoryBytes(rss)
    let where = 'available memory'
    const limit = this.m._o.limits.rss
    if (limit !== undefined && limit - rss < avail) {
      avail = Math.max(0, limit - rss)
      where = `room under limits.rss (${formatBytes(limit)})`
    }
    if (avail < needMemory) {
      return (
        `not enough memory for a heap snapshot: writing one of a ${formatBytes(heapUsed)} heap takes ` +
        `~${formatBytes(needMemory)} outside the heap (measured ~${MEMORY_PER_HEAP_BYTE}× heapUsed), ` +
        `and the ${where} is ${formatBytes(avail)} (rss ${formatBytes(rss)})`
      )
    }
    const base = this.o.dir ?? os.tmpdir()
    try {
      const st = fs.statfsSync(base)
      const free = st.bavail * st.bsize
      const needDisk = 2 * FILE_PER_HEAP_BYTE * heapUsed
      if (free < needDisk) {
        return `not enough disk in ${base} for two heap snapshots: ~${formatBytes(needDisk)} needed, ${formatBytes(free)} free`
      }
    } catch (err) {
      return `cannot write heap snapshots in ${base}: ${err.message}`
    }
    return null
  }

  async start(trigger) {
    const t0 = Date.now()
    this.dir = fs.mkdtempSync(path.join(this.o.dir ?? os.tmpdir(), 'leakguard-autopsy-'))
    const before = path.join(this.dir, 'before.heapsnapshot')
    const after = path.join(this.dir, 'after.heapsnapshot')
    let pauseMs = 0
    let w0 = performance.now()
    writeHeapSnapshot(before)
    pauseMs += performance.now() - w0
    const jobs0 = this.m._jobs
    const since = Date.now()
    await new Promise((resolve) => {
      this.timer = setInterval(() => {
        const ran = this.m._jobs - jobs0
        if (this.stopped || ran >= this.o.jobs || (Date.now() - since >= MAX_WAIT_MS && ran === 0)) {
          clearInterval(this.timer)
          this.timer = null
          resolve()
        }
      }, POLL_MS)
      this.timer.unref()
    })
    if (this.stopped) throw new Error('the monitor stopped during the autopsy')
    const refusal = this.headroom()
    if (refusal) throw new Error(`second snapshot refused: ${refusal}`)
    const jobsBetween = this.m._jobs - jobs0
    w0 = performance.now()
    writeHeapSnapshot(after)
    pauseMs += performance.now() - w0
    const diff = await diffHeapSnapshots(before, after, {
      ...(jobsBetween > 0 ? { jobsBetween } : {}),
      top: Math.max(10, this.o.top)
    })
    const result = {
      status: 'done',
      reason: null,
      suspects: diff.suspects.slice(0, this.o.top).map((s) => ({
        name: s.name,
        countDelta: s.countDelta,
        perJob: s.perJob ?? null,
        selfSizeDelta: s.selfSizeDelta,
        retainedSizeDelta: s.retainedSizeDelta,
        retainerPath: s.retainerPath,
        message: s.message
      })),
      message: diff.message,
      jobsBetween,
      durationMs: Date.now() - t0,
      pauseMs,
      files: this.o.keep ? { before, after } : null
    }
    if (!this.o.keep) this.cleanup()
    this.dir = null
    this.running = false
    this.finish(trigger, result)
  }

  /** Removes this autopsy's files (not kept ones). */
  cleanup() {
    if (this.dir === null || this.o.keep) return
    fs.rmSync(this.dir, { recursive: true, force: true })
    this.dir = null
  }

  /** Emits the result and delivers it with the warning to the host. */
  finish(trigger, partial) {
    const result = {
      status: partial.status,
      reason: partial.reason ?? null,
      metric: trigger.warning?.metric ?? trigger.limit?.metric,
      trigger: trigger.warning ? 'warning' : 'limit',
      suspects: partial.suspects ?? [],
      message:
        partial.status === 'done'
          ? partial.message
          : `leakguard autopsy ${partial.status === 'refused' ? 'refused' : 'failed'}: ${partial.reason}`,
      jobsBetween: partial.jobsBetween ?? null,
      durationMs: partial.durationMs ?? 0,
      pauseMs: partial.pauseMs ?? 0,
      files: partial.files ?? null,
      threadId,
      pid: process.pid,
      time: Date.now()
    }
    const warning = trigger.warning ? trigger.warning : null
    if (warning) warning.autopsy = result
    if (this.stopped) return
    this.m.emit('autopsy', result)
    const message = { type: 'leakguard:autopsy', autopsy: result, warning }
    postToHost(message)
    if (this.m._o.sendToParent) sendToParent(message)
  }

  /** Stops a running autopsy at its next step (its wait ends at the next poll) and removes its files. */
  stop() {
    this.stopped = true
    this.cleanup()
  }
}

module.exports = { Autopsy }
