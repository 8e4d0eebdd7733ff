'use strict'
// GC signals and heap sampling, shared by every monitor of this thread: which
// monitors are active, when a full or a minor GC happened, the heap figures
// read right after it, and the job counter fed by guard()/withScope().
//
// - Full (mark-compact) GCs are detected by a FinalizationRegistry sentinel:
//   V8's scavenger treats weak cells strongly, so an unreachable registered
//   object is only reported after a full GC. One callback per full GC, none
//   per scavenge. (A PerformanceObserver('gc') runs a JS callback for every
//   scavenge, tens to hundreds per second in a busy worker, measured at
//   ~2-5 µs each on this VM: far over the budget.)
// - Scavenge samples only feed dashboards, so they are taken only while
//   someone listens to 'sample' (event or channel): each check connects a
//   PerformanceObserver('gc') that disconnects at its first entry.

const v8 = require('node:v8')
const { PerformanceObserver, constants: perf } = require('node:perf_hooks')
const channels = require('../common/channels')
const { closeHostChannel } = require('./delivery')

/** The monitors of this thread that are running. */
const active = new Set()

// Full-GC detection: one registered, unreachable sentinel at a time.
const fullGcRegistry = new FinalizationRegistry(onFullGc)
const sentinelToken = {}
let sentinelArmed = false

function armSentinel() {
  if (sentinelArmed || active.size === 0) return
  sentinelArmed = true
  fullGcRegistry.register({}, 0, sentinelToken)
}

// Keeps the last heap statistics object alive. In a busy worker, a read once
// per second cost ~85-100 µs of main-thread time (70-250 µs in the bench),
// against ~6 µs for a second read right after it. What was measured (2-core
// VM, job loop, first call after 1 s): not GC-related (the same from a 1 s
// timer, the same one event-loop turn after the FinalizationRegistry callback,
// with --single-threaded-gc or --no-concurrent-sweeping), not V8's figures
// (perf sees no sample inside Isolate::GetHeapStatistics), and not
// getHeapSpaceStatistics() or memoryUsage() being cheaper (~85 µs too). It is
// building the 14-property result object in cold code: a JS function that
// builds the same literal costs the same, a 2-property one ~32 µs, a no-op
// ~6 µs. Keeping one instance alive between reads cuts it to ~10-30 µs: our
// reading is that a full GC otherwise collects the object's unused hidden
// classes (map transitions are weak) and every read rebuilds them.
let lastStats = null

function readHeapStats() {
  lastStats = v8.getHeapStatistics()
  return lastStats
}

function onFullGc() {
  sentinelArmed = false
  if (active.size === 0) return
  const now = Date.now()
  let stats = null
  for (const m of active) {
    if (now - m._lastMajorAt >= m._intervalMs) {
      if (stats === null) stats = readHeapStats()
      m._heapSample(now, stats, true)
    }
  }
  armSentinel()
}

// Scavenge samples: an observer armed by each check, disarmed by its first entry.
let scavengeObserver = null
let scavengeArmed = false

function armScavengeSample() {
  if (scavengeArmed) return
  if (scavengeObserver === null) scavengeObserver = new PerformanceObserver(onScavenge)
  scavengeObserver.observe({ entryTypes: ['gc'] })
  scavengeArmed = true
}

function disarmScavengeSample() {
  if (!scavengeArmed) return
  scavengeObserver.disconnect()
  scavengeArmed = false
}

function onScavenge(list) {
  disarmScavengeSample()
  const entries = list.getEntries()
  const last = entries[entries.length - 1]
  // Full GCs are the sentinel's job; only a scavenge is sampled here.
  if (!last?.detail || last.detail.kind !== perf.NODE_PERFORMANCE_GC_MINOR) return
  const now = Date.now()
  let stats = null
  for (const m of active) {
    if (now - m._lastHeapAt >= m._intervalMs) {
      if (stats === null) stats = readHeapStats()
      m._heapSample(now, stats, false)
    }
  }
}

function onJobEnd() {
  for (const m of active) m._jobs++
}

/** Starts feeding `m` GC samples and job counts. */
function attach(m) {
  if (active.size === 0) channels.jobEnd.subscribe(onJobEnd)
  active.add(m)
  armSentinel()
}

/** Stops feeding `m`; the last monitor out releases the thread's observers and channel. */
function detach(m) {
  if (!active.delete(m) || active.size > 0) return
  fullGcRegistry.unregister(sentinelToken)
  sentinelArmed = false
  disarmScavengeSample()
  channels.jobEnd.unsubscribe(onJobEnd)
  closeHostChannel()
}

module.exports = { attach, detach, armScavengeSample, readHeapStats }
