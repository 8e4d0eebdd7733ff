// One contender of benches/snapshot.bench.mjs, run in its own process so its
// wall time and peak RSS are its own. Prints JSON { ok, detail }.
//   node benches/snapshot-contender.cjs <leakguard|memlab-api> <before> <after> <jobsBetween>
'use strict'
const [which, before, after, jobsArg] = process.argv.slice(2)
const jobs = Number(jobsArg)

async function leakguard() {
  const { diffHeapSnapshots } = require('../index.js')
  const d = await diffHeapSnapshots(before, after, { jobsBetween: jobs, top: 20 })
  const s = d.suspects[0]
  return { ok: s && s.name === 'Order' && s.countDelta === jobs, detail: s ? s.message : d.message }
}

// memlab's heap-analysis API (full parse + dominators + retained sizes per
// snapshot, as its analyses do), then the same per-class count diff.
async function memlabApi() {
  const { getFullHeapFromFile } = require('@memlab/heap-analysis')
  const counts = async (file) => {
    const heap = await getFullHeapFromFile(file)
    const m = new Map()
    heap.nodes.forEach((n) => {
      const k = n.type === 'object' || n.type === 'native' ? n.name : `(${n.type})`
      const c = m.get(k) || { count: 0, retained: 0 }
      c.count++
      c.retained += n.retainedSize
      m.set(k, c)
    })
    return m
  }
  const b = await counts(before)
  const a = await counts(after)
  const grow = [...a].map(([k, v]) => [k, v.count - (b.get(k)?.count ?? 0)]).sort((x, y) => y[1] - x[1])
  const order = grow.find(([k]) => k === 'Order')
  return { ok: order && order[1] === jobs, detail: `Order +${order?.[1]}` }
}

;(which === 'leakguard' ? leakguard() : memlabApi())
  .then((r) => {
    process.stdout.write(`\n@@RESULT ${JSON.stringify(r)}\n`)
  })
  .catch((e) => {
    console.error(e)
    process.exit(1)
  })
