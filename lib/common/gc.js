'use strict'
// The one way leakguard forces a full, synchronous garbage collection, with or
// without `--expose-gc` on the command line (the assertions, snapshot capture
// and the monitor's confirmation GCs all come here).

const v8 = require('node:v8')
const vm = require('node:vm')
const { leakguardError } = require('./errors')

let gcFunction = null
const GC_ATTEMPTS = 64

/**
 * V8 installs `gc` in contexts created while `--expose-gc` is on, so the flag
 * is switched on, a fresh vm context hands its `gc` over, and the flag is
 * switched off again at once, so that no later context (user code, a test
 * runner's sandbox) finds a `gc` global it did not ask for. The function
 * obtained stays usable. Jest's --detectLeaks uses the same technique.
 * @returns {() => void}
 */
function obtainGc() {
  if (typeof globalThis.gc === 'function') return globalThis.gc
  // V8's flags are process-wide: another worker_thread switching the flag off
  // between our "on" and our new context leaves that context without `gc`
  // (seen with a pool of monitored threads). Each thread does this once, so a
  // few more tries make the loss of that race vanishingly rare.
  let fn
  for (let attempt = 0; attempt < GC_ATTEMPTS && typeof fn !== 'function'; attempt++) {
    v8.setFlagsFromString('--expose-gc')
    try {
      fn = vm.runInNewContext('typeof gc === "function" ? gc : undefined')
    } finally {
      v8.setFlagsFromString('--no-expose-gc')
    }
  }
  if (typeof fn !== 'function') {
    throw leakguardError(
      'INVALID_VALUE',
      'leakguard could not obtain a gc() function from V8 (--expose-gc had no effect)'
    )
  }
  return fn
}

/** A full, synchronous garbage collection of this thread's isolate. */
function fullGc() {
  if (gcFunction === null) gcFunction = obtainGc()
  gcFunction()
}

module.exports = { fullGc }
