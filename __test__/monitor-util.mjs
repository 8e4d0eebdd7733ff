// Helpers of the monitor specs and bench: child processes that run the job
// fixtures, and a small pool to run several of them at once on a loaded machine.
import { fork, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const jobsFixture = path.join(root, '__test__', 'fixtures', 'monitor-jobs.js')

/**
 * Forks `fixture` with `opts` as JSON in argv[2]; resolves with the result it
 * sends last ({ type: 'result' }), every IPC message and its stderr.
 */
export function runChild(fixture, opts, { execArgv = [], timeoutMs = 120_000 } = {}) {
  const child = fork(fixture, [JSON.stringify(opts)], { cwd: root, silent: true, execArgv })
  const messages = []
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
  })
  child.stdout.resume()
  child.on('message', (m) => messages.push(m))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`child timed out: ${stderr}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      const result = messages.find((m) => m.type === 'result')
      if (code !== 0 || !result) return reject(new Error(`child exited ${code}: ${stderr}`))
      resolve({ result: result.result, messages, stderr })
    })
  })
}

/** Runs `node ...args` in the repo; resolves with its exit code, signal, stdout and stderr. */
export async function runNode(args, { timeoutMs = 120_000 } = {}) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code, signal] = await once(child, 'exit')
  clearTimeout(timer)
  return { code, signal, stdout, stderr }
}

/** Runs `fn` over `items`, `n` at a time (children share a loaded 2-core machine). */
export async function pool(items, n, fn) {
  const out = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++
        out[i] = await fn(items[i])
      }
    })
  )
  return out
}
