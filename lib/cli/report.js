'use strict'
// The HTML report of `leakguard check` / `demo`: one self-contained file (no
// script, no font, no network), so it opens offline, in a CI artifact viewer,
// or attached to a ticket. Charts are inline SVG drawn here: four line
// charts of a hundred points do not need a charting library, and SVG built
// on the server renders even where scripts are blocked.

const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { formatBytes, formatP } = require('../common/format')
const { MEASURED_METRICS: METRICS, VERDICT_METRICS } = require('../common/metric-names')
const { programPathText, showScript } = require('../snapshot/locate')
const { formatRetainerPath, internalSummary, isInternalType, topSuspects } = require('./verdict')
const METRIC_NOTE = {
  heapUsed: 'V8 heap in use after GC, minus compiled code: JS objects, closures, strings',
  external: 'C++ memory held by JS objects: Buffers, native addons',
  arrayBuffers: 'ArrayBuffer and Buffer backing stores (part of external)',
  rss: 'resident set size: everything; also grows in healthy workers',
  code: 'compiled code and bytecode: grows as the JIT tiers up, bounded by the program'
}

const W = 420
const H = 210
const M = { left: 70, right: 14, top: 16, bottom: 38 }

function esc(s) {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]
  )
}

/** The unit of an axis whose top value is `top` bytes. */
function unitFor(top) {
  const units = [
    ['B', 1],
    ['KB', 1024],
    ['MB', 1024 ** 2],
    ['GB', 1024 ** 3]
  ]
  return units.filter(([, size]) => top >= size).pop() || units[0]
}

/** Round tick values covering [lo, hi]: 1, 2 or 5 × 10^k steps, the finest step that gives at most count + 1 of them. */
function niceTicks(lo, hi, count = 5) {
  const span = hi - lo
  const mag = 10 ** Math.floor(Math.log10(span / count))
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10].map((f) => f * mag)
  const ticksFor = (step) => {
    const ticks = []
    // Integer multiples avoid accumulating 0.1 + 0.2 style errors.
    for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++)
      ticks.push(Number((k * step).toPrecision(12)))
    return ticks
  }
  for (const step of steps) {
    const ticks = ticksFor(step)
    if (ticks.length <= count + 1) return ticks
  }
  return ticksFor(steps[steps.length - 1])
}

function median(values) {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return 0
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** A fallback growth floor when the result does not carry one (measureGrowth's default). */
const DEFAULT_FLOOR = 128 * 1024

/**
 * One metric's chart: samples, the fitted trend over the measured jobs, the
 * warm-up shaded, and for verdict metrics the growth floor (a leak's trend
 * ends above it).
 */
function chart(result, name, index) {
  const samples = result.samples.filter((s) => typeof s[name] === 'number')
  const m = result.metrics[name] || {}
  if (samples.length === 0)
    return `<figure class="chart empty" data-metric="${name}"><figcaption>${name}: no samples</figcaption></figure>`
  const xs = samples.map((s) => s.job)
  const ys = samples.map((s) => s[name])
  const xMax = Math.max(...xs, 1)
  const measured = samples.filter((s) => s.job >= result.warmup)
  const slope = m.bytesPerJob
  const trendKnown = measured.length >= 2 && typeof slope === 'number'
  const intercept = !trendKnown
    ? undefined
    : typeof m.intercept === 'number'
      ? m.intercept
      : median(measured.map((s) => s[name] - slope * s.job))
  // Honest axes: the plot always spans at least the growth floor the verdict
  // uses, measured from where the trend starts. A flat metric's few KB of
  // noise then stay a flat line under the floor, never a cliff; a leak's
  // trend visibly ends above it.
  const floor = result.minGrowth ?? DEFAULT_FLOOR
  const base = trendKnown ? intercept + slope * measured[0].job : (measured[0] ?? samples[0])[name]
  const floorLine = VERDICT_METRICS.includes(name) && trendKnown ? base + floor : undefined
  let yLo = Math.min(...ys, base)
  let yHi = Math.max(...ys, floorLine ?? base + floor)
  const padY = (yHi - yLo) * 0.08
  yLo = Math.max(0, yLo - padY)
  yHi += padY
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const sx = (x) => M.left + (x / xMax) * pw
  const sy = (y) => M.top + ph - ((y - yLo) / (yHi - yLo)) * ph
  const f = (v) => v.toFixed(1)
  const parts = []
  const warm = Math.min(result.warmup, xMax)
  if (warm > 0) {
    parts.push(
      `<rect class="warmup" x="${f(sx(0))}" y="${M.top}" width="${f(sx(warm) - sx(0))}" height="${ph}"><title>warm-up: ${result.warmup} jobs, excluded from the trend</title></rect>`
    )
    // The label only where it fits inside the band.
    if (sx(warm) - sx(0) >= 44)
      parts.push(
        `<text class="warmup-label" x="${f(sx(warm / 2))}" y="${M.top + 12}" text-anchor="middle">warm-up</text>`
      )
  }
  // Ticks are round in the axis' unit (0.05 MB steps, not 100000-byte steps).
  const [unit, size] = unitFor(yHi)
  const yTicks = niceTicks(yLo / size, yHi / size, 4)
  const decimals = Math.min(
    4,
    Math.max(0, Math.ceil(-Math.log10(yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1) - 1e-9))
  )
  for (const u of yTicks) {
    const t = u * size
    parts.push(`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${f(sy(t))}" y2="${f(sy(t))}"/>`)
    parts.push(
      `<text class="tick" x="${M.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${u.toFixed(decimals)} ${unit}</text>`
    )
  }
  for (const t of niceTicks(0, xMax, 5)) {
    parts.push(`<line class="axis-tick" x1="${f(sx(t))}" x2="${f(sx(t))}" y1="${M.top + ph}" y2="${M.top + ph + 4}"/>`)
    parts.push(`<text class="tick" x="${f(sx(t))}" y="${M.top + ph + 16}" text-anchor="middle">${t}</text>`)
  }
  parts.push(`<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${M.top + ph}" y2="${M.top + ph}"/>`)
  parts.push(`<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + ph}"/>`)
  parts.push(`<text class="axis-label" x="${M.left + pw / 2}" y="${H - 4}" text-anchor="middle">jobs</text>`)
  const trail = samples.map((s, i) => `${i ? 'L' : 'M'}${f(sx(s.job))},${f(sy(s[name]))}`).join('')
  parts.push(`<path class="samples-line" d="${trail}"/>`)
  parts.push(
    `<g class="series samples" data-metric="${name}" data-count="${samples.length}">${samples
      .map(
        (s) =>
          `<circle cx="${f(sx(s.job))}" cy="${f(sy(s[name]))}" r="2.2"><title>job ${s.job}: ${esc(formatBytes(s[name]))}</title></circle>`
      )
      .join('')}</g>`
  )
  if (floorLine !== undefined) {
    const x0 = measured[0].job
    parts.push(
      `<line class="floor" data-metric="${name}" x1="${f(sx(x0))}" x2="${f(sx(xMax))}" y1="${f(sy(floorLine))}" y2="${f(sy(floorLine))}"><title>growth floor: a leak's trend rises more than ${esc(formatBytes(floor))} over the measured jobs</title></line>`
    )
    parts.push(
      `<text class="floor-label" x="${f(sx(xMax) - 2)}" y="${f(sy(floorLine) - 4)}" text-anchor="end">floor +${esc(formatBytes(floor))}</text>`
    )
  }
  if (trendKnown) {
    const x0 = measured[0].job
    const x1 = measured[measured.length - 1].job
    const clampY = (y) => Math.min(Math.max(y, yLo), yHi)
    parts.push(
      `<line class="series trend${m.growing ? ' growing' : ''}" data-metric="${name}" data-slope="${slope}" x1="${f(sx(x0))}" y1="${f(sy(clampY(intercept + slope * x0)))}" x2="${f(sx(x1))}" y2="${f(sy(clampY(intercept + slope * x1)))}"><title>trend: ${esc(formatBytes(slope, { signed: true }))}/job (${esc(formatP(m.pValue))})</title></line>`
    )
  }
  const informational = name === 'rss' || name === 'code'
  const status = m.growing ? (informational ? 'grows' : 'GROWS') : 'bounded'
  const id = `chart-${index}-${name}`
  return `<figure class="chart${m.growing ? ' growing' : ''}" data-metric="${name}">
<figcaption id="${id}"><b>${name}</b> <span class="rate">${esc(formatBytes(m.bytesPerJob, { signed: true }))}/job</span> <span class="p">${esc(formatP(m.pValue))}</span> <span class="status ${status === 'bounded' ? 'ok' : informational ? 'info' : 'bad'}">${status}</span><br><small>${esc(METRIC_NOTE[name])}</small></figcaption>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="${id}">${parts.join('')}</svg>
</figure>`
}

function table(headers, rows, cls) {
  return `<table class="${cls}"><thead><tr>${headers.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`
}

/**
 * A source site as a link that works when the report is opened from disk: a
 * `file:` URL to the file, the text relative to `cwd`. `site` is
 * `file:line[:column]` (relative to `cwd` or absolute) or a script and a
 * line; Node's own modules (`node:timers`) are plain text.
 */
/** The site of a left-open resource; a package that created it is named first. */
function createdAt(r, cwd) {
  if (!r.package) return siteLink(r.site, cwd)
  return r.site
    ? `left open by ${esc(r.package)}, called from ${siteLink(r.site, cwd)}`
    : `left open by ${esc(r.package)} (${siteLink(r.packageSite, cwd)})`
}

function siteLink(site, cwd, line) {
  if (!site) return ''
  let file = String(site)
  let suffix = ''
  if (line !== undefined && line !== null) {
    suffix = `:${line}`
  } else {
    const m = /^(.*?)((?::\d+){1,2})$/.exec(file)
    if (m) {
      file = m[1]
      suffix = m[2]
    }
  }
  if (file.startsWith('file://') || path.isAbsolute(file) || /^[.\w@-]/.test(file)) {
    const shown = showScript(file, cwd)
    if (!file.startsWith('node:') && !/^\w+:/.test(shown)) {
      const abs = path.resolve(cwd, showScript(file))
      return `<a class="site" href="${esc(pathToFileURL(abs).href)}">${esc(shown + suffix)}</a>`
    }
  }
  return `<code>${esc(file + suffix)}</code>`
}

function perJobText(x) {
  return typeof x === 'number' ? `${x >= 10 ? Math.round(x) : x.toFixed(2)}` : ''
}

/** "Top suspects": where to look first, before any chart. */
function topBlock(result, cwd) {
  const top = topSuspects(result, { limit: 6 })
  if (top.length === 0) {
    return `<div class="top-suspects none"><h3>Top suspects</h3><p class="none">None: no variable of the program holds more per job, no resource is left open by most jobs.</p></div>`
  }
  const rows = top.map((t) =>
    t.kind === 'variable'
      ? [
          `<b><code>${esc(t.label)}</code></b> <span class="type">(${esc(t.type)})</span><br><small>${esc(
            t.scope === 'closure'
              ? 'closure variable'
              : t.scope === 'global'
                ? 'global variable'
                : 'module-scope variable'
          )}, holds ${esc(t.holds.join(', '))}</small>`,
          siteLink(t.script, cwd, t.line),
          t.package
            ? `${esc(t.package)}${t.importedAt ? `<br><small>required at ${siteLink(t.importedAt.script, cwd, t.importedAt.line)}</small>` : ''}`
            : '<span class="muted">your code</span>',
          `+${esc(perJobText(t.perJob))} ${esc(t.holds[0])}${t.bytesPerJob ? `<br><small>${esc(formatBytes(t.bytesPerJob))} retained</small>` : ''}`
        ]
      : [
          `<b>${esc(t.label)}</b><br><small>left open</small>`,
          siteLink(t.site, cwd),
          t.package ? esc(t.package) : '<span class="muted">your code</span>',
          `${esc(perJobText(t.perJob))}×`
        ]
  )
  return `<div class="top-suspects"><h3>Top suspects</h3>${table(['what', 'where', 'package', 'per job'], rows, 'suspects')}</div>`
}

/** The chart legend: what the dots, the lines and the band mean. */
const LEGEND = `<div class="legend" role="note">
<span class="key"><svg viewBox="0 0 16 10" width="16" height="10" aria-hidden="true"><circle class="dot" cx="8" cy="5" r="2.6"/></svg>memory after a forced GC, per sample</span>
<span class="key"><svg viewBox="0 0 26 10" width="26" height="10" aria-hidden="true"><line class="trend growing" x1="1" y1="5" x2="25" y2="5"/></svg><svg viewBox="0 0 26 10" width="26" height="10" aria-hidden="true"><line class="trend" x1="1" y1="5" x2="25" y2="5"/></svg>trend over the measured jobs (red: grows per job, green: bounded)</span>
<span class="key"><svg viewBox="0 0 16 10" width="16" height="10" aria-hidden="true"><rect class="warmup" x="0" y="0" width="16" height="10"/></svg>warm-up jobs, left out of the trend</span>
<span class="key"><svg viewBox="0 0 26 10" width="26" height="10" aria-hidden="true"><line class="floor" x1="1" y1="5" x2="25" y2="5"/></svg>growth floor: a leak's trend ends above it</span>
</div>`

/** The holder as HTML: the variable, its kind, its site as a link, its package and rate. */
function holderHtml(s, cwd) {
  const h = s.holder
  if (!h) return ''
  const kind =
    { module: 'module-scope variable', closure: 'closure variable', global: 'global variable' }[h.scope] ?? 'variable'
  const at = h.line === undefined && h.capturedBy ? h.capturedBy : h
  const where = at.script ? `${h.package ? `${esc(h.package)} ` : ''}${siteLink(at.script, cwd, at.line)}` : ''
  const imported = h.importedAt ? `, required at ${siteLink(h.importedAt.script, cwd, h.importedAt.line)}` : ''
  const rate =
    typeof h.perJob === 'number' && h.perJob > 0 ? `, +${esc(h.perJob.toFixed(2))} ${esc(s.name)} per job` : ''
  return `held by <b><code>${esc(h.variable)}</code></b> (${esc(h.node)}), ${kind}${where ? ` ${h.line === undefined && h.capturedBy ? 'captured at' : 'at'} ${where}` : ''}${imported}${rate}`
}

function heapTable(diff, cwd) {
  const program = diff.suspects.filter((s) => !isInternalType(s.name))
  const internal = diff.suspects.filter((s) => isInternalType(s.name))
  const rows = program.map((s) => {
    const view = programPathText(s, { relativeTo: cwd })
    const full = s.retainerPath ? formatRetainerPath(s.retainerPath) : ''
    const held = holderHtml(s, cwd)
    return [
      `<code>${esc(s.name)}</code>`,
      esc(typeof s.perJob === 'number' ? s.perJob.toFixed(2) : ''),
      esc(s.countDelta),
      esc(formatBytes(s.retainedSizeDelta, { signed: true })),
      `${held ? `<div class="held">${held}</div>` : ''}${view ? `<div class="path"><small>${esc(view)}</small></div>` : ''}${
        full && full !== view ? `<details><summary>full path</summary><small>${esc(full)}</small></details>` : ''
      }`
    ]
  })
  const folded = internal.length ? `<p class="muted internal">${esc(internalSummary(internal))}</p>` : ''
  if (rows.length === 0)
    return `<p class="none">None of the program's types grew with the job count; only V8's own groups did.</p>${folded}`
  return (
    table(['type', 'per job', 'count Δ', 'retained Δ', 'held by, and the path from the program'], rows, 'heapdiff') +
    folded
  )
}

function section(result, index, cwd) {
  const v = result.verdict
  const open = result.leftOpen || []
  const diff = result.heapDiff
  const name = result.module.split(/[\\/]/).slice(-2).join('/')
  return `<section class="result ${v.leak ? 'leak' : 'bounded'}" data-module="${esc(name)}">
<h2><span class="badge">${v.leak ? 'LEAK' : 'BOUNDED'}</span> ${esc(name)}</h2>
<p class="headline">${esc(v.headline)}</p>
${topBlock(result, cwd)}
${v.reasons.length ? `<ul class="reasons">${v.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
<p class="meta">${result.measuredJobs ?? result.jobs} measured jobs${result.confirmed ? ` (${result.jobs}, then as many again to confirm the growth)` : ''} after ${result.warmup} warm-up jobs, concurrency ${result.concurrency}, ${(result.durationMs / 1000).toFixed(1)} s, Node ${esc(result.node)}. Memory sampled after forced GCs; trend = Theil–Sen slope of the post-GC floor over the measured jobs, confidence from the Mann–Kendall test.${result.jobErrors?.count ? ` ${result.jobErrors.count} jobs threw.` : ''}</p>
${LEGEND}
<div class="charts">${METRICS.map((m) => chart(result, m, index)).join('\n')}</div>
<h3>Resources left open per job</h3>
${
  result.leftOpenNote
    ? `<p class="note">${esc(result.leftOpenNote)}</p>`
    : open.length === 0
      ? '<p class="none">None: every timer, listener and handle the jobs created was gone when they ended.</p>'
      : table(
          ['per job', 'kind', 'type', 'created at'],
          open.map((r) => [esc(r.perJob.toFixed(2)), esc(r.kind ?? ''), esc(r.type ?? ''), createdAt(r, cwd)]),
          'open'
        )
}
<h3>Heap types growing per job</h3>
${
  !diff
    ? `<p class="note">${esc(result.heapDiffNote || 'not measured')}</p>`
    : diff.suspects.length === 0
      ? `<p class="none">None: no object type grew with the job count between the snapshots ${diff.jobsBetween} jobs apart.</p>`
      : `<p class="meta">Heap snapshots at job ${diff.atJobs ? diff.atJobs.join(' and job ') : '?'} (${diff.jobsBetween} jobs apart), diffed natively. Paths are shown from the program's side: Node's internal hops folded, leakguard's own objects avoided.</p>` +
        heapTable(diff, cwd)
}
</section>`
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;margin:0;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:0 0 2px} h2{font-size:18px;margin:0 0 6px} h3{font-size:15px;margin:18px 0 6px}
.sub{color:#5b6472;margin:0 0 16px}
.result{background:#fff;border:1px solid #dde1e7;border-left:6px solid #2e7d32;border-radius:6px;padding:14px 18px;margin:0 0 18px}
.result.leak{border-left-color:#c62828}
.badge{display:inline-block;font-size:12px;font-weight:700;color:#fff;background:#2e7d32;border-radius:4px;padding:1px 7px;vertical-align:2px}
.leak .badge{background:#c62828}
.headline{font-weight:600;margin:4px 0}
.reasons{margin:4px 0 8px;padding-left:20px} .meta,.note{color:#5b6472;font-size:12.5px} .none{color:#2e7d32}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:8px 18px}
.chart{margin:0} figcaption{font-size:13px} figcaption small{color:#5b6472}
.status{font-size:11px;font-weight:700;border-radius:3px;padding:0 5px}
.status.ok{background:#e3f3e4;color:#2e7d32} .status.bad{background:#fde4e4;color:#c62828} .status.info{background:#eef0f3;color:#5b6472}
svg{display:block;max-width:100%;height:auto;font-size:11px}
.warmup{fill:#eceff3} .warmup-label{fill:#8a93a0;font-size:10px}
.grid{stroke:#eef0f3} .axis,.axis-tick{stroke:#9aa3ae} .tick,.axis-label{fill:#5b6472}
.samples-line{fill:none;stroke:#90a4c8;stroke-width:1}
.samples circle{fill:#3560b0}
.trend{stroke:#2e7d32;stroke-width:2.5;stroke-dasharray:6 4} .trend.growing{stroke:#c62828}
.floor{stroke:#8a93a0;stroke-width:1.2;stroke-dasharray:2 3} .floor-label{fill:#8a93a0;font-size:10px}
.legend{display:flex;flex-wrap:wrap;gap:4px 18px;font-size:12px;color:#5b6472;margin:6px 0 2px} .legend .key{display:inline-flex;align-items:center;gap:5px} .legend svg{display:inline;overflow:visible}
.dot{fill:#3560b0}
.top-suspects{background:#fff8e6;border:1px solid #f0d9a0;border-radius:5px;padding:6px 12px 8px;margin:8px 0 10px} .top-suspects.none{background:#f1f8f1;border-color:#cfe5d0}
.top-suspects h3{margin:2px 0 4px} .type,.muted{color:#5b6472} a.site{color:#1f4fa3;font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.held{margin-bottom:2px} table.heapdiff td:last-child{width:62%} table.heapdiff td:first-child{white-space:normal} .path small,details small{color:#5b6472;word-break:break-word} summary{cursor:pointer;color:#5b6472;font-size:11.5px}
table{border-collapse:collapse;width:100%;font-size:12.5px} th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{color:#5b6472;font-weight:600} td:not(:last-child){white-space:nowrap} code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
`

/**
 * Renders check results (each with its `verdict` from lib/cli/verdict.js verdictOf)
 * as one self-contained HTML page.
 * @param {object[]} results
 */
function renderReport(results, { title = 'leakguard report', generatedAt = new Date(), cwd = process.cwd() } = {}) {
  // The raw facts travel with the page (not executed), for tools and diffs.
  const data = JSON.stringify(results).replace(/</g, '\\u003c')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
<p class="sub">Generated ${esc(generatedAt.toISOString())} by <code>leakguard check</code>. Does the job handler leak, and where?</p>
${results.map((r, i) => section(r, i, cwd)).join('\n')}
</main>
<script type="application/json" id="leakguard-data">${data}</script>
</body>
</html>
`
}

module.exports = { renderReport, niceTicks }
