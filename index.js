'use strict'
// leakguard's public API. Each capability lives in one file under lib/;
// this file only gathers them.

const { codes } = require('./lib/errors')
const { processMemory } = require('./lib/memory')
const { monitor, onWorkerWarning } = require('./lib/monitor')

module.exports = {
  codes,
  processMemory,
  monitor,
  onWorkerWarning
}
