// Heap snapshots: writeHeapSnapshot, and the native summary/diff checked
// against memlab and against a worker that leaks one Order per job.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import path from 'node:path'
import { runInNewContext } from 'node:vm'

const require = createRequire(import.meta.url)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const {
  writeHeapSnapshot,
  diffHeapSnapshots,
  diffHeapSnapshotsSync,
  summarizeHeapSnapshot,
  summarizeHeapSnapshotSync,
  codes
} = require('leakguard')

const dir = mkdtempSync(path.join(tmpdir(), 'leakguard-snapshot-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
let worker // { before, after, leaked }

before(() => {
  // One child process: 1000 jobs, each leaking one Order; snapshots at jobs 100 and 1000.
  const out = execFileSync(
    process.execPath,
    [path.join(root, '__test__/fixtures/leaky-worker.mjs'), dir, '100', '1000'],
    {
      encoding: 'utf8',
      timeout: 60_000
    }
  )
  worker = JSON.parse(out)
})

test('writeHeapSnapshot collects garbage, writes the file and returns its path', () => {
  const file = path.join(dir, 'self.heapsnapshot')
  globalThis.__leakguardProbe = Array.from({ length: 3 }, () => new (class SnapshotProbe {})())
  // Unreachable garbage: collected before writing, so absent from the snapshot.
  ;(() => {
    for (let i = 0; i < 50; i++) new (class GarbageProbe {})()
  })()
  assert.equal(writeHeapSnapshot(file), file)
  assert.ok(statSync(file).size > 100_000)
  const s = summarizeHeapSnapshotSync(file, { top: 10_000 })
  assert.equal(s.groups.find((g) => g.name === 'SnapshotProbe')?.count, 3)
  assert.equal(
    s.groups.find((g) => g.name === 'GarbageProbe'),
    undefined
  )
  delete globalThis.__leakguardProbe
  assert.equal(writeHeapSnapshot(pathToFileURL(file)), file, 'file: URLs are accepted')
  // Forcing GC does not leave --expose-gc on for contexts created later.
  assert.equal(runInNewContext('typeof gc'), 'undefined')
})

test('writeHeapSnapshot: bad paths are coded errors', () => {
  assert.throws(() => writeHeapSnapshot(42), {
    name: 'TypeError',
    code: codes.INVALID_ARGUMENT,
    message: 'The "path" argument must be a string or file: URL (received 42)'
  })
  assert.throws(() => writeHeapSnapshot(''), { name: 'RangeError', code: codes.INVALID_ARGUMENT })
  assert.throws(() => writeHeapSnapshot(path.join(dir, 'no/such/dir/x.heapsnapshot')), {
    code: codes.IO,
    message: /cannot write heap snapshot/
  })
})

test('a worker leaking one Order per job: Order is the top suspect, ~1 per job, retained through the array', async () => {
  const diff = await diffHeapSnapshots(worker.before, worker.after, { jobsBetween: 900, top: 10 })
  const top = diff.suspects[0]
  assert.equal(top.name, 'Order')
  assert.equal(top.countDelta, 900)
  assert.ok(Math.abs(top.perJob - 1) < 0.01, `perJob ${top.perJob}`)
  assert.ok(top.retainedSizeDelta >= top.selfSizeDelta && top.selfSizeDelta > 0)
  // The path goes through the module-level `leaks` array to an Order created between the snapshots.
  assert.match(top.retainerPath, / → leaks \(Array\) → \[(\d+)\] \(Order\)$/)
  const index = Number(top.retainerPath.match(/\[(\d+)\] \(Order\)$/)[1])
  assert.ok(index >= 100, `sample index ${index} should be an Order created after job 100`)
  assert.equal(top.retainers.at(-1).node, 'Order')
  assert.equal(top.retainers.at(-1).id, top.sampleId)
  assert.equal(top.retainers.at(-2).edge, 'leaks')
  // It starts at one of the program's roots (the module record, the global
  // object), not at V8's stack or handles, though those are closer to the root.
  assert.doesNotMatch(top.retainerPath, /\((GC roots|Stack roots|Handle scope|Global handles)\)/)
  // As the program sees it: the module-scope variable `leaks` of the ESM
  // worker (its file and declaration line: the script name is a file: URL
  // in the snapshot, shown as a path), Node's hops folded.
  const fixture = path.join(root, '__test__/fixtures/leaky-worker.mjs')
  assert.deepEqual(
    { ...top.holder, count: undefined, perJob: undefined },
    {
      variable: 'leaks',
      node: 'Array',
      scope: 'module',
      script: fixture,
      line: 33,
      column: 7,
      step: top.retainers.length - 2,
      user: true,
      count: undefined,
      perJob: undefined
    }
  )
  assert.equal(top.holder.count, 900)
  assert.equal(top.holder.perJob, 1)
  assert.match(top.programPath, /^… \d+ internal hops … → /)
  assert.ok(top.programPath.includes(` → ${fixture}:33 leaks (Array) → [`), top.programPath)
  assert.ok(top.programPath.endsWith('] (Order)'), top.programPath)
  assert.equal(top.programSteps.at(-2).variable, 'module')
  assert.equal(top.retainers.at(-2).script, pathToFileURL(fixture).href, 'steps keep the name the snapshot gives')
  assert.match(
    top.message,
    /^Order: \+900 instances \(1\.00 per job\), \+[\d.]+ KB self, \+[\d.]+ KB retained; held by leaks \(Array\), a module-scope variable of \/.*leaky-worker\.mjs:33; path: … \d+ internal hops … → .*leaky-worker\.mjs:33 leaks \(Array\) → \[\d+\] \(Order\)$/
  )
  assert.match(diff.message, /over 900 jobs; \d+ groups grow: Order \(1\.00\/job\), /)
  for (const consequence of ['OrderLine', 'Array'])
    assert.ok(
      diff.suspects.some((s) => s.name === consequence),
      consequence
    )
  // The bounded Map cache is not a suspect, and the groups carry per-job figures.
  assert.equal(
    diff.suspects.find((s) => s.name === 'CacheEntry'),
    undefined
  )
  const order = diff.groups.find((g) => g.name === 'Order')
  assert.equal(order.countAfter - order.countBefore, 900)
  assert.equal(order.perJob, 1)
  assert.ok(diff.groups.length <= 10 && diff.suspects.length <= 10)
  // Without jobsBetween: the same suspects, no perJob.
  const plain = diffHeapSnapshotsSync(worker.before, worker.after)
  assert.equal(plain.suspects[0].name, 'Order')
  assert.equal(plain.suspects[0].perJob, undefined)
  assert.equal(plain.jobsBetween, undefined)
  // The Sync twin computes the same thing.
  assert.deepEqual(diffHeapSnapshotsSync(worker.before, worker.after, { jobsBetween: 900, top: 10 }), diff)
})

test('per-class counts, self and retained sizes equal memlab on a generated snapshot', () => {
  const reference = JSON.parse(
    execFileSync(process.execPath, [path.join(root, '__test__/fixtures/memlab-classes.cjs'), worker.after], {
      encoding: 'utf8',
      timeout: 90_000,
      stdio: ['ignore', 'pipe', 'ignore']
    })
  )
  const ours = new Map(summarizeHeapSnapshotSync(worker.after, { top: 10_000 }).groups.map((g) => [g.name, g]))
  let compared = 0
  for (const [name, ref] of Object.entries(reference)) {
    // memlab renames detached native objects "Detached <name>"; V8's name is kept here (see README).
    if (name.startsWith('Detached ')) continue
    assert.deepEqual({ name, ...ours.get(name) }, { name, ...ref }, `class ${name}`)
    compared++
  }
  assert.ok(compared > 50, `compared only ${compared} classes`)
  assert.equal(reference.Order.count, 1000)
})

test('summarizeHeapSnapshot groups like DevTools and sorts by retained size', async () => {
  const s = await summarizeHeapSnapshot(worker.after, { top: 5 })
  assert.equal(s.groups.length, 5)
  for (let i = 1; i < s.groups.length; i++) assert.ok(s.groups[i - 1].retainedSize >= s.groups[i].retainedSize)
  const all = summarizeHeapSnapshotSync(worker.after, { top: 10_000 })
  const names = new Set(all.groups.map((g) => g.name))
  for (const n of ['(system)', '(compiled code)', 'Function', '(string)', 'Order', 'OrderLine'])
    assert.ok(names.has(n), `no group ${n}`)
  assert.equal(
    all.groups.reduce((a, g) => a + g.selfSize, 0),
    all.totalSize,
    'every node but the synthetic root (size 0) is in one group'
  )
  assert.ok(all.nodeCount > 10_000 && all.edgeCount > all.nodeCount)
})

function expectMalformed(file, fragment) {
  return async () => {
    const check = (err) => {
      assert.equal(err.code, codes.MALFORMED_SNAPSHOT)
      assert.match(err.message, /not a valid V8 heap snapshot: .*\(at byte \d+\)$/)
      if (fragment) assert.ok(err.message.includes(fragment), err.message)
      return true
    }
    await assert.rejects(diffHeapSnapshots(worker.before, file), check)
    await assert.rejects(summarizeHeapSnapshot(file), check)
    assert.throws(() => summarizeHeapSnapshotSync(file), check)
  }
}

const bad = (name, content) => {
  const file = path.join(dir, name)
  writeFileSync(file, content)
  return file
}

test('truncated snapshot → ERR_LEAKGUARD_MALFORMED_SNAPSHOT', async () => {
  const whole = readFileSync(worker.before)
  for (const cut of [0.3, 0.95]) {
    await expectMalformed(bad(`cut-${cut}.heapsnapshot`, whole.subarray(0, Math.floor(whole.length * cut))))()
  }
})
test('garbage bytes → ERR_LEAKGUARD_MALFORMED_SNAPSHOT', async () => {
  const bytes = Buffer.alloc(4096)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) % 251
  await expectMalformed(bad('garbage.heapsnapshot', bytes), 'expected a JSON object')()
})
test('wrong JSON shape → ERR_LEAKGUARD_MALFORMED_SNAPSHOT', async () => {
  await expectMalformed(
    bad('package.heapsnapshot', readFileSync(path.join(root, 'package.json'))),
    'no "snapshot" header'
  )()
  await expectMalformed(bad('array.heapsnapshot', '[1, 2, 3]'), 'expected a JSON object')()
  await expectMalformed(
    bad(
      'hostile.heapsnapshot',
      '{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[["object"]],"edge_fields":["type","name_or_index","to_node"],"edge_types":[["property"]]},"node_count":1000000000000,"edge_count":0},"nodes":['
    ),
    'more than a'
  )()
})
test(
  'empty file → ERR_LEAKGUARD_MALFORMED_SNAPSHOT',
  expectMalformed(bad('empty.heapsnapshot', ''), 'the file is empty')
)

test('missing files and directories → ERR_LEAKGUARD_IO naming the path', async () => {
  const missing = path.join(dir, 'missing.heapsnapshot')
  await assert.rejects(diffHeapSnapshots(missing, worker.after), {
    code: codes.IO,
    message: new RegExp(`cannot read heap snapshot ${missing}`)
  })
  assert.throws(() => diffHeapSnapshotsSync(worker.before, dir), { code: codes.IO, message: /is a directory/ })
})

test('bad arguments and options reject with coded errors (async functions never throw)', async () => {
  const p = diffHeapSnapshots(1, worker.after)
  assert.ok(p instanceof Promise)
  await assert.rejects(p, {
    name: 'TypeError',
    code: codes.INVALID_ARGUMENT,
    message: 'The "before" argument must be a string or file: URL (received 1)'
  })
  await assert.rejects(diffHeapSnapshots(worker.before, worker.after, { jobsBetween: -1 }), {
    name: 'RangeError',
    code: codes.INVALID_OPTION,
    message: 'options.jobsBetween must be a number > 0 and <= 9007199254740991 (received -1)'
  })
  await assert.rejects(diffHeapSnapshots(worker.before, worker.after, { top: 0 }), {
    name: 'RangeError',
    code: codes.INVALID_OPTION,
    message: 'options.top must be an integer in [1, 10000] (received 0)'
  })
  await assert.rejects(diffHeapSnapshots(worker.before, worker.after, { jobs: 9 }), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: /options\.jobs is not a known option/
  })
  await assert.rejects(diffHeapSnapshots(worker.before, worker.after, { signal: {} }), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: 'options.signal must be an AbortSignal (received {})'
  })
  await assert.rejects(summarizeHeapSnapshot(worker.after, null), { name: 'TypeError', code: codes.INVALID_OPTION })
  assert.throws(() => diffHeapSnapshotsSync(worker.before, worker.after, { signal: AbortSignal.abort() }), {
    code: codes.INVALID_OPTION
  })
  await assert.rejects(diffHeapSnapshots(new URL('https://example.com/x'), worker.after), {
    name: 'RangeError',
    code: codes.INVALID_ARGUMENT
  })
})

test('an AbortSignal stops the analysis, before or during the work', async () => {
  const reason = new Error('stop')
  await assert.rejects(diffHeapSnapshots(worker.before, worker.after, { signal: AbortSignal.abort(reason) }), (err) => {
    assert.equal(err.code, codes.ABORTED)
    assert.equal(err.cause, reason)
    return true
  })
  const ac = new AbortController()
  const running = diffHeapSnapshots(worker.before, worker.after, { signal: ac.signal })
  ac.abort(reason)
  await assert.rejects(running, (err) => {
    assert.equal(err.code, codes.ABORTED)
    assert.equal(err.message, 'heap snapshot analysis was aborted')
    assert.equal(err.cause, reason)
    return true
  })
  // A signal that never fires changes nothing.
  const d = await diffHeapSnapshots(worker.before, worker.after, {
    jobsBetween: 900,
    signal: new AbortController().signal
  })
  assert.equal(d.suspects[0].name, 'Order')
})
