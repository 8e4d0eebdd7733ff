'use strict'
// `leakguard diff <before> <after>`: which heap types grow, per job.

const path = require('node:path')
const { EXIT_BOUNDED, EXIT_LEAK } = require('./exit-codes')
const { HELP } = require('./help')
const { UsageError, intFlag, parse, resolveModule } = require('./args')
const { formatBytes, formatPerJob, internalSummary, isInternalType, locateLines, pad, padStart } = require('./verdict')

async function diff(args, io) {
  const p = parse(
    'diff',
    args,
    {
      'jobs-between': { type: 'string' },
      top: { type: 'string' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' }
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
  const top = intFlag('diff', p.values, 'top', { min: 1, max: 10_000, def: 20 })
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
      lines.push(...locateLines(s, { relativeTo: io.cwd, verbose: p.values.verbose === true }))
    }
    if (suspects.length && internal.length) lines.push(`  ${internalSummary(internal)}`)
    io.stdout.write(`${lines.join('\n')}\n`)
  }
  return growsPerJob ? EXIT_LEAK : EXIT_BOUNDED
}

module.exports = { diff }
