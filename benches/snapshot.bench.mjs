// Heap snapshot diff: leakguard vs memlab on a generated pair of snapshots
// (~300 MB each by default; LEAKGUARD_BENCH_SNAPSHOT_MB=20 for a quick run).
// Each contender runs in its own process under /usr/bin/time -v (wall time,
// peak RSS); outputs are checked (Order found growing by exactly the job
// count) before any figure is printed. The pair is cached in benches/.cache/.
import { existsSync, readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { printTable, fmt } from './util.mjs'

const dir = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(dir, '..')
const mb = Number(process.env.LEAKGUARD_BENCH_SNAPSHOT_MB || 300)
const jobs = Number(process.env.LEAKGUARD_BENCH_SNAPSHOT_JOBS || 20000)
const cache = path.join(dir, '.cache')
const before = path.join(cache, `before-${mb}mb.heapsnapshot`)
const after = path.join(cache, `after-${mb}mb.heapsnapshot`)
const stamp = path.join(cache, `pair-${mb}mb-${jobs}jobs.json`)

function timed(args, { env } = {}) {
  const r = spawnSync('/usr/bin/time', ['-v', ...args], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env }
  })
  const wall = r.stderr.match(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/)
  const rss = r.stderr.match(/Maximum resident set size \(kbytes\): (\d+)/)
  const user = r.stderr.match(/User time \(seconds\): ([\d.]+)/)
  const sys = r.stderr.match(/System time \(seconds\): ([\d.]+)/)
  if (r.status !== 0 || !wall || !rss) {
    throw new Error(
      `${args.join(' ')} failed (status ${r.status}):\n${r.stderr.slice(-3000)}\n${(r.stdout || '').slice(-2000)}`
    )
  }
  return {
    seconds: Number(wall[1] || 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]),
    rssMb: Number(rss[1]) / 1024,
    // CPU time too: on a shared 2-core machine wall time includes waiting for a core.
    cpu: Number(user[1]) + Number(sys[1]),
    stdout: r.stdout
  }
}

if (!existsSync(stamp)) {
  console.log(
    `generating a pair of ~${mb} MB snapshots (${jobs} leaking jobs between them) in ${path.relative(root, cache)}/ ...`
  )
  const g = timed([
    process.execPath,
    `--max-old-space-size=${Math.max(4096, mb * 12)}`,
    path.join(dir, 'gen-heap.mjs'),
    cache,
    String(mb),
    String(jobs)
  ])
  const info = JSON.parse(g.stdout.trim().split('\n').pop())
  info.writeSeconds = g.seconds
  info.writerRssMb = g.rssMb
  // Written last: an interrupted run leaves no stamp and regenerates.
  await import('node:fs').then((fs) => fs.writeFileSync(stamp, JSON.stringify(info)))
}
const info = JSON.parse(readFileSync(stamp, 'utf8'))
const sizes = `${fmt(statSync(before).size / 2 ** 20)} + ${fmt(statSync(after).size / 2 ** 20)} MB`
console.log(
  `snapshots: ${sizes}; generator (build heap + write both) ${fmt(info.writeSeconds, 1)} s, peak RSS ${fmt(info.writerRssMb)} MB\n`
)

const contender = path.join(dir, 'snapshot-contender.cjs')
const result = (stdout) =>
  JSON.parse(
    stdout
      .split('\n')
      .find((l) => l.startsWith('@@RESULT '))
      .slice(9)
  )
const runs = {
  'leakguard diffHeapSnapshots': () => {
    const t = timed([process.execPath, contender, 'leakguard', before, after, String(jobs)])
    const r = result(t.stdout)
    if (!r.ok) throw new Error(`leakguard output check failed: ${r.detail}`)
    return { ...t, detail: r.detail }
  },
  'memlab heap-analysis API (getFullHeapFromFile ×2 + class diff)': () => {
    const t = timed([
      process.execPath,
      '--max-old-space-size=16384',
      contender,
      'memlab-api',
      before,
      after,
      String(jobs)
    ])
    const r = result(t.stdout)
    if (!r.ok) throw new Error(`memlab output check failed: ${r.detail}`)
    return { ...t, detail: r.detail }
  },
  'memlab find-leaks (CLI)': () => {
    const work = mkdtempSync(path.join(tmpdir(), 'memlab-'))
    try {
      return timed([
        process.execPath,
        '--max-old-space-size=16384',
        path.join(root, 'node_modules/@memlab/cli/bin/memlab.js'),
        'find-leaks',
        '--baseline',
        before,
        '--target',
        after,
        '--final',
        after,
        '--work-dir',
        work
      ])
    } finally {
      rmSync(work, { recursive: true, force: true })
    }
  }
}

const rows = []
const results = {}
for (const [name, run] of Object.entries(runs)) {
  process.stdout.write(`running ${name} ...\n`)
  results[name] = run()
}
const ours = results['leakguard diffHeapSnapshots']
for (const [name, r] of Object.entries(results)) {
  rows.push([
    name,
    fmt(r.seconds, 2),
    fmt(r.cpu, 2),
    fmt(r.rssMb),
    `${fmt(r.seconds / ours.seconds, 1)}× / ${fmt(r.cpu / ours.cpu, 1)}×`,
    `${fmt(r.rssMb / ours.rssMb, 1)}×`
  ])
}
console.log(`\nleakguard's top suspect: ${ours.detail}\n`)
printTable(
  ['analysis of the pair', 'wall s', 'CPU s', 'peak RSS MB', 'wall / CPU vs leakguard', 'RSS vs leakguard'],
  rows
)
console.log(
  `\nload average at the end: ${(await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (2 cores)`
)
