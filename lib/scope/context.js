'use strict'
// The async context every part of the scope capability shares: which job is
// running (AsyncLocalStorage), the scopes still open, and the timer functions
// as Node made them, before autoTrack patches anything.

const { AsyncLocalStorage } = require('node:async_hooks')
const timers = require('node:timers')

// What AsyncLocalStorage holds for a job is its scope's id, not the scope.
// Every async resource the job creates (a timer, a socket, a promise) keeps
// the store it was created under, so a resource the job leaves open would
// otherwise keep the whole closed scope — records, report, AbortController,
// arguments — alive: leakguard would make the leak it reports bigger. An id
// below 2^31 is a small integer V8 stores inline (no allocation), so a
// resource left open keeps exactly what it would keep without leakguard.
// Ids are never reused (2^53 jobs), so a late callback never finds another job.
const als = new AsyncLocalStorage()
// id -> JobScope, while the scope is open (entered by guard/withScope only).
const openScopes = new Map()
// id of a closed plain scope -> id of its parent, while an enclosing autoTrack
// scope is open: what a callback the plain scope left running creates is still
// attributed to the outer job, as before it closed.
const forwards = new Map()

// Captured when the capability loads, before autoTrack patches anything: the
// scope's own timers are tracked explicitly and must not be recorded twice.
const orig = Object.freeze({
  setTimeout: timers.setTimeout,
  setInterval: timers.setInterval,
  setImmediate: timers.setImmediate,
  clearTimeout: timers.clearTimeout,
  clearInterval: timers.clearInterval,
  clearImmediate: timers.clearImmediate
})

module.exports = { als, openScopes, forwards, orig }
