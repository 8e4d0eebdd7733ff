// The monitor's cost to the main thread, in one run, medians reported:
// 1. main-thread CPU per sample: every JS entry point of the monitor (its check
//    timer, and the PerformanceObserver('gc') callback it installs) is timed
//    with process.hrtime while a mostly idle worker runs (a 1 ms ticker that
//    allocates, so that GCs happen), then divided by the samples taken. The
//    sampling thread's own CPU (not main-thread time) is read from /proc.
//    A differential measure (main CPU with vs without) cannot resolve < 1 µs
//    per sample on a shared 2-core VM: ±1 ms/s of noise.
// 2. throughput of a job loop running small jobs as fast as it can (yielding
//    to the event loop every 16 jobs, like a queue worker awaiting I/O),
//    monitor on and off interleaved round by round. This one includes what
//    the timing in 1. cannot see: Node creating 'gc' performance entries.
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { median, printTable, fmt } from './util.mjs'

const require = createRequire(import.meta.url)
const perfHooks = require('node:perf_hooks')

// Time the gc-observer callback: wrap PerformanceObserver before lib/monitor.js takes it.
let timing = false
let spentNs = 0n
const Original = perfHooks.PerformanceObserver
perfHooks.PerformanceObserver = class extends Original {
  constructor (callback) {
    super((list, observer) => {
      if (!timing) return callback(list, observer)
      const t0 = process.hrtime.bigint()
      try { return callback(list, observer) } finally { spentNs += process.hrtime.bigint() - t0 }
    })
  }
}
const { monitor } = require('../index.js')
const { Monitor } = require('../lib/monitor.js')
const check = Monitor.prototype._check
Monitor.prototype._check = function () {
  if (!timing) return check.call(this)
  const t0 = process.hrtime.bigint()
  try { return check.call(this) } finally { spentNs += process.hrtime.bigint() - t0 }
}
// What one hrtime pair costs, subtracted per timed call.
let calls = 0
{
  const n = 100_000
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) { const a = process.hrtime.bigint(); spentNs += process.hrtime.bigint() - a }
  var hrtimePairNs = Number(process.hrtime.bigint() - t0) / n // eslint-disable-line no-var
  spentNs = 0n
}
const origCheck = Monitor.prototype._check
Monitor.prototype._check = function () { if (timing) calls++; return origCheck.call(this) }
const wrappedObserver = perfHooks.PerformanceObserver
perfHooks.PerformanceObserver = class extends wrappedObserver {
  constructor (callback) { super((list, observer) => { if (timing) calls++; return callback(list, observer) }) }
}

const ROUNDS = Number(process.env.ROUNDS || 9)
const PERIOD_MS = Number(process.env.PERIOD_MS || 1000)

function threadCpuNs (tid) {
  return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
}
function samplerCpuNs () {
  for (const t of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'leakguard-smplr') return threadCpuNs(t)
    } catch {}
  }
  return 0
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Check before timing: the monitor under test does sample (RSS and post-GC heap).
{
  const m = monitor({ intervalMs: 10 })
  const keep = []
  const t = setInterval(() => { keep.push(new Array(10_000).fill(1)); if (keep.length > 20) keep.length = 0 }, 1)
  await sleep(300)
  clearInterval(t)
  const s = m.samples()
  m.stop()
  if (!s.some((x) => x.source === 'rss') || !s.some((x) => x.source === 'gc')) throw new Error('monitor took no samples')
}

// ---- 1. main-thread CPU per sample ------------------------------------------------

async function idleRound (options) {
  let keep = []
  const ticker = setInterval(() => { keep.push(new Array(5_000).fill(keep.length)); if (keep.length > 50) keep = [] }, 1)
  const m = monitor(options)
  await sleep(50)
  const t0 = Date.now()
  const s0 = samplerCpuNs()
  spentNs = 0n
  calls = 0
  timing = true
  await sleep(PERIOD_MS)
  timing = false
  const samplerCpu = samplerCpuNs() - s0
  const seconds = (Date.now() - t0) / 1000
  const taken = m.samples().filter((s) => s.time >= t0)
  m.stop()
  clearInterval(ticker)
  const ns = Number(spentNs) - calls * hrtimePairNs
  return {
    perSample: ns / taken.length,
    samplesPerSec: taken.length / seconds,
    heapPerSec: taken.filter((s) => s.source === 'gc').length / seconds,
    mainUsPerSec: ns / 1e3 / seconds,
    samplerCpuPerSec: samplerCpu / seconds
  }
}

const cpuConfigs = [
  ['monitor() defaults (intervalMs 1000)', {}],
  ['intervalMs 100', { intervalMs: 100 }],
  ['intervalMs 10', { intervalMs: 10 }]
]
const cpuRows = []
for (const [label, options] of cpuConfigs) {
  const rounds = []
  // Defaults take 1 RSS sample per second: longer rounds to see a few.
  const n = options.intervalMs ? ROUNDS : Math.max(3, ROUNDS >> 1)
  for (let r = 0; r < n; r++) rounds.push(await idleRound(options))
  cpuRows.push([
    label,
    fmt(median(rounds.map((x) => x.samplesPerSec)), 1),
    fmt(median(rounds.map((x) => x.heapPerSec)), 1),
    fmt(median(rounds.map((x) => x.mainUsPerSec)), 1),
    fmt(median(rounds.map((x) => x.perSample))),
    fmt(median(rounds.map((x) => x.samplerCpuPerSec)) / 1e3, 1)
  ])
}
console.log(`Main-thread CPU per sample, mostly idle worker (1 ms allocating ticker); hrtime pair ${fmt(hrtimePairNs)} ns subtracted per call\n`)
printTable(['monitor', 'samples/s', 'of which post-GC', 'main-thread µs/s', 'main-thread ns per sample', 'sampler thread µs/s'], cpuRows)

// ---- 2. throughput of a tight job loop ---------------------------------------------

let sink = 0
function job (i) {
  const items = []
  for (let k = 0; k < 20; k++) items.push({ k, id: `job-${i}-${k}` })
  sink += items.length
}

async function loopRound (options) {
  const m = options ? monitor(options) : null
  const end = Date.now() + PERIOD_MS / 2
  let jobs = 0
  while (Date.now() < end) {
    for (let i = 0; i < 16; i++) { job(jobs++); if (m) m.jobDone() }
    await new Promise((resolve) => setImmediate(resolve))
  }
  if (m) m.stop()
  return jobs / (PERIOD_MS / 2000)
}

const loopConfigs = [
  ['monitor() defaults', {}],
  ['intervalMs 100', { intervalMs: 100 }],
  ['intervalMs 10', { intervalMs: 10 }]
]
const loopRows = []
for (const [label, options] of loopConfigs) {
  const off = []
  const on = []
  for (let r = 0; r < ROUNDS * 2; r++) {
    // Alternate which goes first so that drift hits both alike.
    if (r % 2) { on.push(await loopRound(options)); off.push(await loopRound(null)) } else { off.push(await loopRound(null)); on.push(await loopRound(options)) }
  }
  const offM = median(off)
  const onM = median(on)
  loopRows.push([label, fmt(offM), fmt(onM), `${fmt((onM / offM) * 100, 1)}%`])
}
console.log('\nJob loop throughput (small jobs, yield every 16)\n')
printTable(['monitor', 'jobs/s off', 'jobs/s on', 'on / off'], loopRows)
if (sink === 0) console.log('')
