// Property-based tests of the public API (fast-check): random option objects
// and argument values for every export. Each call must either behave (its
// result checked) or fail with a coded error (TypeError / RangeError / Error
// with an ERR_LEAKGUARD_* code and a message of bounded length); never a
// crash, never an uncoded error, and an async function never throws
// synchronously. The only other error allowed is the caller's own (a
// function of the test that throws on purpose).
//
// The known option keys are read from leakguard's own "is not a known option
// (known: ...)" errors, so the generators follow the API as it grows.
// BoundedCache operation sequences are tested in the cache specs; here only
// its constructor options are.
//
// Fixed seed (LEAKGUARD_PROPERTY_SEED overrides it); fast-check prints the
// seed and the counterexample's path on a failure, to replay it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import * as lg from 'leakguard'

const require = createRequire(import.meta.url)
const prometheus = require('leakguard/prometheus')
const otel = require('leakguard/otel')
const promClient = require('prom-client')

const SEED = Number(process.env.LEAKGUARD_PROPERTY_SEED ?? 0x18_0a11)
const params = (numRuns) => ({ seed: SEED, numRuns, endOnFailure: true, includeErrorInReport: true })

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-property-'))
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }))

// ---- values ---------------------------------------------------------------------

/** Thrown by the test's own functions: passing it through is correct behaviour. */
const OWN = new Error('thrown on purpose by the function under test')
/** Thrown by the test's own Proxy traps and getters: the caller's error too, passed through as is. */
const TRAPPED = new Error('thrown on purpose by a Proxy trap or getter')

function trap() {
  throw TRAPPED
}

/** Values that have broken code that describes them before. */
const HOSTILE = [
  // Traps on every named property (symbol keys pass, so that fast-check can look for its own).
  new Proxy(
    {},
    {
      get: (_t, key) => (typeof key === 'symbol' ? undefined : trap()),
      has: (_t, key) => (typeof key === 'symbol' ? false : trap()),
      ownKeys: trap,
      getOwnPropertyDescriptor: trap
    }
  ),
  Object.defineProperty({}, 'max', { get: trap, enumerable: true }),
  { toString: trap, valueOf: trap, [Symbol.toPrimitive]: trap, toJSON: trap },
  Object.create(null),
  'x'.repeat(1 << 20),
  Symbol('s'),
  10n ** 40n,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  2 ** 53,
  2 ** 64,
  -(2 ** 31),
  1e-300,
  Number.MIN_VALUE,
  Object.defineProperty(() => {}, 'name', { value: 'n'.repeat(10_000) }),
  async () => {},
  class Klass {},
  new Date(Number.NaN),
  /re/g,
  new Map([[1, 2]]),
  new WeakRef({}),
  Promise.resolve(1),
  new Uint8Array(4),
  Buffer.alloc(2),
  new URL('http://example.com/x'),
  [],
  [1, 'a', null],
  {}
]

/** Plausible values (small numbers, flags, names), so that some calls get through validation. */
const plausible = fc.oneof(
  fc.integer({ min: 0, max: 5000 }),
  fc.constantFrom(1, 2, 10, 64, 100, 1000, 1 << 20, 0.5, 0.01, 0.001),
  fc.boolean(),
  fc.constantFrom('warn', 'throw', 'ignore', 'dispose', 'job', 'rss', 'heapUsed', 'external', 'leakguard_', 'x.'),
  fc.string({ maxLength: 12 }),
  fc.constant(undefined)
)

const value = fc.oneof(
  { weight: 4, arbitrary: plausible },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE) },
  {
    weight: 2,
    arbitrary: fc.anything({
      maxDepth: 2,
      maxKeys: 4,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withTypedArray: true,
      withSparseArray: true
    })
  },
  { weight: 1, arbitrary: fc.double() },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      () => 1,
      () => OWN,
      trap,
      () => 'v'
    )
  }
)

/** The known option keys of `call`, from its own unknown-option error (thrown or rejected). */
async function knownKeys(call) {
  try {
    await call({ 'not-an-option': 1 })
  } catch (err) {
    const m = /\(known: ([^)]*)\)/.exec(err.message)
    if (m) return m[1].split(', ')
    throw err
  }
  throw new Error('no unknown-option error: cannot read the known keys')
}

/**
 * Option objects over `known` keys: plausible ones (a few keys, plausible
 * values: many get through validation), wild ones (any values, sometimes an
 * unknown key), or not an object at all. `except` overrides keys whose
 * values would end the test process (a recycle exit).
 */
function options(known, { except = {} } = {}) {
  const keys = fc.constantFrom(...known)
  const fix = (o) => {
    const out = { ...o }
    for (const [k, v] of Object.entries(except)) if (k in out) out[k] = v
    return out
  }
  const tame = fc.dictionary(keys, plausible, { maxKeys: 3 }).map(fix)
  const wild = fc
    .tuple(
      fc.dictionary(keys, value, { maxKeys: Math.min(known.length, 5) }),
      fc.option(fc.string({ minLength: 1, maxLength: 8 }), { freq: 8 })
    )
    .map(([o, extra]) => {
      const out = fix(o)
      if (extra !== null && !known.includes(extra)) out[extra] = 1
      return out
    })
  return fc.oneof({ weight: 4, arbitrary: tame }, { weight: 4, arbitrary: wild }, { weight: 1, arbitrary: value })
}

/** Sets `o[key]` on a generated options object that has it (or always, with `add`); leaves traps alone. */
function replaceOption(o, key, v, { add = false } = {}) {
  if (!o || typeof o !== 'object' || Array.isArray(o) || HOSTILE.includes(o)) return
  if (add || Object.hasOwn(o, key)) o[key] = v
}

// ---- outcomes ---------------------------------------------------------------------

const stats = new Map()
function count(name, kind) {
  const s = stats.get(name) ?? { runs: 0, ok: 0, coded: 0, own: 0 }
  s.runs++
  s[kind]++
  stats.set(name, s)
}

function checkCoded(err, where) {
  if (err === OWN || err === TRAPPED) return 'own'
  const shown = `${where}: ${err?.name} ${err?.code} ${String(err?.message).slice(0, 300)}`
  assert.ok(err instanceof Error, `not an Error: ${shown}`)
  assert.ok(typeof err.code === 'string' && err.code.startsWith('ERR_LEAKGUARD_'), `uncoded error: ${shown}`)
  assert.ok(['TypeError', 'RangeError', 'Error'].includes(err.name), `unexpected error class: ${shown}`)
  assert.ok(err.message.length > 0 && err.message.length < 2000, `message of ${err.message.length} chars: ${shown}`)
  return 'coded'
}

/**
 * Runs `fn` (sync or async); `check(value)` on success. Counts the outcome
 * under `name`. `own`: an error the caller's own function threw, which may
 * pass through as it is.
 */
async function expectCodedOr(name, fn, check = () => {}, own = undefined) {
  let value
  try {
    value = await fn()
  } catch (err) {
    count(name, sameError(own, err) ? 'own' : checkCoded(err, name))
    return undefined
  }
  await check(value)
  count(name, 'ok')
  return value
}

/** An async export: it must return a promise, whatever the arguments. */
function callAsync(name, f, ...args) {
  let p
  try {
    p = f(...args)
  } catch (err) {
    assert.fail(`${name} threw synchronously: ${err?.code} ${err?.message}`)
  }
  assert.ok(p && typeof p.then === 'function', `${name} did not return a promise`)
  return p
}

/** What `fn` gives called directly: its value, or the error it throws (the test's own). */
async function direct(fn) {
  try {
    return { value: await fn(1) }
  } catch (err) {
    return { err }
  }
}

/** An error that is `fn`'s own (the same as a direct call threw) passes through as the caller's. */
function sameError(a, b) {
  return a !== undefined && b instanceof Error && a.name === b.name && a.message === b.message
}

/** A job function of one of a few kinds (or not a function at all). */
const jobFn = fc.oneof(
  fc.constantFrom(
    () => 'done',
    async () => 'done',
    () => {
      throw OWN
    },
    async () => {
      throw OWN
    }
  ),
  value
)

// ---- the properties -----------------------------------------------------------------

test('processMemory(options)', async () => {
  const known = await knownKeys(lg.processMemory)
  await fc.assert(
    fc.asyncProperty(options(known), async (o) => {
      await expectCodedOr(
        'processMemory',
        () => lg.processMemory(o),
        (m) => {
          for (const k of ['rss', 'heapTotal', 'heapUsed', 'external']) assert.ok(m[k] >= 0, k)
          assert.equal(typeof m.arrayBuffers, o?.arrayBuffers === true ? 'number' : 'undefined')
        }
      )
    }),
    params(500)
  )
})

test('new BoundedCache(options), then one set and get', async () => {
  // BoundedCache ignores unknown options, as lru-cache does: its list comes from its options module.
  const known = [...require('../lib/cache/options.js').OPTIONS]
  await fc.assert(
    fc.asyncProperty(
      options(known),
      fc.option(fc.integer({ min: 1, max: 1000 })),
      fc.string({ maxLength: 20 }),
      async (o, max, text) => {
        // Half of the option objects get a valid bound, which a cache requires.
        if (max !== null) replaceOption(o, 'max', max, { add: true })
        const cache = await expectCodedOr('BoundedCache', () => new lg.BoundedCache(o))
        if (!cache) return
        // A value the options allow is stored and read back; a refusal is coded.
        const stored = await expectCodedOr('BoundedCache#set', () => cache.set('key', text))
        if (stored !== undefined) {
          const got = cache.get('key')
          assert.ok(got === text || got === undefined, `get gave ${String(got)}`)
        }
        assert.ok(cache.size <= 1)
      }
    ),
    params(1000)
  )
})

test('new JobScope(options) and close()', async () => {
  const known = await knownKeys((o) => new lg.JobScope(o))
  await fc.assert(
    fc.asyncProperty(options(known, { except: { recycle: undefined } }), async (o) => {
      const scope = await expectCodedOr('JobScope', () => new lg.JobScope(o))
      if (!scope) return
      scope.setTimeout(() => {}, 60_000)
      await expectCodedOr('JobScope#close', () => scope.close())
      assert.equal(scope.closed, true)
    }),
    params(300)
  )
})

test('guard(fn, options) and one call of the guarded function', async () => {
  const known = await knownKeys((o) => lg.guard(() => {}, o))
  // A recycle net given as options, never one that exits the process.
  const recycleOpts = fc.oneof(value, fc.record({ maxJobs: fc.integer({ min: 1, max: 3 }), exit: fc.constant(false) }))
  await fc.assert(
    fc.asyncProperty(jobFn, options(known), recycleOpts, async (fn, o, rec) => {
      // (The hostile values are kept: their traps end validation before any exit could start.)
      replaceOption(o, 'recycle', !HOSTILE.includes(rec) && rec?.exit === true ? undefined : rec)
      const guarded = await expectCodedOr('guard', () => lg.guard(fn, o))
      if (!guarded) return
      assert.equal(typeof guarded, 'function')
      const expected = await direct(fn)
      await expectCodedOr(
        'guard()()',
        () => guarded(1),
        (v) => assert.equal(v, expected.value),
        expected.err
      )
    }),
    params(400)
  )
})

test('withScope(fn, options)', async () => {
  const known = await knownKeys((o) => lg.withScope(() => {}, o))
  await fc.assert(
    fc.asyncProperty(jobFn, options(known, { except: { recycle: undefined } }), async (fn, o) => {
      const expected = typeof fn === 'function' ? await direct(fn) : {}
      await expectCodedOr(
        'withScope',
        () => lg.withScope(fn, o),
        (v) => assert.equal(v, expected.value),
        expected.err
      )
    }),
    params(400)
  )
})

test('scopeStats(name), resetScopeStats(name), currentScope()', async () => {
  await fc.assert(
    fc.asyncProperty(value, async (name) => {
      await expectCodedOr(
        'scopeStats',
        () => lg.scopeStats(name),
        (s) => assert.ok(s === undefined || typeof s === 'object', typeof s)
      )
      await expectCodedOr('resetScopeStats', () => lg.resetScopeStats(name))
      assert.equal(lg.currentScope(), undefined)
    }),
    params(300)
  )
})

test('measureGrowth and assertMemoryBounded(fn, options): validated before fn runs', async () => {
  const known = await knownKeys((o) => lg.measureGrowth(() => {}, o))
  // fn throws at its first call (or is not a function): a valid call ends
  // with that error, at once, instead of running thousands of iterations.
  const throwing = fc.oneof(
    fc.constant(() => {
      throw OWN
    }),
    value.filter((v) => typeof v !== 'function')
  )
  await fc.assert(
    fc.asyncProperty(throwing, options(known, { except: { countObjects: false } }), async (fn, o) => {
      for (const name of ['measureGrowth', 'assertMemoryBounded']) {
        await expectCodedOr(
          name,
          () => callAsync(name, lg[name], fn, o),
          () => {
            assert.fail(`${name} resolved although fn throws`)
          }
        )
      }
    }),
    params(300)
  )
})

/** Paths: a valid tiny snapshot, a missing file, a directory, a URL, or any value. */
function snapshotPaths() {
  const valid = path.join(tmp, 'tiny.heapsnapshot')
  const meta = {
    node_fields: ['type', 'name', 'id', 'self_size', 'edge_count', 'trace_node_id', 'detachedness'],
    node_types: [['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic']],
    edge_fields: ['type', 'name_or_index', 'to_node'],
    edge_types: [['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak']]
  }
  fs.writeFileSync(
    valid,
    JSON.stringify({
      snapshot: { meta, node_count: 2, edge_count: 1 },
      nodes: [9, 1, 1, 0, 1, 0, 0, 3, 2, 3, 16, 0, 0, 0],
      edges: [1, 1, 7],
      strings: ['<dummy>', '', 'A']
    })
  )
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(valid, new URL(`file://${valid}`)) },
    { weight: 1, arbitrary: fc.constantFrom(path.join(tmp, 'missing.heapsnapshot'), tmp, '', 'http://x') },
    { weight: 2, arbitrary: value }
  )
}

const signals = fc.oneof(
  fc.constant(undefined),
  fc.constant(undefined).map(() => new AbortController().signal),
  fc.constant(undefined).map(() => AbortSignal.abort(new Error('stop'))),
  value
)

test('diffHeapSnapshots / summarizeHeapSnapshot (and the Sync twins): paths and options', async () => {
  const paths = snapshotPaths()
  const diffKnown = await knownKeys((o) => lg.diffHeapSnapshotsSync('a', 'b', o))
  const sumKnown = await knownKeys((o) => lg.summarizeHeapSnapshotSync('a', o))
  const withSignal = (known) =>
    fc.tuple(options(known), signals).map(([o, signal]) => {
      replaceOption(o, 'signal', signal)
      return o
    })
  const isSummary = (s) => assert.ok(Array.isArray(s.groups) && s.nodeCount >= 1, JSON.stringify(s).slice(0, 200))
  const isDiff = (d) => assert.ok(Array.isArray(d.suspects) && Array.isArray(d.groups), JSON.stringify(d).slice(0, 200))
  await fc.assert(
    fc.asyncProperty(paths, paths, withSignal(diffKnown), withSignal(sumKnown), async (a, b, od, os_) => {
      await expectCodedOr(
        'diffHeapSnapshots',
        () => callAsync('diffHeapSnapshots', lg.diffHeapSnapshots, a, b, od),
        isDiff
      )
      await expectCodedOr('diffHeapSnapshotsSync', () => lg.diffHeapSnapshotsSync(a, b, od), isDiff)
      await expectCodedOr(
        'summarizeHeapSnapshot',
        () => callAsync('summarizeHeapSnapshot', lg.summarizeHeapSnapshot, a, os_),
        isSummary
      )
      await expectCodedOr('summarizeHeapSnapshotSync', () => lg.summarizeHeapSnapshotSync(a, os_), isSummary)
    }),
    params(300)
  )
})

test('writeHeapSnapshot(path) with paths it cannot write', async () => {
  const unwritable = fc.oneof(
    fc.constantFrom('', path.join(tmp, 'no', 'such', 'dir', 'x.heapsnapshot'), new URL('http://x/y')),
    value.filter((v) => typeof v !== 'string' && !(v instanceof URL) && v !== undefined)
  )
  await fc.assert(
    fc.asyncProperty(unwritable, async (p) => {
      await expectCodedOr(
        'writeHeapSnapshot',
        () => lg.writeHeapSnapshot(p),
        () => {
          assert.fail('wrote a snapshot to an unwritable path')
        }
      )
    }),
    params(100)
  )
})

/** Workers gracefulExit() cannot close: it must refuse them (a valid one would end this process). */
const notAWorker = value.filter((w) => {
  try {
    return (
      w !== undefined &&
      !(w !== null && typeof w === 'object' && (typeof w.close === 'function' || typeof w.destroy === 'function'))
    )
  } catch {
    return true // a trap: gracefulExit must reject it too
  }
})
const report = fc.oneof(
  value,
  fc.record({ name: value, leftOpen: fc.oneof(value, fc.array(value, { maxLength: 3 })) }, { requiredKeys: [] }),
  fc.record({
    name: fc.string(),
    leftOpen: fc.array(fc.record({ kind: fc.string(), type: fc.string(), site: fc.option(fc.string()) }), {
      maxLength: 3
    })
  })
)

test('recycle(options) / new Recycler(options), jobEnded(report), check(), gracefulExit(not a worker)', async () => {
  const known = await knownKeys((o) => lg.recycle(o))
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      options(known, { except: { exit: false } }),
      fc.array(report, { maxLength: 4 }),
      notAWorker,
      async (viaClass, o, reports, worker) => {
        const net = await expectCodedOr('recycle', () => (viaClass ? new lg.Recycler(o) : lg.recycle(o)))
        if (!net) return
        try {
          for (const r of reports) await expectCodedOr('Recycler#jobEnded', () => net.jobEnded(r))
          await expectCodedOr('Recycler#check', () => net.check())
          assert.ok(net.jobs <= reports.length)
          await expectCodedOr(
            'Recycler#gracefulExit',
            () => callAsync('gracefulExit', (w) => net.gracefulExit(w), worker),
            () => assert.fail('gracefulExit accepted a worker it cannot close')
          )
        } finally {
          net.stop()
        }
      }
    ),
    params(500)
  )
})

test('monitor(options), then stop()', async () => {
  const known = await knownKeys((o) => lg.monitor(o))
  await fc.assert(
    fc.asyncProperty(options(known, { except: { recycle: undefined } }), async (o) => {
      const m = await expectCodedOr('monitor', () => lg.monitor(o))
      if (m) m.stop()
    }),
    params(200)
  )
})

test('onWorkerWarning(handler)', async () => {
  await fc.assert(
    fc.asyncProperty(value, async (handler) => {
      const stop = await expectCodedOr('onWorkerWarning', () => lg.onWorkerWarning(handler))
      if (stop) {
        assert.equal(typeof stop, 'function')
        stop()
      }
    }),
    params(200)
  )
})

test('leakguard/prometheus and leakguard/otel registerMetrics(options)', async () => {
  const promKnown = await knownKeys(prometheus.registerMetrics)
  const otelKnown = await knownKeys(otel.registerMetrics)
  const registries = fc.oneof(
    value,
    fc.constant(undefined).map(() => new promClient.Registry())
  )
  await fc.assert(
    fc.asyncProperty(options(promKnown), registries, options(otelKnown), async (po, registry, oo) => {
      replaceOption(po, 'registry', registry, { add: true })
      const p = await expectCodedOr('prometheus.registerMetrics', () => prometheus.registerMetrics(po))
      if (p) p.unregister()
      const o = await expectCodedOr('otel.registerMetrics', () => otel.registerMetrics(oo))
      if (o) o.unregister()
    }),
    params(200)
  )
})

test('every export was exercised, with both outcomes where both are possible', (t) => {
  const rows = [...stats.entries()].map(
    ([name, s]) =>
      `${name.padEnd(28)} ${String(s.runs).padStart(5)} runs: ${s.ok} ok, ${s.coded} coded errors, ${s.own} own errors`
  )
  t.diagnostic(`seed ${SEED}\n${rows.join('\n')}`)
  if (process.env.LEAKGUARD_PROPERTY_STATS) console.log(`seed ${SEED}\n${rows.join('\n')}`)
  for (const name of ['processMemory', 'BoundedCache', 'JobScope', 'guard', 'withScope', 'recycle', 'monitor']) {
    const s = stats.get(name)
    assert.ok(s && s.ok > 0 && s.coded > 0, `${name}: ${JSON.stringify(s)}`)
  }
  for (const name of ['diffHeapSnapshots', 'summarizeHeapSnapshotSync', 'measureGrowth', 'writeHeapSnapshot']) {
    assert.ok(stats.get(name)?.coded > 0, name)
  }
})
