// Package blame: a resource that a package under node_modules leaves open is
// named `name@version`, beside the user's own call line, in the autoTrack
// report, the warning, scopeStats() and an assertMemoryBounded() message.
// The package is a real one on disk (fixtures/blame/node_modules/leaky-driver)
// and its sockets are real, to a server on 127.0.0.1.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { once } from 'node:events'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const { guard, scopeStats, resetScopeStats, assertMemoryBounded } = require('leakguard')
const autotrack = require('../lib/scope/autotrack.js')
const { blameStack, describeSite } = require('../lib/common/sites.js')

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.join(here, '..')
const blameDir = path.join(here, 'fixtures', 'blame')
const worker = require('./fixtures/blame/worker.js')
const driverFile = path.join(blameDir, 'node_modules', 'leaky-driver', 'index.js')
const DRIVER = 'leaky-driver@1.4.2'

/** Line of the line carrying `// MARK` in `file`. */
function lineOf(file, mark) {
  const i = readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(`// ${mark}`))
  assert.ok(i >= 0, mark)
  return i + 1
}
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const relWorker = path.relative(process.cwd(), path.join(blameDir, 'worker.js'))
const relDriver = path.relative(process.cwd(), driverFile)
const callSite = (mark) => new RegExp(`^${esc(relWorker)}:${lineOf(path.join(blameDir, 'worker.js'), mark)}:\\d+$`)
const driverSite = (mark) => new RegExp(`^${esc(relDriver)}:${lineOf(driverFile, mark)}:\\d+$`)

let server
let port
before(async () => {
  server = net.createServer((c) => c.on('error', () => {}))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = server.address().port
})
after(async () => {
  worker.driver.end()
  server.close()
  await autotrack.whenRestored()
})

test('the autoTrack report blames the package by name@version, beside the user call line', async () => {
  let report
  const job = guard(worker.handleJob, {
    name: 'blame-report',
    autoTrack: true,
    captureStacks: true,
    onLeftOpen: 'ignore',
    onReport: (r) => {
      report = r
    }
  })
  const socket = await job({ id: 1, port })
  await once(socket, 'connect')
  const byKind = Object.fromEntries(report.leftOpen.map((r) => [r.kind, r]))
  assert.deepEqual(Object.keys(byKind).sort(), ['listener', 'socket'])
  for (const [kind, mark] of [
    ['listener', 'DRIVER:listener'],
    ['socket', 'DRIVER:socket']
  ]) {
    const r = byKind[kind]
    assert.equal(r.package, DRIVER, kind)
    assert.match(r.site, callSite('CALL:query'), kind)
    assert.match(r.packageSite, driverSite(mark), kind)
  }
  assert.equal(byKind.listener.type, 'EventEmitter#reconnect')
  assert.match(describeSite(byKind.socket), new RegExp(`^left open by ${esc(DRIVER)}, called from ${esc(relWorker)}:`))
  worker.driver.end()
})

test("onLeftOpen: 'warn' and 'throw' name the package and the call line", async () => {
  const warnings = []
  const onWarning = (w) => {
    if (w.name === 'LeakGuardWarning' && w.message.includes('blame-warn')) warnings.push(w.message)
  }
  process.on('warning', onWarning)
  try {
    const job = guard(async (p) => worker.connectOnly(p), { name: 'blame-warn', autoTrack: true, captureStacks: true })
    const socket = await job(port)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(warnings.length, 1, warnings.join('\n'))
    const line = lineOf(path.join(blameDir, 'worker.js'), 'CALL:connect')
    assert.match(
      warnings[0],
      new RegExp(
        `^job "blame-warn" left open: socket Socket \\(left open by ${esc(DRIVER)}, called from ${esc(relWorker)}:${line}:\\d+\\)$`
      )
    )
    socket.destroy()
  } finally {
    process.off('warning', onWarning)
  }
  const strict = guard(async (p) => worker.connectOnly(p), {
    name: 'blame-throw',
    autoTrack: true,
    captureStacks: true,
    onLeftOpen: 'throw'
  })
  await assert.rejects(strict(port), (e) => {
    assert.match(
      e.message,
      new RegExp(`Socket \\(left open by ${esc(DRIVER)}, called from ${esc(relWorker)}:\\d+:\\d+\\)`)
    )
    return true
  })
  worker.driver.end()
})

test('scopeStats() counts per package and call line, and says so in its message', async () => {
  resetScopeStats()
  const job = guard(worker.handleJob, {
    name: 'blame-stats',
    autoTrack: true,
    captureStacks: true,
    onLeftOpen: 'ignore'
  })
  for (let i = 0; i < 5; i++) await job({ id: i, port })
  const st = scopeStats('blame-stats')
  assert.equal(st.jobs, 5)
  assert.equal(st.leftOpen.length, 2)
  for (const e of st.leftOpen) {
    assert.equal(e.count, 5)
    assert.equal(e.perJob, 1)
    assert.equal(e.package, DRIVER)
    assert.match(e.site, callSite('CALL:query'))
  }
  const line = lineOf(path.join(blameDir, 'worker.js'), 'CALL:query')
  for (const type of ['Socket', 'EventEmitter#reconnect']) {
    assert.ok(
      st.message.includes(
        `blame-stats leaves 1 ${type} open per job (left open by ${DRIVER}, called from ${relWorker}:${line}:`
      ),
      st.message
    )
  }
  worker.driver.end()
  resetScopeStats()
})

test('an assertMemoryBounded() failure names the package beside the call line', async () => {
  let n = 0
  await assert.rejects(
    assertMemoryBounded(() => worker.handleJob({ id: n++, port }), {
      iterations: 40,
      warmup: 5,
      samples: 20,
      failOn: []
    }),
    (e) => {
      assert.equal(e.name, 'AssertionError')
      const line = lineOf(path.join(blameDir, 'worker.js'), 'CALL:query')
      for (const type of ['Socket', 'EventEmitter#reconnect listener']) {
        assert.ok(e.message.includes(`1 ${type} (left open by ${DRIVER}, called from ${relWorker}:${line}:`), e.message)
      }
      const g = e.report.leftOpen.find((x) => x.kind === 'socket')
      assert.equal(g.package, DRIVER)
      assert.match(g.packageSite, driverSite('DRIVER:socket'))
      return true
    }
  )
  assert.ok(worker.driver.connections.length >= 45, 'one real socket per iteration')
  worker.driver.end()
})

test('stack reading: Node and leakguard frames skipped, innermost package blamed, scoped names kept', () => {
  const lib = path.join(root, 'lib', 'scope', 'guard.js')
  const b = blameStack(
    [
      'Error',
      '    at Socket.connect (node:net:1:2)',
      `    at run (${lib}:1:2)`,
      '    at Pool.connect (/srv/app/node_modules/@acme/pg-lite/lib/pool.js:10:3)',
      '    at Client.query (/srv/app/node_modules/orm/index.js:5:1)',
      '    at async handle (file:///srv/app/src/jobs/a%20b.mjs:42:7)'
    ].join('\n')
  )
  // No package.json there: the directory name stands in for name@version.
  assert.deepEqual(b, {
    site: '/srv/app/src/jobs/a b.mjs:42:7',
    package: '@acme/pg-lite',
    packageSite: '/srv/app/node_modules/@acme/pg-lite/lib/pool.js:10:3'
  })
  // Only a package and no user frame: the package frame is all there is.
  const only = blameStack(`Error\n    at connect (${driverFile}:18:3)\n    at node:internal/x:1:1`)
  assert.equal(only.site, undefined)
  assert.equal(only.package, DRIVER)
  assert.equal(describeSite(only), `left open by ${DRIVER} (${relDriver}:18:3)`)
  // The user's own code: no package.
  assert.deepEqual(blameStack(`Error\n    at main (${path.join(root, 'src.js')}:1:2)`), {
    site: 'src.js:1:2',
    package: undefined,
    packageSite: undefined
  })
  assert.equal(blameStack('Error\n    at node:internal/timers:1:1\n    at wasm://wasm/1:2'), undefined)
})

test('installed under node_modules, leakguard still reports the sites of its own examples', () => {
  // A real install layout: leakguard copied into app/node_modules/leakguard,
  // its demo worker run from there by a script of the app.
  const app = mkdtempSync(path.join(tmpdir(), 'leakguard-installed-'))
  try {
    const dest = path.join(app, 'node_modules', 'leakguard')
    mkdirSync(dest, { recursive: true })
    const addon = readdirSync(root).filter((f) => f.endsWith('.node'))
    for (const f of ['package.json', 'index.js', 'binding.js', ...addon]) {
      cpSync(path.join(root, f), path.join(dest, f))
    }
    for (const d of ['lib', 'examples']) cpSync(path.join(root, d), path.join(dest, d), { recursive: true })
    writeFileSync(
      path.join(app, 'run.js'),
      `const path = require('node:path')
const { guard } = require('leakguard')
const handleJob = require(path.join(path.dirname(require.resolve('leakguard')), 'examples', 'leaky-worker.js'))
const job = guard(handleJob, { autoTrack: 'dispose', captureStacks: true, onLeftOpen: 'ignore', onReport: (r) => {
  console.log(JSON.stringify(r.leftOpen))
} })
job(handleJob.makeJob(1))
`
    )
    const r = spawnSync(process.execPath, ['run.js'], { cwd: app, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const leftOpen = JSON.parse(r.stdout)
    const example = path.join(root, 'examples', 'leaky-worker.js')
    const sites = leftOpen.map((x) => `${x.kind}:${x.site}:${x.package ?? ''}`).sort()
    const at = (mark) => `node_modules/leakguard/examples/leaky-worker.js:${lineOf(example, mark)}`
    assert.equal(sites.length, 2, sites.join('\n'))
    assert.ok(sites[0].startsWith(`listener:${at('2.')}:`), sites[0])
    assert.ok(sites[1].startsWith(`timer:${at('3.')}:`), sites[1])
    assert.ok(
      leftOpen.every((x) => x.package === undefined),
      'leakguard is not blamed for its own examples'
    )
  } finally {
    rmSync(app, { recursive: true, force: true })
  }
})
