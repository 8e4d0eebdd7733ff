// The HTML report, opened in a real browser: headless Chromium (Debian's
// `chromium`, installed by .ci/run) renders a report written by a real
// `leakguard check` run; a probe script measures the drawn SVG, and a
// screenshot goes to artifacts/report.png (git-ignored) for people to look at.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { fileURLToPath, pathToFileURL } from 'node:url'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = path.join(root, 'bin', 'leakguard.js')
const fixtures = path.join(root, '__test__', 'fixtures', 'cli')
const artifacts = path.join(root, 'artifacts')

let tmp
let reportFile
let result

function run(file, args) {
  return new Promise((resolve) => {
    execFile(file, args, { maxBuffer: 64 << 20, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr })
    })
  })
}

function findChromium() {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim()
    } catch {}
  }
  return null
}

function chromium(args) {
  const browser = findChromium()
  assert.ok(browser, "chromium is not installed (.ci/run installs Debian's chromium package)")
  const profile = fs.mkdtempSync(path.join(tmp, 'profile-'))
  return run(browser, [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    ...args
  ])
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-report-'))
  reportFile = path.join(tmp, 'report.html')
  const r = await run(process.execPath, [
    bin,
    'check',
    path.join(fixtures, 'leaky.cjs'),
    '--jobs',
    '200',
    '--warmup',
    '50',
    '--snapshot-jobs',
    '60',
    '--report',
    reportFile,
    '--json'
  ])
  assert.equal(r.code, 1, r.stderr)
  result = JSON.parse(r.stdout)
})

after(() => fs.rmSync(tmp, { recursive: true, force: true }))

test('the report is one self-contained file: no script, stylesheet, image or font fetched from anywhere', () => {
  const html = fs.readFileSync(reportFile, 'utf8')
  assert.doesNotMatch(html, /<(script|img|link|iframe)[^>]*\s(src|href)=/i)
  assert.doesNotMatch(html, /url\(|@import/i)
  // The only URL is the SVG namespace, which is a name, not a fetch.
  const urls = html.match(/https?:\/\/[^\s"'<)]+/g) ?? []
  assert.deepEqual([...new Set(urls)], ['http://www.w3.org/2000/svg'])
  // The raw facts travel with the page, and are the ones --json printed.
  const data = JSON.parse(html.match(/<script type="application\/json" id="leakguard-data">(.*?)<\/script>/s)[1])
  assert.equal(data[0].samples.length, result.samples.length)
  assert.equal(data[0].verdict.headline, result.verdict.headline)
})

test('Chromium renders each metric chart: samples, trend line inside the plot, warm-up shaded, and the tables', async () => {
  // A probe appended to a copy of the report measures what the browser laid out.
  const probe = `<script>
    const out = { charts: [] }
    try {
    for (const fig of document.querySelectorAll('figure.chart')) {
      const svg = fig.querySelector('svg').getBoundingClientRect()
      const dots = [...fig.querySelectorAll('g.samples circle')].map((c) => c.getBoundingClientRect())
      const trend = fig.querySelector('line.trend')
      const warm = fig.querySelector('rect.warmup')
      out.charts.push({
        metric: fig.dataset.metric,
        svg: { w: svg.width, h: svg.height },
        dots: dots.length,
        dotsInside: dots.every((d) => d.left >= svg.left && d.right <= svg.right && d.top >= svg.top && d.bottom <= svg.bottom),
        dotsSpan: dots.length ? Math.max(...dots.map((d) => d.right)) - Math.min(...dots.map((d) => d.left)) : 0,
        trend: trend && { len: trend.getTotalLength(), growing: trend.classList.contains('growing') },
        warmupWidth: warm ? warm.getBoundingClientRect().width : 0,
        plotWidth: fig.querySelector('line.axis').getBoundingClientRect().width
      })
    }
    out.openRows = [...document.querySelectorAll('table.open tbody tr')].map((tr) => tr.textContent)
    out.badge = document.querySelector('.badge').textContent
    // Top suspects: above the charts, one row per variable or resource, sites as links.
    const top = document.querySelector('.top-suspects')
    out.top = top && {
      aboveCharts: top.getBoundingClientRect().bottom <= document.querySelector('.charts').getBoundingClientRect().top,
      heading: top.querySelector('h3').textContent,
      rows: [...top.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((c) => c.textContent.trim())),
      links: [...top.querySelectorAll('a.site')].map((a) => ({ text: a.textContent, href: a.getAttribute('href') }))
    }
    const legend = document.querySelector('.legend')
    out.legend = legend && {
      keys: [...legend.querySelectorAll('.key')].map((k) => k.textContent.trim()),
      swatches: [...legend.querySelectorAll('.key')].map((k) => [...k.querySelectorAll('svg > *')].map((e) => e.getAttribute('class')).join(' ')),
      visible: legend.getBoundingClientRect().height > 0
    }
    // Honest axes: each verdict metric's growth floor is drawn inside its
    // plot, and a flat metric's samples stay a thin band under it.
    out.floors = [...document.querySelectorAll('figure.chart')].map((fig) => {
      const floor = fig.querySelector('line.floor')
      const dots = [...fig.querySelectorAll('g.samples circle')].map((c) => c.getBoundingClientRect().top)
      const axisY = [...fig.querySelectorAll('line.axis')].map((l) => l.getBoundingClientRect())
      const plotH = Math.max(...axisY.map((r) => r.height))
      const measured = dots.slice(Math.floor(dots.length / 3))
      return {
        metric: fig.dataset.metric,
        floor: Boolean(floor),
        floorInside: floor ? floor.getBoundingClientRect().top >= axisY[1].top - 1 && floor.getBoundingClientRect().top <= axisY[1].bottom + 1 : null,
        spreadShare: plotH ? (Math.max(...measured) - Math.min(...measured)) / plotH : 1
      }
    })
    out.heapRows = [...document.querySelectorAll('table.heapdiff tbody tr')].map((tr) => tr.textContent)
    } catch (err) {
      out.error = String(err && err.stack)
    }
    const pre = document.createElement('pre')
    pre.id = 'probe'
    pre.textContent = JSON.stringify(out)
    document.body.append(pre)
  </script>`
  const probed = path.join(tmp, 'probed.html')
  fs.writeFileSync(probed, fs.readFileSync(reportFile, 'utf8').replace('</body>', `${probe}</body>`))
  const r = await chromium(['--window-size=1280,1600', '--dump-dom', pathToFileURL(probed).href])
  assert.equal(r.code, 0, r.stderr)
  const m = r.stdout.match(/<pre id="probe">(.*?)<\/pre>/s)
  assert.ok(m, `no probe output in the dumped DOM:\n${r.stdout.slice(0, 2000)}`)
  const out = JSON.parse(m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'))
  assert.equal(out.error, undefined, 'the probe ran')
  assert.deepEqual(
    out.charts.map((c) => c.metric),
    ['heapUsed', 'external', 'arrayBuffers', 'rss', 'code']
  )
  for (const c of out.charts) {
    assert.ok(c.svg.w > 300 && c.svg.h > 100, `${c.metric} svg ${JSON.stringify(c.svg)}`)
    assert.equal(c.dots, result.samples.length, c.metric)
    assert.ok(c.dotsInside, `${c.metric}: a sample is drawn outside its chart`)
    // Samples span the x axis from job 0 to the last job.
    assert.ok(c.dotsSpan > 0.9 * c.plotWidth, `${c.metric} samples span ${c.dotsSpan} of ${c.plotWidth}`)
    assert.ok(c.trend && c.trend.len > 0.5 * c.plotWidth, `${c.metric} trend ${JSON.stringify(c.trend)}`)
    // 50 warm-up jobs of all those run: that share of the plot is shaded.
    const share = 50 / result.samples.at(-1).job
    assert.ok(
      Math.abs(c.warmupWidth / c.plotWidth - share) < 0.02,
      `${c.metric} warm-up ${c.warmupWidth}/${c.plotWidth} (expected ${share})`
    )
  }
  assert.equal(out.charts[0].trend.growing, true, 'the heapUsed trend is drawn as growing')
  assert.equal(out.charts[1].trend.growing, false, 'the external trend is drawn as bounded')
  assert.equal(out.badge, 'LEAK')
  assert.ok(
    out.openRows.some((row) => /Interval/.test(row) && /leaky\.cjs:8:3/.test(row)),
    JSON.stringify(out.openRows)
  )
  // "Top suspects", before any chart: the module-level `kept` array that
  // holds the Payloads (file:line as a file: link), then the interval left
  // open per job.
  assert.ok(out.top, 'a Top suspects block')
  assert.equal(out.top.heading, 'Top suspects')
  assert.ok(out.top.aboveCharts, 'Top suspects come before the charts')
  const kept = out.top.rows.find((r) => /^kept \(Array\)/.test(r[0]))
  assert.ok(kept, JSON.stringify(out.top.rows))
  assert.match(kept[0], /module-scope variable, holds Payload/)
  assert.match(kept[1], /leaky\.cjs:5$/)
  assert.equal(kept[2], 'your code')
  assert.match(kept[3], /^\+1\.00 Payload/)
  assert.ok(
    out.top.rows.some((r) => /^Interval \(timer\)/.test(r[0]) && /leaky\.cjs:8:3$/.test(r[1])),
    JSON.stringify(out.top.rows)
  )
  const link = out.top.links.find((a) => /leaky\.cjs:5$/.test(a.text))
  assert.equal(link.href, pathToFileURL(path.join(fixtures, 'leaky.cjs')).href)
  // The legend names the dots, the trend line, the warm-up band and the floor.
  assert.ok(out.legend?.visible, 'a legend')
  assert.equal(out.legend.keys.length, 4)
  assert.match(out.legend.keys[0], /memory after a forced GC/)
  assert.match(out.legend.keys[1], /trend/)
  assert.match(out.legend.keys[2], /warm-up/)
  assert.match(out.legend.keys[3], /floor/)
  assert.deepEqual(out.legend.swatches, ['dot', 'trend growing trend', 'warmup', 'floor'])
  // Honest axes: heapUsed, external and arrayBuffers draw the floor inside
  // the plot; external (flat) is a thin band, not a cliff.
  for (const f of out.floors.filter((x) => ['heapUsed', 'external', 'arrayBuffers'].includes(x.metric))) {
    assert.ok(f.floor && f.floorInside, JSON.stringify(f))
  }
  const external = out.floors.find((x) => x.metric === 'external')
  assert.ok(external.spreadShare < 0.2, `external samples span ${external.spreadShare} of the plot`)
  // The heap table: the program's types, each held by its variable; V8's
  // internal groups folded below it.
  assert.ok(
    out.heapRows.some(
      (row) => /^Payload/.test(row) && /held by kept \(Array\), module-scope variable at .*leaky\.cjs:5/.test(row)
    ),
    JSON.stringify(out.heapRows)
  )
  assert.ok(!out.heapRows.some((row) => /^\(|^system \//.test(row)), JSON.stringify(out.heapRows))
})

test('a screenshot of the report is written to artifacts/report.png', async () => {
  fs.mkdirSync(artifacts, { recursive: true })
  const png = path.join(artifacts, 'report.png')
  fs.rmSync(png, { force: true })
  const r = await chromium([`--screenshot=${png}`, '--window-size=1280,1600', pathToFileURL(reportFile).href])
  assert.equal(r.code, 0, r.stderr)
  const bytes = fs.readFileSync(png)
  assert.equal(bytes.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'a PNG')
  assert.equal(bytes.readUInt32BE(16), 1280)
  assert.equal(bytes.readUInt32BE(20), 1600)
  // A blank page compresses to a few KB; five charts and tables do not.
  assert.ok(bytes.length > 30_000, `${bytes.length} bytes`)
})
