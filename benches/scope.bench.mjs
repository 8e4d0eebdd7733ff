// JobScope per job against the same cleanup written by hand, and the cost of
// autoTrack, in one run (interleaved, medians).
//   npm run bench -- scope
import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import { compare, printTable, fmt, median } from './util.mjs'

const require = createRequire(import.meta.url)
const { guard, currentScope, withScope, scopeStats, resetScopeStats } = require('../index.js')
const { _recordStats } = require('../lib/scope/scope.js')

// --- 0. (measured first, before anything enables AsyncLocalStorage) why
// autoTrack patches rather than using an async_hooks init hook: such a hook
// runs for every promise of the process. Node 20's AsyncLocalStorage already
// installs promise hooks, so the extra cost is smaller once guard() is in use.
const { createHook, AsyncLocalStorage } = await import('node:async_hooks')
async function tenAwaits() {
  for (let i = 0; i < 10; i++) await null
}
async function timePerCall(fn, n) {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await fn()
  return Number(process.hrtime.bigint() - t0) / n
}
const hookRows = []
{
  const hook = createHook({ init() {} })
  const probe = new AsyncLocalStorage()
  for (const withAls of [false, true]) {
    if (withAls) probe.enterWith({})
    const off = []
    const on = []
    for (let r = 0; r < 9; r++) {
      off.push(await timePerCall(tenAwaits, 20_000))
      hook.enable()
      on.push(await timePerCall(tenAwaits, 20_000))
      hook.disable()
    }
    const a = median(off)
    const b = median(on)
    hookRows.push([withAls ? 'AsyncLocalStorage in use' : 'no AsyncLocalStorage', fmt(a), fmt(b), `${fmt(b / a, 2)}×`])
  }
  probe.disable()
}

const bus = new EventEmitter()
bus.setMaxListeners(0)
const noop = () => {}
let destroyed = 0
class StreamLike {
  destroy() {
    destroyed++
  }
}

// --- 1. scope + 1 timer + 1 listener + 1 stream-like + close, vs try/finally
async function handWritten() {
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
const guarded = guard(
  async function job() {
    const scope = currentScope()
    scope.setTimeout(noop, 60_000)
    scope.on(bus, 'message', () => {})
    scope.track(new StreamLike())
    await null
  },
  { name: 'bench' }
)

// --- 2. autoTrack: a clean job (creates and releases its own timer+listener)
async function cleanJob() {
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
const leaky = async () => {
  bus.on('message', noop)
  await null
}
const gLeakyStacks = guard(leaky, { name: 'leaky', autoTrack: 'dispose', captureStacks: true, onLeftOpen: 'ignore' })
const gLeaky = guard(leaky, { name: 'leaky-nostacks', autoTrack: 'dispose', onLeftOpen: 'ignore' })

// Check before timing: the contenders do the same cleanup.
await handWritten()
await guarded()
if (destroyed !== 2 || bus.listenerCount('message') !== 0) throw new Error('contenders disagree')
await gLeakyStacks()
const st = scopeStats('leaky')
if (st.leftOpen[0].type !== 'EventEmitter#message' || !/scope\.bench\.mjs:\d+:\d+$/.test(st.leftOpen[0].site))
  throw new Error(`site not found: ${st.message}`)
if (bus.listenerCount('message') !== 0) throw new Error('autoTrack dispose left a listener')
await withScope(async (s) => {
  s.setTimeout(noop, 1)
})
resetScopeStats()

const ROUNDS = { rounds: 9 }
const r1 = await compare(
  {
    'try/finally by hand': handWritten,
    'guard(): scope.setTimeout + scope.on + scope.track': guarded
  },
  ROUNDS
)
const base1 = r1['try/finally by hand']
printTable(
  ['per job: 1 timer + 1 listener + 1 stream-like + close', 'ns/job (median)', 'vs by hand'],
  Object.entries(r1).map(([k, ns]) => [k, fmt(ns), `${fmt(ns / base1, 2)}×`])
)
console.log('')

const r2 = await compare(
  {
    'no guard': cleanJob,
    'guard()': gPlain,
    'guard({ autoTrack: true })': gAuto,
    'guard({ autoTrack: true, captureStacks: true })': gAutoStacks,
    'leaky job, autoTrack: dispose': gLeaky,
    'leaky job, autoTrack: dispose + captureStacks': gLeakyStacks
  },
  ROUNDS
)
const base2 = r2['no guard']
const g2 = r2['guard()']
printTable(
  ['per job: clean job creating and releasing 1 timer + 1 listener', 'ns/job (median)', 'vs no guard', 'vs guard()'],
  Object.entries(r2).map(([k, ns]) => [k, fmt(ns), `${fmt(ns / base2, 2)}×`, `${fmt(ns / g2, 2)}×`])
)
if (bus.listenerCount('message') !== 0) throw new Error('listeners leaked during the bench')

// --- 3. what a native per-name statistics table would have to beat: the JS
// update, timed in a tight loop (a bench harness call costs more than it).
const closed = {
  _name: 'bench-stats',
  _outcome: 'ok',
  _durationMs: 1.5,
  _timers: 1,
  _listeners: 1,
  _resources: 1,
  _deferred: 0,
  _errs: undefined,
  _leftOpen: []
}
const statsNs = []
for (let r = 0; r < 9; r++) {
  const n = 1_000_000
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) _recordStats(closed)
  statsNs.push(Number(process.hrtime.bigint() - t0) / n)
}
if (scopeStats('bench-stats').jobs !== 9_000_000) throw new Error('stats update not counted')
console.log('')
printTable(['per job', 'ns (median)'], [['scopeStats update (JS Map lookup + 10 additions)', fmt(median(statsNs), 1)]])

console.log('')
printTable(
  [
    'async function with 10 awaits, anywhere in the process',
    'ns/call, no hook',
    'with an empty async_hooks init hook',
    'ratio'
  ],
  hookRows
)
