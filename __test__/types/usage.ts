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

// Recycle safety net, and the optional-peer exporter subpaths.
import { recycle, Recycler, type RecycleEvent } from '../../index.js'
import * as prometheus from '../../lib/prometheus.js'
import * as otel from '../../lib/otel.js'
import { Registry } from 'prom-client'
import { metrics } from '@opentelemetry/api'

const net: Recycler = recycle({ maxJobs: 1000, maxRss: 1 << 30 })
net.on('recycle', (e: RecycleEvent) => { const why: 'maxJobs' | 'maxRss' | 'maxHeapUsed' = e.reason; void why; void e.message })
const gone: Promise<never> = net.gracefulExit({ close: async () => {} })
void gone
const prom = prometheus.registerMetrics({ registry: new Registry(), prefix: 'app_', caches: { users: { stats: () => ({ hits: 0, misses: 0, sets: 0, evictions: 0, expirations: 0, size: 0, calculatedSize: 0 }) } } })
prom.unregister()
otel.registerMetrics({ meter: metrics.getMeter('app') }).unregister()
// @ts-expect-error maxJobs must be a number
recycle({ maxJobs: '10' })
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

// monitor({ recycle }) re-emits the net's event
const recycling = monitor({ recycle: { maxRss: 1 << 30 } })
recycling.on('recycle', (e: RecycleEvent) => { void e.jobs })
recycling.stop()
monitor({ recycle: net }).stop()
