'use strict'
// Run by __test__/reliability.spec.mjs under `jest --detectOpenHandles`:
// loading leakguard and using its capabilities must leave no open handle
// for Jest to report (napi-rs's "CustomGC" threadsafe function used to).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { BoundedCache, guard, withScope, summarizeHeapSnapshot } = require('../../index.js')

test('leakguard loads and runs, then lets Jest finish cleanly', async () => {
  const cache = new BoundedCache({ max: 100 })
  cache.set('k', { v: 1 })
  expect(cache.get('k')).toEqual({ v: 1 })
  const job = guard(async (n) => n * 2, { name: 'double' })
  expect(await job(21)).toBe(42)
  await withScope(async (scope) => {
    scope.setTimeout(() => {}, 60_000)
  })
  // An analysis on the libuv pool, ending in an error (the file is empty).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-jest-'))
  try {
    const file = path.join(dir, 'empty.heapsnapshot')
    fs.writeFileSync(file, '')
    await expect(summarizeHeapSnapshot(file)).rejects.toMatchObject({ code: 'ERR_LEAKGUARD_MALFORMED_SNAPSHOT' })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
