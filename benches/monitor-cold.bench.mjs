// Why the monitor costs tens of µs per full-GC sample in a busy worker (and
// ~1 µs per sample in an idle one): what each operation the monitor must run
// after a full GC costs there, cold, against the same call hot.
//   npm run bench -- monitor-cold
// A job loop (the one of monitor.bench.mjs: small jobs, yielding every 16)
// runs for MS ms; at each full GC a FinalizationRegistry callback (how the
// monitor learns of full GCs) times one candidate, in rotation. "rarely run"
// is a small function called at every 10th full GC only. The whole probe runs
// twice, in fresh processes: as is, and with --no-flush-bytecode (V8 drops
// the bytecode of functions unused for a few full GCs; such a function is
// re-parsed and recompiled at its next call).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import v8 from 'node:v8'
import { median, printTable, fmt } from './util.mjs'

const self = fileURLToPath(import.meta.url)
const MS = Number(process.env.MS || 45_000)

function probe() {
  let sink = 0
  const job = (i) => {
    const items = []
    for (let k = 0; k < 20; k++) items.push({ k, id: `job-${i}-${k}` })
    sink += items.length
  }
  const other = new FinalizationRegistry(() => {})
  // Rarely run: a function of a few statements, as a monitor check is.
  const rarely = new Function(
    'a',
    'let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * 2; return s > 0 ? { s, n: a.length } : null'
  )
  const small = [1, 2, 3]
  const candidates = {
    'an empty function': () => {},
    'Date.now()': () => Date.now(),
    'FinalizationRegistry#register()': () => other.register({}, 0),
    'v8.getHeapStatistics()': () => v8.getHeapStatistics(),
    'process.memoryUsage()': () => process.memoryUsage()
  }
  const names = Object.keys(candidates)
  const cold = Object.fromEntries([...names, 'a rarely run function (every 10th full GC)'].map((k) => [k, []]))
  let n = 0
  const registry = new FinalizationRegistry(() => {
    n++
    const name = n % 10 === 0 ? 'a rarely run function (every 10th full GC)' : names[n % names.length]
    const fn = name.startsWith('a rarely') ? () => rarely(small) : candidates[name]
    const t0 = process.hrtime.bigint()
    fn()
    cold[name].push(Number(process.hrtime.bigint() - t0))
    registry.register({}, 0)
  })
  registry.register({}, 0)
  const end = Date.now() + MS
  let jobs = 0
  const loop = async () => {
    while (Date.now() < end) {
      for (let i = 0; i < 16; i++) job(jobs++)
      await new Promise((resolve) => setImmediate(resolve))
    }
    const hot = {}
    for (const name of Object.keys(cold)) {
      const fn = name.startsWith('a rarely') ? () => rarely(small) : candidates[name]
      const t = []
      for (let r = 0; r < 60; r++) {
        const t0 = process.hrtime.bigint()
        fn()
        t.push(Number(process.hrtime.bigint() - t0))
      }
      hot[name] = median(t.slice(10))
    }
    const out = {}
    for (const name of Object.keys(cold))
      out[name] = { cold: median(cold[name].slice(2)), hot: hot[name], n: cold[name].length }
    process.stdout.write(JSON.stringify({ fullGcs: n, seconds: MS / 1000, out, sink: sink > 0 }))
  }
  loop()
}

if (process.argv[2] === 'probe') {
  probe()
} else {
  const run = (flags) => {
    const r = spawnSync(process.execPath, [...flags, self, 'probe'], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(r.stderr)
    return JSON.parse(r.stdout)
  }
  const plain = run([])
  const noFlush = run(['--no-flush-bytecode'])
  const us = (ns) => fmt(ns / 1000, 1)
  const rows = Object.keys(plain.out).map((name) => [
    name,
    us(plain.out[name].hot),
    us(plain.out[name].cold),
    us(noFlush.out[name].cold),
    String(plain.out[name].n)
  ])
  console.log(
    `Cost of one call in a FinalizationRegistry callback after a full GC, in a busy job loop (${fmt(plain.fullGcs / plain.seconds, 1)} full GCs/s), µs, median\n`
  )
  printTable(
    [
      'operation',
      'hot (same loop, called back to back)',
      'after a full GC',
      'after a full GC, --no-flush-bytecode',
      'calls timed'
    ],
    rows
  )
}
