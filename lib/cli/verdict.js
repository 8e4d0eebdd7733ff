'use strict'
// The verdict of a check (pure: the CLI text, the JSON and the HTML report
// share it) and its rendering as text for a terminal.

const path = require('node:path')
const { formatBytes: formatUnsigned, formatP } = require('../common/format')
const { MEASURED_METRICS: METRICS, VERDICT_METRICS } = require('../common/metric-names')
const { describeSite } = require('../common/sites')
const { holderText, programPathText, siteText } = require('../snapshot/locate')

// Verdict lines show growth, so positive figures carry their sign.
const formatBytes = (n) => formatUnsigned(n, { signed: true })

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
  // The largest growth first: a Buffer kept per job grows external by 16 KB
  // and heapUsed by the small wrapper; the headline names external.
  const growing = VERDICT_METRICS.filter((name) => result.metrics[name]?.growing).sort(
    (a, b) => result.metrics[b].bytesPerJob - result.metrics[a].bytesPerJob
  )
  for (const name of growing) {
    const m = result.metrics[name]
    reasons.push(`${name} grows ${formatBytes(m.bytesPerJob)}/job (${formatP(m.pValue)})`)
  }
  const leftOpen = (result.leftOpen || []).filter((r) => r.perJob >= LEFT_OPEN_PER_JOB)
  for (const r of leftOpen)
    reasons.push(`${formatPerJob(r.perJob)} ${describeResource(r)} left open per job${siteClause(r, ' (', ')')}`)
  const suspects = result.heapDiff ? result.heapDiff.suspects : []
  // Program types (not V8's internal "(string)", "(system)", ... groups, which
  // follow whatever the program does) that gain an instance every other job
  // or more between the snapshots: retained per job, whatever the byte trend says.
  const heapGrowing = suspects.filter(
    (s) => !isInternalType(s.name) && typeof s.perJob === 'number' && s.perJob >= HEAP_PER_JOB
  )
  for (const s of heapGrowing)
    reasons.push(
      `${formatPerJob(s.perJob)} ${s.name} retained per job in the heap${s.holder?.user ? `, held by ${s.holder.variable} (${s.holder.node})` : ''}`
    )
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

/**
 * Where to look first: the program's variables that hold what grows per job
 * (from the heap diff; one entry per variable, listing the types it holds)
 * and the resources left open per job with their creation sites, most
 * bytes per job first. Pure: the CLI's "Look at" line and the report's
 * "Top suspects" block share it.
 * @returns {{ kind: 'variable' | 'resource', label: string, type?: string, scope?: string,
 *   script?: string, line?: number, site?: string, package?: string, importedAt?: object,
 *   holds?: string[], perJob: number, bytesPerJob?: number }[]}
 */
function topSuspects(result, { limit = 5 } = {}) {
  const v = result.verdict?.heapGrowing ? result.verdict : verdictOf(result)
  const jobs = result.heapDiff?.jobsBetween
  const variables = new Map()
  // The program's types first; then V8's own groups (a memo cache of
  // strings grows `(string)` only) for variables not named yet.
  const internal = (result.heapDiff?.suspects ?? []).filter(
    (s) => isInternalType(s.name) && typeof s.perJob === 'number' && s.perJob >= HEAP_PER_JOB
  )
  for (const s of [...v.heapGrowing, ...internal]) {
    const h = s.holder
    if (!h?.user) continue
    const key = `${h.script}\0${h.line}\0${h.variable}`
    const bytes = jobs ? Math.max(0, s.retainedSizeDelta ?? s.selfSizeDelta ?? 0) / jobs : undefined
    const known = variables.get(key)
    if (known) {
      if (!isInternalType(s.name)) known.holds.push(s.name)
      if (bytes > (known.bytesPerJob ?? 0)) known.bytesPerJob = bytes
      continue
    }
    // A closure's variable with no declaration found (`this`): the function
    // that captures it is where to look.
    const at = h.line === undefined && h.capturedBy ? h.capturedBy : h
    variables.set(key, {
      kind: 'variable',
      label: h.variable,
      type: h.node,
      scope: h.scope,
      script: at.script,
      line: at.line,
      package: h.package,
      importedAt: h.importedAt,
      holds: [s.name],
      perJob: h.perJob ?? s.perJob,
      bytesPerJob: bytes
    })
  }
  const out = [...variables.values()]
  for (const r of v.leftOpen) {
    out.push({ kind: 'resource', label: describeResource(r), site: r.site, package: r.package, perJob: r.perJob })
  }
  return out.slice(0, limit)
}

/**
 * Where a left-open resource was created, as a clause: `at src/w.js:7:3`, or
 * `left open by ioredis@5.4.1, called from src/w.js:7:3` when a package made it.
 */
function siteClause(r, before, after, lead = '') {
  const text = describeSite(r, lead)
  return text === undefined ? '' : `${before}${text}${after}`
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

/** The verdict as text for a terminal; `verbose` adds each suspect's full retainer path. */
function formatCheck(result, { relativeTo, verbose = false } = {}) {
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
  const look = topSuspects({ ...result, verdict: v }, { limit: 3 }).filter((t) => t.kind === 'variable')
  if (look.length)
    lines.push(
      `Look at: ${look
        .map((t) => {
          const site = siteText(t.script, t.line, relativeTo)
          if (!t.package) return `${t.label} (${t.type}) in ${site}`
          const from = t.importedAt
            ? `, required at ${siteText(t.importedAt.script, t.importedAt.line, relativeTo)}`
            : ''
          return `${t.label} (${t.type}) in ${t.package} (${site})${from}`
        })
        .join('; ')}`
    )
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
      lines.push(`  ${padStart(formatPerJob(r.perJob), 6)}  ${describeResource(r)}${siteClause(r, '  ', '', 'at ')}`)
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
      lines.push(...locateLines(s, { relativeTo, verbose }))
    }
    if (internal.length) lines.push(`  ${internalSummary(internal)}`)
  }
  return `${lines.join('\n')}\n`
}

/**
 * A suspect's place in the program, indented under its line: the variable
 * that holds it, the path from the program's side, and with `verbose` the
 * full retainer path. Without a program view, the full path.
 */
function locateLines(s, { relativeTo, verbose = false, indent = '      ' } = {}) {
  const out = []
  const held = holderText(s, { relativeTo })
  const program = programPathText(s, { relativeTo })
  if (held) out.push(`${indent}held by ${held}`)
  if (program) out.push(`${indent}path: ${program}`)
  const full = s.retainerPath?.length ? formatRetainerPath(s.retainerPath) : ''
  if (full && (verbose || !program)) out.push(`${indent}${program ? 'full path' : 'retained by'}: ${full}`)
  return out
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

function summaryOf(v) {
  return { leak: v.leak, headline: v.headline, reasons: v.reasons, growing: v.growing }
}

module.exports = {
  verdictOf,
  topSuspects,
  locateLines,
  summaryOf,
  formatCheck,
  formatBytes,
  formatPerJob,
  formatRetainerPath,
  internalSummary,
  isInternalType,
  pad,
  padStart
}
