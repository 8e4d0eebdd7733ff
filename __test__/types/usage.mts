// The ESM form of the public API (an .mts file is an ES module under node16/nodenext):
// named imports, the default import, and the exporter subpaths.
import leakguard, { BoundedCache, guard, monitor, currentScope, type Monitor, type ScopeReport } from 'leakguard'
import { registerMetrics } from 'leakguard/prometheus'
import { registerMetrics as registerOtel } from 'leakguard/otel'

const m: Monitor = monitor({ intervalMs: 1000 })
const users = new BoundedCache<string, string>({ max: 10 })
const handle = guard(async (job: { id: string }) => {
  currentScope()?.setTimeout(() => users.set(job.id, 'late'), 1000)
  return job.id
})
const id: string = await handle({ id: 'a' })
const reports: ScopeReport[] = []
leakguard.guard(async () => {}, { onReport: (r) => reports.push(r) })
registerMetrics({ monitor: m, caches: { users } }).unregister()
registerOtel({ monitor: m }).unregister()
m.stop()
void id
