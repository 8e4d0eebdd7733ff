'use strict'
// leakguard's public API. Each capability lives in one folder under lib/
// (lib/cache, lib/scope, lib/monitor, ...), mirroring src/; this file only
// gathers them.

const { codes } = require('./lib/common/errors')
const { processMemory } = require('./lib/common/memory')
const scope = require('./lib/scope/scope')
const { BoundedCache } = require('./lib/cache/cache')
const memoryAssert = require('./lib/assert/assert')
const snapshot = require('./lib/snapshot/snapshot')
const { recycle, Recycler } = require('./lib/fleet/recycle')
const { monitor, onWorkerWarning } = require('./lib/monitor/monitor')

module.exports = {
  codes,
  processMemory,
  JobScope: scope.JobScope,
  SuppressedError: scope.SuppressedError,
  guard: scope.guard,
  withScope: scope.withScope,
  currentScope: scope.currentScope,
  requireScope: scope.requireScope,
  scopeStats: scope.scopeStats,
  resetScopeStats: scope.resetScopeStats,
  BoundedCache,
  measureGrowth: memoryAssert.measureGrowth,
  assertMemoryBounded: memoryAssert.assertMemoryBounded,
  writeHeapSnapshot: snapshot.writeHeapSnapshot,
  diffHeapSnapshots: snapshot.diffHeapSnapshots,
  diffHeapSnapshotsSync: snapshot.diffHeapSnapshotsSync,
  summarizeHeapSnapshot: snapshot.summarizeHeapSnapshot,
  summarizeHeapSnapshotSync: snapshot.summarizeHeapSnapshotSync,
  recycle,
  Recycler,
  monitor,
  onWorkerWarning
}
