// Type-checked (tsc --noEmit) against index.d.ts: every public API as a user writes it.
import leakguard = require('../../index.js')
import { processMemory, codes } from '../../index.js'

const m = processMemory()
const rss: number = m.rss
const ab: number | undefined = processMemory({ arrayBuffers: true }).arrayBuffers
const code: 'ERR_LEAKGUARD_INVALID_OPTION' = codes.INVALID_OPTION
leakguard.processMemory()
void rss; void ab; void code

// @ts-expect-error arrayBuffers must be a boolean
processMemory({ arrayBuffers: 1 })

// Heap snapshots
import { writeHeapSnapshot, diffHeapSnapshots, diffHeapSnapshotsSync, summarizeHeapSnapshot, summarizeHeapSnapshotSync } from '../../index.js'
import type { HeapDiff, HeapGroupDelta, Suspect, HeapSummary } from '../../index.js'
const snapPath: string = writeHeapSnapshot('before.heapsnapshot')
void (async () => {
  const diff: HeapDiff = await diffHeapSnapshots(snapPath, new URL('file:///tmp/after.heapsnapshot'), { jobsBetween: 900, top: 10, signal: AbortSignal.timeout(60_000) })
  const s: Suspect | undefined = diff.suspects[0]
  const line: string = s ? `${s.name} ${s.countDelta} ${s.perJob ?? '-'} ${s.selfSizeDelta} ${s.retainedSizeDelta} ${s.retainerPath} ${s.message}` : diff.message
  const g: HeapGroupDelta | undefined = diff.groups[0]
  const sum: HeapSummary = await summarizeHeapSnapshot(snapPath, { top: 5 })
  void line; void g; void sum
})()
const d2: HeapDiff = diffHeapSnapshotsSync('a.heapsnapshot', 'b.heapsnapshot')
const s2: HeapSummary = summarizeHeapSnapshotSync('a.heapsnapshot')
void d2; void s2
// @ts-expect-error the Sync variant takes no signal
diffHeapSnapshotsSync('a', 'b', { signal: AbortSignal.timeout(1) })
// @ts-expect-error jobsBetween is a number
diffHeapSnapshots('a', 'b', { jobsBetween: '900' })
