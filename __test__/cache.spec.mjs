// BoundedCache on the real addon: lru-cache semantics, exact byte bounds,
// dispose reasons, dump/load, stats, bad input, shared named stores across
// real worker_threads (one terminated mid-storm), and no leak over 1M cycles.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { setTimeout as sleep } from 'node:timers/promises'
import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { BoundedCache as EsmBoundedCache } from 'leakguard'

const require = createRequire(import.meta.url)
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { BoundedCache, codes } = require('leakguard')

/** A hand-made clock, as a user's fake timers would provide (lru-cache's `perf`). */
function fakeClock(t = 1000) {
  return {
    now: () => t,
    advance(ms) {
      t += ms
    }
  }
}

// One value of each supported kind, as stored and as read back.
const KINDS = {
  string: { make: (i) => `value-${i}`, back: (i) => `value-${i}` },
  'multi-byte string': { make: (i) => `é-${i}-😀`, back: (i) => `é-${i}-😀` },
  number: { make: (i) => i + 0.5, back: (i) => i + 0.5 },
  boolean: { make: (i) => i % 2 === 0, back: (i) => i % 2 === 0 },
  null: { make: () => null, back: () => null },
  Buffer: { make: (i) => Buffer.from([i, 1, 2]), back: (i) => Buffer.from([i, 1, 2]) },
  Uint8Array: { make: (i) => new Uint8Array([i, 9]), back: (i) => Buffer.from([i, 9]) },
  object: {
    make: (i) => ({ id: i, tags: ['a', 'b'], nested: { ok: true, none: null } }),
    back: (i) => ({ id: i, tags: ['a', 'b'], nested: { ok: true, none: null } })
  },
  array: { make: (i) => [i, 'x', { y: [1] }], back: (i) => [i, 'x', { y: [1] }] }
}

/** Exact stored bytes of one entry: UTF-8 key + 1 tag byte + payload. */
function entryBytes(key, value) {
  const k = typeof key === 'number' ? 9 : Buffer.byteLength(key)
  let payload
  if (typeof value === 'string') payload = Buffer.byteLength(value)
  else if (typeof value === 'number') payload = 8
  else if (typeof value === 'boolean' || value === null) payload = 0
  else if (ArrayBuffer.isView(value)) payload = value.byteLength
  else payload = Buffer.byteLength(JSON.stringify(value))
  return k + 1 + payload
}

test('exported from CommonJS and ESM; an unbounded cache is refused', () => {
  assert.equal(EsmBoundedCache, BoundedCache)
  assert.throws(() => new BoundedCache(), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: /options is required/
  })
  assert.throws(() => new BoundedCache({}), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: /At least one of options.max or options.maxSize is required/
  })
  assert.throws(() => new BoundedCache({ ttl: 1000 }), { code: codes.INVALID_OPTION })
})

for (const [kind, { make, back }] of Object.entries(KINDS)) {
  test(`${kind} values: copies round-trip, eviction is LRU, get refreshes recency and peek does not`, () => {
    const c = new BoundedCache({ max: 3 })
    const original = make(1)
    assert.equal(c.set('a', original), c)
    assert.deepEqual(c.get('a'), back(1))
    if (typeof original === 'object' && original !== null) {
      assert.notEqual(c.get('a'), original, 'a fresh copy, never the stored identity')
      if (!ArrayBuffer.isView(original)) {
        original.mutated = true
        assert.deepEqual(c.get('a'), back(1))
      }
    }
    c.set('b', make(2)).set('c', make(3))
    assert.deepEqual([...c.keys()], ['c', 'b', 'a'])
    c.get('a') // a becomes most recently used
    assert.deepEqual(c.peek('b'), back(2)) // b stays least recently used
    c.set('d', make(4))
    assert.deepEqual([...c.keys()], ['d', 'a', 'c'])
    assert.equal(c.get('b'), undefined)
    assert.equal(c.has('b'), false)
    assert.deepEqual([...c.values()], [back(4), back(1), back(3)])
    assert.deepEqual(
      [...c.entries()],
      [
        ['d', back(4)],
        ['a', back(1)],
        ['c', back(3)]
      ]
    )
    assert.deepEqual([...c], [...c.entries()])
    const seen = []
    c.forEach(
      function (v, k, cache) {
        seen.push([k, v, cache === c, this.tag])
      },
      { tag: 't' }
    )
    assert.deepEqual(seen, [
      ['d', back(4), true, 't'],
      ['a', back(1), true, 't'],
      ['c', back(3), true, 't']
    ])
    assert.equal(c.size, 3)
    assert.deepEqual(c.pop(), back(3))
    assert.deepEqual([...c.keys()], ['d', 'a'])
  })

  test(`${kind} values: calculatedSize is the exact stored bytes and maxSize bounds it`, () => {
    const one = entryBytes('k0', make(0))
    const c = new BoundedCache({ maxSize: one * 3 + 2 })
    for (let i = 0; i < 3; i++) c.set(`k${i}`, make(i))
    const expected = [0, 1, 2].reduce((s, i) => s + entryBytes(`k${i}`, make(i)), 0)
    assert.equal(c.calculatedSize, expected)
    c.set('k3', make(3))
    assert.ok(c.calculatedSize <= c.maxSize, `${c.calculatedSize} > ${c.maxSize}`)
    assert.equal(c.has('k0'), false, 'the least recently used entry made room')
    assert.equal(
      c.calculatedSize,
      [...c.entries()].reduce((s, [k, v]) => s + entryBytes(k, v), 0)
    )
  })

  test(`${kind} values: dispose gets every reason with the value and key`, () => {
    const clock = fakeClock()
    const calls = []
    const c = new BoundedCache({ max: 2, ttl: 100, perf: clock, dispose: (v, k, reason) => calls.push([reason, k, v]) })
    c.set('a', make(1)).set('b', make(2)).set('c', make(3)) // evicts a
    c.set('b', make(21)) // replaces b (the same bytes again, like lru-cache's same value, dispose nothing)
    c.delete('c')
    clock.advance(101)
    assert.equal(c.get('b'), undefined) // expired
    c.set('x', make(5)).set('y', make(6))
    c.clear()
    const replaced = !isDeepStrictEqual(back(2), back(21))
    assert.deepEqual(calls, [
      ['evict', 'a', back(1)],
      ...(replaced ? [['set', 'b', back(2)]] : []),
      ['delete', 'c', back(3)],
      ['expire', 'b', back(21)],
      // lru-cache's reason for clear() is 'delete', least recently used first
      ['delete', 'x', back(5)],
      ['delete', 'y', back(6)]
    ])
  })

  test(`${kind} values: dump() and load() round-trip order, values and remaining TTL`, () => {
    const clock = fakeClock(5000)
    const c = new BoundedCache({ max: 10, perf: clock })
    c.set('a', make(1), { ttl: 1000 }).set('b', make(2)).set(7, make(3))
    c.get('a')
    clock.advance(400)
    const dump = c.dump()
    assert.deepEqual(
      dump.map(([k]) => k),
      ['b', 7, 'a'],
      'least recently used first, as lru-cache'
    )
    assert.deepEqual(dump[1], [7, { value: back(3) }])
    assert.equal(dump[2][1].ttl, 1000)
    assert.ok(Math.abs(dump[2][1].start - (Date.now() - 400)) < 1000)
    const d = new BoundedCache({ max: 10, perf: fakeClock(0) })
    d.load(dump)
    assert.deepEqual([...d.keys()], ['a', 7, 'b'])
    assert.deepEqual(d.get(7), back(3))
    const left = d.getRemainingTTL('a')
    assert.ok(left > 500 && left <= 600, `remaining ttl ${left}`)
    const e = new BoundedCache({ max: 10 })
    e.load(c.dump())
    assert.deepEqual([...e.entries()], [...c.entries()])
  })
}

test('stats() counts hits, misses, sets, evictions, expirations and deletes', () => {
  const clock = fakeClock()
  const c = new BoundedCache({ max: 2, ttl: 50, perf: clock })
  c.set('s', 'x').set('b', Buffer.from('y')).set('o', { z: 1 }) // 1 eviction
  c.get('o')
  c.get('b')
  c.get('s') // 2 hits, 1 miss
  c.delete('b')
  clock.advance(60)
  c.get('o') // expired: miss + expiration
  assert.deepEqual(c.stats(), {
    hits: 2,
    misses: 2,
    sets: 3,
    evictions: 1,
    expirations: 1,
    deletes: 1,
    size: 0,
    calculatedSize: 0
  })
})

test('ttl: lazy expiry with the native clock and with a perf clock, getRemainingTTL, purgeStale', async () => {
  const c = new BoundedCache({ max: 10, ttl: 5 })
  c.set('a', 1).set('forever', 2, { ttl: 0 })
  assert.equal(c.getRemainingTTL('forever'), Infinity)
  assert.equal(c.getRemainingTTL('missing'), 0)
  await sleep(40) // real time passes: the native monotonic clock drives expiry
  assert.equal(c.has('a'), false)
  assert.equal(c.get('a'), undefined)
  assert.equal(c.get('forever'), 2)

  const clock = fakeClock()
  const f = new BoundedCache({ max: 10, ttl: 100, perf: clock })
  f.set('a', 'x').set('b', 'y', { ttl: 1000 })
  clock.advance(50)
  assert.equal(f.getRemainingTTL('a'), 50)
  assert.equal(f.info('a').value, 'x')
  assert.equal(f.info('a').ttl, 50)
  clock.advance(51)
  assert.equal(f.getRemainingTTL('a'), -1)
  assert.equal(f.size, 2, 'expiry is lazy: no timer removed it')
  assert.deepEqual([...f.keys()], ['b'], 'iteration skips expired entries')
  assert.equal(f.purgeStale(), true)
  assert.equal(f.size, 1)
  assert.equal(f.purgeStale(), false)
})

test('ttl: updateAgeOnGet restarts the age, allowStale returns an expired value once', () => {
  const clock = fakeClock()
  const c = new BoundedCache({ max: 10, ttl: 100, updateAgeOnGet: true, allowStale: true, perf: clock })
  c.set('a', { v: 1 })
  clock.advance(90)
  assert.deepEqual(c.get('a'), { v: 1 })
  clock.advance(90)
  assert.deepEqual(c.get('a'), { v: 1 }, 'age restarted at the previous get')
  clock.advance(200)
  assert.deepEqual(c.peek('a'), { v: 1 }, 'peek shows stale with allowStale')
  assert.deepEqual(c.get('a'), { v: 1 }, 'stale value returned once')
  assert.equal(c.get('a'), undefined)
})

test('an entry over maxEntrySize or maxSize is refused with a coded RangeError, never dropped silently', () => {
  const reasons = []
  const c = new BoundedCache({ max: 10, maxSize: 100, maxEntrySize: 20, dispose: (v, k, r) => reasons.push([k, v, r]) })
  c.set('k', 'old')
  assert.throws(() => c.set('k', 'x'.repeat(30)), {
    name: 'RangeError',
    code: codes.ENTRY_TOO_LARGE,
    message: 'The entry for key "k" is 32 bytes, more than options.maxEntrySize (20 bytes); it was not stored'
  })
  // As lru-cache does, the key's previous value does not survive a refused set.
  assert.deepEqual(reasons, [['k', 'old', 'set']])
  assert.equal(c.has('k'), false)
  const d = new BoundedCache({ maxSize: 10 })
  assert.throws(() => d.set('key', Buffer.alloc(10)), {
    code: codes.ENTRY_TOO_LARGE,
    message: /options\.maxSize \(10 bytes\)/
  })
  assert.equal(d.size, 0)
  assert.equal(d.maxEntrySize, 10, 'maxEntrySize defaults to maxSize')
})

test('unsupported values are TypeErrors naming the key', () => {
  const c = new BoundedCache({ max: 10 })
  const cyclic = { a: 1 }
  cyclic.self = cyclic
  const cases = [
    [() => {}, /function/],
    [Symbol('s'), /symbol/],
    [10n, /bigint/],
    [cyclic, /cycle/],
    [{ fn() {} }, /property 'fn' is a function/],
    [{ x: undefined }, /property 'x' is undefined/],
    [{ n: NaN }, /property 'n' is NaN/],
    [new Map([[1, 2]]), /Map, not a plain object/],
    [{ when: new Date(0) }, /Date, not a plain object/],
    [new Int32Array(2), /not supported/]
  ]
  for (const [value, message] of cases) {
    assert.throws(
      () => c.set('user:1', value),
      (err) => {
        assert.equal(err.name, 'TypeError')
        assert.equal(err.code, codes.INVALID_VALUE)
        assert.match(err.message, /key 'user:1'|key "user:1"/)
        assert.match(err.message, message)
        return true
      },
      String(message)
    )
  }
  assert.equal(c.size, 0)
  assert.throws(() => c.set({}, 1), {
    name: 'TypeError',
    code: codes.INVALID_ARGUMENT,
    message: /"key" argument must be a string or a number \(received an object\)/
  })
  assert.throws(() => c.get(null), { code: codes.INVALID_ARGUMENT })
})

test('the raw ops refuse a foreign External or any non-handle with a coded TypeError, never a crash', () => {
  // Runs in a child so that a crash (the old behaviour with a foreign
  // External: its data read as a store) shows as a signal, not a lost run.
  const script = `
    const native = require('./binding.js')
    const ops = native.cacheOps
    const h = ops.open(undefined, 10, 0, 0, 0, false, false, undefined)
    ops.set(h, 'k', 'v')
    const foreign = [
      ['a foreign External', native.__foreignExternalForTest()],
      ['a native object of another class', new native.SnapshotCancelToken()],
      ['a plain object', {}], ['an array holding the handle', [h]], ['a number', 42],
      ['a string', 'handle'], ['undefined', undefined], ['null', null], ['a function', ops.get]
    ]
    const withHandle = ['bind', 'get', 'peek', 'has', 'set', 'setJson', 'delete', 'pop', 'clear', 'purgeStale',
      'remainingTtl', 'list', 'entry', 'stats', 'size', 'calculatedSize', 'info', 'read', 'expire', 'stamps']
    const fns = Object.keys(ops).filter((op) => typeof ops[op] === 'function')
    const out = { missing: fns.filter((op) => !withHandle.includes(op)), errors: [] }
    for (const [what, value] of foreign) {
      for (const op of withHandle) {
        try {
          ops[op](value, 'k', '{}')
          out.errors.push({ what, op, threw: false })
        } catch (e) {
          out.errors.push({ what, op, threw: true, name: e.name, code: e.code, message: e.message })
        }
      }
    }
    out.after = [ops.get(h, 'k'), ops.size(h)]
    console.log(JSON.stringify(out))
  `
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })
  assert.equal(r.signal, null, `the child crashed: ${r.stderr}`)
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  // Every op that takes a handle is covered (the others take no handle).
  assert.deepEqual(out.missing.sort(), ['dropNamed', 'names', 'now', 'open'])
  assert.equal(out.errors.length, 9 * 20)
  for (const e of out.errors) {
    assert.equal(e.threw, true, `${e.op}(${e.what}) did not throw`)
    assert.equal(e.name, 'TypeError', `${e.op}(${e.what}): ${e.message}`)
    assert.equal(e.code, codes.INVALID_ARGUMENT, `${e.op}(${e.what}): ${e.message}`)
    assert.match(
      e.message,
      /^The "handle" argument must be a BoundedCache store handle made by cacheOps\.open\(\) \(received /
    )
  }
  assert.match(out.errors.find((e) => e.what === 'a foreign External').message, /received an External\)$/)
  assert.deepEqual(out.after, ['v', 1], 'the real handle still works')
})

test('functions bound to a store keep it alive after its handle and cache are collected', () => {
  const script = `
    const { cacheOps: ops } = require('./binding.js')
    const { BoundedCache } = require('./index.js')
    let h = ops.open(undefined, 10, 0, 0, 0, false, false, undefined)
    ops.set(h, 'k', 'v')
    const [get, peek, has] = ops.bind(h)
    h = null
    let c = new BoundedCache({ max: 10 })
    c.set('a', 'b')
    c = null
    const ref = new WeakRef(ops.bind(ops.open(undefined, 10, 0, 0, 0, false, false, undefined))[0])
    return (async () => {
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((resolve) => setImmediate(resolve)) }
      // A bound function may be extracted: it holds the store, not the reverse.
      console.log(JSON.stringify([get('k'), peek('k'), has('k'), get('x'), get(1), ref.deref() === undefined]))
    })()
  `
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', `(async () => { ${script} })()`], {
    cwd: root,
    encoding: 'utf8'
  })
  assert.equal(r.signal, null, `the child crashed: ${r.stderr}`)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), ['v', 'v', true, null, null, true])
})

test('keys: numbers and strings are distinct, 0 and -0 are one key, long keys work', () => {
  const c = new BoundedCache({ max: 10 })
  c.set(1, 'number').set('1', 'string').set(-0, 'zero')
  assert.equal(c.get(1), 'number')
  assert.equal(c.get('1'), 'string')
  assert.equal(c.get(0), 'zero')
  const long = `${'k'.repeat(5000)}é`
  c.set(long, 'long')
  assert.equal(c.get(long), 'long')
  assert.equal(c.get(long.slice(0, -1)), undefined)
  assert.ok([...c.keys()].includes(long))
  assert.deepEqual(
    [...c.keys()].filter((k) => typeof k === 'number'),
    [0, 1]
  )
})

test('dispose may call back into the cache (no deadlock); a throwing dispose does not stop the others', () => {
  const log = []
  const c = new BoundedCache({
    max: 2,
    dispose(value, key, reason) {
      log.push(`${reason}:${key}`)
      if (key === 'a') c.set('re-added', c.get('b') ?? 'none') // re-entrant use
    }
  })
  // Evicts a, whose dispose reads b (now most recent) and sets 're-added', evicting c.
  c.set('a', 1).set('b', 2).set('c', 3)
  assert.deepEqual(log, ['evict:a', 'evict:c'])
  assert.deepEqual([...c.keys()], ['re-added', 'b'])
  assert.equal(c.get('re-added'), 2)

  let calls = 0
  const d = new BoundedCache({
    max: 5,
    dispose: (v, k) => {
      calls++
      if (k === 'x') throw new Error('dispose failed for x')
    }
  })
  d.set('x', 1).set('y', 2).set('z', 3)
  assert.throws(() => d.clear(), { message: 'dispose failed for x' })
  assert.equal(calls, 3, 'every dispose ran')
  assert.equal(d.size, 0)
})

// ---- bad input matrix ----------------------------------------------------------

const BAD_OPTIONS = [
  [{ max: 1, memo: 'yes' }, 'TypeError', /options\.memo/],
  // [options, name, message]; lru-cache's rule: a bound or ttl that is not a
  // positive integer is a TypeError (ours also has a code and the value).
  ['nope', 'TypeError', "options must be an object (received 'nope')"],
  [{ max: '10' }, 'TypeError', "options.max must be a positive integer up to 4294967296 (received '10')"],
  [{ max: 0 }, 'TypeError', /^At least one of options\.max or options\.maxSize is required/],
  [{ max: -1 }, 'TypeError', 'options.max must be a positive integer up to 4294967296 (received -1)'],
  [{ max: 1.5 }, 'TypeError', /options\.max .*\(received 1\.5\)/],
  [{ max: NaN }, 'TypeError', /options\.max .*\(received NaN\)/],
  [{ max: 2 ** 33 }, 'TypeError', /options\.max .*\(received 8589934592\)/],
  [{ maxSize: true }, 'TypeError', 'options.maxSize must be a positive integer (received true)'],
  [{ maxSize: 0 }, 'TypeError', /^At least one of options\.max or options\.maxSize is required/],
  [{ maxSize: 10.5 }, 'TypeError', 'options.maxSize must be a positive integer (received 10.5)'],
  [{ max: 1, maxEntrySize: -5 }, 'TypeError', 'options.maxEntrySize must be a positive integer (received -5)'],
  [{ max: 1, maxEntrySize: 'big' }, 'TypeError', "options.maxEntrySize must be a positive integer (received 'big')"],
  [{ max: 1, ttl: -1 }, 'TypeError', 'options.ttl must be a positive integer (ms) (received -1)'],
  [{ max: 1, ttl: 1.5 }, 'TypeError', 'options.ttl must be a positive integer (ms) (received 1.5)'],
  [{ max: 1, ttl: '1s' }, 'TypeError', "options.ttl must be a positive integer (ms) (received '1s')"],
  [{ max: 1, ttl: Infinity }, 'TypeError', /options\.ttl .*\(received Infinity\)/],
  [{ max: 1, updateAgeOnGet: 1 }, 'TypeError', 'options.updateAgeOnGet must be a boolean (received 1)'],
  [{ max: 1, ttlAutopurge: 'yes' }, 'TypeError', "options.ttlAutopurge must be a boolean (received 'yes')"],
  [{ max: 1, allowStale: 'yes' }, 'TypeError', "options.allowStale must be a boolean (received 'yes')"],
  [{ max: 1, dispose: 'log' }, 'TypeError', "options.dispose must be a function (received 'log')"],
  [{ max: 1, disposeAfter: 1 }, 'TypeError', 'options.disposeAfter must be a function (received 1)'],
  [{ max: 1, onInsert: {} }, 'TypeError', 'options.onInsert must be a function (received {})'],
  [{ max: 1, fetchMethod: true }, 'TypeError', 'options.fetchMethod must be a function (received true)'],
  [{ max: 1, memoMethod: 'm' }, 'TypeError', "options.memoMethod must be a function (received 'm')"],
  [{ maxSize: 9, sizeCalculation: true }, 'TypeError', 'options.sizeCalculation must be a function (received true)'],
  [{ max: 9, sizeCalculation: () => 1 }, 'TypeError', /options\.sizeCalculation needs options\.maxSize/],
  [{ max: 1, name: 42 }, 'TypeError', 'options.name must be a string (received 42)'],
  [{ max: 1, name: '' }, 'RangeError', "options.name must be a non-empty string (received '')"],
  [{ max: 1, perf: {} }, 'TypeError', /options\.perf must be an object with a now\(\) method/],
  [
    { max: 1, perf: { now: () => 'soon' } },
    'TypeError',
    "options.perf.now() must return a finite number (received 'soon')"
  ]
]

test('bad options: every option with a wrong type, out of range, or conflicting is a coded error', () => {
  for (const [options, name, message] of BAD_OPTIONS) {
    assert.throws(
      () => new BoundedCache(options),
      (err) => {
        assert.equal(err.name, name, `${JSON.stringify(options)}: ${err.message}`)
        assert.equal(err.code, codes.INVALID_OPTION)
        if (typeof message === 'string') assert.equal(err.message, message)
        else assert.match(err.message, message)
        return true
      }
    )
  }
  const c = new BoundedCache({ max: 1 })
  assert.throws(() => c.set('k', 1, { ttl: -1 }), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: /options\.ttl/
  })
  assert.throws(() => c.set('k', 1, { start: NaN, ttl: 5 }), { code: codes.INVALID_OPTION, message: /options\.start/ })
  assert.throws(() => c.set('k', 1, { size: 3 }), {
    name: 'TypeError',
    code: codes.INVALID_OPTION,
    message: /options\.size and options\.sizeCalculation need options\.maxSize or options\.maxEntrySize/
  })
  const sized = new BoundedCache({ maxSize: 100 })
  for (const size of [0, -1, 1.5, '3']) {
    assert.throws(() => sized.set('k', 1, { size }), { name: 'TypeError', code: codes.INVALID_OPTION })
  }
  assert.throws(() => sized.set('k', 1, { sizeCalculation: () => 0 }), {
    name: 'TypeError',
    message: /sizeCalculation return invalid/
  })
  assert.throws(() => c.forEach('x'), { name: 'TypeError', code: codes.INVALID_ARGUMENT })
  assert.throws(() => c.load('x'), { name: 'TypeError', code: codes.INVALID_ARGUMENT })
  assert.throws(() => c.load([['k']]), { name: 'TypeError', code: codes.INVALID_ARGUMENT })
  assert.throws(() => BoundedCache.drop(1), { name: 'TypeError', code: codes.INVALID_ARGUMENT })
})

// ---- the memo of hot values ----------------------------------------------------------

test('the memo of hot values changes nothing observable: a random mix of every operation against the same cache without it', () => {
  const values = [
    (i) => `v${i}`,
    (i) => 'x'.repeat(200 + (i % 120)),
    (i) => i * 1.5,
    (i) => i % 3 === 0,
    () => null,
    (i) => Buffer.from(`b${i}`),
    (i) => ({ i, tags: [i, 'x'] }),
    (i) => `é${i}`
  ]
  const keyOf = (n) => (n % 5 === 0 ? n : n % 7 === 0 ? (n === 7 ? -0 : NaN) : `k${n}`)
  for (const options of [{ max: 64 }, { maxSize: 4000 }, { max: 500, maxSize: 60_000 }]) {
    const memo = new BoundedCache(options)
    const plain = new BoundedCache({ ...options, memo: false })
    assert.equal(memo.memoActive, true)
    assert.equal(plain.memoActive, false)
    let x = 12345
    const rand = (n) => (x = (x * 1103515245 + 12345) >>> 0) % n
    for (let step = 0; step < 30_000; step++) {
      // Zipf-like keys: hot ones repeat, as in a real cache.
      const key = keyOf(rand(rand(300) + 1))
      const op = rand(100)
      const label = `${JSON.stringify(options)} step ${step} op ${op} key ${String(key)}`
      if (op < 55) assert.deepEqual(memo.get(key), plain.get(key), label)
      else if (op < 80) {
        const v = values[rand(values.length)](step)
        const a = (() => {
          try {
            memo.set(key, v)
            return 'ok'
          } catch (e) {
            return e.code
          }
        })()
        const b = (() => {
          try {
            plain.set(key, v)
            return 'ok'
          } catch (e) {
            return e.code
          }
        })()
        assert.equal(a, b, label)
      } else if (op < 85) assert.deepEqual(memo.peek(key), plain.peek(key), label)
      else if (op < 90) assert.equal(memo.has(key), plain.has(key), label)
      else if (op < 94) assert.equal(memo.delete(key), plain.delete(key), label)
      else if (op < 95) assert.deepEqual(memo.pop(), plain.pop(), label)
      else if (op < 96) assert.deepEqual([...memo.keys()], [...plain.keys()], label)
      else if (op < 97) assert.deepEqual(memo.stats(), plain.stats(), label)
      else if (op < 98) assert.deepEqual(memo.dump(), plain.dump(), label)
      else if (op < 99) assert.equal(memo.size, plain.size, label)
      else if (rand(20) === 0) {
        memo.clear()
        plain.clear()
      }
    }
    assert.deepEqual([...memo.entries()], [...plain.entries()])
    assert.deepEqual(memo.stats(), plain.stats())
    assert.ok(memo.stats().hits > 1000, 'the run read hot keys')
  }
})

test('a set of the value the memo holds (served by the memo) still counts as a set and makes the key most recent', () => {
  for (const options of [{ max: 3 }, { max: 3, name: `spec-memo-same-set-${process.pid}` }]) {
    const c = new BoundedCache(options)
    const plain = new BoundedCache({ max: 3, memo: false })
    assert.equal(c.memoActive, true)
    for (const x of [c, plain]) {
      for (const k of ['a', 'b', 'c']) x.set(k, k.toUpperCase())
      for (const k of ['a', 'b', 'c']) assert.equal(x.get(k), k.toUpperCase()) // memoized, 'a' least recent
      x.set('a', 'A')
      x.set('b', 'B')
      x.set('d', 'D') // evicts 'c', the least recent after the two sets
    }
    assert.deepEqual([...c.keys()], ['d', 'b', 'a'], JSON.stringify(options))
    assert.deepEqual([...c.keys()], [...plain.keys()])
    assert.deepEqual(c.stats(), plain.stats())
    assert.equal(c.stats().sets, 6)
    // Another value is stored, and the memo does not hand out the old one.
    c.set('a', 'A2')
    assert.equal(c.get('a'), 'A2')
    c.set('a', 2)
    assert.equal(c.get('a'), 2)
    assert.equal(c.peek('a'), 2)
  }
})

test('the memo forgets what leaves the store: set, delete, pop, eviction, clear, load', () => {
  const c = new BoundedCache({ max: 3 })
  const fill = () => {
    c.clear()
    for (const k of ['a', 'b', 'c']) c.set(k, k.toUpperCase())
  }
  const readAll = () => ['a', 'b', 'c'].map((k) => c.get(k)) // now all memoized, 'a' least recent
  fill()
  readAll()
  c.set('b', 'B2')
  assert.equal(c.get('b'), 'B2')
  assert.equal(c.delete('c'), true)
  assert.equal(c.get('c'), undefined)
  assert.equal(c.has('c'), false)
  fill()
  readAll()
  assert.equal(c.pop(), 'A')
  assert.equal(c.get('a'), undefined)
  assert.equal(c.peek('a'), undefined)
  fill()
  readAll()
  c.set('d', 'D') // evicts 'a', the least recently read
  assert.equal(c.get('a'), undefined)
  assert.deepEqual([...c.keys()], ['d', 'c', 'b'])
  fill()
  readAll()
  const dump = c.dump()
  c.clear()
  assert.equal(c.get('b'), undefined)
  c.load(dump)
  assert.deepEqual([...c.keys()], ['c', 'b', 'a'])
  c.load([['z', { value: 'Z' }]])
  assert.equal(c.get('a'), undefined)
  assert.equal(c.get('z'), 'Z')
})

test('the memo hands out only immutable values: Buffers and objects are fresh copies on every get', () => {
  const c = new BoundedCache({ max: 10 })
  c.set('b', Buffer.from('abc'))
  c.set('o', { a: 1 })
  const b1 = c.get('b')
  b1[0] = 0x7a
  assert.equal(c.get('b').toString(), 'abc')
  assert.notEqual(c.get('b'), c.get('b'))
  const o1 = c.get('o')
  o1.a = 2
  assert.deepEqual(c.get('o'), { a: 1 })
})

test('the memo is off where it could not be exact: ttl, dispose, memo: false; a per-entry ttl turns it off', () => {
  assert.equal(new BoundedCache({ max: 2, ttl: 10 }).memoActive, false)
  assert.equal(new BoundedCache({ max: 2, dispose() {} }).memoActive, false)
  assert.equal(new BoundedCache({ max: 2, memo: false }).memoActive, false)
  const clock = fakeClock()
  const c = new BoundedCache({ max: 4, perf: clock })
  c.set('a', 'x')
  assert.equal(c.get('a'), 'x')
  assert.equal(c.memoActive, true)
  c.set('b', 'y', { ttl: 5 })
  assert.equal(c.memoActive, false)
  assert.equal(c.get('a'), 'x')
  clock.advance(10)
  assert.equal(c.get('b'), undefined, 'the ttl entry expires as without a memo')
})

test('the memo protocol is written once on each side, and the two sides agree', () => {
  const { PROTOCOL } = require('../lib/cache/memo.js')
  const { cacheOps } = require('../binding.js')
  assert.deepEqual({ ...cacheOps.memoProtocol }, { ...PROTOCOL })
  // The special "evicted" values can never be mistaken for a slot.
  assert.ok(PROTOCOL.EVICTED_NONE < 0 && PROTOCOL.EVICTED_SEVERAL < 0)
  assert.notEqual(PROTOCOL.EVICTED_NONE, PROTOCOL.EVICTED_SEVERAL)
})

test('the memo stays small: 100k distinct hot reads keep at most a few thousand values on the JS heap', () => {
  const c = new BoundedCache({ max: 200_000 })
  for (let i = 0; i < 100_000; i++) c.set(i, `value-${i}`)
  const held = []
  for (let i = 0; i < 100_000; i++) held.push(c.get(i) === `value-${i}`)
  assert.ok(held.every(Boolean))
  // Every slot was used and recycled: the next reads are memo hits of recent keys only.
  assert.equal(c.get(99_999), 'value-99999')
  assert.equal(c.get(0), 'value-0')
  assert.deepEqual(c.stats().hits, 100_002)
})

// ---- named stores ------------------------------------------------------------------

test('named stores: one store per name, mismatched options are refused, drop() forgets it', () => {
  const a = new BoundedCache({ name: 'spec-named', max: 5, ttl: 1000 })
  const b = new BoundedCache({ name: 'spec-named', max: 5, ttl: 1000 })
  a.set('k', { shared: true })
  assert.deepEqual(b.get('k'), { shared: true })
  assert.ok(BoundedCache.names().includes('spec-named'))
  assert.deepEqual(a.storeInfo(), { name: 'spec-named', references: 3, registered: true })
  assert.throws(() => new BoundedCache({ name: 'spec-named', max: 6, ttl: 1000 }), {
    name: 'RangeError',
    code: codes.OPTIONS_MISMATCH,
    message: /^options\.max differs from the options the shared cache "spec-named" was created with \(max: 5\)/
  })
  assert.throws(() => new BoundedCache({ name: 'spec-named', max: 5 }), {
    code: codes.OPTIONS_MISMATCH,
    message: /^options\.ttl differs .*\(ttl: 1000\)/
  })
  // dispose and perf are per instance and may differ.
  const withDispose = new BoundedCache({ name: 'spec-named', max: 5, ttl: 1000, dispose: () => {}, perf: fakeClock() })
  assert.equal(withDispose.get('k').shared, true)

  assert.equal(BoundedCache.drop('spec-named'), true)
  assert.equal(BoundedCache.drop('spec-named'), false)
  assert.ok(!BoundedCache.names().includes('spec-named'))
  assert.deepEqual(a.get('k'), { shared: true }, 'instances keep the dropped store')
  assert.equal(a.storeInfo().registered, false)
  const fresh = new BoundedCache({ name: 'spec-named', max: 6 })
  assert.equal(fresh.get('k'), undefined, 'the next opening creates a fresh store')
  BoundedCache.drop('spec-named')
})

test('a named store outlives the instances and threads that opened it, until dropped', async () => {
  const src = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { BoundedCache } = require(workerData)
    new BoundedCache({ name: 'spec-lifetime', max: 100 }).set('from-worker', Buffer.from('hi'))
    parentPort.postMessage('done')`
  const w = new Worker(src, { eval: true, workerData: require.resolve('leakguard') })
  await new Promise((resolve, reject) => {
    w.once('message', resolve)
    w.once('error', reject)
  })
  await w.terminate()
  const c = new BoundedCache({ name: 'spec-lifetime', max: 100 })
  assert.deepEqual(c.get('from-worker'), Buffer.from('hi'))
  BoundedCache.drop('spec-lifetime')
})

// ---- threads -----------------------------------------------------------------------

const STORM = `
  const { parentPort, workerData } = require('node:worker_threads')
  const { BoundedCache } = require(workerData.index)
  const { max, maxSize, ops, id } = workerData
  const c = new BoundedCache({ name: 'spec-storm', max, maxSize })
  let x = (id + 1) * 2654435761 >>> 0
  const rand = () => (x = (x ^ (x << 13)) >>> 0, x = (x ^ (x >>> 17)) >>> 0, x = (x ^ (x << 5)) >>> 0, x)
  let violations = 0, hits = 0
  for (let i = 0; i < ops; i++) {
    const r = rand()
    const key = 'k' + (r % 3000)
    const op = (r >>> 16) % 10
    if (op < 5) { const v = c.get(key); if (v !== undefined) { hits++; if (v.key !== undefined && v.key !== key) violations++ } }
    else if (op < 8) c.set(key, r % 3 === 0 ? { key, pad: 'p'.repeat(r % 64) } : r % 3 === 1 ? Buffer.alloc(r % 50, 1) : 'v'.repeat(r % 80))
    else c.delete(key)
    if ((i & 255) === 0) {
      const s = c.stats()
      if (s.size > max || s.calculatedSize > maxSize) violations++
      if (i === 4096) parentPort.postMessage({ started: true })
    }
  }
  parentPort.postMessage({ done: true, violations, hits })`

test('5 worker_threads storm one named store; one is terminated mid-storm; invariants hold and the store still works', async () => {
  const max = 1000
  const maxSize = 40_000
  const index = require.resolve('leakguard')
  const workers = Array.from(
    { length: 5 },
    (_, id) =>
      new Worker(STORM, { eval: true, workerData: { index, max, maxSize, ops: id === 4 ? 10_000_000 : 20_000, id } })
  )
  const results = workers.slice(0, 4).map(
    (w) =>
      new Promise((resolve, reject) => {
        w.on('message', (m) => {
          if (m.done) resolve(m)
        })
        w.once('error', reject)
      })
  )
  // The fifth runs far longer than the others; terminate it while it is storming.
  await new Promise((resolve, reject) => {
    workers[4].once('message', resolve)
    workers[4].once('error', reject)
  })
  const code = await workers[4].terminate()
  assert.equal(code, 1, 'terminated, not finished')
  const done = await Promise.all(results)
  for (const r of done) assert.equal(r.violations, 0)
  assert.ok(
    done.some((r) => r.hits > 0),
    "threads saw each other's entries"
  )

  const c = new BoundedCache({ name: 'spec-storm', max, maxSize })
  const s = c.stats()
  assert.ok(s.size <= max && s.calculatedSize <= maxSize, JSON.stringify(s))
  const entries = [...c.entries()]
  assert.equal(entries.length, c.size)
  assert.equal(
    entries.reduce((sum, [k, v]) => sum + entryBytes(k, v), 0),
    c.calculatedSize,
    'byte accounting survived the storm'
  )
  c.set('after', 'works')
  assert.equal(c.get('after'), 'works')
  c.clear()
  assert.equal(c.calculatedSize, 0)
  BoundedCache.drop('spec-storm')
})

// ---- no leak -------------------------------------------------------------------

/** Theil–Sen slope: the median of the pairwise slopes, robust to GC spikes. */
function theilSen(xs, ys) {
  const slopes = []
  for (let i = 0; i < xs.length; i++)
    for (let j = i + 1; j < xs.length; j++) slopes.push((ys[j] - ys[i]) / (xs[j] - xs[i]))
  slopes.sort((a, b) => a - b)
  const m = slopes.length >> 1
  return slopes.length % 2 ? slopes[m] : (slopes[m - 1] + slopes[m]) / 2
}

test('theilSen: the slope statistic itself sees a real trend and ignores spikes', () => {
  const xs = Array.from({ length: 20 }, (_, i) => i * 1000)
  assert.equal(
    theilSen(
      xs,
      xs.map((x) => 5 * x + 7)
    ),
    5
  )
  const spiky = xs.map((x, i) => 1e6 + (i % 5 === 0 ? 5e5 : 0))
  assert.equal(theilSen(xs, spiky), 0)
})

// RSS minus the V8 heap's committed size: the off-heap memory the store
// lives in. Process RSS alone moves in steps while V8 grows its young
// generation (5 -> 36 MB over the first ~500k cycles, with or without a
// cache), which a slope over 20 samples would read as growth.
function leakRun(mode) {
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '-e',
      `
    const { BoundedCache, processMemory } = require('./index.js')
    const c = new BoundedCache({ max: 2000, maxSize: 256 * 1024, dispose: () => {} })
    const value = { id: 0, name: 'x'.repeat(40) }
    const buf = Buffer.alloc(64, 7)
    const leaked = []
    const samples = []
    const warmup = 500_000, cycles = 1_000_000, every = cycles / 20
    for (let i = 0; i < warmup + cycles; i++) {
      const k = 'key:' + i
      const kind = i % 3
      c.set(k, kind === 0 ? 'v'.repeat(i % 100) : kind === 1 ? buf : value)
      c.get(k); c.get('key:' + (i >> 1)); c.has(k)
      if (i % 10 === 0) c.delete('key:' + (i - 5))
      if (${mode === 'leaky'}) leaked.push(Buffer.allocUnsafeSlow(24)) // the control: 24 B/cycle off-heap
      if (i >= warmup && (i - warmup) % every === 0) {
        gc()
        const m = processMemory()
        samples.push([i - warmup, m.rss - m.heapTotal])
      }
    }
    process.stdout.write(JSON.stringify({ samples, size: c.size, bytes: c.calculatedSize, stats: c.stats(), leaked: leaked.length }))
  `
    ],
    { cwd: root, encoding: 'utf8', timeout: 120_000 }
  )
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  out.slope = theilSen(
    out.samples.map((s) => s[0]),
    out.samples.map((s) => s[1])
  )
  out.describe = () =>
    `${out.slope.toFixed(3)} bytes/cycle (samples ${out.samples.map((s) => (s[1] / 2 ** 20).toFixed(1)).join(', ')} MB)`
  return out
}

test('the cache itself does not leak: 1M set/get/evict cycles keep off-heap RSS flat', (t) => {
  const run = leakRun('cache')
  t.diagnostic(`cache: ${run.describe()}`)
  assert.equal(run.samples.length, 20)
  assert.ok(run.size <= 2000 && run.bytes <= 256 * 1024)
  assert.ok(run.stats.evictions > 800_000, `evictions ${run.stats.evictions}`)
  // glibc grows its heap in steps (0.4-0.8 MB seen once or twice per million
  // cycles, flat over 4M cycles), which a 1M-cycle slope reads as up to ~1
  // B/cycle; anything leaked per entry (key + value, or a node) is >= 24 B/cycle.
  assert.ok(run.slope < 4, `off-heap RSS grows ${run.describe()}`)
  // The same measurement sees a real off-heap leak of 24 B/cycle.
  const control = leakRun('leaky')
  t.diagnostic(`control: ${control.describe()}`)
  assert.ok(control.slope > 10, `the control leak was not seen: ${control.describe()}`)
})
