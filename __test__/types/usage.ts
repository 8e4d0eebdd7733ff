// Type-checked by __test__/types/check.mjs (npm run lint) in every tsconfig of this folder:
// every public API as a user writes it, imported by the package name.
import leakguard = require('leakguard')
import { processMemory, codes } from 'leakguard'

const m = processMemory()
const rss: number = m.rss
const ab: number | undefined = processMemory({ arrayBuffers: true }).arrayBuffers
const code: 'ERR_LEAKGUARD_INVALID_OPTION' = codes.INVALID_OPTION
leakguard.processMemory()
void rss
void ab
void code

// @ts-expect-error arrayBuffers must be a boolean
processMemory({ arrayBuffers: 1 })

// Recycle safety net, and the optional-peer exporter subpaths.
import { recycle, type Recycler, type RecycleEvent } from 'leakguard'
import * as prometheus from 'leakguard/prometheus'
import * as otel from 'leakguard/otel'
import { Registry } from 'prom-client'
import { metrics } from '@opentelemetry/api'

const net: Recycler = recycle({ maxJobs: 1000, maxRss: 1 << 30 })
net.on('recycle', (e: RecycleEvent) => {
  const why: 'maxJobs' | 'maxRss' | 'maxHeapUsed' = e.reason
  void why
  void e.message
})
const gone: Promise<never> = net.gracefulExit({ close: async () => {} })
void gone
const prom = prometheus.registerMetrics({
  registry: new Registry(),
  prefix: 'app_',
  caches: {
    users: { stats: () => ({ hits: 0, misses: 0, sets: 0, evictions: 0, expirations: 0, size: 0, calculatedSize: 0 }) }
  }
})
prom.unregister()
otel.registerMetrics({ meter: metrics.getMeter('app') }).unregister()
// @ts-expect-error maxJobs must be a number
recycle({ maxJobs: '10' })
// Memory monitor
import { monitor, onWorkerWarning } from 'leakguard'
import type { MonitorOptions, MemorySample, TrendWarning, LimitEvent, Monitor, AutopsyReport } from 'leakguard'
const monitorOptions: MonitorOptions = { intervalMs: 1000, limits: { rss: 1 << 30 }, sendToParent: true }
const mon: Monitor = monitor(monitorOptions)
mon.on('warning', (w: TrendWarning) => {
  const perJob: number | null = w.bytesPerJob
  void perJob
  void w.message
})
mon.on('limit', (e: LimitEvent) => {
  void e.valueBytes
})
mon.on('sample', (s: MemorySample) => {
  void s.rss
})
mon.jobDone()
const heapTrend = mon.trend().heapUsed
if (heapTrend) void heapTrend.slopeBytesPerSec
const verdictAgeMs: number = heapTrend?.ageMs ?? 0
void verdictAgeMs
const allSamples: MemorySample[] = mon.samples()
void allSamples
const stopReceiving: () => void = onWorkerWarning((w) => {
  void w.threadId
})
stopReceiving()
mon[Symbol.dispose]()
mon.stop()

// @ts-expect-error limits only knows rss, heapUsed, external, fds
monitor({ limits: { heap: 1 } })
// The OOM projection, the fd metric and the autopsy
const autopsied = monitor({ limits: { fds: 10_000 }, autopsy: { jobs: 500, keep: false }, gcBudget: 0.005 })
autopsied.on('warning', (w: TrendWarning) => {
  const eta: number | undefined = w.projection?.etaMs
  void eta
})
autopsied.on('autopsy', (a: AutopsyReport) => {
  const path: string | undefined = a.suspects[0]?.retainerPath
  void path
})
const fdTrend = autopsied.trend().fds
if (fdTrend?.projection) void fdTrend.projection.atJobs
autopsied.stop()
// @ts-expect-error 'warning' listeners receive a TrendWarning
mon.on('warning', (w: string) => {
  void w
})

// monitor({ recycle }) re-emits the net's event
const recycling = monitor({ recycle: { maxRss: 1 << 30 } })
recycling.on('recycle', (e: RecycleEvent) => {
  void e.jobs
})
recycling.stop()
monitor({ recycle: net }).stop()
// ---- job scopes
import {
  guard,
  withScope,
  currentScope,
  requireScope,
  scopeStats,
  resetScopeStats,
  JobScope,
  SuppressedError
} from 'leakguard'
import type { ScopeReport, ScopeOptions, LeftOpenResource, ScopeStats, CreationSite } from 'leakguard'
import { EventEmitter } from 'node:events'

const bus = new EventEmitter()
const opts: ScopeOptions = {
  name: 'resize-image',
  timeoutMs: 30_000,
  autoTrack: 'dispose',
  captureStacks: true,
  onLeftOpen: 'warn'
}
const processor = guard(
  async function (this: { id: number }, job: { data: string }, token?: string): Promise<number> {
    const scope = currentScope()!
    // requireScope(): the job's scope, typed JobScope (throws ERR_LEAKGUARD_NO_SCOPE outside a job)
    const required: JobScope = requireScope()
    required.setInterval(() => {}, 1_000)
    scope.setTimeout(() => {}, 5_000)
    scope.on(bus, 'message', (m: unknown) => {
      void m
    })
    scope.addEventListener(new EventTarget(), 'ping', () => {})
    scope.track({ destroy() {} })
    scope.use({ [Symbol.dispose]() {} })
    scope.defer(async () => {})
    const s: AbortSignal = scope.signal
    void s
    void token
    return job.data.length + this.id
  },
  {
    ...opts,
    onReport: (r: ScopeReport) => {
      const l: LeftOpenResource[] = r.leftOpen
      const blamed: CreationSite | undefined = l[0]
      const pkg: string | undefined = blamed?.package
      void pkg
    }
  }
)
const n: Promise<number> = processor.call({ id: 1 }, { data: 'x' })
const w: Promise<string> = withScope(async (scope) => scope.name, {
  onLeftOpen: (r) => {
    void r.errors
  }
})
const st: ScopeStats[] = scopeStats()
const one: ScopeStats | undefined = scopeStats('resize-image')
const perJob: number | undefined = one?.leftOpen[0]?.perJob
resetScopeStats()
guard(async (job: { id: string }) => job.id, {
  retainCheck: (f) => {
    const m: string = f.message
    void m
  }
})
const js = new JobScope({ disposeTimeoutMs: 1000 })
const rep: Promise<ScopeReport> = js.close()
const se = new SuppressedError(new Error('a'), new Error('b'))
const suppressed: unknown = se.suppressed
void n
void w
void st
void perJob
void rep
void suppressed

// @ts-expect-error onLeftOpen is 'warn' | 'throw' | 'ignore' | function
guard(async () => {}, { onLeftOpen: 'loud' })
// @ts-expect-error track() needs something disposable
js.track({ id: 1 })

// Heap snapshots
import {
  writeHeapSnapshot,
  diffHeapSnapshots,
  diffHeapSnapshotsSync,
  summarizeHeapSnapshot,
  summarizeHeapSnapshotSync
} from 'leakguard'
import type { HeapDiff, HeapGroupDelta, Suspect, HeapSummary } from 'leakguard'
const snapPath: string = writeHeapSnapshot('before.heapsnapshot')
void (async () => {
  const diff: HeapDiff = await diffHeapSnapshots(snapPath, new URL('file:///tmp/after.heapsnapshot'), {
    jobsBetween: 900,
    top: 10,
    signal: AbortSignal.timeout(60_000)
  })
  const s: Suspect | undefined = diff.suspects[0]
  const line: string = s
    ? `${s.name} ${s.countDelta} ${s.perJob ?? '-'} ${s.selfSizeDelta} ${s.retainedSizeDelta} ${s.retainerPath} ${s.message}`
    : diff.message
  const g: HeapGroupDelta | undefined = diff.groups[0]
  const sum: HeapSummary = await summarizeHeapSnapshot(snapPath, { top: 5 })
  void line
  void g
  void sum
})()
const d2: HeapDiff = diffHeapSnapshotsSync('a.heapsnapshot', 'b.heapsnapshot')
const s2: HeapSummary = summarizeHeapSnapshotSync('a.heapsnapshot')
void d2
void s2
// @ts-expect-error the Sync variant takes no signal
diffHeapSnapshotsSync('a', 'b', { signal: AbortSignal.timeout(1) })
// @ts-expect-error jobsBetween is a number
diffHeapSnapshots('a', 'b', { jobsBetween: '900' })

// Memory assertions
import { assertMemoryBounded, measureGrowth, type GrowthReport, type MetricGrowth } from 'leakguard'
async function memoryAssertions(): Promise<void> {
  const report: GrowthReport = await measureGrowth((i) => i * 2, {
    iterations: 2000,
    concurrency: 4,
    failOn: ['heapUsed', 'rss']
  })
  const heap: MetricGrowth = report.metrics.heapUsed
  const bounded: boolean = report.verdict.bounded
  const grew: string | undefined = (await measureGrowth(() => 1, { countObjects: true })).objects?.[0]?.name
  void grew
  await assertMemoryBounded(
    async () => {
      await Promise.resolve()
    },
    { checkResources: false, minGrowth: 256 * 1024 }
  )
  void heap
  void bounded
  // @ts-expect-error 'heap' is not a metric
  await measureGrowth(() => 1, { failOn: ['heap'] })
}
void memoryAssertions

// guard({ recycle }) takes options or a shared net; withScope only a net
import { guard as guardFn, withScope as withScopeFn } from 'leakguard'
guardFn(async (n: number) => n, { recycle: { maxJobs: 10_000, exit: true } })
guardFn(async () => {}, { recycle: net })
void withScopeFn(async () => {}, { recycle: net })
// @ts-expect-error withScope runs one job: a Recycler, not its options
void withScopeFn(async () => {}, { recycle: { maxJobs: 2 } })
// BoundedCache
import { BoundedCache, type DisposeReason, type BoundedCacheOptions, type BoundedCacheStats } from 'leakguard'
const reasons: DisposeReason[] = []
const cacheOptions: BoundedCacheOptions<string, { id: number } | string> = {
  max: 100,
  maxSize: 1 << 20,
  ttl: 60_000,
  name: 'users',
  dispose: (_v, _k, r) => {
    reasons.push(r)
  }
}
const users = new BoundedCache(cacheOptions)
users.set('user:1', { id: 1 }).set('user:2', 'two', { ttl: 1000 })
const u: { id: number } | string | undefined = users.get('user:1')
const bytes = new BoundedCache<string, Uint8Array>({ maxSize: 1024, perf: { now: () => 0 } })
const b: Buffer | undefined = bytes.get('k')
const memoOn: boolean = new BoundedCache({ max: 10, memo: false }).memoActive
void memoOn
const cacheStats: BoundedCacheStats = users.stats()
const cst: BoundedCacheStats = users.stats()
const dumped = users.dump()
users.load(dumped)
for (const [k, v] of users) void [k, v]
const dropped: boolean = BoundedCache.drop('users')
void u
void b
void cacheStats
void dropped
void users.calculatedSize
void u
void b
void cst
void dropped
void users.calculatedSize

// @ts-expect-error functions cannot be stored
users.set('f', () => 1)
// @ts-expect-error ttl is a number of ms
void new BoundedCache({ max: 1, ttl: '1s' })
// @ts-expect-error memo is a boolean
void new BoundedCache({ max: 1, memo: 'yes' })
// lru-cache's surface: fetch, memo, status, reverse iteration
const fetching = new BoundedCache<string, string>({
  max: 10,
  fetchMethod: async (key, stale, { signal }) => (signal.aborted ? stale : `v:${key}`)
})
const fetchStatus: import('../../index.js').BoundedCacheStatus = {}
const fetched: Promise<string | undefined> = fetching.fetch('k', { allowStale: true, status: fetchStatus })
void fetched
const firstKey: string | undefined = fetching.rkeys().next().value ?? undefined
void firstKey

// Monitor and Recycler are EventEmitters with typed event maps.
import { once } from 'node:events'
import type { MonitorEvents, RecyclerEvents } from 'leakguard'
async function emitters(): Promise<void> {
  const watched = monitor()
  const onWarning = (w: TrendWarning): void => {
    void w.metric
  }
  watched.on('warning', onWarning).removeListener('warning', onWarning)
  watched.addListener('limit', (e) => {
    const v: number = e.valueBytes
    void v
  })
  const [first] = await once(watched, 'warning')
  void first
  const listening: number = watched.listenerCount('sample')
  const warningArgs: MonitorEvents['warning'] = [{} as TrendWarning]
  void listening
  void warningArgs
  watched.stop()
  const r = recycle({ maxJobs: 10 })
  const recycleListeners: number = r.listenerCount('recycle')
  r.once('idle', () => {})
  r.prependListener('recycle', (e) => {
    const why: RecycleEvent['reason'] = e.reason
    void why
  })
  const idleArgs: RecyclerEvents['idle'] = []
  void recycleListeners
  void idleArgs
  r.stop()
  // @ts-expect-error 'limit' listeners receive a LimitEvent
  watched.on('limit', (e: TrendWarning) => void e)
}
void emitters

// JobScope listens on EventTargets without the DOM lib: Node's EventTarget and AbortSignal.
void withScope(async (scope) => {
  const target = new EventTarget()
  scope.on(target, 'ping', () => {}, { once: true })
  scope.addEventListener(target, 'ping', { handleEvent: () => {} }, { passive: true })
  scope.once(scope.signal, 'abort', () => {})
  scope.addEventListener(AbortSignal.timeout(1000), 'abort', () => {}, { signal: scope.signal })
  // @ts-expect-error a number is neither an EventEmitter nor an EventTarget
  scope.on(42, 'x', () => {})
})

// Renamed options (durations end in Ms): the old names still type-check, marked @deprecated.
guard(async () => {}, { timeout: 1000, disposeTimeout: 1000 })
void new JobScope({ disposeTimeout: 1000 })
void measureGrowth(() => 1, { minGrowth: 1024 }).then((r) => r.options.minGrowthBytes + r.options.minGrowth)
recycle({ maxJobs: 1 }).on('recycle', (e) => {
  const jobsLimit: number | undefined = e.limitJobs
  const bytesLimit: number | undefined = e.limitBytes
  const old: number = e.limit
  void [jobsLimit, bytesLimit, old]
})
