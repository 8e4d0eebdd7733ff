// Helpers shared by the fleet specs (not a spec itself: node --test runs *.spec.mjs).
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Installs the package the way npm would (its files, no node_modules of its
 * own) under a temp project that has no prom-client / @opentelemetry/api.
 * Returns the project dir; remove it with rmSync(dir, { recursive: true }).
 */
export function installWithoutPeers() {
  const dir = mkdtempSync(path.join(tmpdir(), 'leakguard-nopeer-'))
  const pkgDir = path.join(dir, 'node_modules', 'leakguard')
  mkdirSync(pkgDir, { recursive: true })
  for (const f of ['package.json', 'index.js', 'index.mjs', 'index.d.ts', 'binding.js']) {
    cpSync(path.join(root, f), path.join(pkgDir, f))
  }
  for (const f of readdirSync(root).filter((n) => n.endsWith('.node'))) cpSync(path.join(root, f), path.join(pkgDir, f))
  cpSync(path.join(root, 'lib'), path.join(pkgDir, 'lib'), { recursive: true })
  return dir
}

/** Runs `node` with `args` in `cwd` without NODE_PATH (so nothing outside `cwd` resolves). */
export function runIsolated(cwd, args) {
  const env = { ...process.env }
  delete env.NODE_PATH
  delete env.NODE_OPTIONS
  return spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 60_000 })
}

export { rmSync }

/**
 * Starts Debian's redis-server on a free loopback port, without persistence.
 * Resolves to { port, stop() } once it accepts connections.
 */
export async function startRedis() {
  const port = await freePort()
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let out = ''
  await new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d
      if (out.includes('Ready to accept connections')) {
        child.stdout.off('data', onData)
        resolve()
      }
    }
    child.stdout.on('data', onData)
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${out}`)))
  })
  child.stdout.resume()
  child.stderr.resume()
  return {
    port,
    stop() {
      if (child.exitCode !== null) return Promise.resolve()
      return new Promise((resolve) => {
        child.once('exit', resolve)
        child.kill('SIGTERM')
      })
    }
  }
}

/** Parses Prometheus text exposition into [{ name, labels, value }]. */
export function parsePrometheus(text) {
  const out = []
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m) throw new Error(`unparsable exposition line: ${line}`)
    const labels = {}
    if (m[2]) for (const [, k, v] of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v
    out.push({ name: m[1], labels, value: Number(m[3]) })
  }
  return out
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function sampleOf(samples, name, labels = {}) {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  if (hits.length !== 1) throw new Error(`expected one sample ${name}${JSON.stringify(labels)}, found ${hits.length}`)
  return hits[0].value
}

/**
 * Runs guarded jobs that each keep ~8 KB (1024 small integers) until `m`
 * warns, for at most `maxMs` and `maxJobs` (bounds for a loaded machine,
 * not timing assertions; it usually warns within a few hundred jobs). Returns the retained arrays (free them after).
 * @param {import('leakguard').Monitor} m
 * @param {Function} guard
 */
export async function leakUntilWarning(m, guard, { maxMs = 60_000, maxJobs = 30_000, name = 'fleet-leak' } = {}) {
  const retained = []
  let warned = false
  const onWarning = () => {
    warned = true
  }
  m.on('warning', onWarning)
  const job = guard(
    async (i) => {
      retained.push(new Array(1024).fill(i))
    },
    { name }
  )
  try {
    const deadline = Date.now() + maxMs
    for (let i = 0; i < maxJobs && !warned && (i % 64 !== 0 || Date.now() < deadline); i++) {
      await job(i)
      // A real worker waits on I/O between jobs: timers and GC callbacks run there.
      if (i % 8 === 7) await new Promise((resolve) => setTimeout(resolve, 1))
    }
  } finally {
    m.off('warning', onWarning)
  }
  return retained
}
