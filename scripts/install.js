#!/usr/bin/env node
'use strict'
// leakguard's install step (package.json "install"), run by npm in the installed
// package's folder. In order:
//   1. if a native binary loads (the leakguard-<target> package, or a
//      leakguard.<target>.node from an earlier build), stop: cargo is never run;
//   2. else, if cargo is on PATH, build the addon from the shipped sources
//      (Cargo.toml, Cargo.lock, build.rs, src/) and put it where binding.js looks;
//   3. else leave it: loading throws ERR_LEAKGUARD_NO_BINARY with the remedies.
// It never fails the install (always exits 0): a missing binary is reported when
// leakguard is loaded, not by aborting the user's `npm install`. What it found and
// did goes to install-status.json, which the loader's error message reads.
//
// CARGO_TARGET_DIR, CARGO_BUILD_JOBS and the rest of cargo's environment are
// honoured; without CARGO_TARGET_DIR the build happens in ./target, which is
// removed afterwards if this step made it (hundreds of MB the package does not need).

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const STATUS = path.join(ROOT, 'install-status.json')
const LOG = path.join(ROOT, 'build-from-source.log')
const { version } = require('../package.json')

function say(line) {
  // npm shows an install script's output only with --foreground-scripts (or when it
  // fails, which this one never does); the status file is what the loader reads.
  process.stderr.write(`leakguard: ${line}\n`)
}

function writeStatus(status) {
  fs.writeFileSync(STATUS, `${JSON.stringify({ version, ...status, at: new Date().toISOString() }, null, 2)}\n`)
}

/**
 * Loads the addon through the public loader in a child process (a crash while
 * loading a binary must not take the install down) and reports what happened.
 */
function probe() {
  const code = `
    let out
    try {
      require('./lib/common/native.js')
      out = { ok: true, binary: Object.keys(require.cache).find((f) => f.endsWith('.node')) }
    } catch (e) {
      out = { ok: false, code: e.code, message: e.message, target: e.target, binaryFile: e.binaryFile }
    }
    process.stdout.write(JSON.stringify(out))`
  const r = spawnSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8' })
  try {
    return JSON.parse(r.stdout)
  } catch {
    return { ok: false, message: `loading crashed (${r.signal ?? `exit ${r.status}`}): ${r.stderr.trim().slice(-500)}` }
  }
}

/** The full path of a command on PATH (with PATHEXT on Windows), or null. */
function onPath(command) {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD').split(';') : ['']
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue
    for (const ext of exts) {
      const file = path.join(dir, command + ext)
      try {
        fs.accessSync(file, fs.constants.X_OK)
        if (fs.statSync(file).isFile()) return file
      } catch {}
    }
  }
  return null
}

/** rustc's host triple: building for it explicitly (as `napi build` does) lets the two share a target dir. */
function hostTriple(cargo) {
  const rustc = onPath('rustc') ?? path.join(path.dirname(cargo), `rustc${path.extname(cargo)}`)
  const r = spawnSync(rustc, ['-vV'], { encoding: 'utf8' })
  return /^host: (\S+)$/m.exec(r.stdout ?? '')?.[1] ?? null
}

/** Runs cargo; returns the path of the built cdylib, or throws with the reason. */
function cargoBuild(cargo, targetDir) {
  const triple = hostTriple(cargo)
  const args = ['build', '--release', '--locked', '--lib', '--message-format=json-render-diagnostics']
  if (triple) args.push('--target', triple)
  const log = fs.openSync(LOG, 'w')
  fs.writeSync(log, `$ ${cargo} ${args.join(' ')}\n(in ${ROOT}, CARGO_TARGET_DIR=${targetDir})\n`)
  const env = { ...process.env, CARGO_TARGET_DIR: targetDir }
  // Rust's musl targets link the C runtime statically by default, which rules out a
  // cdylib: a Node addon on Alpine needs it dynamic (as napi-rs's own musl builds do).
  if (triple?.endsWith('musl')) env.RUSTFLAGS = `${env.RUSTFLAGS ?? ''} -C target-feature=-crt-static`.trim()
  let r
  try {
    r = spawnSync(cargo, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', log],
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024
    })
  } finally {
    fs.closeSync(log)
  }
  if (r.error) throw new Error(`cargo did not start: ${r.error.message}`)
  if (r.status !== 0) throw new Error(`cargo exited with ${r.signal ?? r.status}`)
  let built = null
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const msg = JSON.parse(line)
    if (msg.reason === 'compiler-artifact' && msg.target?.kind?.includes('cdylib')) {
      built = msg.filenames.find((f) => /\.(so|dylib|dll)$/.test(f)) ?? built
    }
  }
  if (!built) throw new Error('cargo reported no cdylib')
  return built
}

function main() {
  // `npm install` in a checkout of leakguard itself: the "prepare" script builds the
  // addon with the napi CLI (a devDependency) right after this; nothing to do here.
  if (process.env.INIT_CWD && path.resolve(process.env.INIT_CWD) === path.resolve(ROOT)) return

  const first = probe()
  if (first.ok) {
    writeStatus({ state: 'loaded', binary: first.binary })
    return
  }
  if (first.code !== 'ERR_LEAKGUARD_NO_BINARY') {
    writeStatus({ state: 'error', reason: first.message })
    say(`loading the addon failed unexpectedly: ${first.message}`)
    return
  }

  const cargo = onPath('cargo')
  if (!cargo) {
    writeStatus({ state: 'no-cargo', target: first.target })
    say(`no prebuilt binary for ${first.target} and no cargo on PATH: install Rust, then \`npm rebuild leakguard\`.`)
    return
  }

  const targetDir = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target')
  // Only a target dir this step creates is removed afterwards, never one it found.
  const ownTarget = !process.env.CARGO_TARGET_DIR && !fs.existsSync(targetDir)
  say(`no prebuilt binary for ${first.target}: building from source with ${cargo} (log: ${LOG})`)
  try {
    const built = cargoBuild(cargo, targetDir)
    fs.copyFileSync(built, path.join(ROOT, first.binaryFile))
  } catch (err) {
    writeStatus({ state: 'build-failed', target: first.target, reason: err.message, log: LOG })
    say(`the build from source failed (${err.message}); see ${LOG}`)
    return
  } finally {
    if (ownTarget) fs.rmSync(targetDir, { recursive: true, force: true })
  }
  const second = probe()
  if (second.ok) {
    writeStatus({ state: 'built', target: first.target, binary: second.binary, log: LOG })
    say(`built ${first.binaryFile} from source`)
  } else {
    writeStatus({
      state: 'build-failed',
      target: first.target,
      reason: `the built binary does not load: ${second.message}`,
      log: LOG
    })
    say(`the binary built from source does not load: ${second.message}`)
  }
}

try {
  main()
} catch (err) {
  // Never fail the install: the loader reports a missing binary when it matters.
  try {
    writeStatus({ state: 'error', reason: err?.message ?? String(err) })
  } catch {}
  say(`install step failed: ${err?.stack ?? err}`)
}
process.exitCode = 0
