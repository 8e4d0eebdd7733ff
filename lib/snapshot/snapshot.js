'use strict'
// Heap snapshots: writeHeapSnapshot() (full GC, then V8's writer) and the
// native analysis — diffHeapSnapshots() / summarizeHeapSnapshot() run the
// Rust parser, dominator tree and diff on the libuv pool (the *Sync twins on
// the calling thread), so a 300 MB pair never touches the JS heap.

const v8 = require('node:v8')
const path = require('node:path')
const { fileURLToPath } = require('node:url')
const native = require('../common/native')
const { fullGc } = require('../common/gc')
const {
  codes,
  clip,
  describePath,
  invalidArgType,
  invalidArgValue,
  invalidOptionType,
  leakguardError
} = require('../common/errors')
const { readOptions, checkInteger, checkNumber } = require('../common/options')
const { blamePackages } = require('./locate')

const DEFAULTS = Object.freeze({ top: 20 })
const MAX_TOP = 10_000
// leakguard's own code (check runner, scopes, assertions) runs the user's
// jobs: retainer paths through it are true but are not the leak, so the
// native search follows them only when nothing else holds an object.
const HARNESS = Object.freeze([path.join(__dirname, '..') + path.sep])

/**
 * Collects garbage, then writes a heap snapshot of this thread's isolate.
 * Blocks the event loop while it writes (about 4 s per 100 MB of snapshot).
 * @param {string} [path] file to write; default: V8's `Heap.<date>.<pid>.<tid>.<n>.heapsnapshot` in the cwd
 * @returns {string} the path written
 */
function writeHeapSnapshot(path) {
  if (path !== undefined) path = toPath('path', path)
  fullGc()
  try {
    return path === undefined ? v8.writeHeapSnapshot() : v8.writeHeapSnapshot(path)
  } catch (err) {
    throw leakguardError(
      'IO',
      `cannot write heap snapshot${path ? ` ${describePath(path)}` : ''}: ${clip(String(err.message), 400)}`,
      { cause: err }
    )
  }
}

function toPath(name, value) {
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw invalidArgValue(name, 'a file path or file: URL', value.href)
    return fileURLToPath(value)
  }
  if (typeof value !== 'string') throw invalidArgType(name, 'a string or file: URL', value)
  if (value.length === 0) throw invalidArgValue(name, 'a non-empty path', value)
  return value
}

function checkSignal(name, value) {
  if (value === undefined) return undefined
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof value.aborted !== 'boolean' ||
    typeof value.addEventListener !== 'function'
  ) {
    throw invalidOptionType(name, 'an AbortSignal', value)
  }
  return value
}

function resolveDiffOptions(options) {
  const opts = readOptions('options', options, ['jobsBetween', 'top', 'signal'])
  const jobsBetween = checkNumber('options.jobsBetween', opts.jobsBetween, {
    min: 0,
    exclusiveMin: true,
    max: Number.MAX_SAFE_INTEGER
  })
  const top = checkInteger('options.top', opts.top, { min: 1, max: MAX_TOP }) ?? DEFAULTS.top
  const signal = checkSignal('options.signal', opts.signal)
  return { jobsBetween, top, signal }
}

function resolveSummaryOptions(options) {
  const opts = readOptions('options', options, ['top', 'signal'])
  const top = checkInteger('options.top', opts.top, { min: 1, max: MAX_TOP }) ?? DEFAULTS.top
  const signal = checkSignal('options.signal', opts.signal)
  return { top, signal }
}

/**
 * Turns the native JSON envelope into a value or a coded Error. A panic (a bug
 * in leakguard) keeps its message and source location, in the Sync and the
 * async variants alike.
 */
function unwrap(json, signal) {
  const out = JSON.parse(json)
  if (out.error) {
    const { code, message } = out.error
    const key = Object.keys(codes).find((k) => codes[k] === code) || 'PANIC'
    const cause = key === 'ABORTED' && signal ? { cause: signal.reason } : undefined
    throw leakguardError(key, message, cause)
  }
  return out.ok
}

function abortedError(signal) {
  return leakguardError('ABORTED', 'heap snapshot analysis was aborted', { cause: signal.reason })
}

/**
 * Runs a native analysis on the libuv pool. An abort settles the promise at
 * once with ERR_LEAKGUARD_ABORTED, and sets the cancel token: the native side
 * stops at its next look at it (between records, or within 50 ms while it
 * waits for data from a FIFO), which frees its pool thread, so a pending
 * read never keeps the process alive after an abort.
 */
async function runAsync(start, signal) {
  if (signal?.aborted) throw abortedError(signal)
  const token = new native.SnapshotCancelToken()
  const task = start(token)
  if (!signal) return unwrap(await task)
  let onAbort
  const aborted = new Promise((_resolve, reject) => {
    onAbort = () => {
      token.cancel()
      reject(abortedError(signal))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  // The native task settles (with ABORTED) shortly after an abort; nobody
  // waits for it then, and its outcome must not become an unhandled rejection.
  task.catch(() => {})
  try {
    return unwrap(await Promise.race([task, aborted]), signal)
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * Compares two heap snapshots off the main thread.
 * @returns {Promise<import('../../index').HeapDiff>}
 */
async function diffHeapSnapshots(before, after, options) {
  const b = toPath('before', before)
  const a = toPath('after', after)
  const { jobsBetween, top, signal } = resolveDiffOptions(options)
  return blamePackages(
    await runAsync((token) => native.diffHeapSnapshotsNative(b, a, jobsBetween, top, token, [...HARNESS]), signal)
  )
}

/** Synchronous twin of diffHeapSnapshots (blocks the calling thread). */
function diffHeapSnapshotsSync(before, after, options) {
  const b = toPath('before', before)
  const a = toPath('after', after)
  const { jobsBetween, top, signal } = resolveDiffOptions(options)
  if (signal !== undefined) throw invalidOptionType('options.signal', 'undefined for the Sync variant', signal)
  return blamePackages(unwrap(native.diffHeapSnapshotsNativeSync(b, a, jobsBetween, top, [...HARNESS])))
}

/**
 * Per-class totals of one snapshot (DevTools' Summary view), off the main thread.
 * @returns {Promise<import('../../index').HeapSummary>}
 */
async function summarizeHeapSnapshot(path, options) {
  const p = toPath('path', path)
  const { top, signal } = resolveSummaryOptions(options)
  return runAsync((token) => native.summarizeHeapSnapshotNative(p, top, token), signal)
}

function summarizeHeapSnapshotSync(path, options) {
  const p = toPath('path', path)
  const { top, signal } = resolveSummaryOptions(options)
  if (signal !== undefined) throw invalidOptionType('options.signal', 'undefined for the Sync variant', signal)
  return unwrap(native.summarizeHeapSnapshotNativeSync(p, top))
}

module.exports = {
  // Internal (the test suite drives them with the native test hooks).
  unwrap,
  runAsync,
  writeHeapSnapshot,
  diffHeapSnapshots,
  diffHeapSnapshotsSync,
  summarizeHeapSnapshot,
  summarizeHeapSnapshotSync
}
