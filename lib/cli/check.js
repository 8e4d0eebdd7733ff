'use strict'
// `leakguard check <module>`: does this job handler leak, and where?

const fs = require('node:fs')
const path = require('node:path')
const { EXIT_BOUNDED, EXIT_LEAK } = require('./exit-codes')
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
    json: v.json === true,
    verbose: v.verbose === true
  }
  if (v.export !== undefined && v.export.length === 0)
    throw new UsageError('check', "--export must be a non-empty name (received '')")
  if (opts.concurrency > opts.jobs) {
    throw new UsageError('check', `--concurrency must be <= --jobs (received ${opts.concurrency} > ${opts.jobs})`)
  }
  return opts
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
  if (opts.report) writeReportFile(opts.report, [result])
  if (opts.json) {
    io.stdout.write(`${JSON.stringify({ ...result, verdict: summaryOf(verdict) }, null, 2)}\n`)
  } else {
    io.stdout.write(formatCheck(result, { relativeTo: io.cwd, verbose: opts.verbose }))
    if (opts.report) io.stdout.write(`\nReport: ${path.relative(io.cwd, opts.report) || opts.report}\n`)
  }
  return verdict.leak ? EXIT_LEAK : EXIT_BOUNDED
}

function writeReportFile(file, results) {
  const { renderReport } = require('./report')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, renderReport(results.map((r) => ({ ...r, verdict: verdictOf(r) }))))
}

module.exports = { check, writeReportFile }
