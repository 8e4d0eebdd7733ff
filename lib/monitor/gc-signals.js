'use strict'
// GC signals and heap sampling, shared by every monitor of this thread: which
// monitors are active, when a full or a minor GC happened, the heap figures
// read right after it, the cheap heap readings of each check, the
// confirmation GCs leakguard runs itself (within a budget of wall time), and
// the job counter fed by guard()/withScope().
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
// - The old generation (every space but the young one) is read at each check:
//   between full GCs it only grows, by what scavenges promote (leaked objects,
//   and garbage that lived long enough), and it holds no young garbage, so its
//   lower envelope is a cheap upper bound of the live heap. A confirmation GC
//   tells how much of its growth is live.

const v8 = require('node:v8')
const { PerformanceObserver, constants: perf } = require('node:perf_hooks')
const channels = require('../common/channels')
const { fullGc } = require('../common/gc')
const { closeHostChannel } = require('./delivery')

/**
 * The monitors of this thread that are running, held weakly: a monitor
 * dropped without stop() is collected, and its FinalizationRegistry cleanup
 * (monitor.js) detaches it. Iterate with `monitors()`.
 * @type {Set<WeakRef<object>>}
 */
const active = new Set()

/** The live monitors of `active`. */
function* monitors() {
  for (const ref of active) {
    const m = ref.deref()
    if (m !== undefined) yield m
  }
}

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
// classes (map transitions are weak) and every read rebuilds them. The space
// statistics are kept alive for the same reason.
let lastStats = null
let lastSpaces = null

function readHeapStats() {
  lastStats = v8.getHeapStatistics()
  return lastStats
}

/** Bytes used by the old generation: every heap space but the young ones. */
function readOldGen() {
  lastSpaces = v8.getHeapSpaceStatistics()
  let used = 0
  for (const s of lastSpaces) {
    if (s.space_name !== 'new_space' && s.space_name !== 'new_large_object_space') used += s.space_used_size
  }
  return used
}

function onFullGc() {
  sentinelArmed = false
  if (active.size === 0) return
  const now = Date.now()
  let stats = null
  let old = 0
  for (const m of monitors()) {
    if (now - m._lastMajorAt >= m._intervalMs) {
      if (stats === null) {
        stats = readHeapStats()
        old = readOldGen()
      }
      m._heapSample(now, stats, old, true)
    }
  }
  armSentinel()
}

// ---- GCs leakguard causes --------------------------------------------------------

/** Full GCs leakguard ran in this thread (confirmations and fullGcEveryMs) and their pauses. */
const caused = { fullGcs: 0, pauseMs: 0, since: Date.now() }

// Confirmation GCs spend a budget of wall time: it fills at `share` of the
// time that passes (0.5% by default) up to BUDGET_CAP_MS of it, and each GC
// spends what it took. A GC starts when the budget holds what the last one
// cost per MB of heap, scaled to the heap now (1 ms/MB before any was
// measured; measured here: 1-4 ms/MB, the more the more loaded the machine).
// A heap growing faster than the budget (~5 MB/s at 0.5% and 1 ms/MB) would
// never get one so: then one may start on a positive budget once per half
// window, and the debt is paid back before the next.
const BUDGET_CAP_MS = 60_000
let budgetMs = 0
let budgetAt = Date.now()
let msPerMb = 1
let lastConfirmAt = -Infinity

function refillBudget(now, share) {
  budgetMs = Math.min(budgetMs + (now - budgetAt) * share, BUDGET_CAP_MS * share)
  budgetAt = now
}

/** Runs a full GC now and hands its figures to every active monitor. Returns the pause, ms. */
function collectNow(reason) {
  const heapMb = (lastStats?.used_heap_size ?? v8.getHeapStatistics().used_heap_size) / 1048576
  const t0 = performance.now()
  fullGc()
  const ms = performance.now() - t0
  caused.fullGcs++
  caused.pauseMs += ms
  if (heapMb > 1) msPerMb = ms / heapMb
  const now = Date.now()
  const stats = readHeapStats()
  const old = readOldGen()
  for (const m of monitors()) m._heapSample(now, stats, old, true, reason)
  return ms
}

/**
 * A confirmation GC, if the thread's budget allows one now (`share` of wall
 * time, the strictest of the active monitors' gcBudget). Returns whether it ran.
 */
function confirmGc(now) {
  let share = Infinity
  let halfWindow = Infinity
  for (const m of monitors()) {
    share = Math.min(share, m._o.gcBudget)
    halfWindow = Math.min(halfWindow, m._o.windowMs / 2)
  }
  if (!(share > 0)) return false
  refillBudget(now, share)
  const expected = (msPerMb * (lastStats?.used_heap_size ?? 0)) / 1048576
  if (budgetMs <= 0 || (budgetMs < expected && now - lastConfirmAt < halfWindow)) return false
  lastConfirmAt = now
  budgetMs -= collectNow('confirmation')
  return true
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
  for (const m of monitors()) {
    if (now - m._lastHeapAt >= m._intervalMs) {
      if (stats === null) stats = readHeapStats()
      m._heapSample(now, stats, undefined, false)
    }
  }
}

function onJobEnd() {
  for (const m of monitors()) m._countJobs(1)
}

/** Starts feeding `m` GC samples and job counts; returns the weak reference to pass to detach(). */
function attach(m) {
  if (active.size === 0) {
    channels.jobEnd.subscribe(onJobEnd)
    budgetAt = Date.now()
  }
  const ref = new WeakRef(m)
  active.add(ref)
  armSentinel()
  return ref
}

/** Stops feeding the monitor of `ref`; the last one out releases the thread's observers and channel. */
function detach(ref) {
  if (!active.delete(ref) || active.size > 0) return
  fullGcRegistry.unregister(sentinelToken)
  sentinelArmed = false
  disarmScavengeSample()
  channels.jobEnd.unsubscribe(onJobEnd)
  closeHostChannel()
}

module.exports = {
  attach,
  detach,
  armScavengeSample,
  readHeapStats,
  readOldGen,
  collectNow,
  confirmGc,
  caused
}
