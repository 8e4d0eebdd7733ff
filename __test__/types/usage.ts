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

// Memory assertions
import { assertMemoryBounded, measureGrowth, type GrowthReport, type MetricGrowth } from '../../index.js'
async function memoryAssertions (): Promise<void> {
  const report: GrowthReport = await measureGrowth((i) => i * 2, { iterations: 2000, concurrency: 4, failOn: ['heapUsed', 'rss'] })
  const heap: MetricGrowth = report.metrics.heapUsed
  const bounded: boolean = report.verdict.bounded
  await assertMemoryBounded(async () => { await Promise.resolve() }, { checkResources: false, minGrowth: 256 * 1024 })
  void heap; void bounded
  // @ts-expect-error 'heap' is not a metric
  await measureGrowth(() => 1, { failOn: ['heap'] })
}
void memoryAssertions
