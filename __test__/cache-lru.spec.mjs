// BoundedCache as a drop-in for lru-cache v11: every option and method of
// lru-cache's surface, on the real addon, with real timers where lru-cache
// uses them (ttlAutopurge, fetch). lru-cache's own suite is run against it
// outside the repo (see docs/cache.md); these are ours.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'

const require = createRequire(import.meta.url)
const { BoundedCache, codes } = require('leakguard')
const { WINDOW, SAMPLE, SAMPLED_WINDOW } = require('../lib/cache/memo.js')
const { REPORT } = require('../lib/cache/cache.js')

function fakeClock(t = 1000) {
  return {
    now: () => t,
    advance(ms) {
      t += ms
    }
  }
}

test('the report layout is written once on each side, and the two sides agree', () => {
  const { cacheOps } = require('../binding.js')
  assert.deepEqual({ ...cacheOps.report }, { ...REPORT })
})

test('unknown options are ignored, as lru-cache does; a misspelt one of ours warns once with the nearest name', async () => {
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  try {
    const c = new BoundedCache({ max: 2, maxsize: 10, somethingElse: true })
    new BoundedCache({ max: 2, maxsize: 10 })
    assert.equal(c.maxSize, 0, 'the misspelt option had no effect')
    c.set('k', 'v', { tll: 5 })
    await sleep(10)
  } finally {
    process.off('warning', onWarning)
  }
  const ours = warnings.filter((w) => w.name === 'LeakGuardWarning')
  assert.deepEqual(
    ours.map((w) => w.message),
    [
      'options.maxsize is not an option of BoundedCache and is ignored; did you mean maxSize?',
      'set options.tll is not an option of BoundedCache and is ignored; did you mean ttl?'
    ]
  )
  assert.ok(ours.every((w) => w.code === codes.INVALID_OPTION))
})

test('set(key, undefined) deletes, as in lru-cache; clear() disposes with reason delete and pop() with evict', () => {
  const calls = []
  const c = new BoundedCache({ max: 5, dispose: (v, k, r) => calls.push([k, v, r]) })
  c.set('a', 1).set('b', 2).set('c', 3)
  const status = {}
  c.set('a', undefined, { status })
  assert.equal(c.has('a'), false)
  assert.equal(status.set, 'deleted')
  assert.equal(c.pop(), 2)
  c.clear()
  assert.deepEqual(calls, [
    ['a', 1, 'delete'],
    ['b', 2, 'evict'],
    ['c', 3, 'delete']
  ])
})

test('sizeCalculation decides what counts against maxSize; the size option too; info and dump carry the size', () => {
  const c = new BoundedCache({ maxSize: 10, sizeCalculation: (v) => v.length })
  c.set('a', 'xxxx').set('b', 'yyyyy')
  assert.equal(c.calculatedSize, 9)
  c.set('c', 'zz') // 11 > 10: the least recently used goes
  assert.deepEqual([...c.keys()], ['c', 'b'])
  assert.equal(c.calculatedSize, 7)
  c.set('d', 'long value', { size: 1 })
  assert.equal(c.calculatedSize, 8)
  assert.equal(c.info('d').size, 1)
  assert.deepEqual(c.dump().at(-1), ['d', { value: 'long value', size: 1 }])
  assert.throws(() => c.set('e', 'x'.repeat(11)), { code: codes.ENTRY_TOO_LARGE, message: /11, more than/ })
  // Without sizeCalculation the exact stored bytes count: 'k' + tag + 'vv'.
  const exact = new BoundedCache({ maxSize: 100 })
  exact.set('k', 'vv')
  assert.equal(exact.calculatedSize, 4)
})

test('per-call options and status objects: get, peek, has, set', () => {
  const clock = fakeClock()
  const c = new BoundedCache({ max: 5, ttl: 100, perf: clock })
  const s1 = {}
  c.set('a', 'x', { status: s1 })
  assert.deepEqual(s1, {
    op: 'set',
    key: 'a',
    value: 'x',
    set: 'add',
    ttl: 100,
    start: 1000,
    now: 1000,
    remainingTTL: 100
  })
  const s2 = {}
  c.set('a', 'y', { status: s2 })
  assert.equal(s2.set, 'replace')
  assert.equal(s2.oldValue, 'x')
  const s3 = {}
  c.set('a', 'y', { status: s3 })
  assert.equal(s3.set, 'update')
  clock.advance(150)
  const s4 = {}
  assert.equal(c.peek('a', { status: s4 }), undefined)
  assert.equal(s4.peek, 'stale')
  assert.equal(c.peek('a', { allowStale: true }), 'y')
  const s5 = {}
  assert.equal(c.has('a', { status: s5 }), false)
  assert.equal(s5.has, 'stale')
  const s6 = {}
  assert.equal(c.get('a', { allowStale: true, noDeleteOnStaleGet: true, status: s6 }), 'y')
  assert.deepEqual(
    { get: s6.get, returnedStale: s6.returnedStale, remainingTTL: s6.remainingTTL },
    { get: 'stale', returnedStale: true, remainingTTL: -50 }
  )
  assert.equal(c.size, 1, 'noDeleteOnStaleGet kept it')
  assert.equal(c.get('a'), undefined)
  assert.equal(c.size, 0)
  const s7 = {}
  assert.equal(c.get('zz', { status: s7 }), undefined)
  assert.equal(s7.get, 'miss')
})

test('updateAgeOnHas, noUpdateTTL, the start option, and the settings lru-cache lets you change later', () => {
  const clock = fakeClock()
  const c = new BoundedCache({ max: 5, ttl: 100, perf: clock, updateAgeOnHas: true })
  c.set('a', 1)
  clock.advance(80)
  assert.equal(c.has('a'), true)
  clock.advance(80)
  assert.equal(c.has('a'), true, 'has() restarted the age')
  c.noUpdateTTL = true
  clock.advance(50)
  c.set('a', 2, { ttl: 1000 })
  assert.equal(c.getRemainingTTL('a'), 50, 'the replaced value kept its ttl')
  c.noUpdateTTL = false
  c.set('b', 3, { start: clock.now() - 90 })
  assert.equal(c.getRemainingTTL('b'), 10)
  c.allowStale = true
  clock.advance(20)
  assert.equal(c.get('b'), 3, 'allowStale set on the instance')
})

test('noDisposeOnSet, onInsert and disposeAfter follow lru-cache', () => {
  const calls = []
  const c = new BoundedCache({
    max: 2,
    noDisposeOnSet: true,
    dispose: (v, k, r) => calls.push(['dispose', k, v, r]),
    disposeAfter: (v, k, r) => calls.push(['after', k, v, r]),
    onInsert: (v, k, r) => calls.push(['insert', k, v, r])
  })
  c.set('a', 1).set('a', 2).set('a', 2).set('b', 3).set('c', 4)
  assert.deepEqual(calls, [
    ['insert', 'a', 1, 'add'],
    ['insert', 'a', 2, 'replace'],
    ['insert', 'a', 2, 'update'],
    ['insert', 'b', 3, 'add'],
    ['dispose', 'a', 2, 'evict'],
    ['after', 'a', 2, 'evict'],
    ['insert', 'c', 4, 'add']
  ])
})

test('ttlAutopurge removes expired entries with a real unref timer; ttlResolution reuses a reading of the default clock', async () => {
  const gone = []
  const c = new BoundedCache({ max: 5, ttl: 20, ttlAutopurge: true, dispose: (v, k, r) => gone.push([k, r]) })
  c.set('a', 1)
  c.set('b', 2, { ttl: 5000 })
  for (let i = 0; i < 100 && gone.length === 0; i++) await sleep(10)
  assert.deepEqual(gone, [['a', 'expire']])
  assert.equal(c.size, 1)
  c.clear()
  assert.equal(c.ttlResolution, 1)
  assert.equal(new BoundedCache({ max: 1, ttlResolution: -3 }).ttlResolution, 1, "lru-cache's rule")
})

test('iteration both ways, rforEach and find', () => {
  const c = new BoundedCache({ max: 5 })
  c.set('a', 1).set('b', 2).set('c', 3)
  assert.deepEqual([...c.keys()], ['c', 'b', 'a'])
  assert.deepEqual([...c.rkeys()], ['a', 'b', 'c'])
  assert.deepEqual([...c.rvalues()], [1, 2, 3])
  assert.deepEqual(
    [...c.rentries()],
    [
      ['a', 1],
      ['b', 2],
      ['c', 3]
    ]
  )
  const seen = []
  c.rforEach(function (v, k, self) {
    seen.push([k, v, self === c, this === c])
  })
  assert.deepEqual(seen[0], ['a', 1, true, true])
  assert.equal(
    c.find((v) => v === 2),
    2
  )
  assert.deepEqual([...c.keys()], ['b', 'c', 'a'], 'find() reads with get()')
  assert.equal(
    c.find(() => false),
    undefined
  )
})

test('fetch(): miss, hit, stale-while-revalidate, one fetch in flight, context and forceRefresh', async () => {
  const clock = fakeClock()
  let calls = 0
  const c = new BoundedCache({
    max: 10,
    ttl: 100,
    perf: clock,
    fetchMethod: async (k, stale, { context, options, signal }) => {
      calls++
      assert.ok(signal instanceof AbortSignal)
      assert.equal(typeof options, 'object')
      await sleep(1)
      return `${k}:${stale ?? 'none'}:${context ?? ''}:${calls}`
    }
  })
  const s1 = {}
  const [a, b] = await Promise.all([c.fetch('k', { status: s1, context: 'ctx' }), c.fetch('k')])
  assert.equal(a, 'k:none:ctx:1')
  assert.equal(b, a, 'the second fetch joined the one in flight')
  assert.equal(s1.fetch, 'miss')
  const s2 = {}
  assert.equal(await c.fetch('k', { status: s2 }), a)
  assert.equal(s2.fetch, 'hit')
  clock.advance(150)
  const s3 = {}
  assert.equal(await c.fetch('k', { allowStale: true, status: s3 }), a, 'stale value while it refreshes')
  assert.equal(s3.fetch, 'stale')
  assert.equal(s3.returnedStale, true)
  await sleep(20)
  assert.equal(c.get('k'), `k:${a}::2`)
  assert.equal(await c.fetch('k', { forceRefresh: true }), `k:k:${a}::2::3`)
  assert.equal(await c.forceFetch('k'), `k:k:${a}::2::3`)
})

test('fetch(): rejections and aborts follow lru-cache (noDeleteOnFetchRejection, allowStaleOnFetchRejection, signal, ignoreFetchAbort)', async () => {
  const clock = fakeClock()
  let fail = false
  const c = new BoundedCache({
    max: 10,
    ttl: 10,
    perf: clock,
    fetchMethod: async (k, _stale, { signal }) => {
      await sleep(5)
      if (fail) throw new Error(`no ${k}`)
      if (signal.aborted) return 'late'
      return k.toUpperCase()
    }
  })
  assert.equal(await c.fetch('a'), 'A')
  fail = true
  clock.advance(20)
  await assert.rejects(c.fetch('a'), /no a/)
  assert.equal(c.peek('a', { allowStale: true }), undefined, 'a rejection deletes the stale value')
  fail = false
  assert.equal(await c.fetch('b'), 'B')
  fail = true
  clock.advance(20)
  assert.equal(await c.fetch('b', { allowStaleOnFetchRejection: true }), 'B')
  assert.equal(c.peek('b', { allowStale: true }), 'B', 'kept')
  fail = false
  const ac = new AbortController()
  const p = c.fetch('c', { signal: ac.signal })
  ac.abort(new Error('stop'))
  await assert.rejects(p, /stop/)
  assert.equal(c.has('c'), false)
  const ac2 = new AbortController()
  const q = c.fetch('d', { signal: ac2.signal, ignoreFetchAbort: true, allowStaleOnFetchAbort: true })
  ac2.abort(new Error('stop'))
  assert.equal(await q, undefined)
  await sleep(20)
  assert.equal(c.get('d'), 'late', 'ignoreFetchAbort: the late result is still stored')
  const plain = new BoundedCache({ max: 2 })
  plain.set('x', 1)
  assert.equal(await plain.fetch('x'), 1, 'without fetchMethod, fetch() is get()')
  await assert.rejects(plain.forceFetch('nope'), /fetch\(\) returned undefined/)
})

test('memo(): memoMethod fills misses synchronously; no memoMethod is a coded error', () => {
  const c = new BoundedCache({ max: 5, memoMethod: (k, stale, { context }) => `${k}!${context ?? ''}` })
  const s = {}
  assert.equal(c.memo('a', { status: s, context: 'x' }), 'a!x')
  assert.equal(s.memo, 'miss')
  const s2 = {}
  assert.equal(c.memo('a', { status: s2 }), 'a!x')
  assert.equal(s2.memo, 'hit')
  assert.equal(c.memo('a', { forceRefresh: true }), 'a!')
  assert.throws(() => new BoundedCache({ max: 1 }).memo('a'), { code: codes.INVALID_OPTION, message: /no memoMethod/ })
})

test('the memo of hot values steps aside while its hit rate is low and comes back when a hot set appears', () => {
  const c = new BoundedCache({ max: 20_000 })
  for (let i = 0; i < 20_000; i++) c.set(`k${i}`, `v${i}`)
  const memoStats = () => c.stats().hits
  assert.equal(c.memoActive, true)
  // A cyclic scan: no key repeats within the memo's reach.
  for (let i = 0; i < 4 * WINDOW; i++) assert.equal(c.get(`k${i}`), `v${i}`)
  assert.equal(c.memoActive, false, 'a scan that never hits turns it off')
  const before = memoStats()
  // While it stands aside, only one read in SAMPLE goes through it.
  const aside = 3 * SAMPLED_WINDOW * SAMPLE
  for (let i = 0; i < aside; i++) c.get(`k${(i * 7919) % 20_000}`)
  assert.equal(c.memoActive, false, 'still no hot set')
  assert.equal(memoStats() - before, aside, 'every read still counts as a hit')
  // A hot set of 50 keys: the sampled reads hit, and the memo comes back
  // within a few judged windows.
  let reads = 0
  while (!c.memoActive && reads < 4 * SAMPLED_WINDOW * SAMPLE) c.get(`k${reads++ % 50}`)
  assert.equal(c.memoActive, true, `back after ${reads} reads`)
  for (let i = 0; i < WINDOW; i++) c.get(`k${(reads + i) % 50}`)
  assert.equal(c.memoActive, true, 'and it stays')
  const last = (reads + WINDOW - 1) % 50
  assert.deepEqual(
    [...c.keys()].slice(0, 3),
    [`k${last}`, `k${(last + 49) % 50}`, `k${(last + 48) % 50}`],
    'recency stays exact'
  )
})

test('a named store: each thread memoizes its hot values, and a change made in another thread is seen at once', async () => {
  const { Worker } = await import('node:worker_threads')
  const name = 'spec-stamps'
  BoundedCache.drop(name)
  const c = new BoundedCache({ name, max: 100 })
  c.set('k', 'v1').set('gone', 'x').set('kept', 'y')
  for (let i = 0; i < 3; i++) {
    assert.equal(c.get('k'), 'v1')
    assert.equal(c.get('gone'), 'x')
    assert.equal(c.get('kept'), 'y')
  }
  assert.equal(c.memoActive, true)
  const run = (src) =>
    new Promise((resolve, reject) => {
      const w = new Worker(
        `const { BoundedCache } = require(${JSON.stringify(require.resolve('leakguard'))});
         const c = new BoundedCache({ name: ${JSON.stringify(name)}, max: 100 });
         ${src}`,
        { eval: true }
      )
      w.once('error', reject)
      w.once('exit', resolve)
    })
  await run(`c.set('k', 'v2'); c.delete('gone')`)
  assert.equal(c.get('k'), 'v2', 'the other thread set it')
  assert.equal(c.peek('gone'), undefined, 'the other thread deleted it')
  assert.equal(c.has('gone'), false)
  assert.equal(c.get('kept'), 'y', 'untouched entries are still served')
  await run(`c.clear(); c.set('kept', 'z')`)
  assert.equal(c.get('k'), undefined)
  assert.equal(c.get('kept'), 'z')
  // Reads served from the memo still count and still move entries to the front.
  const hits = c.stats().hits
  for (let i = 0; i < 10; i++) c.get('kept')
  assert.equal(c.stats().hits, hits + 10)
  BoundedCache.drop(name)
})
