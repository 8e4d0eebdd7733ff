'use strict'
// Warning delivery to the host: process.emitWarning in this thread, the
// BroadcastChannel through which monitors in worker_threads reach the main
// thread (received there by onWorkerWarning() and main-thread monitors), and
// IPC to the parent of a forked child (sendToParent).

const { isMainThread, threadId, BroadcastChannel } = require('node:worker_threads')
const channels = require('../common/channels')
const { invalidArgType } = require('../common/errors')

const WARNING_CHANNEL = 'leakguard:warnings'
const WARNING_TYPE = 'LeakGuardWarning'

// ---- worker_thread -> main thread ---------------------------------------------

/** This thread's sending end, opened with the first warning of a monitor inside a worker_thread. */
let broadcast = null

/** Posts a warning raised in a worker_thread to the main thread (a no-op on the main thread). */
function postToHost(warning) {
  if (isMainThread || typeof BroadcastChannel !== 'function') return
  if (broadcast === null) {
    broadcast = new BroadcastChannel(WARNING_CHANNEL)
    broadcast.unref()
  }
  broadcast.postMessage({ type: 'leakguard:warning', warning })
}

/** Closes the sending end (the last monitor of the thread stopped). */
function closeHostChannel() {
  if (broadcast === null) return
  broadcast.close()
  broadcast = null
}

const workerHandlers = new Set()
let receiver = null

/**
 * Receives the warnings that monitors inside worker_threads of this process
 * post to the main thread. Returns a function that stops receiving. Unref'd:
 * it never keeps the process alive.
 * @param {(warning: object) => void} handler
 */
function onWorkerWarning(handler) {
  if (typeof handler !== 'function') {
    throw invalidArgType('handler', 'a function', handler)
  }
  workerHandlers.add(handler)
  if (receiver === null) {
    receiver = new BroadcastChannel(WARNING_CHANNEL)
    receiver.unref()
    receiver.onmessage = (event) => {
      const data = event.data
      if (data?.type !== 'leakguard:warning' || data.warning.threadId === threadId) return
      // Once per warning, however many monitors re-emit it: subscribers of the
      // host's channel (APMs, exporters without a monitor) see every thread.
      if (isMainThread && channels.warning.hasSubscribers) channels.warning.publish(data.warning)
      for (const h of [...workerHandlers]) h(data.warning)
    }
  }
  return function stopReceiving() {
    workerHandlers.delete(handler)
    if (workerHandlers.size === 0 && receiver !== null) {
      receiver.close()
      receiver = null
    }
  }
}

// ---- this process -> its parent -------------------------------------------------

/** `process.send(message)` when this process has an IPC channel; never throws. */
function sendToParent(message) {
  if (typeof process.send !== 'function' || !process.connected) return
  try {
    process.send(message, undefined, undefined, () => {})
  } catch {
    // The channel closed between the check and the send: nothing to deliver to.
  }
}

/** `process.emitWarning` with leakguard's warning type. */
function emitProcessWarning(message, code, detail) {
  process.emitWarning(message, { type: WARNING_TYPE, code, detail })
}

module.exports = { postToHost, closeHostChannel, onWorkerWarning, sendToParent, emitProcessWarning }
