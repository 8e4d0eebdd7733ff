// Every leak kind of the field guide in a worker paced like production (a 1 ms
// timer between jobs, no forced GC), with monitor() at its defaults and with
// windowMs 60000 (issue 14): when the first warning comes, the metric it names,
// and the bytes/job it gives against what the leak retains (full GCs before
// and after the run). Three children at a time, each a fresh process.
//   npm run bench -- monitor-kinds
import { runChild, pool, jobsFixture } from '../__test__/monitor-util.mjs'
import { printTable, fmt } from './util.mjs'

const defaults = { intervalMs: 1000, checkEveryMs: 1000, windowMs: 600_000, fullGcEveryMs: 0 }
// [scenario of __test__/fixtures/monitor-jobs.js, bytes per job asked, what it leaks]
const kinds = [
  ['leak', 1300, 'a record pushed to a module array'],
  ['listener', 1300, 'a listener per job on a module emitter'],
  ['map', 570, 'a Map keyed by job id'],
  ['closure', 7800, 'a closure pushed to a hooks array'],
  ['interval', 960, 'an interval per job'],
  ['buffer-leak', 16384, 'a Buffer kept per job']
]
const cases = kinds.flatMap((kind) => [600_000, 60_000].map((windowMs) => [...kind, windowMs]))

const results = await pool(cases, 3, ([scenario, bytes, , windowMs]) =>
  runChild(
    jobsFixture,
    {
      scenario,
      bytes,
      pace: 'timer',
      jobs: 1e9,
      minMs: 0,
      maxMs: 150_000,
      measureTruth: true,
      monitorOptions: { ...defaults, windowMs }
    },
    { timeoutMs: 400_000 }
  ).then((r) => r.result)
)

const perJob = (n) => (n >= 1024 ? `${fmt(n / 1024, 2)} KB` : `${fmt(n)} B`)
console.log('monitor() at defaults (windowMs 600000) and with windowMs 60000, jobs paced by a 1 ms timer\n')
printTable(
  ['leak', 'windowMs', 'jobs/s', 'first warning', 'metric: per job reported / retained'],
  cases.map(([, , what, windowMs], i) => {
    const r = results[i]
    const w = r.warnings[0]
    return [
      what,
      fmt(windowMs),
      fmt(r.jobsPerSec),
      w ? `${fmt(w.atMs / 1000, 1)} s` : `none in ${fmt(r.ms / 1000, 0)} s`,
      w ? `${w.metric}: ${perJob(w.bytesPerJob)} / ${perJob(r.truth[w.metric] ?? r.truth.heapUsed)}` : '—'
    ]
  })
)
