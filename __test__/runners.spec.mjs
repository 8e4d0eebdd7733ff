// The same assertion file (__test__/runners/memory.shared.test.js) under the
// four test runners, each the real runner installed as a devDependency: green
// on the fixed handler, red with the readable message on the leaky one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const shared = '__test__/runners/memory.shared.test.js'
const bin = (p) => path.join(root, 'node_modules', p)

const RUNNERS = {
  'node:test': ['--test', shared],
  Jest: [bin('jest/bin/jest.js'), '--config', '__test__/runners/jest.config.js', '--ci'],
  Vitest: [bin('vitest/vitest.mjs'), 'run', '--config', '__test__/runners/vitest.config.mjs'],
  Mocha: [bin('mocha/bin/mocha.js'), '--timeout', '60000', shared]
}

let running = 0
const queue = []
function run(args, variant) {
  return new Promise((resolve) => {
    const start = () => {
      running++
      const env = { ...process.env, LEAKGUARD_RUNNER_CASE: variant, NO_COLOR: '1', FORCE_COLOR: '0', CI: '1' }
      // node --test sets NODE_TEST_CONTEXT for its children; a nested
      // node --test must not think it reports to us.
      delete env.NODE_TEST_CONTEXT
      execFile(
        process.execPath,
        args,
        { cwd: root, env, timeout: 150_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          running--
          if (queue.length) queue.shift()()
          resolve({ code: err ? (err.code ?? 1) : 0, output: stdout + stderr })
        }
      )
    }
    if (running < 2) start()
    else queue.push(start)
  })
}

const results = new Map()
for (const [name, args] of Object.entries(RUNNERS)) {
  for (const variant of ['fixed', 'leaky']) results.set(`${name}:${variant}`, run(args, variant))
}

for (const name of Object.keys(RUNNERS)) {
  test(`${name}: the shared assertion passes on the fixed handler`, async () => {
    const { code, output } = await results.get(`${name}:fixed`)
    assert.equal(code, 0, output)
    assert.match(output, /the fixed job handler keeps memory bounded over 2000 jobs/)
  })

  test(`${name}: the shared assertion fails on the leaky handler with the readable message`, async () => {
    const { code, output } = await results.get(`${name}:leaky`)
    assert.notEqual(code, 0, output)
    assert.match(
      output,
      /heapUsed grew [\d.]+ B per iteration over 4000 iterations \(p<0\.001, Theil–Sen slope; 65 post-GC samples; still growing over the last 2000\)/,
      output
    )
    assert.match(
      output,
      /Each iteration left open: 1 EventEmitter#reload listener \(created at __test__\/fixtures\/leaks\/listener\.js:\d+:\d+\)/,
      output
    )
    assert.doesNotMatch(output, /leak detected/i)
  })
}
