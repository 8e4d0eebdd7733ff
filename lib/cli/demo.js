'use strict'
// `leakguard demo`: the bundled leaky and fixed example workers through the
// same path as `leakguard check`, and one HTML report with both.

const path = require('node:path')
const { EXIT_BOUNDED, EXIT_LEAK } = require('./exit-codes')
const { HELP } = require('./help')
const { intFlag, parse } = require('./args')
const { Progress } = require('./progress')
const { runCheckOrExplain } = require('./run-check')
const { verdictOf, summaryOf, formatCheck } = require('./verdict')
const { writeReportFile } = require('./check')

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

module.exports = { demo }
