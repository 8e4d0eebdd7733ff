// The guard must not leak: leakguard runs inside production workers for
// weeks, so its own per-job memory is measured with its own trend test.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const run = promisify(execFile)
const fixture = fileURLToPath(new URL('./fixtures/self-leak.js', import.meta.url))

async function selfLeak(extraBytesPerJob) {
  const { stdout } = await run(process.execPath, [fixture, String(extraBytesPerJob)], {
    timeout: 240_000,
    maxBuffer: 1 << 24
  })
  return JSON.parse(stdout)
}

test('guard + autoTrack + cache + monitor + recycle: leakguard itself does not grow per job', async () => {
  // Two fresh processes: a bounded verdict must hold each time.
  for (let run = 0; run < 2; run++) {
    const r = await selfLeak(0)
    assert.equal(r.bounded, true, r.message)
    assert.ok(r.jobs >= 3000, `only ${r.jobs} guarded jobs ran`)
    assert.equal(r.cacheSize, 500)
    assert.ok(r.samples > 0, 'the monitor sampled during the run')
  }
})

test('the same measurement catches a 256-byte-per-job leak added to the same worker', async () => {
  const r = await selfLeak(256)
  assert.equal(r.bounded, false, 'a deliberate leak must fail the self-test')
  assert.ok(r.heapUsed.bytesPerIteration > 128, `measured ${r.heapUsed.bytesPerIteration} B/job`)
  assert.match(r.message, /heapUsed/)
})
