// The monitor in production, in one table (issue 14):
//   npm run bench -- monitor                  controls run 90 s each
//   MONITOR_SOAK=1 npm run bench -- monitor   controls run 10 minutes each
// Every row is a fresh child process running __test__/fixtures/monitor-jobs.js
// with monitor() at its defaults (intervalMs 1000, checkEveryMs 1000, 10-min
// window, no forced GC schedule):
// - leaks (a record kept per job in a module array, 0.5 / 2 / 8 KB at ~1000
//   jobs/s paced by a 1 ms timer, and 1 KB in an unpaced loop): time to the
//   first warning, the bytes/job it gives against what the leak retains
//   (measured with full GCs before and after the run), its projection; and,
//   side by side, when memwatch's rule (5 full GCs in a row, each ending
//   higher) would have fired in the same process;
// - a heap heading for an OOM (--max-old-space-size=64, 2.5 MB/s): when the
//   warning came against the time T the process took to die;
// - the controls of the field guide: warnings (all false) over the run;
// - an idle worker and a busy job loop: main-thread time of the monitor.
// Main-thread CPU: every JS entry point of the monitor (check, full-GC and
// scavenge callbacks) timed with hrtime, less the confirmation GCs it ran
// (those are the "GC pause" column: full GCs leakguard ran / wall time). In
// the leak rows it includes the first checks, which compile the monitor's
// code: the steady state is the controls, idle and busy rows. memwatch's rule
// is evaluated in the same process until leakguard's warning ends the run,
// on V8's own full GCs only.
// A second table: job throughput with and without a monitor, paired rounds.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { createRequire } from 'node:module'
import { median, printTable, fmt } from './util.mjs'
import { runChild as runChildOf, pool } from '../__test__/monitor-util.mjs'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))
const fixture = path.join(here, '..', '__test__', 'fixtures', 'monitor-jobs.js')
const oomFixture = path.join(here, '..', '__test__', 'fixtures', 'monitor-oom.js')
const SOAK = process.env.MONITOR_SOAK === '1'
const CONTROL_MS = SOAK ? 600_000 : 90_000
const defaults = { intervalMs: 1000, checkEveryMs: 1000, windowMs: 600_000, fullGcEveryMs: 0 }

const runChild = (opts) => runChildOf(fixture, opts, { timeoutMs: 3_600_000 }).then((r) => r.result)

const pct = (part, whole) => `${fmt((100 * part) / whole, 3)}%`
const secs = (ms) => (ms === null || ms === undefined ? '—' : `${fmt(ms / 1000, 1)} s`)
const bytes = (n) => (n >= 1024 ? `${fmt(n / 1024, 2)} KB` : `${fmt(n)} B`)
const cpu = (r) => pct(Math.max(0, r.monitorMainThreadMs - r.overhead.gcPauseMs), r.ms)
const gcPause = (r) => `${r.overhead.fullGcs} / ${pct(r.overhead.gcPauseMs, r.ms)}`

const rows = []

// ---- leaks: time to the first warning ---------------------------------------------
const leaks = [
  ['leak 0.5 KB/job, paced (1 ms timer)', 512, 'timer'],
  ['leak 2 KB/job, paced', 2048, 'timer'],
  ['leak 8 KB/job, paced', 8192, 'timer'],
  ['leak 1 KB/job, unpaced loop', 1024, 'loop'],
  ['leak 0.5 KB/job, paced, windowMs 60000', 512, 'timer', { windowMs: 60_000 }]
]
for (const [label, size, pace, extra] of leaks) {
  const r = await runChild({
    scenario: 'leak',
    bytes: size,
    pace,
    jobs: 1e9,
    minMs: 0,
    maxMs: 300_000,
    measureTruth: true,
    timeMonitor: true,
    peer: true,
    monitorOptions: { ...defaults, ...extra }
  })
  const w = r.warnings[0]
  rows.push([
    label,
    fmt(r.jobsPerSec),
    w ? secs(w.atMs) : `none in ${secs(r.ms)}`,
    w ? `${w.metric} ${bytes(w.bytesPerJob)} / ${bytes(r.truth.heapUsed)}` : '—',
    w?.projection
      ? `~${fmt(w.projection.etaMs / 60_000, 0)} min to ${fmt(w.projection.limitBytes / 2 ** 30, 1)} GB`
      : '—',
    r.memwatch.firstAtMs === null ? `not yet (${r.memwatch.fullGcs} full GCs)` : secs(r.memwatch.firstAtMs),
    gcPause(r),
    cpu(r),
    '—'
  ])
}

// ---- a heap heading for an OOM: the T/4 target ----------------------------------------
{
  const child = fork(oomFixture, [], {
    execArgv: ['--max-old-space-size=64'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  child.stderr.resume()
  let start = 0
  let warning = null
  child.on('message', (m) => {
    if (m.type === 'start') start = m.time
    if (m.type === 'leakguard:warning' && !warning) warning = m.warning
  })
  await once(child, 'exit')
  const T = Date.now() - start
  rows.push([
    'heap heading for an OOM (64 MB, 2.5 MB/s)',
    '10',
    warning ? `${secs(warning.time - start)} (T/4 = ${secs(T / 4)})` : 'none',
    warning ? `${warning.metric} ${bytes(warning.bytesPerJob)}` : '—',
    warning
      ? `died at ${secs(T)}, projected ${secs(warning.time - start + warning.projection.etaMs)}`
      : `died at ${secs(T)}`,
    '—',
    '—',
    '—',
    '—'
  ])
}

// ---- controls: false warnings --------------------------------------------------------
const controls = [
  ['fixed', 'the leak fixed'],
  ['cache', 'bounded cache filling'],
  ['warmup', 'warm-up plateau'],
  ['sawtooth', 'GC sawtooth'],
  ['bigtemp', '1 MB temporary per job'],
  ['rolling', 'rolling window'],
  ['listener-clean', 'cleaned listener'],
  ['interval-clean', 'cleaned interval'],
  ['stream-clean', 'cleaned stream'],
  ['pool-clean', 'cleaned pool']
]
const controlResults = await pool(controls, 3, ([scenario]) =>
  runChild({
    scenario,
    pace: 'timer',
    jobs: 0,
    minMs: CONTROL_MS,
    maxMs: CONTROL_MS, // the fixture's own cap (120 s) would cut a soak short
    stopOnWarning: false,
    timeMonitor: true,
    monitorOptions: defaults
  })
)
/** A row for a run that is not a leak: its rate, the GCs leakguard ran, its CPU, its (false) warnings. */
const silentRow = (label, jobsPerSec, r) => [
  label,
  jobsPerSec,
  '—',
  '—',
  '—',
  '—',
  gcPause(r),
  cpu(r),
  String(r.warnings.length)
]
for (let i = 0; i < controls.length; i++) {
  const r = controlResults[i]
  rows.push(silentRow(`control: ${controls[i][1]}, ${secs(r.ms)}`, fmt(r.jobsPerSec), r))
}

// ---- the cost at rest and at work ----------------------------------------------------------
for (const [label, pace] of [
  ['idle worker (a 1 ms allocating ticker), 60 s', 'idle'],
  ['busy job loop (unpaced), 60 s', 'loop']
]) {
  const r = await runChild({
    scenario: 'none',
    pace,
    jobs: 0,
    minMs: 60_000,
    stopOnWarning: false,
    timeMonitor: true,
    monitorOptions: defaults
  })
  rows.push(silentRow(label, pace === 'idle' ? '0' : fmt(r.jobsPerSec), r))
}

console.log(
  `monitor() at defaults, one child process per row${SOAK ? '' : ' (MONITOR_SOAK=1 runs the controls 10 minutes each)'}\n`
)
printTable(
  [
    'scenario',
    'jobs/s',
    'first warning',
    'per job: reported / retained',
    'projection',
    "memwatch's rule (peer), by then",
    'leakguard full GCs / pause % of wall',
    'main-thread CPU %',
    'false warnings'
  ],
  rows
)
// A false warning is a bug to chase: say what it said.
for (let i = 0; i < controls.length; i++) {
  for (const w of controlResults[i].warnings) {
    console.log(`\nfalse warning, control "${controls[i][1]}", at ${secs(w.atMs)} (${w.basis}): ${w.message}`)
  }
}

// ---- throughput with and without a monitor -------------------------------------------------
const { monitor } = require('../index.js')
let sink = 0
let counted = 0
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
const ROUNDS = Number(process.env.ROUNDS || 15)
const ROUND_MS = Number(process.env.ROUND_MS || 2500)
const offRound = async () => {
  await loopRound(null, 50)
  return loopRound(null, ROUND_MS)
}
const onRound = async () => {
  const m = monitor()
  await loopRound(m, 50)
  const v = await loopRound(m, ROUND_MS)
  m.stop()
  return v
}
/** Median over paired rounds of a/b, the order alternating so that drift hits both alike. */
async function paired(a, b) {
  const ratios = []
  const as = []
  const bs = []
  for (let r = 0; r < ROUNDS; r++) {
    let x
    let y
    if (r % 2) {
      x = await a()
      y = await b()
    } else {
      y = await b()
      x = await a()
    }
    as.push(x)
    bs.push(y)
    ratios.push(x / y)
  }
  return [fmt(median(bs)), fmt(median(as)), `${fmt(median(ratios) * 100, 1)}%`]
}
const throughput = [
  ['monitor() defaults (on / off)', ...(await paired(onRound, offRound))],
  // The same measure with no monitor on either side: how far this machine's noise goes.
  ['no monitor on either side (off / off)', ...(await paired(offRound, offRound))]
]
console.log(`\nJob loop throughput (small jobs, yield every 16), ${ROUNDS} paired rounds of ${ROUND_MS} ms\n`)
printTable(
  ['rounds', 'jobs/s, second side (median)', 'jobs/s, first side (median)', 'first / second (median of pairs)'],
  throughput
)
if (sink === 0 || counted < 0) console.log('')
