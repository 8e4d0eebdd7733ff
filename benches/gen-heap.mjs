// Writes a pair of heap snapshots of a generated heap: a long-lived store of
// ~`mb` MB of snapshot (customers with names, tags and addresses), then
// `jobs` jobs that each leak one Order into a module-level array.
//   node benches/gen-heap.mjs <outDir> [mb=300] [jobs=20000]
// Prints JSON { before, after, jobsBetween, beforeBytes, afterBytes }.
import { mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { writeHeapSnapshot } = require('../index.js')

const [outDir, mbArg = '300', jobsArg = '20000'] = process.argv.slice(2)
if (!outDir) {
  console.error('usage: node benches/gen-heap.mjs <outDir> [mb] [jobs]')
  process.exit(2)
}
const mb = Number(mbArg)
const jobs = Number(jobsArg)
mkdirSync(outDir, { recursive: true })

class Customer {
  constructor(i) {
    this.id = i
    this.name = `customer-${i}`
    this.tags = [`t${i % 97}`, `segment-${i % 13}`]
    this.address = { street: `${i} Main St`, city: `city-${i % 1000}` }
  }
}
class Order {
  constructor(i) {
    this.id = i
    this.sku = `sku-${i}`
    this.lines = [{ qty: i % 5, price: i * 0.5 }]
  }
}

// ~680 bytes of snapshot per customer (measured on Node 20).
const store = []
const perMb = (1 << 20) / 680
for (let i = 0; i < mb * perMb; i++) store.push(new Customer(i))

const leaks = []
let scratch = 0
function job(i) {
  const tmp = Array.from({ length: 8 }, (_, k) => ({ k, s: `tmp-${i}-${k}` }))
  scratch += tmp.length
  leaks.push(new Order(i))
}

for (let i = 0; i < 100; i++) job(i)
const before = writeHeapSnapshot(path.join(outDir, `before-${mb}mb.heapsnapshot`))
for (let i = 100; i < 100 + jobs; i++) job(i)
const after = writeHeapSnapshot(path.join(outDir, `after-${mb}mb.heapsnapshot`))
console.log(
  JSON.stringify({
    before,
    after,
    jobsBetween: jobs,
    beforeBytes: statSync(before).size,
    afterBytes: statSync(after).size,
    kept: store.length + leaks.length + (scratch > 0 ? 0 : 1)
  })
)
