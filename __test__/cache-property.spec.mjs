// Property-based test of BoundedCache (fast-check): random sequences of
// operations against a model LRU written in a few lines of JS, with keys and
// values that include lone surrogates and the replacement character, and
// dump()/load() round trips in the middle. The memo of hot values is on in
// one run and off in the other: it must not change a single result.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import fc from 'fast-check'

const require = createRequire(import.meta.url)
const { BoundedCache } = require('leakguard')

const MAX = 6

/** The model: a Map in recency order (least recently used first). */
class ModelLru {
  map = new Map()
  get(k) {
    if (!this.map.has(k)) return undefined
    const v = this.map.get(k)
    this.map.delete(k)
    this.map.set(k, v)
    return v
  }
  peek(k) {
    return this.map.get(k)
  }
  has(k) {
    return this.map.has(k)
  }
  set(k, v) {
    this.map.delete(k)
    this.map.set(k, v)
    if (this.map.size > MAX) this.map.delete(this.map.keys().next().value)
  }
  delete(k) {
    return this.map.delete(k)
  }
  pop() {
    if (this.map.size === 0) return undefined
    const [k, v] = this.map.entries().next().value
    this.map.delete(k)
    return v
  }
  keys() {
    return [...this.map.keys()].reverse()
  }
}

const tricky = fc.constantFrom('\uD800', '\uDC00', '\uDFFF', '\uFFFD', 'a\uD800', '\uDC00b', '\uD83D\uDE00', 'é', '')
const key = fc.oneof(
  tricky,
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 3 }),
  fc.integer({ min: -3, max: 3 })
)
const value = fc.oneof(
  tricky,
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(tricky, fc.integer()), { maxLength: 3 })
)
const op = fc.oneof(
  fc.record({ op: fc.constant('set'), key, value }),
  fc.record({ op: fc.constantFrom('get', 'peek', 'has', 'delete'), key }),
  fc.record({ op: fc.constantFrom('pop', 'keys', 'size', 'reload', 'clear') })
)

for (const memo of [true, false]) {
  test(`random operation sequences match a model LRU, lone surrogates and dump/load included (memo: ${memo})`, () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let cache = new BoundedCache({ max: MAX, memo })
        const model = new ModelLru()
        for (const o of ops) {
          const k = o.key
          switch (o.op) {
            case 'set':
              cache.set(k, o.value)
              model.set(k, o.value)
              break
            case 'get':
              assert.deepEqual(cache.get(k), model.get(k))
              break
            case 'peek':
              assert.deepEqual(cache.peek(k), model.peek(k))
              break
            case 'has':
              assert.equal(cache.has(k), model.has(k))
              break
            case 'delete':
              assert.equal(cache.delete(k), model.delete(k))
              break
            case 'pop':
              assert.deepEqual(cache.pop(), model.pop())
              break
            case 'keys':
              assert.deepEqual([...cache.keys()], model.keys())
              break
            case 'size':
              assert.equal(cache.size, model.map.size)
              break
            case 'clear':
              cache.clear()
              model.map.clear()
              break
            case 'reload': {
              // dump() into a fresh cache: same entries, same order.
              const next = new BoundedCache({ max: MAX, memo })
              next.load(cache.dump())
              assert.deepEqual([...next.entries()], [...cache.entries()])
              cache = next
              break
            }
          }
        }
        assert.deepEqual([...cache.keys()], model.keys())
        assert.deepEqual(
          [...cache.values()],
          model.keys().map((k) => model.map.get(k))
        )
      }),
      { numRuns: 300, seed: Number(process.env.FC_SEED) || undefined }
    )
  })
}
