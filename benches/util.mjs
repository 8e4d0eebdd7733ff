// Shared helpers for benches: interleaved runs, medians, and a plain table.
import { Bench } from 'tinybench'

/**
 * Runs the given tasks interleaved over `rounds` rounds (so that machine noise
 * hits every contender alike) and returns the median ns/op of each.
 * @param {Record<string, () => unknown>} tasks
 */
export async function compare(tasks, options) {
  const samples = await compareRounds(tasks, options)
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]))
}

/**
 * Like `compare`, but returns every round's ns/op per task, in round order,
 * so that a ratio can be taken round by round (see `pairedRatio`).
 * @param {Record<string, () => unknown>} tasks
 * @returns {Promise<Record<string, number[]>>}
 */
export async function compareRounds(tasks, { rounds = 5, time = 200, warmupTime = 50 } = {}) {
  const samples = Object.fromEntries(Object.keys(tasks).map((k) => [k, []]))
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(tasks)) {
      const bench = new Bench({ time, warmupTime })
      bench.add(name, fn)
      await bench.warmup()
      await bench.run()
      const t = bench.tasks[0].result
      if (t.error) throw t.error
      samples[name].push(t.mean * 1e6) // ms -> ns
    }
  }
  return samples
}

/**
 * Median over rounds of a[r] / b[r]: each round's two figures were taken
 * within a second of each other, so slow drift of the machine (other load,
 * frequency) cancels, which a ratio of two separate medians does not do.
 */
export function pairedRatio(a, b) {
  return median(a.map((x, i) => x / b[i]))
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Prints rows (arrays of cells) under a header as a Markdown table. */
export function printTable(header, rows) {
  const cells = [header, ...rows].map((r) => r.map(String))
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)))
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  console.log(line(cells[0]))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const r of cells.slice(1)) console.log(line(r))
}

export const fmt = (n, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
