'use strict'
// The scope capability: per-job cleanup in `finally`, and what a job left
// open. Pure JS (no Rust module: every per-job call is one only the JS engine
// can make). This file only gathers the parts:
//
//   context.js       the async context shared by the parts (AsyncLocalStorage, open scopes)
//   options.js       DEFAULTS and resolveOptions() for guard/withScope/JobScope
//   job-scope.js     JobScope: tracks and closes one job's resources (LIFO)
//   autotrack.js     autoTrack: attributes what a job opened outside its scope
//   stats.js         scopeStats(): per-job-name aggregates
//   retain-check.js  retainCheck: payloads still reachable after their job
//   guard.js         guard(), withScope(), currentScope(), requireScope(): runs jobs in scopes

const { JobScope, SuppressedError } = require('./job-scope')
const { guard, withScope, currentScope, requireScope } = require('./guard')
const { scopeStats, resetScopeStats, recordStats } = require('./stats')

module.exports = {
  JobScope,
  SuppressedError,
  guard,
  withScope,
  currentScope,
  requireScope,
  scopeStats,
  resetScopeStats,
  /** Internal, for the bench: the per-job statistics update. */
  _recordStats: recordStats
}
