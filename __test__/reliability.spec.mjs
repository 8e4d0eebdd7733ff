// The public API under hostile input and hostile timing: one test per defect
// of issue #18 that is not the CLI's (those are in reliability-cli.spec.mjs).
// Real addon, real child processes, real FIFOs, the real Jest.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  BoundedCache,
  codes,
  diffHeapSnapshotsSync,
  recycle,
  summarizeHeapSnapshot,
  summarizeHeapSnapshotSync,
  writeHeapSnapshot
} from 'leakguard'

const require = createRequire(import.meta.url)
const root = fileURLToPath(new URL('..', import.meta.url))

function privateTmp(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-reliability-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Runs `script` in a fresh Node (leakguard is `lg`); its status, output, and how long it took. */
function node(script, { timeout = 60_000 } = {}) {
  const started = Date.now()
  const r = spawnSync(process.execPath, ['-e', `const lg = require(${JSON.stringify(root)});\n${script}`], {
    encoding: 'utf8',
    timeout
  })
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started }
}

// ---- defect 5: gracefulExit exits with exitCode, also when the drain hangs

test('gracefulExit with a close() that never settles exits with exitCode once exitTimeoutMs is up', () => {
  const r = node(`
    const started = Date.now()
    process.on('exit', (code) => console.log(JSON.stringify({ code, ms: Date.now() - started })))
    lg.recycle({ maxJobs: 1, exitTimeoutMs: 500, exitCode: 9 }).gracefulExit({ close () { return new Promise(() => {}) } })
  `)
  assert.equal(r.status, 9, r.stderr)
  const out = JSON.parse(r.stdout.trim())
  assert.equal(out.code, 9)
  // A timer never fires early: the exit waited for the timeout, not for an empty loop.
  assert.ok(out.ms >= 490, `exited after ${out.ms} ms`)
})

test('exit: true with a job that never settles exits with exitCode at the timeout', () => {
  const r = node(`
    const net = lg.recycle({ maxJobs: 1, exit: true, exitTimeoutMs: 300, exitCode: 9 })
    const hung = lg.guard(() => new Promise(() => {}), { recycle: net })
    const quick = lg.guard(async () => 'done', { recycle: net })
    hung()
    quick().then((v) => console.log('quick ' + v))
  `)
  assert.equal(r.status, 9, r.stderr)
  assert.match(r.stdout, /quick done/)
})

test('gracefulExit whose close() rejects still exits with exitCode, with a warning saying why', () => {
  const r = node(`
    lg.recycle({ maxJobs: 1, exitTimeoutMs: 60000, exitCode: 5 }).gracefulExit({
      close () { return Promise.reject(new Error('redis is down')) }
    })
    setInterval(() => {}, 1000) // a busy worker: only the exit ends it
  `)
  assert.equal(r.status, 5, r.stderr)
  assert.match(
    r.stderr,
    /LeakGuardWarning: leakguard: closing the worker before the recycle exit failed \(redis is down\); exiting anyway/
  )
})

test('a healthy gracefulExit is not kept alive by the timeout: it exits when the drain ends', () => {
  const r = node(`
    const started = Date.now()
    process.on('exit', (code) => console.log(JSON.stringify({ code, ms: Date.now() - started })))
    lg.recycle({ maxJobs: 1, exitTimeoutMs: 60000, exitCode: 7 }).gracefulExit({ close () { return Promise.resolve() } })
  `)
  assert.equal(r.status, 7, r.stderr)
  assert.ok(JSON.parse(r.stdout.trim()).ms < 30_000, r.stdout)
})

// ---- defect 10: jobEnded() validates its report

test('jobEnded() refuses a malformed report with a coded TypeError, and counts nothing for it', () => {
  const net = recycle({ maxJobs: 10 })
  try {
    assert.throws(() => net.jobEnded({ leftOpen: [null] }), {
      name: 'TypeError',
      code: codes.INVALID_ARGUMENT,
      message: 'The "report.leftOpen[0]" argument must be an object { kind, type, site? } (received null)'
    })
    assert.throws(() => net.jobEnded({ leftOpen: 'x' }), { code: codes.INVALID_ARGUMENT, message: /report\.leftOpen/ })
    assert.throws(() => net.jobEnded(5), { code: codes.INVALID_ARGUMENT, message: /"report" argument/ })
    assert.throws(() => net.jobEnded({ leftOpen: [{ kind: Symbol('k'), type: 'T' }] }), {
      code: codes.INVALID_ARGUMENT,
      message: /report\.leftOpen\[0\]\.kind/
    })
    assert.equal(net.jobs, 0)
    assert.equal(net.jobEnded({ name: 'j', leftOpen: [{ kind: 'timer', type: 'Timeout', site: 'a.js:1:1' }] }), null)
    assert.equal(net.jobEnded(), null)
    assert.equal(net.jobs, 2)
  } finally {
    net.stop()
  }
})

// ---- defect 10: messages of bounded length

test('long received values and paths are clipped in error messages', async () => {
  const huge = 'x'.repeat(16 << 20)
  const cases = [
    () => recycle({ maxJobs: huge }),
    () => recycle({ [huge]: 1 }),
    () => new BoundedCache({ max: huge }),
    () => recycle({ maxJobs: { [huge]: 1 } }),
    () => recycle({ maxJobs: 10n ** 100000n }),
    () => recycle({ maxJobs: Object.defineProperty(() => {}, 'name', { value: huge }) }),
    () => writeHeapSnapshot(path.join(os.tmpdir(), huge, 'x.heapsnapshot')),
    () => summarizeHeapSnapshotSync(path.join(os.tmpdir(), huge)),
    () => diffHeapSnapshotsSync(path.join(os.tmpdir(), huge), path.join(os.tmpdir(), huge))
  ]
  for (const make of cases) {
    let err
    try {
      make()
    } catch (e) {
      err = e
    }
    assert.ok(err, String(make))
    assert.match(err.code, /^ERR_LEAKGUARD_/, String(make))
    assert.ok(err.message.length < 1000, `${String(make)}: ${err.message.length} characters`)
  }
  await assert.rejects(summarizeHeapSnapshot(path.join(os.tmpdir(), huge)), (err) => {
    assert.equal(err.code, codes.IO)
    assert.ok(err.message.length < 1000, `${err.message.length} characters`)
    assert.match(err.message, /cannot read heap snapshot \/.*xxx…xxx/)
    return true
  })
  // A Proxy whose traps throw is described, never a crash while reporting.
  const hostile = new Proxy(
    {},
    {
      get() {
        throw new Error('trap')
      },
      ownKeys() {
        throw new Error('trap')
      }
    }
  )
  assert.throws(() => recycle({ maxJobs: 1, exit: hostile }), { code: codes.INVALID_OPTION })
})

// ---- defect 3: repeated snapshot sections, panics

const NODE_TYPES = [
  'hidden',
  'array',
  'string',
  'object',
  'code',
  'closure',
  'regexp',
  'number',
  'native',
  'synthetic',
  'concatenated string',
  'sliced string',
  'symbol',
  'bigint',
  'object shape'
]
const EDGE_TYPES = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak']

/** A V8 snapshot header: its meta (V8's own field lists) and counts. */
function header({ nodeTypes = NODE_TYPES, edgeTypes = EDGE_TYPES, nodes = 2, edges = 1 } = {}) {
  return JSON.stringify({
    meta: {
      node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
      node_types: [nodeTypes, 'string', 'number', 'number', 'number', 'number', 'number'],
      edge_fields: ['type', 'name_or_index', 'to_node'],
      edge_types: [edgeTypes, 'string_or_number', 'node']
    },
    node_count: nodes,
    edge_count: edges
  })
}
const STRINGS = '"strings":["<dummy>","","A"]'
// The root (synthetic) holds one object "A" of 16 bytes through element 1.
const VALID = `{"snapshot":${header()},\n"nodes":[9,1,1,0,1,0,0,3,2,3,16,0,0,0],\n"edges":[1,1,7],\n${STRINGS}}`
// Edges read with one header, nodes with another: each reached a panic.
const REPEATED = {
  'fewer nodes in the second header': `{"snapshot":${header()},"edges":[1,1,7],"snapshot":${header({ nodes: 1 })},"nodes":[9,1,1,0,1,0,0],${STRINGS}}`,
  'more edge types in the first header': `{"snapshot":${header({ edgeTypes: [...EDGE_TYPES, 'x', 'y', 'z'] })},"edges":[9,1,7],"snapshot":${header()},"nodes":[9,1,1,0,1,0,0,3,2,3,16,0,0,0],${STRINGS}}`,
  'more node types in the second header': `{"snapshot":${header()},"edges":[1,1,7],"snapshot":${header({ nodeTypes: [...NODE_TYPES, ...'abcdefghij'] })},"nodes":[9,1,1,0,1,0,0,19,2,3,16,0,0,0],${STRINGS}}`,
  'a repeated "nodes"': `{"snapshot":${header()},"nodes":[9,1,1,0,1,0,0,3,2,3,16,0,0,0],"nodes":[9,1,1,0,1,0,0,3,2,3,16,0,0,0],"edges":[1,1,7],${STRINGS}}`,
  'a repeated "strings"': `{"snapshot":${header()},"nodes":[9,1,1,0,1,0,0,3,2,3,16,0,0,0],"edges":[1,1,7],${STRINGS},${STRINGS}}`
}

test('a repeated snapshot section is ERR_LEAKGUARD_MALFORMED_SNAPSHOT with an offset, sync and async, and nothing is printed', (t) => {
  const dir = privateTmp(t)
  const valid = path.join(dir, 'valid.heapsnapshot')
  fs.writeFileSync(valid, VALID)
  const files = Object.entries(REPEATED).map(([what, text], k) => {
    const file = path.join(dir, `repeated-${k}.heapsnapshot`)
    fs.writeFileSync(file, text)
    return [what, file]
  })
  // In a child process, to see its stderr: a panic used to print there.
  const r = node(`
    const out = []
    const report = (what, how, fn) => fn().then(
      () => out.push({ what, how, ok: true }),
      (e) => out.push({ what, how, code: e.code, message: e.message })
    )
    const files = ${JSON.stringify(files)}
    ;(async () => {
      const sum = lg.summarizeHeapSnapshotSync(${JSON.stringify(valid)})
      out.push({ what: 'valid', groups: sum.groups.map((g) => g.name) })
      for (const [what, file] of files) {
        await report(what, 'sync', async () => lg.summarizeHeapSnapshotSync(file))
        await report(what, 'async', () => lg.summarizeHeapSnapshot(file))
        await report(what, 'diff', () => lg.diffHeapSnapshots(${JSON.stringify(valid)}, file))
      }
      console.log(JSON.stringify(out))
    })()
  `)
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '')
  const [valid0, ...results] = JSON.parse(r.stdout)
  assert.deepEqual(valid0.groups, ['A'])
  assert.equal(results.length, files.length * 3)
  for (const res of results) {
    assert.equal(res.code, codes.MALFORMED_SNAPSHOT, JSON.stringify(res))
    assert.match(
      res.message,
      /a second "(snapshot|nodes|strings)" section \(each section appears once\) \(at byte \d+\)$/
    )
  }
})

test('a native panic keeps its message and location in the Sync and the async variant, and prints nothing', () => {
  const r = node(`
    const native = require(${JSON.stringify(path.join(root, 'lib/common/native.js'))})
    const { unwrap, runAsync } = require(${JSON.stringify(path.join(root, 'lib/snapshot/snapshot.js'))})
    const out = {}
    try { native.__panicForTest('plain boom') } catch (e) { out.plain = [e.code, e.message] }
    try { unwrap(native.__snapshotPanicForTestSync('sync boom')) } catch (e) { out.sync = [e.code, e.message] }
    runAsync((token) => native.__snapshotPanicForTest('async boom', token)).catch((e) => {
      out.async = [e.code, e.message]
      console.log(JSON.stringify(out))
    })
  `)
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '', 'a caught panic is never printed on the host stderr')
  const out = JSON.parse(r.stdout)
  for (const [variant, word] of [
    ['plain', 'plain boom'],
    ['sync', 'sync boom'],
    ['async', 'async boom']
  ]) {
    const [code, message] = out[variant]
    assert.equal(code, codes.PANIC, variant)
    assert.match(message, new RegExp(`panicked: ${word} at src/[a-z/_]+\\.rs:\\d+:\\d+ \\(this is a bug in leakguard`))
  }
})

// ---- defect 8: abort while the native read waits

test('an abort stops an analysis waiting on a FIFO with no writer: ABORTED, and the process exits on its own', (t) => {
  const dir = privateTmp(t)
  const fifo = path.join(dir, 'pipe.heapsnapshot')
  execFileSync('mkfifo', [fifo])
  const r = node(
    `
    const started = Date.now()
    const signal = AbortSignal.timeout(300)
    const show = (e) => [e.code, e.cause === signal.reason, Date.now() - started]
    Promise.allSettled([
      lg.diffHeapSnapshots(${JSON.stringify(fifo)}, ${JSON.stringify(fifo)}, { signal }),
      lg.summarizeHeapSnapshot(${JSON.stringify(fifo)}, { signal })
    ]).then((rs) => console.log(JSON.stringify(rs.map((x) => show(x.reason)))))
  `,
    { timeout: 60_000 }
  )
  // Before: the read blocked a libuv thread for ever, so the process never exited.
  assert.equal(r.signal, null, 'the process exited by itself')
  assert.equal(r.status, 0, r.stderr)
  for (const [code, sameCause] of JSON.parse(r.stdout)) {
    assert.equal(code, codes.ABORTED)
    assert.equal(sameCause, true)
  }
})

test('a snapshot streamed through a FIFO is read as it arrives (its size is not known in advance)', async (t) => {
  const dir = privateTmp(t)
  const fifo = path.join(dir, 'pipe.heapsnapshot')
  execFileSync('mkfifo', [fifo])
  const reading = summarizeHeapSnapshot(fifo)
  // The writer comes after the reader started waiting.
  await new Promise((resolve) => setTimeout(resolve, 200))
  fs.writeFileSync(fifo, VALID)
  const summary = await reading
  assert.deepEqual(
    summary.groups.map((g) => [g.name, g.count, g.selfSize]),
    [['A', 1, 16]]
  )
})

// ---- defect 11: no open handle in the tool users run

test('jest --detectOpenHandles reports no open handle after loading leakguard and using it', async () => {
  const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js')
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' }
  delete env.NODE_TEST_CONTEXT
  const { code, output } = await new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        jest,
        '--config',
        '__test__/runners/jest.config.js',
        '--testMatch',
        '<rootDir>/open-handles.test.js',
        '--detectOpenHandles',
        '--ci'
      ],
      { cwd: root, env, timeout: 150_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, output: stdout + stderr })
    )
  })
  assert.equal(code, 0, output)
  assert.match(output, /Tests:\s+1 passed, 1 total/)
  assert.doesNotMatch(output, /Jest has detected the following \d+ open handle/, output)
  assert.doesNotMatch(output, /CustomGC/, output)
})

// The loader at the heart of it: required here too, so that a broken load fails this file early.
test('the addon loads', () => {
  assert.equal(typeof require('../lib/common/native.js').errorCodes, 'function')
})
