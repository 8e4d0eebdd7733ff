'use strict'
// leakguard's public API. Each capability lives in one file under lib/;
// this file only gathers them.

const { codes } = require('./lib/errors')
const { processMemory } = require('./lib/memory')
const scope = require('./lib/scope')
const { recycle, Recycler } = require('./lib/recycle')
const { BoundedCache } = require('./lib/cache')
const { monitor, onWorkerWarning } = require('./lib/monitor')

module.exports = {
  codes,
  processMemory,
  JobScope: scope.JobScope,
  SuppressedError: scope.SuppressedError,
  guard: scope.guard,
  withScope: scope.withScope,
  currentScope: scope.currentScope,
  scopeStats: scope.scopeStats,
  resetScopeStats: scope.resetScopeStats,
  recycle,
  Recycler,
  BoundedCache,
  monitor,
  onWorkerWarning
}
