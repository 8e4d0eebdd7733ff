// The monitor's cost to the main thread, in one run, medians reported:
// 1. main-thread CPU per sample: every JS entry point of the monitor (its check
//    timer, its FinalizationRegistry and PerformanceObserver callbacks) is
//    timed with process.hrtime in a steady worker, idle (a 1 ms ticker that
//    allocates, so that GCs happen) or busy (the job loop of part 2), after a
//    warm-up of one check period, then divided by the samples taken.
//    The sampling thread's own CPU (not main-thread time) is read from /proc.
//    A differential measure (main CPU with vs without) cannot resolve < 1 µs
//    per sample on a shared 2-core VM: ±1 ms/s of noise.
// 2. throughput of a job loop running small jobs as fast as it can (yielding
//    to the event loop every 16 jobs, like a queue worker awaiting I/O),
//    monitor on and off interleaved round by round, median of paired ratios.
//    This one includes what the timing in 1. cannot see (Node's own work for
//    the gc observer, V8's for the sentinel).
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { median, printTable, fmt } from './util.mjs'

const require = createRequire(import.meta.url)
const perfHooks = require('node:perf_hooks')

// Time every JS entry point of the monitor: its check timer, the
// FinalizationRegistry callback (full GCs) and the PerformanceObserver callback
// (one scavenge sample per check). Wrapped before lib/monitor/monitor.js takes them.
let timing = false
let spentNs = 0n
let calls = 0
function timed(fn) {
  return function (...args) {
    if (!timing) return fn.apply(this, args)
    calls++
    const t0 = process.hrtime.bigint()
    try {
      return fn.apply(this, args)
    } finally {
      spentNs += process.hrtime.bigint() - t0
    }
  }
}
const OriginalObserver = perfHooks.PerformanceObserver
perfHooks.PerformanceObserver = class extends OriginalObserver {
  constructor(callback) {
    super(timed(callback))
  }
}
const OriginalRegistry = globalThis.FinalizationRegistry
globalThis.FinalizationRegistry = class extends OriginalRegistry {
  constructor(callback) {
    super(timed(callback))
  }
}
const { monitor } = require('../index.js')
const { Monitor } = require('../lib/monitor/monitor.js')
const { fullGc } = require('../lib/common/gc.js')
perfHooks.PerformanceObserver = OriginalObserver
globalThis.FinalizationRegistry = OriginalRegistry
Monitor.prototype._check = timed(Monitor.prototype._check)
// What one hrtime pair costs, subtracted per timed call.
let hrtimePairNs
{
  const n = 100_000
  let x = 0n
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint()
    x += process.hrtime.bigint() - a
  }
  hrtimePairNs = Number(process.hrtime.bigint() - t0) / n
  if (x < 0n) console.log('')
}

const ROUNDS = Number(process.env.ROUNDS || 7)

function threadCpuNs(tid) {
  return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
}
function samplerCpuNs() {
  for (const t of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'leakguard-smplr') return threadCpuNs(t)
    } catch {}
  }
  return 0
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Check before timing: the monitor under test does sample (RSS, and heap after a full GC).
{
  const m = monitor({ intervalMs: 10 })
  await sleep(50)
  fullGc()
  await sleep(50)
  const s = m.samples()
  m.stop()
  if (!s.some((x) => x.source === 'rss') || !s.some((x) => x.gc === 'major')) throw new Error('monitor took no samples')
}

let sink = 0
let counted = 0 // the off-rounds count jobs too, as m.jobDone() does
function job(i) {
  const items = []
  for (let k = 0; k < 20; k++) items.push({ k, id: `job-${i}-${k}` })
  sink += items.length
}

async function loopRound(m, ms) {
  const end = Date.now() + ms
  let jobs = 0
  while (Date.now() < end) {
    for (let i = 0; i < 16; i++) {
      job(jobs++)
      if (m) m.jobDone()
      else counted++
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  return jobs / (ms / 1000)
}

// ---- 1. main-thread CPU per sample ------------------------------------------------

// One long-lived monitor per configuration, measured after a warm-up, over a
// window that holds several checks (the steady state of a long-running worker).
// `busy`: the worker runs the job loop of part 2 instead of the idle ticker.
async function steadyCost(options, windowMs, busy) {
  let keep = []
  let running = true
  let ticker = null
  let loop = null
  if (busy) {
    loop = (async () => {
      while (running) await loopRound(null, 100)
    })()
  } else {
    ticker = setInterval(() => {
      keep.push(new Array(5_000).fill(keep.length))
      if (keep.length > 50) keep = []
    }, 1)
  }
  const m = monitor(options)
  await sleep(Math.max(2000, m.options.checkEveryMs + 1000))
  const t0 = Date.now()
  const s0 = samplerCpuNs()
  spentNs = 0n
  calls = 0
  timing = true
  await sleep(windowMs)
  timing = false
  const samplerCpu = samplerCpuNs() - s0
  const seconds = (Date.now() - t0) / 1000
  const taken = m.samples().filter((s) => s.time >= t0)
  m.stop()
  running = false
  if (ticker) clearInterval(ticker)
  if (loop) await loop
  const ns = Number(spentNs) - calls * hrtimePairNs
  return {
    perSample: ns / taken.length,
    samplesPerSec: taken.length / seconds,
    heapPerSec: taken.filter((s) => s.source === 'gc').length / seconds,
    callsPerSec: calls / seconds,
    mainUsPerSec: ns / 1e3 / seconds,
    samplerCpuPerSec: samplerCpu / seconds
  }
}

const DEFAULT_WINDOW_MS = Number(process.env.DEFAULT_WINDOW_MS || 65_000)
const cpuConfigs = [
  ['defaults (intervalMs 1000, checkEveryMs 30000), idle worker', {}, DEFAULT_WINDOW_MS, false],
  ['defaults (intervalMs 1000, checkEveryMs 30000), busy job loop', {}, DEFAULT_WINDOW_MS, true],
  ['intervalMs 10 (checkEveryMs 300), idle worker', { intervalMs: 10 }, 6_000, false],
  ['intervalMs 10 (checkEveryMs 300), busy job loop', { intervalMs: 10 }, 6_000, true]
]
const cpuRows = []
for (const [label, options, windowMs, busy] of cpuConfigs) {
  const x = await steadyCost(options, windowMs, busy)
  cpuRows.push([
    label,
    fmt(windowMs / 1000),
    fmt(x.samplesPerSec, 1),
    fmt(x.heapPerSec, 2),
    fmt(x.callsPerSec, 2),
    fmt(x.mainUsPerSec, 2),
    fmt(x.perSample),
    fmt(x.samplerCpuPerSec / 1e3, 1)
  ])
}
console.log(
  `Main-thread CPU per sample (idle worker: a 1 ms allocating ticker; busy: the job loop below); hrtime pair ${fmt(hrtimePairNs)} ns subtracted per call\n`
)
printTable(
  [
    'monitor',
    'window s',
    'samples/s',
    'of which post-GC',
    'JS calls/s',
    'main-thread µs/s',
    'main-thread ns per sample',
    'sampler thread µs/s'
  ],
  cpuRows
)

// ---- 2. throughput of a tight job loop ---------------------------------------------

const loopConfigs = [
  ['monitor() defaults', {}],
  ['intervalMs 100', { intervalMs: 100 }],
  ['intervalMs 10', { intervalMs: 10 }]
]
const ROUND_MS = Number(process.env.ROUND_MS || 400)
const loopRows = []
for (const [label, options] of loopConfigs) {
  const ratios = []
  const off = []
  const on = []
  const offRound = async () => {
    await loopRound(null, 50) // same lead-in as the on-rounds
    return loopRound(null, ROUND_MS)
  }
  const onRound = async () => {
    const m = monitor(options)
    await loopRound(m, 50) // start-up (first check, cold code) is not the steady state
    const v = await loopRound(m, ROUND_MS)
    m.stop()
    return v
  }
  for (let r = 0; r < ROUNDS * 3; r++) {
    // Alternate the order so that drift hits both alike; pair adjacent rounds.
    let a, b
    if (r % 2) {
      a = await onRound()
      b = await offRound()
    } else {
      b = await offRound()
      a = await onRound()
    }
    on.push(a)
    off.push(b)
    ratios.push(a / b)
  }
  loopRows.push([label, fmt(median(off)), fmt(median(on)), `${fmt(median(ratios) * 100, 1)}%`])
}
console.log(`\nJob loop throughput (small jobs, yield every 16), ${ROUNDS * 3} paired rounds of ${ROUND_MS} ms\n`)
printTable(['monitor', 'jobs/s off (median)', 'jobs/s on (median)', 'on / off (median of pairs)'], loopRows)
if (sink === 0 || counted < 0) console.log('')
