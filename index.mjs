// ESM entry: re-exports the CommonJS API by name so that
// `import { processMemory } from 'leakguard'` works in every Node >= 20.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const leakguard = require('./index.js')

export const codes = leakguard.codes
export const processMemory = leakguard.processMemory
export const JobScope = leakguard.JobScope
export const SuppressedError = leakguard.SuppressedError
export const guard = leakguard.guard
export const withScope = leakguard.withScope
export const currentScope = leakguard.currentScope
export const requireScope = leakguard.requireScope
export const scopeStats = leakguard.scopeStats
export const resetScopeStats = leakguard.resetScopeStats
export const BoundedCache = leakguard.BoundedCache
export const measureGrowth = leakguard.measureGrowth
export const assertMemoryBounded = leakguard.assertMemoryBounded
export const writeHeapSnapshot = leakguard.writeHeapSnapshot
export const diffHeapSnapshots = leakguard.diffHeapSnapshots
export const diffHeapSnapshotsSync = leakguard.diffHeapSnapshotsSync
export const summarizeHeapSnapshot = leakguard.summarizeHeapSnapshot
export const summarizeHeapSnapshotSync = leakguard.summarizeHeapSnapshotSync
export const recycle = leakguard.recycle
export const Recycler = leakguard.Recycler
export const monitor = leakguard.monitor
export const onWorkerWarning = leakguard.onWorkerWarning
export default leakguard
