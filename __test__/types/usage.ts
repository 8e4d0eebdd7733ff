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

// Memory monitor
import { monitor, onWorkerWarning } from '../../index.js'
import type { MonitorOptions, MemorySample, TrendWarning, LimitEvent, Monitor } from '../../index.js'
const monitorOptions: MonitorOptions = { intervalMs: 1000, limits: { rss: 1 << 30 }, sendToParent: true }
const mon: Monitor = monitor(monitorOptions)
mon.on('warning', (w: TrendWarning) => { const perJob: number | null = w.bytesPerJob; void perJob; void w.message })
mon.on('limit', (e: LimitEvent) => { void e.valueBytes })
mon.on('sample', (s: MemorySample) => { void s.rss })
mon.jobDone()
const heapTrend = mon.trend().heapUsed
if (heapTrend) void heapTrend.slopeBytesPerSec
const allSamples: MemorySample[] = mon.samples()
void allSamples
const stopReceiving: () => void = onWorkerWarning((w) => { void w.threadId })
stopReceiving()
mon[Symbol.dispose]()
mon.stop()

// @ts-expect-error limits only knows rss, heapUsed, external
monitor({ limits: { heap: 1 } })
// @ts-expect-error 'warning' listeners receive a TrendWarning
mon.on('warning', (w: string) => { void w })
