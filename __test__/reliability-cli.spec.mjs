// `leakguard check` under hostile handlers and hostile operators, with real
// processes: the real bin/leakguard.js, real signals, and
// process.kill(pid, 0) to prove that no check process outlives the CLI.
// Each test is one defect of issue #18 (defects 1, 4, 7 and 10).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = path.join(root, 'bin', 'leakguard.js')
const fixtures = path.join(root, '__test__', 'fixtures', 'reliability')
const fixture = (name) => path.join(fixtures, name)
// Small runs: a few seconds each on the 2-core VM.
const SMALL = ['--jobs', '100', '--warmup', '20', '--snapshot-jobs', '20']

/** A private temporary directory per test: the check's own goes inside it (TMPDIR). */
function privateTmp(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-reliability-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Starts the CLI; `done` resolves with its exit code or signal and its output. */
function start(args, { env = {} } = {}) {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c) => {
    stdout += c
  })
  child.stderr.on('data', (c) => {
    stderr += c
  })
  const done = new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { child, done }
}

const cli = (args, opts) => start(args, opts).done

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Whether `pid` is a live process (a zombie waiting to be reaped counts as gone). */
function alive(pid) {
  try {
    process.kill(pid, 0)
  } catch (err) {
    return err.code === 'EPERM'
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return true
  }
}

/** Polls `cond` every 50 ms; false if it never held within `ms` (generous: the machine is shared). */
async function eventually(cond, ms = 20_000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (cond()) return true
    await sleep(50)
  }
  return cond()
}

/** Starts a check whose handler writes its pid to a file as job 2 starts; resolves then. */
async function startWithPid(t, name, args, tmp) {
  const pidFile = path.join(tmp, 'handler.pid')
  const run = start(['check', fixture(name), ...SMALL, ...args], {
    env: { TMPDIR: tmp, LEAKGUARD_TEST_PID_FILE: pidFile }
  })
  t.after(() => run.child.kill('SIGKILL'))
  assert.ok(await eventually(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== ''), 'job 2 started')
  const pid = Number(fs.readFileSync(pidFile, 'utf8'))
  t.after(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL')
  })
  return { ...run, pid }
}

/** The check's own temporary directories left in `tmp` (the pid file aside). */
const leftovers = (tmp) => fs.readdirSync(tmp).filter((n) => n !== 'handler.pid')

test('a job that blocks the event loop: the CLI enforces --job-timeout itself, exits 2 naming the job, and no process is left', async (t) => {
  const tmp = privateTmp(t)
  const run = await startWithPid(t, 'blocks.cjs', ['--job-timeout', '300'], tmp)
  const r = await run.done
  assert.equal(r.code, 2, r.stdout + r.stderr)
  assert.match(r.stderr, /job 2 did not finish within 300 ms \(--job-timeout\) and its process stopped responding/)
  assert.match(r.stderr, /blocks the event loop/)
  assert.equal(r.stdout, '')
  assert.ok(await eventually(() => !alive(run.pid)), `the check process ${run.pid} still runs`)
  assert.deepEqual(leftovers(tmp), [])
})

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  test(`${signal} to the CLI ends a check process that blocks its event loop, and removes its temporary directory`, async (t) => {
    const tmp = privateTmp(t)
    // --job-timeout 0: the CLI would wait for ever; only the signal ends it.
    const run = await startWithPid(t, 'blocks.cjs', ['--job-timeout', '0'], tmp)
    run.child.kill(signal)
    const r = await run.done
    // The CLI ends by the same signal, as it would have without its handlers.
    assert.equal(r.signal, signal, r.stderr)
    assert.ok(await eventually(() => !alive(run.pid)), `the check process ${run.pid} outlived the CLI`)
    assert.deepEqual(leftovers(tmp), [])
  })
}

test('SIGKILL to the CLI: a check process that blocks its event loop still dies (its watchdog thread sees the parent gone)', async (t) => {
  const tmp = privateTmp(t)
  const run = await startWithPid(t, 'blocks.cjs', ['--job-timeout', '0'], tmp)
  run.child.kill('SIGKILL')
  await run.done
  assert.ok(await eventually(() => !alive(run.pid)), `orphan ${run.pid} still spins`)
  assert.ok(await eventually(() => leftovers(tmp).length === 0), `left behind: ${leftovers(tmp)}`)
})

test('SIGKILL to the CLI: a check process waiting on a job ends when its IPC channel closes', async (t) => {
  const tmp = privateTmp(t)
  const run = await startWithPid(t, 'waits-forever.cjs', ['--job-timeout', '0'], tmp)
  // Long enough for a process with nothing pending to have exited by itself.
  await sleep(1000)
  assert.ok(alive(run.pid), 'the check process waits for the job (--job-timeout 0)')
  run.child.kill('SIGKILL')
  await run.done
  assert.ok(await eventually(() => !alive(run.pid)), `orphan ${run.pid} still waits`)
  assert.ok(await eventually(() => leftovers(tmp).length === 0), `left behind: ${leftovers(tmp)}`)
})

test("--job-timeout 0 waits for real: a job settled by an unref'd timer 1.5 s later completes the check", async () => {
  const r = await cli(['check', fixture('pending.cjs'), ...SMALL, '--job-timeout', '0'])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /^BOUNDED/m)
  assert.doesNotMatch(r.stderr, /before reporting/)
})

test('a module whose top-level await never settles: exit 2, saying that it can never load', async () => {
  const r = await cli(['check', fixture('never-loads.mjs'), ...SMALL])
  assert.equal(r.code, 2, r.stdout + r.stderr)
  assert.match(r.stderr, /the module never finishes loading: its top-level await waits on a promise that nothing left/)
  assert.doesNotMatch(r.stderr, /exited with code/)
})

test('process.disconnect() in a handler: exit 2 with a clear message, no ERR_IPC_CHANNEL_CLOSED stack', async () => {
  const r = await cli(['check', fixture('disconnects.cjs'), ...SMALL])
  assert.equal(r.code, 2, r.stdout + r.stderr)
  assert.match(r.stderr, /closed its IPC channel before reporting \(does the handler call process\.disconnect\(\)\?\)/)
  assert.doesNotMatch(r.stderr, /ERR_IPC_CHANNEL_CLOSED|\n\s+at /)
})

test('a check process killed in the snapshot phase leaves no temporary directory behind', async (t) => {
  const tmp = privateTmp(t)
  const r = await cli(
    ['check', fixture('dies-in-snapshot.cjs'), '--jobs', '200', '--warmup', '20', '--snapshot-jobs', '40'],
    {
      env: { TMPDIR: tmp }
    }
  )
  assert.equal(r.code, 2, r.stdout + r.stderr)
  assert.match(r.stderr, /the check process was killed by SIGKILL before reporting/)
  assert.deepEqual(fs.readdirSync(tmp), [])
})

test('--report: an unwritable path is refused before the run; one that fails at the end still prints the verdict', async (t) => {
  const tmp = privateTmp(t)
  const file = path.join(tmp, 'a-file')
  fs.writeFileSync(file, '')
  const early = await cli(['check', fixture('pending.cjs'), ...SMALL, '--report', path.join(file, 'out.html')])
  assert.equal(early.code, 2)
  assert.match(early.stderr, /cannot write the report to .*a-file\/out\.html: .*a-file is not a directory/)
  assert.doesNotMatch(early.stderr, /warm-up/, 'refused before any job ran')
  const dir = path.join(tmp, 'reports')
  fs.mkdirSync(dir)
  const late = await cli(['check', fixture('spoils-report.cjs'), ...SMALL, '--report', path.join(dir, 'out.html')], {
    env: { LEAKGUARD_TEST_REPORT_DIR: dir }
  })
  assert.equal(late.code, 2, late.stdout + late.stderr)
  assert.match(late.stdout, /^BOUNDED: no metric grows per job/m)
  assert.match(late.stderr, /cannot write the report to .*reports\/out\.html/)
  assert.doesNotMatch(late.stdout, /^Report:/m)
})

test('diff --top 99999 names the flag and its range, not the API option', async () => {
  const snap = fixture('pending.cjs')
  const r = await cli(['diff', snap, snap, '--top', '99999'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--top must be an integer from 1 to 10000 \(received '99999'\)/)
  assert.doesNotMatch(r.stderr, /options\.top/)
  const c = await cli(['check', snap, '--jobs', '200000', '--concurrency', '200000'])
  assert.equal(c.code, 2)
  assert.match(c.stderr, /--concurrency must be an integer from 1 to 100000 \(received '200000'\)/)
  // A longer timeout would overflow Node's timers and fire at once, failing every job.
  const j = await cli(['check', snap, '--job-timeout', '9999999999'])
  assert.equal(j.code, 2)
  assert.match(j.stderr, /--job-timeout must be an integer from 0 to 2147483647 \(received '9999999999'\)/)
})

test('a very long module path gives a message of bounded length', async () => {
  // Linux caps one argument at 128 KB; 100 KB is already 500 times too long to read.
  const long = `${'d/'.repeat(50_000)}x.cjs`
  const r = await cli(['check', long])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /cannot find 'd\/d\/.*….*d\/x\.cjs'/)
  assert.ok(r.stderr.length < 2000, `${r.stderr.length} characters`)
})
