'use strict'
// Warning delivery to the host: process.emitWarning in this thread, the
// BroadcastChannel through which monitors in worker_threads reach the main
// thread (received there by onWorkerWarning() and main-thread monitors), and
// IPC to the parent of a forked child (sendToParent).

const { isMainThread, threadId, BroadcastChannel } = require('node:worker_threads')
const channels = require('../common/channels')
const { invalidArgType } = require('../common/errors')
const { emitLeakguardWarning } = require('../common/warnings')

const WARNING_CHANNEL = 'leakguard:warnings'

// ---- worker_thread -> main thread ---------------------------------------------

/** This thread's sending end, opened with the first warning of a monitor inside a worker_thread. */
let broadcast = null

/**
 * Posts a message of a monitor inside a worker_thread to the main thread (a
 * no-op on the main thread): `{ type: 'leakguard:warning', warning }` or
 * `{ type: 'leakguard:autopsy', autopsy, warning }`.
 */
function postToHost(message) {
  if (isMainThread || typeof BroadcastChannel !== 'function') return
  if (broadcast === null) {
    broadcast = new BroadcastChannel(WARNING_CHANNEL)
    broadcast.unref()
  }
  broadcast.postMessage(message)
}

/** Closes the sending end (the last monitor of the thread stopped). */
function closeHostChannel() {
  if (broadcast === null) return
  broadcast.close()
  broadcast = null
}

const workerHandlers = new Set()
const autopsyHandlers = new Set()
let receiver = null

function openReceiver() {
  if (receiver !== null) return
  receiver = new BroadcastChannel(WARNING_CHANNEL)
  receiver.unref()
  receiver.onmessage = (event) => {
    const data = event.data
    if (data?.type === 'leakguard:autopsy') {
      if (data.autopsy?.threadId === threadId) return
      for (const h of [...autopsyHandlers]) h(data.autopsy, data.warning)
      return
    }
    if (data?.type === 'leakguard:notice') {
      noticeFromWorker(data)
      return
    }
    if (data?.type !== 'leakguard:warning' || data.warning.threadId === threadId) return
    // Once per warning, however many monitors re-emit it: subscribers of the
    // host's channel (APMs, exporters without a monitor) see every thread.
    if (isMainThread && channels.warning.hasSubscribers) channels.warning.publish(data.warning)
    for (const h of [...workerHandlers]) h(data.warning)
  }
}

function closeReceiverIfUnused() {
  if (workerHandlers.size === 0 && autopsyHandlers.size === 0 && receiver !== null) {
    receiver.close()
    receiver = null
  }
}

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
  openReceiver()
  return function stopReceiving() {
    workerHandlers.delete(handler)
    closeReceiverIfUnused()
  }
}

/** For main-thread monitors: the autopsies of monitors in worker_threads (`handler(autopsy, warning)`). */
function onWorkerAutopsy(handler) {
  autopsyHandlers.add(handler)
  openReceiver()
  return function stopReceiving() {
    autopsyHandlers.delete(handler)
    closeReceiverIfUnused()
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

const noticed = new Set()

/**
 * A process warning about this thread (`code`, once per thread), also posted
 * to the main thread, which emits it there: a worker whose event loop does
 * not run would never print its own.
 */
function notice(code, message, detail) {
  emitLeakguardWarning(message, code, detail)
  postToHost({ type: 'leakguard:notice', code, message, detail, threadId })
}

function noticeFromWorker({ code, message, detail, threadId: from }) {
  if (!isMainThread || noticed.has(`${from}:${code}`)) return
  noticed.add(`${from}:${code}`)
  emitLeakguardWarning(`[worker thread ${from}] ${message}`, code, detail)
}

module.exports = {
  postToHost,
  closeHostChannel,
  onWorkerWarning,
  onWorkerAutopsy,
  sendToParent,
  notice
}
