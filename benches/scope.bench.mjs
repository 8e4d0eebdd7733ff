// JobScope per job against the same cleanup written by hand, and the cost of
// autoTrack, in one run (interleaved, medians).
//   npm run bench -- scope
import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import { compare, printTable, fmt } from './util.mjs'

const require = createRequire(import.meta.url)
const { guard, currentScope, withScope, scopeStats, resetScopeStats } = require('../index.js')
const { _recordStats } = require('../lib/scope.js')

const bus = new EventEmitter()
bus.setMaxListeners(0)
const noop = () => {}
let destroyed = 0
class StreamLike { destroy () { destroyed++ } }

// --- 1. scope + 1 timer + 1 listener + 1 stream-like + close, vs try/finally
async function handWritten () {
  const t = setTimeout(noop, 60_000)
  const onMessage = () => {}
  bus.on('message', onMessage)
  const s = new StreamLike()
  try {
    await null // the job's work
  } finally {
    clearTimeout(t)
    bus.removeListener('message', onMessage)
    s.destroy()
  }
}
const guarded = guard(async function job () {
  const scope = currentScope()
  scope.setTimeout(noop, 60_000)
  scope.on(bus, 'message', () => {})
  scope.track(new StreamLike())
  await null
}, { name: 'bench' })

// --- 2. autoTrack: a clean job (creates and releases its own timer+listener)
async function cleanJob () {
  const t = setTimeout(noop, 60_000)
  const onMessage = () => {}
  bus.on('message', onMessage)
  await null
  clearTimeout(t)
  bus.removeListener('message', onMessage)
}
const gPlain = guard(cleanJob, { name: 'plain' })
const gAuto = guard(cleanJob, { name: 'auto', autoTrack: true })
const gAutoStacks = guard(cleanJob, { name: 'stacks', autoTrack: true, captureStacks: true })
// and a leaky job, where captureStacks must format the creation site at close
const leaky = async () => { bus.on('message', noop); await null }
const gLeakyStacks = guard(leaky, { name: 'leaky', autoTrack: 'dispose', captureStacks: true, onLeftOpen: 'ignore' })
const gLeaky = guard(leaky, { name: 'leaky-nostacks', autoTrack: 'dispose', onLeftOpen: 'ignore' })

// Check before timing: the contenders do the same cleanup.
await handWritten(); await guarded()
if (destroyed !== 2 || bus.listenerCount('message') !== 0) throw new Error('contenders disagree')
await gLeakyStacks()
const st = scopeStats('leaky')
if (st.leftOpen[0].type !== 'EventEmitter#message' || !/scope\.bench\.mjs:\d+:\d+$/.test(st.leftOpen[0].site)) throw new Error(`site not found: ${st.message}`)
if (bus.listenerCount('message') !== 0) throw new Error('autoTrack dispose left a listener')
await withScope(async (s) => { s.setTimeout(noop, 1) })
resetScopeStats()

const ROUNDS = { rounds: 9 }
const r1 = await compare({
  'try/finally by hand': handWritten,
  'guard(): scope.setTimeout + scope.on + scope.track': guarded
}, ROUNDS)
const base1 = r1['try/finally by hand']
printTable(['per job: 1 timer + 1 listener + 1 stream-like + close', 'ns/job (median)', 'vs by hand'],
  Object.entries(r1).map(([k, ns]) => [k, fmt(ns), `${fmt(ns / base1, 2)}×`]))
console.log('')

const r2 = await compare({
  'no guard': cleanJob,
  'guard()': gPlain,
  'guard({ autoTrack: true })': gAuto,
  'guard({ autoTrack: true, captureStacks: true })': gAutoStacks,
  'leaky job, autoTrack: dispose': gLeaky,
  'leaky job, autoTrack: dispose + captureStacks': gLeakyStacks
}, ROUNDS)
const base2 = r2['no guard']
const g2 = r2['guard()']
printTable(['per job: clean job creating and releasing 1 timer + 1 listener', 'ns/job (median)', 'vs no guard', 'vs guard()'],
  Object.entries(r2).map(([k, ns]) => [k, fmt(ns), `${fmt(ns / base2, 2)}×`, `${fmt(ns / g2, 2)}×`]))
if (bus.listenerCount('message') !== 0) throw new Error('listeners leaked during the bench')

// --- 3. what a native per-name statistics table would have to beat
const closed = { _name: 'bench-stats', _outcome: 'ok', _durationMs: 1.5, _timers: 1, _listeners: 1, _resources: 1, _deferred: 0, _errs: undefined, _leftOpen: [] }
const r3 = await compare({ 'scopeStats update per job (JS Map)': () => _recordStats(closed) }, ROUNDS)
console.log('')
printTable(['per job', 'ns (median)'], Object.entries(r3).map(([k, ns]) => [k, fmt(ns, 1)]))
