// The cache defects an adversarial review found (issue 18), each pinned by a
// test that failed on the code before the fix: lone surrogates merged keys,
// values and store names; load() let NaN/Infinity in; a perf.now() gone bad
// switched clocks silently; user code that throws while a value is read was
// reported as a cycle.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { BoundedCache, codes } = require('leakguard')

const LONE = ['\uD800', '\uDC00', '\uDFFF', 'a\uD800b', '\uDFFF\uD800', '\uD83D', 'x\uDE00']

for (const memo of [true, false]) {
  test(`lone surrogates: keys stay distinct and round-trip exactly (memo: ${memo})`, () => {
    const c = new BoundedCache({ max: 100, memo })
    c.set('\uD800', 'high')
    c.set('\uDC00', 'low')
    assert.equal(c.size, 2, 'two keys, not one')
    assert.equal(c.get('\uD800'), 'high')
    assert.equal(c.get('\uDC00'), 'low')
    assert.equal(c.get('\uFFFD'), undefined, 'a key that was never set')
    for (const k of LONE) c.set(k, `v${k}`)
    c.set('\uFFFD', 'replacement char')
    assert.equal(c.size, new Set(['\uD800', '\uDC00', ...LONE, '\uFFFD']).size)
    for (const k of LONE) assert.equal(c.get(k), `v${k}`)
    const keys = [...c.keys()]
    for (const k of LONE) assert.ok(keys.includes(k), `keys() gives ${escape(k)} back exactly`)
    // Long strings take another path.
    const long = `${'é'.repeat(300)}\uD800${'z'.repeat(300)}`
    c.set(long, long)
    assert.equal(c.get(long), long)
    assert.equal(c.get(long.replace('\uD800', '\uFFFD')), undefined)
  })

  test(`lone surrogates: string values come back exactly, and the memo does not change results (memo: ${memo})`, () => {
    const c = new BoundedCache({ max: 10, memo })
    for (const v of LONE) {
      c.set('k', v)
      assert.equal(c.get('k'), v)
      assert.equal(c.peek('k'), v)
    }
    const d = new BoundedCache({ max: 10, memo })
    d.set('\uD800', 'high')
    assert.equal(d.get('\uD800'), 'high')
    d.set('\uDC00', 'low')
    assert.equal(d.get('\uD800'), 'high')
    assert.equal(d.get('\uDC00'), 'low')
    const dumped = d.dump()
    const e = new BoundedCache({ max: 10, memo })
    e.load(dumped)
    assert.deepEqual([...e.entries()], [...d.entries()])
  })
}

test('lone surrogates: named stores whose names differ only there are refused, never merged', () => {
  for (const name of ['cache-\uD800', 'cache-\uDFFF']) {
    assert.throws(() => new BoundedCache({ max: 10, name }), {
      name: 'RangeError',
      code: codes.INVALID_OPTION,
      message: /options\.name must be a well-formed string/
    })
  }
  assert.ok(!BoundedCache.names().some((n) => n.startsWith('cache-')))
  assert.equal(BoundedCache.drop('cache-\uD800'), false)
})

test('load() validates entries like set(): a ttl of Infinity or a start of NaN is a coded error and changes nothing', () => {
  const c = new BoundedCache({ max: 10 })
  c.set('keep', 1)
  for (const entry of [
    { value: 1, ttl: Infinity },
    { value: 1, ttl: NaN },
    { value: 1, ttl: -5 },
    { value: 1, ttl: '10' },
    { value: 1, ttl: 10, start: NaN },
    { value: 1, ttl: 10, start: Infinity },
    { value: 1, size: 0 }
  ]) {
    assert.throws(() => c.load([['k', entry]]), { code: codes.INVALID_OPTION }, JSON.stringify(entry))
    assert.deepEqual([...c.keys()], ['keep'], 'a bad row changes nothing')
  }
  c.load([['k', { value: 2, ttl: 1000, start: Date.now() }]])
  const left = c.getRemainingTTL('k')
  assert.ok(left > 0 && left <= 1000, `remaining ttl ${left}`)
})

test('a perf.now() that starts returning a non-number is a coded error, not a silent switch of clock', () => {
  let t = 1000
  let broken = false
  const perf = { now: () => (broken ? undefined : t) }
  const c = new BoundedCache({ max: 10, ttl: 100, perf })
  c.set('a', 1)
  t += 50
  assert.equal(c.get('a'), 1)
  broken = true
  for (const op of [() => c.get('a'), () => c.set('b', 2), () => c.has('a'), () => c.getRemainingTTL('a')]) {
    assert.throws(op, { name: 'TypeError', code: codes.INVALID_OPTION, message: /perf\.now\(\) returned undefined/ })
  }
  broken = false
  t += 60
  assert.equal(c.get('a'), undefined, 'expiry still follows the one clock')
})

test('a value whose getter or toJSON throws, or a Proxy, gets a clear message, not "it contains a cycle"', () => {
  const c = new BoundedCache({ max: 10 })
  const cases = [
    [
      {
        get x() {
          throw new Error('boom')
        }
      },
      /reading it threw \(a getter, toJSON\(\) or Proxy trap\): boom/
    ],
    [
      {
        toJSON() {
          throw new Error('nope')
        }
      },
      /reading it threw .*: nope/
    ],
    [new Proxy({ a: 1 }, {}), /the value is a Proxy/],
    [{ inner: new Proxy({}, {}) }, /property 'inner' is a Proxy/],
    [
      {
        inner: new Proxy(
          {},
          {
            get() {
              throw new Error('trap')
            }
          }
        )
      },
      /reading it threw .*: trap/
    ]
  ]
  for (const [value, message] of cases) {
    assert.throws(
      () => c.set('k', value),
      (err) => {
        assert.equal(err.code, codes.INVALID_VALUE)
        assert.match(err.message, message)
        assert.doesNotMatch(err.message, /cycle/)
        return true
      }
    )
  }
  const cyclic = {}
  cyclic.self = cyclic
  assert.throws(() => c.set('k', cyclic), { code: codes.INVALID_VALUE, message: /it contains a cycle/ })
})
