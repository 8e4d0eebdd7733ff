'use strict'
// The recycle safety net: after the guarded job that crossed maxJobs / maxRss /
// maxHeapUsed, emit 'recycle' once (and optionally exit gracefully so that a
// supervisor such as pm2 restarts the process). The check runs when a job's
// scope closes (the leakguard:job:end publication), i.e. after the job's own
// code and its cleanup and before the job framework picks the next job: never
// mid-job. Recycling hides a leak, so the event's message quotes what the
// monitor and the job scopes saw leaking.

const { formatBytes } = require('../common/format')
const { EventEmitter } = require('node:events')
const channels = require('../common/channels')
const v8 = require('node:v8')
const { readRss } = require('../common/memory')
const { clip, invalidOptionType, invalidOptionValue, invalidArgType } = require('../common/errors')
const { warningCodes, emitLeakguardWarning } = require('../common/warnings')
const { readOptions, checkInteger, checkBoolean, warnRenamed } = require('../common/options')

const OPTION_KEYS = ['maxJobs', 'maxRss', 'maxHeapUsed', 'exit', 'worker', 'exitTimeoutMs', 'exitCode']
const DEFAULTS = Object.freeze({ exit: false, exitTimeoutMs: 30_000, exitCode: 0 })
// Left-open resources are summarised by kind/type/site; a leak tool must not
// grow without bound itself, so only this many distinct sites are kept.
const MAX_LEFT_OPEN_KEYS = 64

// Set once a graceful exit starts in this thread: guard()/withScope() then
// hold new jobs (they never start) so that "the running jobs" can finish
// even when a loop keeps calling the handler. A held job did not run; a
// queue such as BullMQ hands it to another worker after this one exits.
let draining = false
function isDraining() {
  return draining
}

function checkWorker(name, worker) {
  if (worker === undefined) return undefined
  if (
    worker === null ||
    typeof worker !== 'object' ||
    (typeof worker.close !== 'function' && typeof worker.destroy !== 'function')
  ) {
    throw invalidOptionType(
      name,
      'an object with a close() or destroy() method (a BullMQ Worker, a Piscina pool, a server)',
      worker
    )
  }
  return worker
}

/**
 * jobEnded()'s argument: absent, or a scope report whose `leftOpen` (if set)
 * lists objects. Checked before anything is counted, so a bad report from a
 * caller's own wiring is a coded error and not a TypeError from deep inside.
 */
function checkReport(report) {
  if (report === undefined) return
  if (report === null || typeof report !== 'object') {
    throw invalidArgType('report', 'a job report object (or undefined)', report)
  }
  const { name, leftOpen } = report
  checkText('report.name', name)
  if (leftOpen === undefined) return
  if (!Array.isArray(leftOpen)) throw invalidArgType('report.leftOpen', 'an array', leftOpen)
  for (let i = 0; i < leftOpen.length; i++) {
    const item = leftOpen[i]
    if (item === null || typeof item !== 'object') {
      throw invalidArgType(`report.leftOpen[${i}]`, 'an object { kind, type, site? }', item)
    }
    checkText(`report.leftOpen[${i}].kind`, item.kind)
    checkText(`report.leftOpen[${i}].type`, item.type)
    checkText(`report.leftOpen[${i}].site`, item.site)
  }
}

/** A report field that is text or absent (it becomes part of a summary key and the message). */
function checkText(name, value) {
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw invalidArgType(name, 'a string (or undefined)', value)
  }
}

function resolveOptions(options) {
  const opts = readOptions('options', options, OPTION_KEYS, { optional: false })
  const maxJobs = checkInteger('options.maxJobs', opts.maxJobs, { min: 1 })
  const maxRss = checkInteger('options.maxRss', opts.maxRss, { min: 1 })
  const maxHeapUsed = checkInteger('options.maxHeapUsed', opts.maxHeapUsed, { min: 1 })
  if (maxJobs === undefined && maxRss === undefined && maxHeapUsed === undefined) {
    // A net with no threshold never catches anything; refuse it like an unbounded cache.
    throw invalidOptionValue('options', 'an object setting at least one of maxJobs, maxRss, maxHeapUsed', opts)
  }
  return {
    maxJobs,
    maxRss,
    maxHeapUsed,
    exit: checkBoolean('options.exit', opts.exit) ?? DEFAULTS.exit,
    worker: checkWorker('options.worker', opts.worker),
    exitTimeoutMs: checkInteger('options.exitTimeoutMs', opts.exitTimeoutMs, { min: 0 }) ?? DEFAULTS.exitTimeoutMs,
    exitCode: checkInteger('options.exitCode', opts.exitCode, { min: 0, max: 255 }) ?? DEFAULTS.exitCode
  }
}

class Recycler extends EventEmitter {
  #opts
  #jobs = 0
  #inFlight = 0
  #event = null
  #lastWarning = null
  #leftOpen = new Map()
  #leftOpenJobs = 0
  #stopped = false
  #exiting = null
  #subscribed
  #onJobEnd = (report) => {
    this.jobEnded(report)
  }

  #onJobStart = () => {
    this.#inFlight++
  }
  #onWarning = (w) => {
    this.#lastWarning = w
  }

  constructor(options, { subscribe = true } = {}) {
    super()
    this.#opts = resolveOptions(options)
    this.#subscribed = subscribe
    if (subscribe) {
      channels.jobEnd.subscribe(this.#onJobEnd)
      if (channels.jobStart) channels.jobStart.subscribe(this.#onJobStart)
    }
    // Subscribing makes monitors in this thread publish their warnings, which
    // they otherwise skip; warnings are rare, so this costs nothing per sample.
    channels.warning.subscribe(this.#onWarning)
  }

  /** Finished guarded jobs counted so far. */
  get jobs() {
    return this.#jobs
  }
  /** Guarded jobs running now (0 between jobs). */
  get inFlight() {
    return this.#inFlight
  }
  /** The 'recycle' event once it fired, else null. */
  get triggered() {
    return this.#event
  }
  get maxJobs() {
    return this.#opts.maxJobs
  }
  get maxRss() {
    return this.#opts.maxRss
  }
  get maxHeapUsed() {
    return this.#opts.maxHeapUsed
  }

  /** @internal guard()/withScope() feed this recycler themselves: stop counting from the channels. */
  _feedDirectly() {
    if (!this.#subscribed) return
    this.#subscribed = false
    channels.jobEnd.unsubscribe(this.#onJobEnd)
    if (channels.jobStart) channels.jobStart.unsubscribe(this.#onJobStart)
  }

  /** @internal An onReport callback that feeds this recycler, then calls `next` (the user's onReport). */
  _onReport(next) {
    if (next === undefined) return this.#onJobEnd
    return (report) => {
      this.jobEnded(report)
      next(report)
    }
  }

  /** @internal A warning seen by a monitor this net is attached to. */
  _noteWarning(w) {
    this.#lastWarning = w
  }

  /** Counts the start of a job that is not seen on the job channels (the guard() wiring uses this). */
  jobStarted() {
    this.#inFlight++
  }

  /**
   * Counts one finished job (its scope report) and checks the thresholds.
   * Called for every leakguard:job:end publication; call it yourself for
   * jobs that do not run through guard()/withScope().
   */
  jobEnded(report) {
    checkReport(report)
    if (this.#inFlight > 0) this.#inFlight--
    if (this.#stopped) return null
    this.#jobs++
    if (report && Array.isArray(report.leftOpen) && report.leftOpen.length > 0) {
      this.#leftOpenJobs++
      for (const item of report.leftOpen) this.#countLeftOpen(report.name, item)
    }
    if (this.#event) {
      if (this.#inFlight === 0) this.emit('idle')
      return null
    }
    const ev = this.check()
    if (this.#inFlight === 0) this.emit('idle')
    return ev
  }

  /** Evaluates the thresholds now (between jobs); emits 'recycle' once and returns it, or null. */
  check() {
    if (this.#event || this.#stopped) return this.#event
    const o = this.#opts
    // Only what a threshold needs is read per job: heapUsed (v8 heap
    // statistics, ~0.2 µs) and RSS (native, ~1-2 µs) are read when set.
    let reason = null
    let rss
    let heapUsed
    if (o.maxJobs !== undefined && this.#jobs >= o.maxJobs) reason = 'maxJobs'
    if (!reason && o.maxRss !== undefined && (rss = readRss()) >= o.maxRss) reason = 'maxRss'
    if (!reason && o.maxHeapUsed !== undefined && (heapUsed = v8.getHeapStatistics().used_heap_size) >= o.maxHeapUsed)
      reason = 'maxHeapUsed'
    if (!reason) return null
    const mem = { rss: rss ?? readRss(), heapUsed: heapUsed ?? v8.getHeapStatistics().used_heap_size }
    const ev = {
      reason,
      jobs: this.#jobs,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      // The threshold crossed, named by its unit (CONTRIBUTING.md, "Names").
      limitJobs: reason === 'maxJobs' ? o.maxJobs : undefined,
      limitBytes: reason === 'maxJobs' ? undefined : o[reason],
      warning: this.#lastWarning,
      leftOpen: this.#leftOpenSummary(),
      message: ''
    }
    // The old name, kept readable (not enumerable: spreading or serialising the event does not warn).
    Object.defineProperty(ev, 'limit', {
      get() {
        warnRenamed('RecycleEvent.limit', 'RecycleEvent.limitJobs / RecycleEvent.limitBytes')
        return o[reason]
      },
      enumerable: false,
      configurable: true
    })
    ev.message = this.#message(ev)
    this.#event = ev
    try {
      this.emit('recycle', ev)
    } catch (err) {
      // check() runs while a job scope closes: a throwing listener must not
      // become that job's disposal error. It surfaces like any listener error.
      process.nextTick(() => {
        throw err
      })
    }
    if (o.exit)
      this.gracefulExit().catch((err) =>
        process.nextTick(() => {
          throw err
        })
      )
    return ev
  }

  /**
   * Waits for the running guarded jobs to finish (or closes `worker`, which
   * waits for its active jobs: BullMQ's Worker#close, Piscina's pool close),
   * then exits the process (or the worker_thread) with `exitCode`.
   * @param {{ close?: Function, destroy?: Function }} [worker]
   */
  gracefulExit(worker = this.#opts.worker) {
    if (this.#exiting) return this.#exiting
    try {
      if (
        worker !== undefined &&
        (worker === null ||
          typeof worker !== 'object' ||
          (typeof worker.close !== 'function' && typeof worker.destroy !== 'function'))
      ) {
        throw invalidArgType('worker', 'an object with a close() or destroy() method', worker)
      }
    } catch (err) {
      // Refused (or a getter of the worker threw): nothing started, the process goes on.
      return Promise.reject(err)
    }
    draining = true
    this.#exiting = (async () => {
      // A close() that throws or rejects still ends in the exit: a worker
      // that cannot close cleanly must not be left draining for ever.
      const drained = (async () => {
        if (worker) await (typeof worker.close === 'function' ? worker.close() : worker.destroy())
        else await this.#idle()
      })().catch((err) => {
        emitLeakguardWarning(
          `leakguard: closing the worker before the recycle exit failed (${clip(String(err?.message ?? err), 300)}); exiting anyway`,
          warningCodes.RECYCLE_CLOSE_FAILED
        )
      })
      // The timer is ref'd on purpose: it is what ends a drain that can
      // never finish (a close() or a job that never settles). Unref'd, the
      // loop could empty first and the process would end with code 0
      // instead of exitCode. It is cleared as soon as the drain ends, so a
      // healthy worker exits right after its last job.
      let timer
      const timedOut = new Promise((resolve) => {
        timer = setTimeout(resolve, this.#opts.exitTimeoutMs)
      })
      try {
        await Promise.race([drained, timedOut])
      } finally {
        clearTimeout(timer)
      }
      // One more turn of the event loop: the last job's result reaches its
      // caller (a loop's `await handler()`, a queue's completion) first.
      await new Promise((resolve) => setImmediate(resolve))
      this.stop()
      process.exit(this.#opts.exitCode)
    })()
    return this.#exiting
  }

  /** Unsubscribes from the channels; the recycler stops counting. Idempotent. */
  stop() {
    if (this.#stopped) return
    this.#stopped = true
    if (this.#subscribed) {
      channels.jobEnd.unsubscribe(this.#onJobEnd)
      if (channels.jobStart) channels.jobStart.unsubscribe(this.#onJobStart)
    }
    channels.warning.unsubscribe(this.#onWarning)
  }

  #idle() {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.once('idle', resolve))
  }

  #countLeftOpen(jobName, item) {
    const key = `${jobName ?? ''}\0${item.kind}\0${item.type}\0${item.site ?? ''}`
    const seen = this.#leftOpen.get(key)
    if (seen) seen.count++
    else if (this.#leftOpen.size < MAX_LEFT_OPEN_KEYS) {
      this.#leftOpen.set(key, { job: jobName, kind: item.kind, type: item.type, site: item.site, count: 1 })
    }
  }

  #leftOpenSummary() {
    return [...this.#leftOpen.values()].sort((a, b) => b.count - a.count).slice(0, 5)
  }

  #message(ev) {
    const o = this.#opts
    const why =
      ev.reason === 'maxJobs'
        ? `maxJobs ${o.maxJobs} reached`
        : ev.reason === 'maxRss'
          ? `rss ${formatBytes(ev.rss)} >= maxRss ${formatBytes(o.maxRss)}`
          : `heapUsed ${formatBytes(ev.heapUsed)} >= maxHeapUsed ${formatBytes(o.maxHeapUsed)}`
    const findings = []
    if (ev.warning?.message) findings.push(`the monitor warns: ${ev.warning.message}`)
    if (ev.leftOpen.length > 0) {
      const items = ev.leftOpen
        .slice(0, 3)
        .map(
          (l) =>
            `${l.count}× ${[l.kind, l.type].filter(Boolean).join(' ')}${l.job ? ` in job '${l.job}'` : ''}${l.site ? ` at ${l.site}` : ''}`
        )
      findings.push(`${this.#leftOpenJobs} of ${ev.jobs} jobs left resources open: ${items.join(', ')}`)
    }
    const what =
      findings.length > 0
        ? findings.join('; ')
        : 'neither a monitor nor the job scopes reported a leak; run monitor() and guard(fn, { autoTrack: true }) to find what grows'
    return (
      `recycling after job ${ev.jobs}: ${why} (rss ${formatBytes(ev.rss)}, heapUsed ${formatBytes(ev.heapUsed)}). ` +
      `Recycling is a safety net, not the fix: ${what}.`
    )
  }
}

/**
 * Creates the recycle safety net for this process (or worker_thread).
 * @param {{ maxJobs?: number, maxRss?: number, maxHeapUsed?: number, exit?: boolean,
 *   worker?: { close?: Function, destroy?: Function }, exitTimeoutMs?: number, exitCode?: number }} options
 */
function recycle(options) {
  return new Recycler(options)
}

/**
 * The guard()/withScope() `recycle` option: a Recycler (which then counts the
 * jobs of the guards it is given to, not every guarded job of the thread) or,
 * for guard() only, its options (a net for that guard's jobs alone).
 * Returns the recycler fed directly by the scope, or undefined.
 */
function recycleOption(name, value, { allowOptions = true } = {}) {
  if (value === undefined) return undefined
  let rec
  if (value instanceof Recycler) rec = value
  else if (!allowOptions) {
    throw invalidOptionType(
      name,
      'a Recycler from recycle() (withScope runs once: a net created per call would never count past 1)',
      value
    )
  } else {
    rec = renamed(name, () => new Recycler(value, { subscribe: false }))
  }
  rec._feedDirectly()
  return rec
}

/**
 * The monitor() `recycle` option: a Recycler, or its options (a net counting
 * every guarded job of the thread). The net quotes the monitor's warnings,
 * including those of worker threads that reach it, and its 'recycle' event is
 * re-emitted by the monitor. A net the monitor created stops with it.
 */
function monitorRecycleOption(name, value, monitor) {
  if (value === undefined) return undefined
  const own = !(value instanceof Recycler)
  const rec = own ? renamed(name, () => new Recycler(value)) : value
  monitor.on('warning', (w) => rec._noteWarning(w))
  rec.on('recycle', (e) => monitor.emit('recycle', e))
  return own ? rec : undefined
}

function renamed(name, make) {
  try {
    return make()
  } catch (err) {
    if (err && typeof err.message === 'string' && err.message.startsWith('options')) {
      err.message = name + err.message.slice('options'.length)
    }
    throw err
  }
}

module.exports = { recycle, Recycler, recycleOption, monitorRecycleOption, isDraining }
