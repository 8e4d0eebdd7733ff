// BoundedCache against lru-cache 11, lru.min, mnemonist's LRUMap and a plain
// Map, in one run: ns/op (interleaved, medians), then memory held and full-GC
// time with 1M entries (each contender in a fresh process), then RSS growth
// of 4 worker_threads sharing one named cache vs a cache per thread.
//   npm run bench -- cache
import { createRequire } from 'node:module'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import { compareRounds, pairedRatio, printTable, fmt, median } from './util.mjs'

const require = createRequire(import.meta.url)
const self = fileURLToPath(import.meta.url)
const { BoundedCache } = require('../index.js')
const { cacheOps } = require('../lib/common/native')
const { LRUCache } = require('lru-cache')
const { createLRU } = require('lru.min')
const { LRUMap } = require('mnemonist')

const ENTRIES = 10_000
// Each timed call runs a batch of operations, so that tinybench's own
// per-call overhead (~200 ns on this machine) does not drown the difference.
const BATCH = 256
const MASK = (1 << 16) - 1

function makers() {
  return {
    'lru-cache 11': (max) => {
      const c = new LRUCache({ max })
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v) }
    },
    'lru.min': (max) => {
      const c = createLRU({ max })
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v) }
    },
    'mnemonist LRUMap': (max) => {
      const c = new LRUMap(max)
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v) }
    },
    'Map (no eviction)': () => {
      const c = new Map()
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v) }
    },
    BoundedCache: (max) => {
      const c = new BoundedCache({ max })
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v) }
    },
    // Every read a native call: what a shared (named) store, or one with a
    // ttl or dispose, costs (the memo of hot values is off there).
    'BoundedCache, memo: false': (max) => {
      const c = new BoundedCache({ max, memo: false })
      return { get: (k) => c.get(k), set: (k, v) => c.set(k, v) }
    },
    // The floor under the two rows above: the same store's bound native
    // functions called directly, without the JS class around them.
    'native get/set, no wrapper': (max) => {
      const h = cacheOps.open(undefined, max, 0, 0, 0, false, false, undefined, false)
      const [get, , , set] = cacheOps.bind(h)
      return { get: (k) => get(k), set: (k, v) => set(k, v) }
    }
  }
}

/** Zipf(s = 1) ranks over n keys, by inverse CDF with a fixed seed. */
function zipf(n, count, seed = 42) {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1)
  let x = seed
  const rand = () => (x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32
  const out = new Int32Array(count)
  for (let j = 0; j < count; j++) {
    const u = rand() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    out[j] = lo
  }
  return out
}

async function speed() {
  const keys = Array.from({ length: ENTRIES }, (_, i) => `user:${i}`)
  const values = keys.map((k) => `v-${k}`)
  const order = zipf(ENTRIES, MASK + 1).map((r) => (r * 7919) % ENTRIES) // scattered, reused keys
  const rows = []

  // get hit on 10k entries with short string values
  const getTasks = {}
  for (const [name, make] of Object.entries(makers())) {
    const c = make(ENTRIES)
    for (let i = 0; i < ENTRIES; i++) c.set(keys[i], values[i])
    // Check the outputs against the reference before timing them.
    for (let i = 0; i < ENTRIES; i += 97) assert.equal(c.get(keys[i]), values[i], name)
    let i = 0
    getTasks[name] = () => {
      for (let n = 0; n < BATCH; n++) c.get(keys[order[i++ & MASK]])
    }
  }

  // get hit with no hot set: uniform random keys, and a cyclic scan
  // mulberry32: the low bits of an LCG repeat with short periods, which a
  // memo would exploit; this "uniform" must not repeat keys more than chance.
  const uniform = new Int32Array(MASK + 1)
  let seed = 99
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
  for (let j = 0; j <= MASK; j++) uniform[j] = Math.floor(random() * ENTRIES)
  const uniformTasks = {}
  const cyclicTasks = {}
  for (const [name, make] of Object.entries(makers())) {
    for (const [tasks, pick] of [
      [uniformTasks, (i) => uniform[i & MASK]],
      [cyclicTasks, (i) => i % ENTRIES]
    ]) {
      const c = make(ENTRIES)
      for (let i = 0; i < ENTRIES; i++) c.set(keys[i], values[i])
      let i = 0
      tasks[name] = () => {
        for (let n = 0; n < BATCH; n++) c.get(keys[pick(i++)])
      }
    }
  }

  // set with eviction: 1M distinct keys through a 10k-entry cache
  const many = Array.from({ length: 1 << 20 }, (_, i) => `k${i}`)
  const setTasks = {}
  for (const [name, make] of Object.entries(makers())) {
    if (name.startsWith('Map')) continue
    const c = make(ENTRIES)
    let i = 0
    setTasks[name] = () => {
      for (let n = 0; n < BATCH; n++) c.set(many[i++ & ((1 << 20) - 1)], 'value')
    }
  }

  // 90/10 get/set mix over 100k Zipf-distributed keys, 10k-entry cache
  const mixKeys = Array.from({ length: 100_000 }, (_, i) => `item:${i}`)
  const mixOrder = zipf(100_000, MASK + 1, 7)
  const mixTasks = {}
  for (const [name, make] of Object.entries(makers())) {
    if (name.startsWith('Map')) continue
    const c = make(ENTRIES)
    let i = 0
    mixTasks[name] = () => {
      for (let n = 0; n < BATCH; n++) {
        const k = mixKeys[mixOrder[i & MASK]]
        if (i++ % 10 === 0) c.set(k, 'value')
        else c.get(k)
      }
    }
  }

  // 9 interleaved rounds of ~250 ms per contender and workload.
  const rounds = Number(process.env.ROUNDS || 9)
  const get = await compareRounds(getTasks, { rounds })
  const uni = await compareRounds(uniformTasks, { rounds })
  const cyc = await compareRounds(cyclicTasks, { rounds })
  const set = await compareRounds(setTasks, { rounds })
  const mix = await compareRounds(mixTasks, { rounds })
  const ref = 'lru-cache 11'
  for (const name of Object.keys(getTasks)) {
    const cell = (r) =>
      r[name] === undefined ? '—' : `${fmt(median(r[name]) / BATCH)} (${fmt(pairedRatio(r[name], r[ref]), 2)}×)`
    rows.push([name, cell(get), cell(uni), cell(cyc), cell(set), cell(mix)])
  }
  console.log(
    `ns/op, median of ${rounds} interleaved rounds; in brackets the median over rounds of the ratio to lru-cache 11 in the same round\n`
  )
  printTable(
    ['impl', 'get hit, Zipf keys', 'get hit, uniform', 'get hit, cyclic scan', 'set + evict', '90/10 Zipf get/set'],
    rows
  )
  await fetchHits(keys, values, rounds)
}

/** fetch() of cached keys (the hit path of stale-while-revalidate caching). */
async function fetchHits(keys, values, rounds) {
  const fetchMethod = async (k) => `v-${k}`
  const caches = {
    'lru-cache 11': new LRUCache({ max: ENTRIES, fetchMethod }),
    BoundedCache: new BoundedCache({ max: ENTRIES, fetchMethod })
  }
  const tasks = {}
  for (const [name, c] of Object.entries(caches)) {
    for (let i = 0; i < ENTRIES; i++) c.set(keys[i], values[i])
    assert.equal(await c.fetch(keys[5]), values[5], name)
    let i = 0
    tasks[name] = async () => {
      for (let n = 0; n < BATCH; n++) await c.fetch(keys[i++ % ENTRIES])
    }
  }
  const r = await compareRounds(tasks, { rounds })
  console.log('\nfetch() hit, 10k entries, awaited one by one\n')
  printTable(
    ['impl', 'ns/op'],
    Object.keys(tasks).map((name) => [
      name,
      `${fmt(median(r[name]) / BATCH)} (${fmt(pairedRatio(r[name], r['lru-cache 11']), 2)}×)`
    ])
  )
}

// ---- a named store shared by 4 worker_threads, 90/10 mix --------------------

const MIX_THREADS = Number(process.env.MIX_THREADS || 4)
const MIX_OPS = 400_000

/** One round: MIX_THREADS workers run the 90/10 mix at once; the median thread's ns/op. */
async function mixRound(kind) {
  const { Worker } = require('node:worker_threads')
  const src = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { BoundedCache } = require(workerData.index)
    const { LRUCache } = require(workerData.lru)
    const c = workerData.kind === 'BoundedCache'
      ? new BoundedCache({ name: 'bench-mix', max: ${ENTRIES} })
      : new LRUCache({ max: ${ENTRIES} })
    const keys = Array.from({ length: 100000 }, (_, i) => 'item:' + i)
    const order = new Int32Array(workerData.order)
    const run = (n) => {
      for (let i = 0; i < n; i++) {
        const k = keys[order[i & 65535]]
        if (i % 10 === 0) c.set(k, 'value')
        else c.get(k)
      }
    }
    run(200000)
    parentPort.once('message', () => {
      const t = process.hrtime.bigint()
      run(${MIX_OPS})
      parentPort.postMessage(Number(process.hrtime.bigint() - t) / ${MIX_OPS})
    })
    parentPort.postMessage('ready')
  `
  const order = Array.from(zipf(100_000, MASK + 1, 7))
  const workerData = { kind, order, index: require.resolve('../index.js'), lru: require.resolve('lru-cache') }
  const workers = Array.from({ length: MIX_THREADS }, () => new Worker(src, { eval: true, workerData }))
  const next = (w) =>
    new Promise((resolve, reject) => {
      w.once('message', resolve)
      w.once('error', reject)
    })
  await Promise.all(workers.map(next))
  const done = workers.map(next)
  for (const w of workers) w.postMessage('go')
  const ns = await Promise.all(done)
  await Promise.all(workers.map((w) => w.terminate()))
  return median(ns)
}

async function sharedMix() {
  const rounds = Number(process.env.ROUNDS || 5)
  const r = { 'lru-cache 11, one per thread': [], 'BoundedCache, one named store': [] }
  for (let i = 0; i < rounds; i++) {
    r['lru-cache 11, one per thread'].push(await mixRound('lru-cache 11'))
    r['BoundedCache, one named store'].push(await mixRound('BoundedCache'))
  }
  const ref = r['lru-cache 11, one per thread']
  console.log(
    `\n90/10 Zipf get/set mix in ${MIX_THREADS} worker_threads at once (10k entries, 100k keys), ns/op of the median thread, median of ${rounds} rounds\n`
  )
  printTable(
    ['impl', 'ns/op'],
    Object.entries(r).map(([name, v]) => [name, `${fmt(median(v))} (${fmt(pairedRatio(v, ref), 2)}×)`])
  )
}

// ---- memory: one contender per fresh process ---------------------------------

const MEM_ENTRIES = 1_000_000

function memoryChild(name) {
  const gc = globalThis.gc
  const value = (i) => `${i}:`.padEnd(100, 'abcdefghijklmnopqrstuvwxyz0123456789')
  const make = {
    'lru-cache 11': () => new LRUCache({ max: MEM_ENTRIES }),
    'Map (no eviction)': () => new Map(),
    BoundedCache: () => new BoundedCache({ max: MEM_ENTRIES })
  }[name]
  gc()
  gc()
  const before = process.memoryUsage()
  const c = make()
  for (let i = 0; i < MEM_ENTRIES; i++) c.set(`key:${i}`, value(i))
  // Then every key is read once, the last ones twice (so that whatever a
  // cache keeps of what was read, such as BoundedCache's memo, is counted).
  let read = 0
  for (let i = 0; i < MEM_ENTRIES; i++) if (c.get(`key:${i}`) !== undefined) read++
  for (let i = MEM_ENTRIES - 5000; i < MEM_ENTRIES; i++) if (c.get(`key:${i}`) !== undefined) read++
  assert.equal(read, MEM_ENTRIES + 5000)
  gc()
  gc()
  const after = process.memoryUsage()
  const times = []
  for (let r = 0; r < 5; r++) {
    const t = performance.now()
    gc()
    times.push(performance.now() - t)
  }
  process.stdout.write(
    JSON.stringify({
      heap: after.heapUsed - before.heapUsed,
      rss: after.rss - before.rss,
      gcMs: median(times),
      keep: typeof c
    })
  )
}

function memory() {
  const rows = []
  const results = {}
  for (const name of ['lru-cache 11', 'Map (no eviction)', 'BoundedCache']) {
    const r = spawnSync(process.execPath, ['--expose-gc', self, 'memory-child', name], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    results[name] = JSON.parse(r.stdout)
  }
  const ref = results['lru-cache 11']
  for (const [name, r] of Object.entries(results)) {
    rows.push([
      name,
      `${fmt(r.heap / 2 ** 20, 1)} MB (${fmt((100 * r.heap) / ref.heap, 1)}%)`,
      `${fmt(r.rss / 2 ** 20, 0)} MB`,
      `${fmt(r.gcMs, 1)} ms (${fmt(ref.gcMs / r.gcMs, 1)}× shorter)`
    ])
  }
  console.log(
    `\n1M entries (keys 'key:N', ~100-byte string values) set, then read, forced gc() before/after, fresh process each\n`
  )
  printTable(['impl', 'heapUsed held', 'RSS Δ', 'full gc() (median of 5)'], rows)
}

// ---- worker_threads: one shared store vs one cache per thread ----------------

const W_ENTRIES = 1_000_000

function workerChild(kind, threads) {
  const { Worker } = require('node:worker_threads')
  const { nativeRss } = require('../binding.js')
  const src = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { BoundedCache } = require(workerData.index)
    const { LRUCache } = require(workerData.lru)
    const value = (i) => (i + ':').padEnd(100, 'abcdefghijklmnopqrstuvwxyz0123456789')
    const c = workerData.kind === 'BoundedCache'
      ? new BoundedCache({ name: 'bench-shared', max: ${W_ENTRIES} })
      : new LRUCache({ max: ${W_ENTRIES} })
    parentPort.once('message', () => {
      // Cache-aside, the way a worker uses a cache: compute on a miss only.
      for (let i = 0; i < ${W_ENTRIES}; i++) {
        const k = 'key:' + i
        if (!c.has(k)) c.set(k, value(i))
      }
      globalThis.gc(); globalThis.gc()
      parentPort.postMessage('filled')
      parentPort.once('message', () => process.exit(0))
    })
    globalThis.gc()
    parentPort.postMessage('ready')
  `
  const workerData = { kind, index: require.resolve('../index.js'), lru: require.resolve('lru-cache') }
  const workers = Array.from({ length: threads }, () => new Worker(src, { eval: true, workerData }))
  const next = (w) =>
    new Promise((resolve, reject) => {
      w.once('message', resolve)
      w.once('error', reject)
    })
  ;(async () => {
    await Promise.all(workers.map(next))
    globalThis.gc()
    const before = nativeRss()
    // Fill one thread at a time so that transient garbage does not pile up.
    for (const w of workers) {
      const p = next(w)
      w.postMessage('go')
      await p
    }
    globalThis.gc()
    const after = nativeRss()
    for (const w of workers) w.postMessage('stop')
    process.stdout.write(JSON.stringify({ growth: after - before }))
  })()
}

function threadsBench() {
  const growth = {}
  for (const kind of ['lru-cache 11', 'BoundedCache']) {
    for (const threads of [1, 4]) {
      const r = spawnSync(process.execPath, ['--expose-gc', self, 'worker-child', kind, String(threads)], {
        encoding: 'utf8'
      })
      assert.equal(r.status, 0, r.stderr)
      growth[`${kind}/${threads}`] = JSON.parse(r.stdout).growth
    }
  }
  const rows = ['lru-cache 11', 'BoundedCache'].map((kind) => {
    const one = growth[`${kind}/1`]
    const four = growth[`${kind}/4`]
    return [
      kind === 'BoundedCache' ? 'BoundedCache, one named store' : 'lru-cache 11, one cache per thread',
      `${fmt(one / 2 ** 20, 0)} MB`,
      `${fmt(four / 2 ** 20, 0)} MB`,
      `${fmt(four / one, 2)}×`
    ]
  })
  console.log(
    `\nProcess RSS growth, ${fmt(W_ENTRIES)} entries (~100-byte values) cache-aside (has() else set()) in each of N worker_threads\n`
  )
  printTable(['impl', '1 thread', '4 threads', '4 / 1'], rows)
}

const [mode, ...args] = process.argv.slice(2)
if (mode === 'memory-child') memoryChild(...args)
else if (mode === 'worker-child') workerChild(args[0], Number(args[1]))
else {
  // `node benches/cache.bench.mjs [speed] [shared] [memory] [threads]` runs only those sections.
  const only = process.argv.slice(2)
  const want = (s) => only.length === 0 || only.includes(s)
  if (want('speed')) await speed()
  if (want('shared')) await sharedMix()
  if (want('memory')) memory()
  if (want('threads')) threadsBench()
}
