'use strict'
// Per-job-name statistics of closed scopes (scopeStats()): jobs, outcomes,
// durations, what was disposed, and what was left open, by (kind, type, site).
// Per thread and in JS: the update is one Map lookup and a few additions
// (~100 ns), where a call into the addon costs more before any conversion.

const { checkString } = require('../common/options')
const { describeSite } = require('../common/sites')

// Bounded: job names built from ids would otherwise grow the table for ever.
const MAX_STATS_NAMES = 1000
const MAX_STATS_SITES = 100

const stats = new Map()

let statsGeneration = 0

function newStats(name) {
  return {
    name,
    jobs: 0,
    failed: 0,
    timedOut: 0,
    totalMs: 0,
    maxMs: 0,
    timers: 0,
    listeners: 0,
    resources: 0,
    deferred: 0,
    errors: 0,
    jobsWithLeftOpen: 0,
    retainedPayloads: 0,
    leftOpen: new Map()
  }
}

/** Adds a closed scope to its name's statistics. */
function recordStats(scope) {
  // guard() caches its entry in its config: no Map lookup per job.
  const cfg = scope._cfg
  let s = cfg !== undefined && cfg.statsGen === statsGeneration ? cfg.stats : stats.get(scope._name)
  if (s === undefined) {
    const key = stats.size < MAX_STATS_NAMES ? scope._name : '<other>'
    s = stats.get(key)
    if (s === undefined) {
      s = newStats(key)
      stats.set(key, s)
    }
  }
  if (cfg !== undefined) {
    cfg.stats = s
    cfg.statsGen = statsGeneration
  }
  s.jobs++
  if (scope._outcome === 'error') s.failed++
  else if (scope._outcome === 'timeout') s.timedOut++
  const d = scope._durationMs
  s.totalMs += d
  if (d > s.maxMs) s.maxMs = d
  s.timers += scope._timers
  s.listeners += scope._listeners
  s.resources += scope._resources
  s.deferred += scope._deferred
  if (scope._errs !== undefined) s.errors += scope._errs.length
  const lo = scope._leftOpen
  if (lo.length !== 0) {
    s.jobsWithLeftOpen++
    for (const r of lo) {
      const key = `${r.kind}\0${r.type}\0${r.site}\0${r.package}`
      let e = s.leftOpen.get(key)
      if (e === undefined) {
        if (s.leftOpen.size >= MAX_STATS_SITES) continue
        e = { kind: r.kind, type: r.type, site: r.site, package: r.package, packageSite: r.packageSite, count: 0 }
        s.leftOpen.set(key, e)
      }
      e.count++
    }
  }
}

/** Counts a payload that retainCheck found still reachable after its job. */
function countRetainedPayload(name) {
  const s = stats.get(name)
  if (s !== undefined) s.retainedPayloads++
}

const perJobFmt = (n) => (Math.round(n * 100) / 100).toString()

function snapshot(s) {
  const leftOpen = [...s.leftOpen.values()]
    .map((e) => ({
      kind: e.kind,
      type: e.type,
      site: e.site,
      package: e.package,
      packageSite: e.packageSite,
      count: e.count,
      perJob: e.count / s.jobs
    }))
    .sort((a, b) => b.count - a.count)
  const message =
    leftOpen.length === 0
      ? `${s.name}: ${s.jobs} job${s.jobs === 1 ? '' : 's'}, nothing left open`
      : leftOpen
          .map((e) => {
            const at = describeSite(e)
            return `${s.name} leaves ${perJobFmt(e.perJob)} ${e.type} open per job${at === undefined ? '' : ` (${at})`}`
          })
          .join('; ')
  return {
    name: s.name,
    jobs: s.jobs,
    failed: s.failed,
    timedOut: s.timedOut,
    meanMs: s.jobs ? s.totalMs / s.jobs : 0,
    maxMs: s.maxMs,
    disposed: { timers: s.timers, listeners: s.listeners, resources: s.resources, deferred: s.deferred },
    errors: s.errors,
    jobsWithLeftOpen: s.jobsWithLeftOpen,
    retainedPayloads: s.retainedPayloads,
    leftOpen,
    message
  }
}

/** Per-job-name aggregates of every closed scope in this thread; one name, or all. */
function scopeStats(name) {
  if (name !== undefined) {
    checkString('name', name)
    const s = stats.get(name)
    return s === undefined ? undefined : snapshot(s)
  }
  return [...stats.values()].map(snapshot)
}

/** Forgets all statistics (e.g. between test files). */
function resetScopeStats() {
  stats.clear()
  statsGeneration++
}

module.exports = { recordStats, countRetainedPayload, scopeStats, resetScopeStats }
