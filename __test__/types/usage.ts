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
