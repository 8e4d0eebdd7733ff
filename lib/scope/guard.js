'use strict'
// The guard runner: guard(fn) and withScope(fn) run each job in a fresh
// JobScope entered through AsyncLocalStorage (currentScope()), close it when
// the job settles, times out or throws, and deliver its report (onLeftOpen,
// onReport, the leakguard:job:end channel, retainCheck, the recycle net).

const { jobEnd, jobStart } = require('../common/channels')
const { isDraining } = require('../fleet/recycle')
const { codes, withCode, leakguardError, invalidArgType } = require('../common/errors')
const { emitLeakguardWarning } = require('../common/warnings')
const { describeSite } = require('../common/sites')
const { als, openScopes, orig } = require('./context')
const { resolveOptions } = require('./options')
const { JobScope, aggregate, isThenable } = require('./job-scope')
const { watchPayload } = require('./retain-check')

const { setTimeout: setTimeoutOrig, clearTimeout: clearTimeoutOrig } = orig

let lastId = 0

// Each (job name, resource, site) is warned about once. The set is bounded:
// job names built from ids would otherwise grow it for ever; once full, one
// last warning says so and later new sites are only counted (scopeStats()).
const WARNED_SITES_MAX = 10_000
const warnedSites = new Set()
let warnedSitesFull = false

function leftOpenMessage(report) {
  const items = report.leftOpen.map((r) => {
    const at = describeSite(r)
    return at === undefined ? r.type : `${r.type} (${at})`
  })
  return `job "${report.name}" left ${report.leftOpen.length} resource${report.leftOpen.length === 1 ? '' : 's'} open: ${items.join(', ')}`
}

function siteClause(r) {
  const at = describeSite(r, 'created at ')
  return at === undefined ? '' : ` (${at})`
}

function warnLeftOpen(report) {
  for (const r of report.leftOpen) {
    const key = `${report.name}\0${r.kind}\0${r.type}\0${r.site}\0${r.package}`
    if (warnedSites.has(key)) continue
    if (warnedSites.size >= WARNED_SITES_MAX) {
      if (!warnedSitesFull) {
        warnedSitesFull = true
        emitLeakguardWarning(
          `${WARNED_SITES_MAX} distinct left-open resources were warned about (job name, type, site); ` +
            'new ones are no longer warned about, only counted in scopeStats(). Job names that include ids make every job a new name.',
          codes.LEFT_OPEN
        )
      }
      continue
    }
    warnedSites.add(key)
    emitLeakguardWarning(
      `job "${report.name}" left open: ${r.kind} ${r.type}${siteClause(r)}${r.disposed ? '; leakguard disposed it' : ''}`,
      codes.LEFT_OPEN
    )
  }
}

const warnedDisposeErrors = new Set()

// Publishes the report and applies onLeftOpen; returns an error to reject
// the job with (only when the job itself succeeded), or undefined.
function deliver(cfg, report, jobFailed) {
  let err
  if (report.leftOpen.length !== 0) {
    const h = cfg.onLeftOpen
    if (h === 'warn') warnLeftOpen(report)
    else if (h === 'throw') {
      err = withCode(new Error(leftOpenMessage(report)), 'LEFT_OPEN', { report })
    } else if (typeof h === 'function') {
      try {
        h(report)
      } catch (e) {
        report.errors.push(e)
      }
    }
  }
  if (cfg.onReport !== undefined) {
    try {
      cfg.onReport(report)
    } catch (e) {
      report.errors.push(e)
    }
  }
  if (jobEnd.hasSubscribers) jobEnd.publish(report)
  if (report.errors.length !== 0) {
    if (!jobFailed) return aggregate(err === undefined ? report.errors : [...report.errors, err])
    // The job's own error wins; disposal errors stay in the report and are
    // surfaced once per message rather than lost.
    for (const e of report.errors) {
      const key = `${report.name}\0${e?.message}`
      if (warnedDisposeErrors.has(key)) continue
      if (warnedDisposeErrors.size < 1000) warnedDisposeErrors.add(key)
      emitLeakguardWarning(
        `disposing job scope "${report.name}" after the job failed: ${e?.message}`,
        codes.SCOPE_CLOSED
      )
    }
    return undefined
  }
  return jobFailed ? undefined : err
}

function timeoutRace(p, scope, ms) {
  let timer
  const t = new Promise((_resolve, reject) => {
    timer = setTimeoutOrig(() => {
      const err = leakguardError('TIMEOUT', `job "${scope.name}" timed out after ${ms} ms (options.timeoutMs)`)
      scope._timedOut = true
      if (scope._ctrl !== undefined) scope._ctrl.abort(err)
      reject(err)
    }, ms)
    timer.unref()
  })
  return Promise.race([p, t]).finally(() => clearTimeoutOrig(timer))
}

// Written with then() rather than async/await: with AsyncLocalStorage on,
// Node 20 runs a hook for every promise, so each promise saved counts (bench).
function run(cfg, scope, fn, thisArg, args) {
  if (isDraining()) return new Promise(() => {}) // the recycle net is exiting: this job never starts
  if (cfg.recycle !== undefined) cfg.recycle.jobStarted()
  if (jobStart.hasSubscribers) jobStart.publish(scope)
  let r
  try {
    const id = (scope._id = ++lastId)
    openScopes.set(id, scope)
    r = als.run(id, Reflect.apply, fn, thisArg, args)
  } catch (e) {
    return settled(cfg, scope, e, 'error', undefined)
  }
  if (cfg.timeoutMs !== undefined) r = timeoutRace(r, scope, cfg.timeoutMs)
  else if (!isThenable(r)) return settled(cfg, scope, undefined, 'ok', r)
  else if (!(r instanceof Promise)) r = Promise.resolve(r)
  return r.then(
    (v) => settle(cfg, scope, undefined, 'ok', v),
    (e) => settle(cfg, scope, e, scope._timedOut ? 'timeout' : 'error', undefined)
  )
}

function settled(cfg, scope, jobError, outcome, result) {
  try {
    return Promise.resolve(settle(cfg, scope, jobError, outcome, result))
  } catch (e) {
    return Promise.reject(e)
  }
}

function settle(cfg, scope, jobError, outcome, result) {
  const r = scope._close(jobError, outcome)
  if (r instanceof Promise) return r.then(() => conclude(cfg, scope, jobError, outcome, result))
  return conclude(cfg, scope, jobError, outcome, result)
}

function conclude(cfg, scope, jobError, outcome, result) {
  if (cfg.retainCheck !== undefined && scope._args !== undefined) watchPayload(cfg, scope._args)
  scope._args = undefined
  // The report object is only built when someone reads it.
  if (
    scope._leftOpen.length === 0 &&
    scope._errs === undefined &&
    cfg.onReport === undefined &&
    !jobEnd.hasSubscribers
  ) {
    if (outcome !== 'ok') throw jobError
    return result
  }
  const err = deliver(cfg, scope.report, outcome !== 'ok')
  if (outcome !== 'ok') throw jobError
  if (err !== undefined) throw err
  return result
}

/**
 * Wraps a job handler: each call runs in a fresh JobScope (currentScope()),
 * closed in `finally`. Same parameters and `this` as `fn`; returns a promise.
 */
function guard(fn, options) {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
  const cfg = resolveOptions(options, 'options', 'guard')
  const name = cfg.name ?? (fn.name || 'anonymous')
  const c = { ...cfg, name }
  const guarded = function (...args) {
    const scope = new JobScope(undefined, c)
    if (c.retainCheck !== undefined) scope._args = args
    return run(c, scope, fn, this, args)
  }
  Object.defineProperty(guarded, 'name', { value: fn.name, configurable: true })
  Object.defineProperty(guarded, 'length', { value: fn.length, configurable: true })
  return guarded
}

/** Runs `fn(scope)` in a fresh scope closed when it settles; resolves to fn's result. */
function withScope(fn, options) {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'a function', fn)
  const cfg = resolveOptions(options, 'options', 'withScope')
  const c = cfg.name === undefined ? { ...cfg, name: fn.name || 'anonymous' } : cfg
  const scope = new JobScope(undefined, c)
  return run(c, scope, fn, undefined, [scope])
}

/**
 * The scope of the job running in the current async context, or undefined
 * outside any job — including in a callback the job left running after it ended.
 */
function currentScope() {
  const id = als.getStore()
  return id === undefined ? undefined : openScopes.get(id)
}

/**
 * The scope of the job running in the current async context, for code that
 * only ever runs inside a job: never undefined. Throws a coded
 * ERR_LEAKGUARD_NO_SCOPE error outside guard()/withScope(), and in a callback
 * its job left running after it ended.
 */
function requireScope() {
  const id = als.getStore()
  const scope = id === undefined ? undefined : openScopes.get(id)
  if (scope !== undefined) return scope
  throw leakguardError(
    'NO_SCOPE',
    id === undefined
      ? 'requireScope() was called outside a job: run the code through guard(fn) or withScope(fn), or use currentScope(), which returns undefined there'
      : 'requireScope() was called after its job ended (in a callback the job left running): its scope is closed'
  )
}

module.exports = { guard, withScope, currentScope, requireScope }
