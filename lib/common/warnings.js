'use strict'
// The process warnings leakguard emits (`process.on('warning')`): one type and
// one table of the codes that belong to warnings only. A warning about
// something that also has a throwing form reuses that error's code from
// errors.js (a left-open resource is ERR_LEAKGUARD_LEFT_OPEN either way).

/** `warning.name` of every leakguard process warning except the renames (DeprecationWarning). */
const WARNING_TYPE = 'LeakGuardWarning'

/** Codes of the warnings that have no error twin. */
const warningCodes = Object.freeze({
  /** The monitor's verdicts, one per metric. */
  HEAP_GROWTH: 'LEAKGUARD_HEAP_GROWTH',
  EXTERNAL_GROWTH: 'LEAKGUARD_EXTERNAL_GROWTH',
  ARRAY_BUFFERS_GROWTH: 'LEAKGUARD_ARRAY_BUFFERS_GROWTH',
  FD_GROWTH: 'LEAKGUARD_FD_GROWTH',
  /** A monitor check threw; the monitor goes on. */
  MONITOR_CHECK_FAILED: 'LEAKGUARD_MONITOR_CHECK_FAILED',
  /** More than 16 monitors run in one thread. */
  TOO_MANY_MONITORS: 'LEAKGUARD_TOO_MANY_MONITORS',
  /** Jobs end while the thread's event loop never runs (Piscina's atomics: 'sync'). */
  EVENT_LOOP_BLOCKED: 'LEAKGUARD_EVENT_LOOP_BLOCKED',
  /** gracefulExit's close() threw or rejected; the exit goes on. */
  RECYCLE_CLOSE_FAILED: 'LEAKGUARD_RECYCLE_CLOSE_FAILED',
  /** A renamed option or field was used (a DeprecationWarning, once per name). */
  RENAMED: 'LEAKGUARD_RENAMED'
})

/** `process.emitWarning` as a LeakGuardWarning with `code` (and `detail`, when given). */
function emitLeakguardWarning(message, code, detail) {
  process.emitWarning(message, { type: WARNING_TYPE, code, detail })
}

module.exports = { WARNING_TYPE, warningCodes, emitLeakguardWarning }
