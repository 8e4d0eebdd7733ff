'use strict'
// `leakguard check <module>`: does this job handler leak, and where?

const fs = require('node:fs')
const path = require('node:path')
const { EXIT_BOUNDED, EXIT_LEAK, EXIT_USAGE } = require('./exit-codes')
const { clip, describePath } = require('../common/format')
const { HELP } = require('./help')
const { UsageError, intFlag, parse, resolveModule } = require('./args')
const { Progress } = require('./progress')
const { runCheckOrExplain } = require('./run-check')
const { verdictOf, summaryOf, formatCheck } = require('./verdict')

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
      json: { type: 'boolean' },
      verbose: { type: 'boolean' }
    },
    [1, 1]
  )
  if (p.help) return p
  const v = p.values
  // The bounds measureGrowth() accepts, named here as flags.
  const jobs = intFlag('check', v, 'jobs', { min: 20, max: 1e9, def: 1000 })
  const opts = {
    module: resolveModule('check', p.positionals[0], cwd),
    jobs,
    warmup: intFlag('check', v, 'warmup', { min: 0, max: 1e9, def: 100 }),
    exportName: v.export,
    concurrency: intFlag('check', v, 'concurrency', { min: 1, max: 100_000, def: 1 }),
    snapshotJobs: intFlag('check', v, 'snapshot-jobs', { min: 0, def: Math.max(10, Math.ceil(jobs / 2)) }),
    minGrowth: intFlag('check', v, 'min-growth', { min: 0, def: undefined }),
    // Node's timers hold at most 2^31 - 1 ms (longer ones fire at once).
    jobTimeoutMs: intFlag('check', v, 'job-timeout', { min: 0, max: 2 ** 31 - 1, def: 60_000 }),
    report: v.report === undefined ? undefined : path.resolve(cwd, v.report),
    json: v.json === true,
    verbose: v.verbose === true
  }
  if (v.export !== undefined && v.export.length === 0)
    throw new UsageError('check', "--export must be a non-empty name (received '')")
  if (opts.concurrency > opts.jobs) {
    throw new UsageError('check', `--concurrency must be <= --jobs (received ${opts.concurrency} > ${opts.jobs})`)
  }
  if (opts.report !== undefined) {
    // Found now, not after a run of minutes whose result it would throw away.
    const problem = reportPathProblem(opts.report)
    if (problem) throw new UsageError('check', `cannot write the report to ${describePath(opts.report)}: ${problem}`)
  }
  return opts
}

/**
 * Why `file` cannot be written (as far as can be told without writing it), or
 * null. Creates nothing: the missing directories are made when the report is
 * written, under the nearest existing one, which must be a writable directory.
 */
function reportPathProblem(file) {
  const { W_OK, X_OK } = fs.constants
  const stat = (p) => {
    try {
      return fs.statSync(p)
    } catch (err) {
      // Missing (or under a file, which the walk up then names).
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return null
      throw err
    }
  }
  try {
    const existing = stat(file)
    if (existing) {
      if (existing.isDirectory()) return 'it is a directory'
      fs.accessSync(file, W_OK)
      return null
    }
    let dir = path.dirname(file)
    let found = stat(dir)
    while (found === null && path.dirname(dir) !== dir) {
      dir = path.dirname(dir)
      found = stat(dir)
    }
    if (found === null) return 'no existing directory above it'
    if (!found.isDirectory()) return `${describePath(dir)} is not a directory`
    fs.accessSync(dir, W_OK | X_OK)
    return null
  } catch (err) {
    return clip(String(err.message), 300)
  }
}

async function check(args, io) {
  const opts = parseCheck(args, io.cwd)
  if (opts.help) {
    io.stdout.write(HELP.check)
    return EXIT_BOUNDED
  }
  const progress = new Progress(io.stderr, { tty: io.stderr.isTTY && !opts.json })
  const result = await runCheckOrExplain(opts, progress)
  const verdict = verdictOf(result)
  // The verdict is printed whatever happens to the report: a finished check
  // is never thrown away because one file could not be written.
  let reportError = null
  if (opts.report) {
    try {
      writeReportFile(opts.report, [result])
    } catch (err) {
      reportError = err
    }
  }
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ ...result, verdict: summaryOf(verdict) }, null, 2)}\n`)
  } else {
    io.stdout.write(formatCheck(result, { relativeTo: io.cwd, verbose: opts.verbose }))
    if (opts.report && !reportError) {
      io.stdout.write(`\nReport: ${path.relative(io.cwd, opts.report) || opts.report}\n`)
    }
  }
  if (reportError) {
    io.stderr.write(
      `leakguard check: cannot write the report to ${describePath(opts.report)}: ${clip(String(reportError.message), 300)}\n`
    )
    return EXIT_USAGE
  }
  return verdict.leak ? EXIT_LEAK : EXIT_BOUNDED
}

function writeReportFile(file, results) {
  const { renderReport } = require('./report')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, renderReport(results.map((r) => ({ ...r, verdict: verdictOf(r) }))))
}

module.exports = { check, writeReportFile }
