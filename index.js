'use strict'
// leakguard's public API. Each capability lives in one file under lib/;
// this file only gathers them.

const { codes } = require('./lib/errors')
const { processMemory } = require('./lib/memory')
const { recycle, Recycler } = require('./lib/recycle')

module.exports = {
  codes,
  processMemory,
  recycle,
  Recycler
}
