// The JS entry to the native trend statistics.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { assessTrend } = require('../lib/trend/trend.js')

const xs = Array.from({ length: 200 }, (_, i) => i)

test('a steady leak under sawtooth garbage is growing; the same sawtooth without it is not', () => {
  const leak = xs.map((x) => 50e6 + 1024 * x + (x % 17) * 40_000)
  const flat = xs.map((x) => 50e6 + (x % 17) * 40_000)
  const a = assessTrend(xs, leak, { floorBlocks: 20 })
  assert.equal(a.growing, true, a.reason)
  assert.ok(Math.abs(a.overall.slope - 1024) < 100, `slope ${a.overall.slope}`)
  assert.ok(a.overall.pValue < 1e-3, `p ${a.overall.pValue}`)
  const b = assessTrend(xs, flat, { floorBlocks: 20 })
  assert.equal(b.growing, false, b.reason)
})

test('a warm-up that stops is not growing, and the reason says so', () => {
  const warm = xs.map((x) => 1e6 + 10_000 * Math.min(x, 60))
  const a = assessTrend(xs, warm, { floorBlocks: 20 })
  assert.equal(a.growing, false)
  assert.match(a.reason, /stopped/)
})

test('too few points give null; bad input gives coded errors', () => {
  assert.equal(assessTrend([1, 2], [1, 2]), null)
  assert.throws(() => assessTrend('x', []), { name: 'TypeError', code: 'ERR_LEAKGUARD_INVALID_ARGUMENT' })
  assert.throws(() => assessTrend([1, 2, 3], [1, 2]), { name: 'RangeError', code: 'ERR_LEAKGUARD_INVALID_ARGUMENT' })
  assert.throws(() => assessTrend(xs, xs, { alpha: 2 }), {
    name: 'RangeError',
    code: 'ERR_LEAKGUARD_INVALID_OPTION',
    message: /options\.alpha must be a number > 0 and <= 1 \(received 2\)/
  })
  assert.throws(() => assessTrend(xs, xs, { floorblocks: 2 }), { code: 'ERR_LEAKGUARD_INVALID_OPTION' })
})
