'use strict'
// leakguard's public API. Each capability lives in one file under lib/;
// this file only gathers them.

const { codes } = require('./lib/errors')
const { processMemory } = require('./lib/memory')
const { BoundedCache } = require('./lib/cache')

module.exports = {
  codes,
  processMemory,
  BoundedCache
}
