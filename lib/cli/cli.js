'use strict'
// The commands behind bin/leakguard.js: `check`, `diff`, `demo`.
//
// `check` never runs the user's handler in this process: a leak (or an
// autoTrack patch, or a heap snapshot) in the handler must not be measured
// together with the CLI's own allocations, and a handler that crashes or
// exhausts the heap must still leave us able to say so. The child
// (lib/cli/check-child.js) talks to us over IPC: `progress` messages, then one
// `result` or `error`.

const { formatBytes: formatUnsigned, formatP } = require('../common/format')
// Verdict lines show growth, so positive figures carry their sign.
const formatBytes = (n) => formatUnsigned(n, { signed: true })
const fs = require('node:fs')
const path = require('node:path')
const { fork } = require('node:child_process')
const { parseArgs } = require('node:util')

const EXIT_BOUNDED = 0
const EXIT_LEAK = 1
const EXIT_USAGE = 2

const { MEASURED_METRICS: METRICS, VERDICT_METRICS } = require('../common/metric-names')

const USAGE = {
  check:
    'leakguard check <module> [--jobs N] [--warmup N] [--export name] [--concurrency N] [--snapshot-jobs N] [--min-growth BYTES] [--job-timeout MS] [--report out.html] [--json]',
  diff: 'leakguard diff <before.heapsnapshot> <after.heapsnapshot> [--jobs-between N] [--top N] [--json]',
  demo: 'leakguard demo [--jobs N] [--report out.html] [--json]'
}

const HELP = {
  main: `leakguard — does my job handler leak, and where?

Usage:
  ${USAGE.check}
  ${USAGE.diff}
  ${USAGE.demo}

Commands:
  check   run a job handler many times in a child process and say whether memory
          grows per job, which resources each job leaves open, and which heap
          types grow with the job count
  diff    compare two .heapsnapshot files: which types grow, by how much per job
  demo    run the bundled leaky and fixed example workers and write a report

Exit codes: 0 bounded, 1 leak found, 2 usage error (or the check could not run).
Run 'leakguard <command> --help' for a command's options.
`,
  check: `Usage: ${USAGE.check}

Loads <module> (ESM or CommonJS) and runs its job handler in a child process
with leakguard's guards on: every job runs in a scope with autoTrack (timers,
listeners and handles the job leaves open are reported with their creation
site), memory is sampled after forced GCs and tested for a per-job trend, and
two heap snapshots taken --snapshot-jobs jobs apart are diffed natively.

The handler is the module's default export (or module.exports), or the export
named by --export. An optional export makeJob(i) builds the i-th job's argument
(default: { id: i, data: { i } }).

Options:
  --jobs N           measured jobs after the warm-up (default 1000, >= 20)
  --warmup N         jobs run first and excluded from the trend (default 100)
  --export name      the handler's export name (default: default export / module.exports)
  --concurrency N    jobs in flight at once (default 1)
  --snapshot-jobs N  jobs between the two heap snapshots (default jobs/2; 0 = no snapshots)
  --min-growth B     bytes a metric must grow over the measured jobs to count as a
                     leak (default: measureGrowth's, 131072 — above what a fresh
                     process's heap creeps by on its own). With it, 1000 jobs find
                     leaks of ~128 B/job and up; run more jobs to find smaller ones.
  --job-timeout MS   a job that has not settled after MS ms stops the check with
                     exit 2, naming the job (default 60000; 0 = wait for ever)
  --report file      write a self-contained HTML report with the memory chart
  --json             print the result as JSON on stdout (progress goes to stderr)
  -h, --help         this help

Exit codes: 0 bounded, 1 leak found, 2 usage error or the check could not run.
`,
  diff: `Usage: ${USAGE.diff}

Compares two heap snapshots (e.g. written by v8.writeHeapSnapshot() or
leakguard's writeHeapSnapshot() at job 100 and job 1000) and lists the object
types that grew, per job when --jobs-between is given, with a retainer path.

Options:
  --jobs-between N   jobs run between the two snapshots (enables per-job figures)
  --top N            how many growing types to list (default 20)
  --json             print the diff as JSON on stdout
  -h, --help         this help

Exit codes: 0 nothing grows per job, 1 a type grows per job, 2 usage error.
`,
  demo: `Usage: ${USAGE.demo}

Runs examples/leaky-worker.js (a job handler with four of the field guide's
root causes) and examples/fixed-worker.js (the same work with guard() and
BoundedCache) through the same path as 'leakguard check', prints both
verdicts and writes one HTML report with both runs.

Options:
  --jobs N        measured jobs per worker (default 400)
  --report file   where to write the report (default leakguard-report.html)
  --json          print both results as JSON on stdout
  -h, --help      this help

Exit codes: 0 when the leaky worker is found leaking and the fixed one bounded
(the demo worked), 1 otherwise, 2 usage error.
`
}

class UsageError extends Error {
  constructor(command, message) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

// ---- argument parsing ---------------------------------------------------------

function intFlag(command, values, name, { min, def }) {
  const raw = values[name]
  if (raw === undefined) return def
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < min) {
    throw new UsageError(command, `--${name} must be an integer >= ${min} (received '${raw}')`)
  }
  return Number(raw)
}

function parse(command, args, options, positionals) {
  let parsed
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true
    })
  } catch (err) {
    // parseArgs' messages are good ("Unknown option '--jbos'"); keep them, minus its advice to use '--'.
    throw new UsageError(command, err.message.replace(/\. To specify a positional argument.*$/s, ''))
  }
  if (parsed.values.help) return { help: true }
  const [min, max] = positionals
  if (parsed.positionals.length < min) {
    throw new UsageError(command, `missing argument${min - parsed.positionals.length > 1 ? 's' : ''}`)
  }
  if (parsed.positionals.length > max) {
    throw new UsageError(command, `unexpected argument '${parsed.positionals[max]}'`)
  }
  return parsed
}

function parseCheck(args, cwd) {
  const p = parse(
    'check',
    args,
    {
      jobs: { type: 'string' },
      warmup: { type: 'string' },
      export: { type: 'string' },
      concurrency: { type: 'string' },
      'snapshot-jobs': { type: 'string' },
      'min-growth': { type: 'string' },
      'job-timeout': { type: 'string' },
      report: { type: 'string' },
      json: { type: 'boolean' }
    },
    [1, 1]
  )
  if (p.help) return p
  const v = p.values
  const jobs = intFlag('check', v, 'jobs', { min: 20, def: 1000 })
  const opts = {
    module: resolveModule('check', p.positionals[0], cwd),
    jobs,
    warmup: intFlag('check', v, 'warmup', { min: 0, def: 100 }),
    exportName: v.export,
    concurrency: intFlag('check', v, 'concurrency', { min: 1, def: 1 }),
    snapshotJobs: intFlag('check', v, 'snapshot-jobs', { min: 0, def: Math.max(10, Math.ceil(jobs / 2)) }),
    minGrowth: intFlag('check', v, 'min-growth', { min: 0, def: undefined }),
    jobTimeoutMs: intFlag('check', v, 'job-timeout', { min: 0, def: 60_000 }),
    report: v.report === undefined ? undefined : path.resolve(cwd, v.report),
    json: v.json === true
  }
  if (v.export !== undefined && v.export.length === 0)
    throw new UsageError('check', "--export must be a non-empty name (received '')")
  if (opts.concurrency > opts.jobs) {
    throw new UsageError('check', `--concurrency must be <= --jobs (received ${opts.concurrency} > ${opts.jobs})`)
  }
  return opts
}

function resolveModule(command, spec, cwd) {
  const file = path.resolve(cwd, spec)
  let stat
  try {
    stat = fs.statSync(file)
  } catch {
    throw new UsageError(command, `cannot find '${spec}' (resolved to ${file})`)
  }
  if (!stat.isFile()) throw new UsageError(command, `'${spec}' is not a file`)
  return file
}

// ---- progress -------------------------------------------------------------------

const PHASE_LABEL = {
  warmup: 'warm-up',
  measure: 'measuring',
  confirm: 'confirming growth',
  snapshot: 'heap snapshots',
  diff: 'diffing snapshots'
}

/**
 * Progress on stderr: a \r-redrawn bar sized to the terminal on a TTY, plain
 * lines at quarter marks otherwise (CI logs, pipes, --json).
 */
class Progress {
  constructor(stream, { tty = Boolean(stream.isTTY), label = '' } = {}) {
    this.stream = stream
    this.tty = tty
    this.label = label
    this.drawn = false
    this.lastPhase = null
    this.lastQuarter = -1
  }

  update({ phase, done, total }) {
    const name = PHASE_LABEL[phase] || phase
    if (this.tty) {
      const columns = this.stream.columns || 80
      const ratio = total > 0 ? Math.min(1, done / total) : 0
      const head = `${this.label}${name}`
      const tail = ` ${done}/${total}`
      const width = Math.max(10, Math.min(40, columns - head.length - tail.length - 4))
      const fill = Math.round(ratio * width)
      const line = `${head} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}]${tail}`
      this.stream.write(`\r${line.slice(0, columns - 1)}\x1b[K`)
      this.drawn = true
      return
    }
    const quarter = total > 0 ? Math.floor((4 * done) / total) : 4
    // warm-up and measuring share one count (they are one run of jobs)
    const group = phase === 'warmup' || phase === 'measure' ? 'jobs' : phase
    if (group !== this.lastPhase) {
      this.lastPhase = group
      this.lastQuarter = -1
    }
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter
      this.stream.write(`${this.label}${name} ${done}/${total}\n`)
    }
  }

  /** Writes text (the child's own output) without tearing the bar. */
  log(text) {
    this.clear()
    this.stream.write(text)
  }

  clear() {
    if (this.tty && this.drawn) {
      this.stream.write('\r\x1b[K')
      this.drawn = false
    }
  }
}

// ---- running a check in a child process -------------------------------------

const CHILD = path.join(__dirname, 'check-child.js')

/**
 * Runs one check in a child process and resolves with its raw result (see
 * lib/cli/check-child.js). Rejects with an Error carrying `usage: true` when
 * the module cannot be used (no handler export, load failure).
 */
function runCheck(opts, progress) {
  return new Promise((resolve, reject) => {
    // --expose-gc makes the forced GCs between samples cheap and certain.
    const child = fork(CHILD, [], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    let settled = false
    let stderrTail = ''
    const passThrough = (chunk) => {
      progress.log(chunk.toString())
    }
    child.stdout.on('data', passThrough)
    child.stderr.on('data', (chunk) => {
      stderrTail = (stderrTail + chunk.toString()).slice(-4000)
      passThrough(chunk)
    })
    child.on('message', (msg) => {
      if (msg.type === 'progress') progress.update(msg)
      else if (msg.type === 'result') {
        settled = true
        resolve(msg.result)
      } else if (msg.type === 'error') {
        settled = true
        const err = new Error(msg.error.message)
        err.usage = msg.error.usage
        err.childStack = msg.error.stack
        reject(err)
      }
    })
    child.on('error', (err) => {
      if (!settled) {
        settled = true
        reject(err)
      }
    })
    child.on('exit', (code, signal) => {
      progress.clear()
      if (!settled) {
        settled = true
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        const err = new Error(`the check process ${how} before reporting${stderrTail ? `:\n${stderrTail.trim()}` : ''}`)
        reject(err)
      }
    })
    child.send({
      type: 'run',
      options: {
        module: opts.module,
        exportName: opts.exportName,
        jobs: opts.jobs,
        warmup: opts.warmup,
        concurrency: opts.concurrency,
        snapshotJobs: opts.snapshotJobs,
        minGrowth: opts.minGrowth,
        jobTimeoutMs: opts.jobTimeoutMs
      }
    })
  })
}

// ---- verdict ----------------------------------------------------------------------

/** Metrics whose per-job growth is a leak; RSS also grows in healthy workers (new-space resizing). */
/** A resource left open by at least this share of the jobs is a per-job leak. */
const LEFT_OPEN_PER_JOB = 0.5
/** A program type gaining at least this many instances per job between the snapshots is retained per job. */
const HEAP_PER_JOB = 0.5

/**
 * The facts of a check, reduced to the verdict: what grows, what is left
 * open, which heap types grow. Pure, so tests and the HTML report share it.
 */
function verdictOf(result) {
  const reasons = []
  const growing = []
  for (const name of VERDICT_METRICS) {
    const m = result.metrics[name]
    if (m?.growing) {
      growing.push(name)
      reasons.push(`${name} grows ${formatBytes(m.bytesPerJob)}/job (${formatP(m.pValue)})`)
    }
  }
  const leftOpen = (result.leftOpen || []).filter((r) => r.perJob >= LEFT_OPEN_PER_JOB)
  for (const r of leftOpen)
    reasons.push(`${formatPerJob(r.perJob)} ${describeResource(r)} left open per job${r.site ? ` (${r.site})` : ''}`)
  const suspects = result.heapDiff ? result.heapDiff.suspects : []
  // Program types (not V8's internal "(string)", "(system)", ... groups, which
  // follow whatever the program does) that gain an instance every other job
  // or more between the snapshots: retained per job, whatever the byte trend says.
  const heapGrowing = suspects.filter(
    (s) => !isInternalType(s.name) && typeof s.perJob === 'number' && s.perJob >= HEAP_PER_JOB
  )
  for (const s of heapGrowing) reasons.push(`${formatPerJob(s.perJob)} ${s.name} retained per job in the heap`)
  const leak = growing.length > 0 || leftOpen.length > 0 || heapGrowing.length > 0
  return {
    leak,
    growing,
    leftOpen,
    suspects,
    heapGrowing,
    headline: leak
      ? `LEAK: ${headlineOf(growing.length ? reasons[0] : null, leftOpen, heapGrowing)}`
      : `BOUNDED: no metric grows per job${(result.leftOpen || []).length ? ', no resource is left open by most jobs' : ', nothing left open'}${result.heapDiff ? ', no program type retained per job' : ''}`,
    reasons
  }
}

/** V8's own groups ("(string)", "(compiled code)", "system / Context") follow whatever the program does. */
function isInternalType(name) {
  return name.startsWith('(') || name.startsWith('system /')
}

/** One line: the first memory finding, then how many resources and heap types each job leaves behind. */
function headlineOf(memory, leftOpen, heapGrowing) {
  const parts = []
  if (memory) parts.push(memory)
  if (leftOpen.length) {
    parts.push(
      memory || heapGrowing.length
        ? `${leftOpen.length} resource${leftOpen.length > 1 ? 's' : ''} left open per job`
        : `${formatPerJob(leftOpen[0].perJob)} ${describeResource(leftOpen[0])} left open per job${leftOpen.length > 1 ? `, and ${leftOpen.length - 1} more` : ''}`
    )
  }
  if (heapGrowing.length) {
    parts.push(
      `${heapGrowing.length} heap type${heapGrowing.length > 1 ? 's' : ''} retained per job (${heapGrowing
        .slice(0, 3)
        .map((s) => s.name)
        .join(', ')}${heapGrowing.length > 3 ? ', ...' : ''})`
    )
  }
  return parts.join('; ')
}

function describeResource(r) {
  return r.kind && r.type && r.kind !== r.type ? `${r.type} (${r.kind})` : r.type || r.kind || 'resource'
}

function formatPerJob(x) {
  return `${x >= 10 ? Math.round(x) : x.toFixed(2)}×`
}

function pad(s, n) {
  return s.length >= n ? s : s + ' '.repeat(n - s.length)
}
function padStart(s, n) {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s
}

/** The verdict as text for a terminal. */
function formatCheck(result, { relativeTo } = {}) {
  const v = verdictOf(result)
  const rel = (f) =>
    relativeTo && !path.relative(relativeTo, f).startsWith('..') ? path.relative(relativeTo, f) || f : f
  const lines = []
  const measured = result.measuredJobs ?? result.jobs
  lines.push(
    `leakguard check ${rel(result.module)}: ${measured} jobs after ${result.warmup} warm-up${result.confirmed ? ` (${result.jobs}, then ${measured - result.jobs} more to confirm the growth)` : ''}, concurrency ${result.concurrency}, ${(result.durationMs / 1000).toFixed(1)} s`
  )
  lines.push('')
  lines.push(v.headline)
  if (result.jobErrors && result.jobErrors.count > 0) {
    const first = String(result.jobErrors.first || '').split('\n')[0]
    lines.push(`(${result.jobErrors.count} jobs threw and were counted as done; the first: ${first})`)
  }
  lines.push('')
  lines.push('Memory per job (trend of the post-GC floor after warm-up):')
  for (const name of METRICS) {
    const m = result.metrics[name]
    if (!m) continue
    const status = m.growing
      ? name === 'rss' || name === 'code'
        ? `grows (${name === 'rss' ? 'RSS' : 'code'} alone is not a verdict)`
        : 'GROWS'
      : `bounded${whyBounded(m, result)}`
    lines.push(
      `  ${pad(name, 13)}${padStart(`${formatBytes(m.bytesPerJob)}/job`, 14)}  ${pad(formatP(m.pValue), 8)} ${padStart(formatBytes(m.growthBytes), 10)} over the run   ${status}`
    )
  }
  lines.push('')
  const open = result.leftOpen || []
  if (result.leftOpenNote) {
    lines.push(`Resources left open: ${result.leftOpenNote}`)
  } else if (open.length === 0) {
    lines.push('Resources left open per job: none')
  } else {
    lines.push('Resources left open per job (autoTrack):')
    for (const r of open.slice(0, 10)) {
      lines.push(`  ${padStart(formatPerJob(r.perJob), 6)}  ${describeResource(r)}${r.site ? `  at ${r.site}` : ''}`)
    }
  }
  lines.push('')
  const diff = result.heapDiff
  if (!diff) {
    lines.push(`Heap types growing per job: ${result.heapDiffNote || 'not measured'}`)
  } else {
    // The program's types are listed; V8's own groups grow as their
    // consequence (a kept job's strings, its closures' contexts) and are
    // folded into one line.
    const program = diff.suspects.filter((s) => !isInternalType(s.name))
    const internal = diff.suspects.filter((s) => isInternalType(s.name))
    lines.push(`Heap types growing per job (snapshots ${diff.jobsBetween} jobs apart):${program.length ? '' : ' none'}`)
    for (const s of program.slice(0, 8)) {
      lines.push(
        `  ${pad(s.name, 24)} ${padStart(`${formatPerJob(s.perJob)}/job`, 10)} ${padStart((s.countDelta > 0 ? '+' : '') + s.countDelta, 8)} objects ${padStart(formatBytes(s.retainedSizeDelta ?? s.selfSizeDelta), 10)} retained`
      )
      if (s.retainerPath?.length) lines.push(`      retained by: ${formatRetainerPath(s.retainerPath)}`)
    }
    if (internal.length) lines.push(`  ${internalSummary(internal)}`)
  }
  return `${lines.join('\n')}\n`
}

/** What V8's internal groups hold, in words, for the line that folds them. */
const INTERNAL_KINDS = {
  '(string)': 'strings',
  '(concatenated string)': 'strings',
  '(sliced string)': 'strings',
  'system / Context': 'contexts',
  '(compiled code)': 'compiled code',
  '(code)': 'compiled code',
  '(array)': 'internal arrays',
  '(object shape)': 'shapes',
  '(number)': 'numbers',
  '(heap number)': 'numbers',
  '(symbol)': 'symbols',
  '(bigint)': 'bigints'
}

/**
 * "+ 4 V8-internal groups (strings, contexts, compiled code): +2401 objects, +350.2 KB self".
 * Self sizes, because internal groups' retained sizes overlap the program
 * types' (a closure's context retains the job it captured).
 */
function internalSummary(internal) {
  const bytes = new Map()
  let count = 0
  let self = 0
  for (const s of internal) {
    const kind = INTERNAL_KINDS[s.name] ?? 'system objects'
    bytes.set(kind, (bytes.get(kind) ?? 0) + (s.selfSizeDelta ?? 0))
    count += s.countDelta ?? 0
    self += s.selfSizeDelta ?? 0
  }
  const kinds = [...bytes].sort((a, b) => b[1] - a[1]).map(([k]) => k)
  const n = internal.length
  return `+ ${n} V8-internal group${n > 1 ? 's' : ''} (${kinds.join(', ')}): ${count > 0 ? '+' : ''}${count} objects, ${formatBytes(self)} self`
}

/** Why a metric with a significant slope is still not a leak, from the trend test's reason. */
function whyBounded(m, result) {
  if (!(m.pValue < 0.001) || !m.reason) return ''
  if (/below the minimum/.test(m.reason))
    return ` (under the ${formatBytes(result.minGrowth ?? 0)
      .replace('+', '')
      .replace('.00 ', ' ')
      .replace('.0 ', ' ')} floor)`
  if (/stopped/.test(m.reason)) return ' (growth stopped: a warm-up)'
  return ''
}

function formatRetainerPath(p) {
  if (typeof p === 'string') return p
  return p
    .map((step) => (typeof step === 'string' ? step : step.edge ? `${step.name}.${step.edge}` : step.name))
    .join(' → ')
}

// ---- commands ---------------------------------------------------------------------

async function check(args, io) {
  const opts = parseCheck(args, io.cwd)
  if (opts.help) {
    io.stdout.write(HELP.check)
    return EXIT_BOUNDED
  }
  const progress = new Progress(io.stderr, { tty: io.stderr.isTTY && !opts.json })
  const result = await runCheckOrExplain(opts, progress)
  const verdict = verdictOf(result)
  if (opts.report) writeReportFile(opts.report, [result])
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ ...result, verdict: summaryOf(verdict) }, null, 2)}\n`)
  } else {
    io.stdout.write(formatCheck(result, { relativeTo: io.cwd }))
    if (opts.report) io.stdout.write(`\nReport: ${path.relative(io.cwd, opts.report) || opts.report}\n`)
  }
  return verdict.leak ? EXIT_LEAK : EXIT_BOUNDED
}

function summaryOf(v) {
  return { leak: v.leak, headline: v.headline, reasons: v.reasons, growing: v.growing }
}

async function runCheckOrExplain(opts, progress) {
  try {
    return await runCheck(opts, progress)
  } catch (err) {
    if (err.usage) throw new UsageError('check', err.message)
    throw err
  }
}

function writeReportFile(file, results) {
  const { renderReport } = require('./report')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, renderReport(results.map((r) => ({ ...r, verdict: verdictOf(r) }))))
}

async function diff(args, io) {
  const p = parse(
    'diff',
    args,
    {
      'jobs-between': { type: 'string' },
      top: { type: 'string' },
      json: { type: 'boolean' }
    },
    [2, 2]
  )
  if (p.help) {
    io.stdout.write(HELP.diff)
    return EXIT_BOUNDED
  }
  const before = resolveModule('diff', p.positionals[0], io.cwd)
  const after = resolveModule('diff', p.positionals[1], io.cwd)
  const jobsBetween = intFlag('diff', p.values, 'jobs-between', { min: 1, def: undefined })
  const top = intFlag('diff', p.values, 'top', { min: 1, def: 20 })
  const { diffHeapSnapshots } = require('../snapshot/snapshot')
  let result
  try {
    result = await diffHeapSnapshots(before, after, jobsBetween === undefined ? { top } : { jobsBetween, top })
  } catch (err) {
    throw new UsageError('diff', `cannot diff the snapshots: ${err.message}`)
  }
  const suspects = result.suspects || []
  // As in check: V8's internal groups are listed folded and never make a verdict.
  const program = suspects.filter((s) => !isInternalType(s.name))
  const internal = suspects.filter((s) => isInternalType(s.name))
  const growsPerJob = jobsBetween !== undefined && program.length > 0
  if (p.values.json) {
    io.stdout.write(`${JSON.stringify({ before, after, jobsBetween: jobsBetween ?? null, ...result }, null, 2)}\n`)
  } else {
    const show = (f) => (path.relative(io.cwd, f).startsWith('..') ? f : path.relative(io.cwd, f))
    const lines = [
      `leakguard diff ${show(before)} → ${show(after)}${jobsBetween ? ` (${jobsBetween} jobs apart)` : ''}`,
      ''
    ]
    const rows = suspects.length ? program : (result.groups || []).slice(0, top)
    lines.push(
      program.length
        ? jobsBetween
          ? 'Types growing with the job count:'
          : 'Types that grew (pass --jobs-between N for per-job figures):'
        : suspects.length
          ? 'No program type grew; only V8-internal groups:'
          : 'No type grew. Largest changes:'
    )
    for (const s of rows.slice(0, top)) {
      const perJob =
        s.perJob !== undefined && s.perJob !== null ? `${padStart(`${formatPerJob(s.perJob)}/job`, 10)} ` : ''
      lines.push(
        `  ${pad(s.name, 28)} ${perJob}${padStart((s.countDelta > 0 ? '+' : '') + s.countDelta, 8)} objects ${padStart(formatBytes(s.retainedSizeDelta ?? s.selfSizeDelta), 10)}`
      )
      if (s.retainerPath?.length) lines.push(`      retained by: ${formatRetainerPath(s.retainerPath)}`)
    }
    if (suspects.length && internal.length) lines.push(`  ${internalSummary(internal)}`)
    io.stdout.write(`${lines.join('\n')}\n`)
  }
  return growsPerJob ? EXIT_LEAK : EXIT_BOUNDED
}

async function demo(args, io) {
  const p = parse(
    'demo',
    args,
    {
      jobs: { type: 'string' },
      report: { type: 'string' },
      json: { type: 'boolean' }
    },
    [0, 0]
  )
  if (p.help) {
    io.stdout.write(HELP.demo)
    return EXIT_BOUNDED
  }
  const jobs = intFlag('demo', p.values, 'jobs', { min: 20, def: 400 })
  const report = path.resolve(io.cwd, p.values.report ?? 'leakguard-report.html')
  const json = p.values.json === true
  const examples = path.join(__dirname, '..', '..', 'examples')
  const results = []
  for (const name of ['leaky-worker.js', 'fixed-worker.js']) {
    const opts = {
      module: path.join(examples, name),
      jobs,
      warmup: Math.max(20, Math.round(jobs / 4)),
      concurrency: 1,
      snapshotJobs: Math.max(10, Math.ceil(jobs / 2)),
      json
    }
    const progress = new Progress(io.stderr, { tty: io.stderr.isTTY && !json, label: `${name}: ` })
    const result = await runCheckOrExplain(opts, progress)
    results.push(result)
    if (!json) io.stdout.write(`${formatCheck(result, { relativeTo: io.cwd })}\n`)
  }
  writeReportFile(report, results)
  const [leaky, fixed] = results.map(verdictOf)
  const worked = leaky.leak && !fixed.leak
  if (json) {
    io.stdout.write(
      `${JSON.stringify(
        { report, results: results.map((r, i) => ({ ...r, verdict: summaryOf([leaky, fixed][i]) })) },
        null,
        2
      )}\n`
    )
  } else {
    io.stdout.write(
      `Leaky worker: ${leaky.leak ? 'leak found' : 'NO LEAK FOUND (unexpected)'}; fixed worker: ${fixed.leak ? 'LEAK FOUND (unexpected)' : 'bounded'}.\n`
    )
    io.stdout.write(`Report with the memory charts: ${report}\n`)
  }
  return worked ? EXIT_BOUNDED : EXIT_LEAK
}

const COMMANDS = { check, diff, demo }

/**
 * Runs the CLI. Resolves with the exit code; never calls process.exit itself,
 * so it can run inside tests and other tools.
 * @param {string[]} argv arguments after `leakguard`
 */
async function main(argv, io = {}) {
  io = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), ...io }
  const [command, ...rest] = argv
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    if (command === 'help' && rest[0] && HELP[rest[0]]) io.stdout.write(HELP[rest[0]])
    else (command === undefined ? io.stderr : io.stdout).write(HELP.main)
    return command === undefined ? EXIT_USAGE : EXIT_BOUNDED
  }
  const run = COMMANDS[command]
  if (!run) {
    io.stderr.write(`leakguard: unknown command '${command}'\n\n${HELP.main}`)
    return EXIT_USAGE
  }
  try {
    return await run(rest, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(
        `leakguard ${err.command}: ${err.message}\nUsage: ${USAGE[err.command]}\nRun 'leakguard ${err.command} --help' for details.\n`
      )
      return EXIT_USAGE
    }
    io.stderr.write(`leakguard ${command}: ${err.message}\n`)
    return EXIT_USAGE
  }
}

module.exports = {
  main,
  verdictOf,
  formatCheck,
  Progress
}
