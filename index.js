'use strict'
// leakguard's public API. Each capability lives in one file under lib/;
// this file only gathers them.

const { codes } = require('./lib/errors')
const { processMemory } = require('./lib/memory')
const snapshot = require('./lib/snapshot')

module.exports = {
  codes,
  processMemory,
  writeHeapSnapshot: snapshot.writeHeapSnapshot,
  diffHeapSnapshots: snapshot.diffHeapSnapshots,
  diffHeapSnapshotsSync: snapshot.diffHeapSnapshotsSync,
  summarizeHeapSnapshot: snapshot.summarizeHeapSnapshot,
  summarizeHeapSnapshotSync: snapshot.summarizeHeapSnapshotSync
}
