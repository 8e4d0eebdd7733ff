'use strict'
// JS entry to the native trend statistics (src/trend): Theil–Sen slope,
// Mann–Kendall significance, post-GC floor. The monitor (assessTrendF64, on
// its Float64Array columns) and the test assertions (assessTrend) both come
// here, so both reach the same verdict on the same data.

const native = require('../common/native')
const { invalidArgType, invalidArgValue } = require('../common/errors')
const { readOptions, checkNumber, checkInteger } = require('../common/options')

const OPTION_KEYS = ['alpha', 'minSlope', 'minGrowth', 'floorBlocks', 'recentFraction']

function checkSeries(name, values) {
  if (!Array.isArray(values) && !(values instanceof Float64Array)) {
    throw invalidArgType(name, 'an array of numbers', values)
  }
  return Array.isArray(values) ? values : Array.from(values)
}

/**
 * Assesses whether `ys` (sampled at ascending `xs`) grows.
 * @returns {null | { overall: TrendFit, recent: TrendFit | null, growing: boolean, reason: string }}
 */
function assessTrend(xs, ys, options) {
  const x = checkSeries('xs', xs)
  const y = checkSeries('ys', ys)
  if (x.length !== y.length) throw invalidArgValue('ys', `the same length as xs (${x.length})`, y.length)
  const opts = readOptions('options', options, OPTION_KEYS)
  checkNumber('options.alpha', opts.alpha, { min: 0, max: 1, exclusiveMin: true })
  checkNumber('options.minSlope', opts.minSlope)
  checkNumber('options.minGrowth', opts.minGrowth)
  checkInteger('options.floorBlocks', opts.floorBlocks, { min: 0, max: 10_000 })
  checkNumber('options.recentFraction', opts.recentFraction, { min: 0, max: 1, exclusiveMin: true })
  return native.trendAssess(x, y, opts) ?? null
}

/**
 * The same verdict on Float64Arrays, borrowed in place by the native code (no
 * per-element conversion). For leakguard's own callers, whose series and
 * options are valid by construction: nothing is checked here.
 * @param {Float64Array} xs
 * @param {Float64Array} ys
 * @param {{ alpha?: number, minSlope?: number, minGrowth?: number, floorBlocks?: number, recentFraction?: number }} options
 */
function assessTrendF64(xs, ys, options) {
  return native.trendAssessF64(xs, ys, options) ?? null
}

module.exports = { assessTrend, assessTrendF64 }
