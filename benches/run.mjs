// Runs every benches/*.bench.mjs (or those named on the command line) in its
// own process, one after the other, so that no bench disturbs another.
//   npm run bench                 all benches
//   npm run bench -- cache memory only cache.bench.mjs and memory.bench.mjs
import { readdirSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const dir = path.dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort()
if (files.length === 0) {
  console.error(`no bench matches ${wanted.join(' ')}`)
  process.exit(2)
}
let failed = 0
for (const f of files) {
  console.log(`\n## ${f}\n`)
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(dir, f)], { stdio: 'inherit' })
  if (r.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
