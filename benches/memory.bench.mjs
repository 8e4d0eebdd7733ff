// processMemory() against Node's own memory APIs, per call, in one run.
import v8 from 'node:v8'
import { createRequire } from 'node:module'
import { compare, printTable, fmt } from './util.mjs'

const require = createRequire(import.meta.url)
const { processMemory } = require('../index.js')
const native = require('../binding.js')

// Check outputs before timing: the contenders must agree on what they measure.
const a = processMemory({ arrayBuffers: true })
const b = process.memoryUsage()
if (Math.abs(a.rss - b.rss) / b.rss > 0.1) throw new Error(`rss disagrees: ${a.rss} vs ${b.rss}`)

let sink = 0
const results = await compare({
  'process.memoryUsage()': () => {
    sink += process.memoryUsage().rss
  },
  'process.memoryUsage.rss()': () => {
    sink += process.memoryUsage.rss()
  },
  'v8.getHeapStatistics()': () => {
    sink += v8.getHeapStatistics().used_heap_size
  },
  'leakguard nativeRss() (binding)': () => {
    sink += native.nativeRss()
  },
  'leakguard processMemory()': () => {
    sink += processMemory().rss
  },
  'leakguard processMemory({ arrayBuffers: true })': () => {
    sink += processMemory({ arrayBuffers: true }).rss
  }
})
const base = results['process.memoryUsage()']
printTable(
  ['call', 'ns/op (median)', 'vs process.memoryUsage()'],
  Object.entries(results).map(([k, ns]) => [k, fmt(ns), `${fmt(ns / base, 2)}×`])
)
if (sink === 0) console.log('')
