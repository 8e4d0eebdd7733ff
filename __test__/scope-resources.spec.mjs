// autoTrack on resources that libraries open on the job's behalf, each kind
// real: an http.Agent's keep-alive socket and a driver's net.connect to a
// server on 127.0.0.1, a UDP socket, an fs.watch watcher, timers/promises,
// and timers an ES module imported by name. For each kind: reported with its
// creation site when the job leaves it open, not reported when the job
// closes it, and closed by leakguard under autoTrack: 'dispose'.
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { getEventListeners, once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import fs from 'node:fs'
import { tmpdir } from 'node:os'
import dgram from 'node:dgram'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tp from 'node:timers/promises'
import * as esmLib from './fixtures/esm-timers.mjs'

const require = createRequire(import.meta.url)
const { guard } = require('leakguard')
const autotrack = require('../lib/scope/autotrack.js')
const blame = require('./fixtures/blame/worker.js')

const here = path.dirname(fileURLToPath(import.meta.url))
const rel = (file) => path.relative(process.cwd(), file)
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** `file:LINE:COL` pattern of the line carrying `// SITE:tag` (or another marker) in `file`. */
function siteOf(file, mark) {
  const i = readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(`// ${mark}`))
  assert.ok(i >= 0, mark)
  return new RegExp(`^${esc(rel(file))}:${i + 1}:\\d+$`)
}
const thisFile = fileURLToPath(import.meta.url)
const esmFile = path.join(here, 'fixtures', 'esm-timers.mjs')
const blameWorker = path.join(here, 'fixtures', 'blame', 'worker.js')

const activeCount = (type) => process.getActiveResourcesInfo().filter((t) => t === type).length
const tick = () => new Promise((resolve) => setImmediate(resolve))

let httpServer
let httpPort
let tcpServer
let tcpPort
let udpServer
let udpPort
let tmp
before(async () => {
  httpServer = http.createServer((req, res) => res.end('ok'))
  await new Promise((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  httpPort = httpServer.address().port
  tcpServer = net.createServer((c) => c.on('error', () => {}))
  await new Promise((resolve) => tcpServer.listen(0, '127.0.0.1', resolve))
  tcpPort = tcpServer.address().port
  udpServer = dgram.createSocket('udp4')
  await new Promise((resolve) => udpServer.bind(0, '127.0.0.1', resolve))
  udpPort = udpServer.address().port
  tmp = mkdtempSync(path.join(tmpdir(), 'leakguard-resources-'))
})
after(async () => {
  blame.driver.end()
  httpServer.closeAllConnections()
  httpServer.close()
  tcpServer.close()
  udpServer.close()
  rmSync(tmp, { recursive: true, force: true })
  await autotrack.whenRestored()
})

/** Runs `fn` as one guarded job; resolves to { report, value }. */
async function runJob(fn, autoTrack = true) {
  let report
  const job = guard(fn, {
    name: 'resources',
    autoTrack,
    captureStacks: true,
    onLeftOpen: 'ignore',
    onReport: (r) => {
      report = r
    }
  })
  const value = await job()
  return { report: report ?? { leftOpen: [] }, value }
}

function getThrough(agent) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: httpPort, agent }, resolve).on('error', reject) // SITE:agent-get
  })
}

async function keepAliveRequest() {
  const agent = new http.Agent({ keepAlive: true })
  const res = await getThrough(agent)
  const socket = res.socket
  res.resume()
  await once(res, 'end')
  return { agent, socket }
}

/** Each kind: how a job leaks it, how a job closes it, what the report says, whether it is closed. */
const kinds = [
  {
    name: 'a keep-alive socket of an http.Agent the job created (a connection pool per job)',
    async leak() {
      return keepAliveRequest()
    },
    async clean() {
      const { agent } = await keepAliveRequest()
      agent.destroy()
    },
    expect: [{ kind: 'socket', type: 'Socket', site: siteOf(thisFile, 'SITE:agent-get') }],
    isClosed: ({ socket }) => socket.destroyed,
    release: ({ agent }) => agent.destroy()
  },
  {
    name: 'a socket a driver under node_modules opens with net.connect (blamed on the package)',
    async leak() {
      const socket = blame.connectOnly(tcpPort)
      await once(socket, 'connect')
      return { socket }
    },
    async clean() {
      const socket = blame.connectOnly(tcpPort)
      await once(socket, 'connect')
      blame.driver.end()
    },
    expect: [
      { kind: 'socket', type: 'Socket', site: siteOf(blameWorker, 'CALL:connect'), package: 'leaky-driver@1.4.2' }
    ],
    isClosed: ({ socket }) => socket.destroyed,
    release: () => blame.driver.end()
  },
  {
    name: 'a UDP socket (dgram), bound by its first send',
    async leak() {
      const socket = dgram.createSocket('udp4')
      await new Promise(
        (resolve, reject) => socket.send('ping', udpPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())) // SITE:dgram-send
      )
      return { socket }
    },
    async clean() {
      const socket = dgram.createSocket('udp4')
      await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve))
      socket.close()
    },
    expect: [{ kind: 'socket', type: 'dgram.Socket', site: siteOf(thisFile, 'SITE:dgram-send') }],
    isClosed: ({ socket }) => {
      try {
        socket.address()
        return false
      } catch (e) {
        return e.code === 'ERR_SOCKET_DGRAM_NOT_RUNNING'
      }
    },
    release: ({ socket }) => socket.close()
  },
  {
    name: 'an fs.watch watcher',
    async leak() {
      const watcher = fs.watch(tmp, () => {}) // SITE:fs-watch
      return { watcher }
    },
    async clean() {
      const watcher = fs.watch(tmp)
      watcher.close()
    },
    expect: [{ kind: 'watcher', type: 'FSWatcher', site: siteOf(thisFile, 'SITE:fs-watch') }],
    isClosed: ({ watcher }) => watcher._handle === null,
    release: ({ watcher }) => watcher.close()
  },
  {
    name: 'timers/promises: a pending setTimeout and a started setInterval iterator',
    async leak() {
      const ac = new AbortController()
      const pending = tp.setTimeout(60_000, 'late', { signal: ac.signal }) // SITE:tp-timeout
      pending.catch(() => {})
      const ticks = tp.setInterval(60_000) // SITE:tp-interval
      const first = ticks.next()
      return { ac, pending, ticks, first, timeouts: activeCount('Timeout') }
    },
    async clean() {
      await tp.setTimeout(1)
      let n = 0
      for await (const _ of tp.setInterval(1)) if (++n === 2) break
    },
    expect: [
      { kind: 'timer', type: 'Timeout', site: siteOf(thisFile, 'SITE:tp-timeout') },
      { kind: 'timer', type: 'Interval', site: siteOf(thisFile, 'SITE:tp-interval') }
    ],
    async isClosed({ ac, pending, first }) {
      // Cleared silently: nothing settles (no rejection for a job that is
      // gone), and the listener timers/promises put on the caller's signal is
      // removed with the timer it would have cancelled.
      const state = await Promise.race([
        pending.then(
          () => 'settled',
          () => 'settled'
        ),
        first.then(
          () => 'settled',
          () => 'settled'
        ),
        tick().then(() => 'pending')
      ])
      return state === 'pending' && getEventListeners(ac.signal, 'abort').length === 0
    },
    release: ({ ac, ticks }) => {
      ac.abort()
      ticks.return()
    }
  },
  {
    name: 'timers an ES module imported by name from node:timers and node:timers/promises',
    async leak() {
      const interval = esmLib.startHeartbeat()
      const timeout = esmLib.startRetry()
      const pending = esmLib.delayLater()
      const ticks = esmLib.pollForever()
      return { interval, timeout, pending, ticks }
    },
    async clean() {
      esmLib.stopHeartbeat(esmLib.startHeartbeat())
      await esmLib.pollTwice()
    },
    expect: [
      { kind: 'timer', type: 'Interval', site: siteOf(esmFile, 'SITE:esm-interval') },
      { kind: 'timer', type: 'Timeout', site: siteOf(esmFile, 'SITE:esm-timeout') },
      { kind: 'timer', type: 'Timeout', site: siteOf(esmFile, 'SITE:promise-timeout') },
      { kind: 'timer', type: 'Interval', site: siteOf(esmFile, 'SITE:promise-interval') }
    ],
    isClosed: ({ interval, timeout }) => interval._destroyed === true && timeout._destroyed === true,
    release: ({ interval, timeout, ticks }) => {
      clearInterval(interval)
      clearTimeout(timeout)
      ticks.return()
    }
  }
]

/** The report entries, sorted like `expect`, checked field by field. */
function assertReported(leftOpen, expect, disposed) {
  const sortKey = (r) => `${r.kind}:${r.type}:${r.site}`
  const got = [...leftOpen].sort((a, b) => sortKey(a).localeCompare(sortKey(b)))
  const want = [...expect].sort((a, b) => `${a.kind}:${a.type}`.localeCompare(`${b.kind}:${b.type}`))
  assert.equal(got.length, want.length, JSON.stringify(leftOpen, null, 1))
  for (const w of want) {
    const i = got.findIndex((g) => g.kind === w.kind && g.type === w.type && w.site.test(g.site ?? ''))
    assert.ok(i >= 0, `${w.kind} ${w.type} at ${w.site} in ${JSON.stringify(leftOpen, null, 1)}`)
    const [g] = got.splice(i, 1)
    assert.equal(g.package, w.package)
    assert.equal(g.disposed, disposed)
  }
}

for (const k of kinds) {
  describe(k.name, () => {
    test('reported with its site when the job leaves it open', async () => {
      const { report, value } = await runJob(k.leak)
      try {
        assertReported(report.leftOpen, k.expect, false)
        assert.equal(await k.isClosed(value), false, 'autoTrack: true only reports')
      } finally {
        await k.release(value)
      }
    })

    test('not reported when the job closes it', async () => {
      const { report } = await runJob(k.clean)
      assert.deepEqual(report.leftOpen, [])
    })

    test("closed by leakguard under autoTrack: 'dispose'", async () => {
      const { report, value } = await runJob(k.leak, 'dispose')
      assertReported(report.leftOpen, k.expect, true)
      await tick()
      assert.equal(await k.isClosed(value), true)
    })
  })
}

test('an http.Agent shared by the worker is still not blamed for the socket it keeps', async () => {
  const agent = new http.Agent({ keepAlive: true })
  const { report } = await runJob(async () => {
    const res = await getThrough(agent)
    res.resume()
    await once(res, 'end')
  })
  assert.equal(Object.values(agent.freeSockets).flat().length, 1, 'the socket is pooled')
  assert.deepEqual(report.leftOpen, [])
  agent.destroy()
})

test('a UDP socket the worker created is not blamed on the job whose send binds it', async () => {
  const statsd = dgram.createSocket('udp4') // a metrics client for the whole worker, bound lazily
  const { report } = await runJob(async () => {
    await new Promise((resolve, reject) =>
      statsd.send('jobs:1|c', udpPort, '127.0.0.1', (e) => (e ? reject(e) : resolve()))
    )
  }, 'dispose')
  assert.deepEqual(report.leftOpen, [])
  assert.equal(typeof statsd.address().port, 'number', 'still open')
  statsd.close()
})

test('global fetch() is not blamed for what its process-wide pool keeps, and still works', async () => {
  const timeouts = activeCount('Timeout')
  const { report, value } = await runJob(async () => {
    const res = await fetch(`http://127.0.0.1:${httpPort}/`)
    return res.text()
  })
  assert.equal(value, 'ok')
  assert.deepEqual(report.leftOpen, [])
  // Nothing of fetch's was disposed by a job either: its pool still works.
  const { report: again, value: second } = await runJob(
    async () => (await fetch(`http://127.0.0.1:${httpPort}/`)).text(),
    'dispose'
  )
  assert.equal(second, 'ok')
  assert.deepEqual(again.leftOpen, [])
  assert.ok(activeCount('Timeout') >= timeouts)
})

test('a timers/promises call with bad arguments rejects as it does without autoTrack', async () => {
  const plain = await tp.setTimeout(1, 'v', 'not options').catch((e) => e.code)
  const { value } = await runJob(() => tp.setTimeout(1, 'v', 'not options').catch((e) => e.code))
  assert.equal(value, plain)
  assert.equal(value, 'ERR_INVALID_ARG_TYPE')
})
