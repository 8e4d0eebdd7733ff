// What the fleet layer costs per guarded job: the recycle net's per-job check,
// and the Prometheus / OpenTelemetry exporters (their job:end subscription
// makes every scope build and publish its report). Exporters subscribe
// process-wide, so each contender is set up and torn down around its own
// timed run; contenders are interleaved over rounds and medians reported.
import { guard, recycle } from 'leakguard'
import client from 'prom-client'
import { registerMetrics as registerProm } from 'leakguard/prometheus'
import { registerMetrics as registerOtel } from 'leakguard/otel'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { median, printTable, fmt } from './util.mjs'

const JOBS = 20_000
const ROUNDS = 7

const contenders = {
  'guard()': () => ({ handler: guard(async (x) => x, { name: 'bench' }), stop() {} }),
  'guard({ recycle: { maxJobs } })': () => {
    const net = recycle({ maxJobs: Number.MAX_SAFE_INTEGER })
    return { handler: guard(async (x) => x, { name: 'bench', recycle: net }), stop: () => net.stop() }
  },
  'guard({ recycle: { maxRss, maxHeapUsed } })': () => {
    const net = recycle({ maxRss: Number.MAX_SAFE_INTEGER, maxHeapUsed: Number.MAX_SAFE_INTEGER })
    return { handler: guard(async (x) => x, { name: 'bench', recycle: net }), stop: () => net.stop() }
  },
  'guard() + leakguard/prometheus': () => {
    const m = registerProm({ registry: new client.Registry() })
    return { handler: guard(async (x) => x, { name: 'bench' }), stop: () => m.unregister() }
  },
  'guard() + leakguard/otel': () => {
    const provider = new MeterProvider()
    const m = registerOtel({ meter: provider.getMeter('bench') })
    return {
      handler: guard(async (x) => x, { name: 'bench' }),
      stop: () => {
        m.unregister()
        return provider.shutdown()
      }
    }
  }
}

// Same output from every contender before timing anything.
for (const [name, make] of Object.entries(contenders)) {
  const c = make()
  const out = await c.handler(42)
  await c.stop()
  if (out !== 42) throw new Error(`${name} returned ${out}`)
}

const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, make] of Object.entries(contenders)) {
    const c = make()
    for (let i = 0; i < 2000; i++) await c.handler(i) // warm-up
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < JOBS; i++) await c.handler(i)
    const ns = Number(process.hrtime.bigint() - t0) / JOBS
    await c.stop()
    samples[name].push(ns)
  }
}

const base = median(samples['guard()'])
printTable(
  ['per guarded job (sequential, no-op async job)', 'ns/job', 'added vs guard()'],
  Object.entries(samples).map(([name, v]) => {
    const m = median(v)
    return [name, fmt(m), name === 'guard()' ? '—' : `${m - base >= 0 ? '+' : ''}${fmt(m - base)}`]
  })
)
