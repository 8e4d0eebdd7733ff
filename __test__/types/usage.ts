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

// ---- job scopes
import { guard, withScope, currentScope, scopeStats, resetScopeStats, JobScope, SuppressedError } from '../../index.js'
import type { ScopeReport, ScopeOptions, LeftOpenResource, ScopeStats } from '../../index.js'
import { EventEmitter } from 'node:events'

const bus = new EventEmitter()
const opts: ScopeOptions = { name: 'resize-image', timeout: 30_000, autoTrack: 'dispose', captureStacks: true, onLeftOpen: 'warn' }
const processor = guard(async function (this: { id: number }, job: { data: string }, token?: string): Promise<number> {
  const scope = currentScope()!
  scope.setTimeout(() => {}, 5_000)
  scope.on(bus, 'message', (m: unknown) => { void m })
  scope.addEventListener(new EventTarget(), 'ping', () => {})
  scope.track({ destroy () {} })
  scope.use({ [Symbol.dispose] () {} })
  scope.defer(async () => {})
  const s: AbortSignal = scope.signal
  void s; void token
  return job.data.length + this.id
}, { ...opts, onReport: (r: ScopeReport) => { const l: LeftOpenResource[] = r.leftOpen; void l } })
const n: Promise<number> = processor.call({ id: 1 }, { data: 'x' })
const w: Promise<string> = withScope(async (scope) => scope.name, { onLeftOpen: (r) => { void r.errors } })
const st: ScopeStats[] = scopeStats()
const one: ScopeStats | undefined = scopeStats('resize-image')
const perJob: number | undefined = one?.leftOpen[0]?.perJob
resetScopeStats()
guard(async (job: { id: string }) => job.id, { retainCheck: (f) => { const m: string = f.message; void m } })
const js = new JobScope({ disposeTimeout: 1000 })
const rep: Promise<ScopeReport> = js.close()
const se = new SuppressedError(new Error('a'), new Error('b'))
const suppressed: unknown = se.suppressed
void n; void w; void st; void perJob; void rep; void suppressed

// @ts-expect-error onLeftOpen is 'warn' | 'throw' | 'ignore' | function
guard(async () => {}, { onLeftOpen: 'loud' })
// @ts-expect-error track() needs something disposable
js.track({ id: 1 })
// Memory assertions
import { assertMemoryBounded, measureGrowth, type GrowthReport, type MetricGrowth } from '../../index.js'
async function memoryAssertions (): Promise<void> {
  const report: GrowthReport = await measureGrowth((i) => i * 2, { iterations: 2000, concurrency: 4, failOn: ['heapUsed', 'rss'] })
  const heap: MetricGrowth = report.metrics.heapUsed
  const bounded: boolean = report.verdict.bounded
  const grew: string | undefined = (await measureGrowth(() => 1, { countObjects: true })).objects?.[0]?.name
  void grew
  await assertMemoryBounded(async () => { await Promise.resolve() }, { checkResources: false, minGrowth: 256 * 1024 })
  void heap; void bounded
  // @ts-expect-error 'heap' is not a metric
  await measureGrowth(() => 1, { failOn: ['heap'] })
}
void memoryAssertions
