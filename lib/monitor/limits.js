'use strict'
// The limits the monitor projects growth onto ("at this rate the 4.0 GB heap
// limit is reached in ~6 min"), and the memory an autopsy may use.
//
// The heap limit is the old generation's maximum (what --max-old-space-size
// sets), not v8.getHeapStatistics().heap_size_limit, which adds the young
// generation (3 semi-spaces: 4144 MB for a 4096 MB old generation). Measured
// on Node 20 with --max-old-space-size=64 (heap_size_limit 112 MB): a heap
// leaking 256 KB arrays at 2.5 MB/s reached 54-64 MB of heapUsed before V8
// gave up (V8 shrinks the young generation near the limit); one leaking 8 KB
// arrays died at ~52 MB after half a minute of back-to-back full GCs, which
// no projection foresees.

const os = require('node:os')
const v8 = require('node:v8')
const { resourceLimits } = require('node:worker_threads')
const native = require('../common/native')

const MB = 1024 * 1024
// V8's semi-space bounds on 64-bit builds without pointer compression (Node's
// default build): 1 MB to 16 MB, sized at 1/128 of the old generation.
const MIN_SEMI = 1 * MB
const MAX_SEMI = 16 * MB

/** The value of a V8 size flag (MB) given on the command line or in NODE_OPTIONS. */
function flagMb(name) {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)]
  const re = new RegExp(`^--${name.replace(/-/g, '[-_]')}=(\\d+)$`)
  let value
  for (const a of args) {
    const m = re.exec(a)
    if (m) value = Number(m[1]) // the last one wins, as for V8
  }
  return value
}

let heapLimit
/** The heap figure at which this isolate runs out of memory: the old generation's maximum (see above). Computed once. */
function heapLimitBytes() {
  if (heapLimit !== undefined) return heapLimit
  if (resourceLimits?.maxOldGenerationSizeMb) {
    heapLimit = resourceLimits.maxOldGenerationSizeMb * MB
    return heapLimit
  }
  const oldFlag = flagMb('max-old-space-size')
  if (oldFlag !== undefined) {
    heapLimit = oldFlag * MB
    return heapLimit
  }
  // heap_size_limit = old + 3 × semi-space, the semi-space sized at 1/128 of
  // the old generation within its bounds (or as --max-semi-space-size says).
  const total = v8.getHeapStatistics().heap_size_limit
  const semiFlag = flagMb('max-semi-space-size')
  const semi = semiFlag !== undefined ? semiFlag * MB : Math.min(MAX_SEMI, Math.max(MIN_SEMI, total / (128 + 3)))
  heapLimit = total - 3 * semi
  return heapLimit
}

let memoryLimit
/**
 * The memory this process may use: the cgroup limit when there is one, else
 * the machine's memory. Read once (it reads /proc and /sys).
 */
function memoryLimitBytes() {
  if (memoryLimit !== undefined) return memoryLimit
  const total = os.totalmem()
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : 0
  memoryLimit = constrained > 0 && constrained < total ? constrained : total
  return memoryLimit
}

/** Memory still available to this process, bytes (the tighter of free memory and its cgroup limit). */
function availableMemoryBytes(rss) {
  const limit = memoryLimitBytes()
  let avail = os.freemem()
  if (limit < os.totalmem()) avail = Math.min(avail, limit - rss)
  return Math.max(0, avail)
}

let fdLimit
/** The soft limit on open file descriptors (`ulimit -n`), or null when unlimited. Read once. */
function fdLimitCount() {
  if (fdLimit === undefined) fdLimit = native.fdLimit() ?? null
  return fdLimit
}

module.exports = { heapLimitBytes, memoryLimitBytes, availableMemoryBytes, fdLimitCount }
