// `npm install leakguard` as a user does it, with the real npm and no network: the main
// package and this machine's platform package are packed into tarballs the way the
// release publishes them, then installed into fresh projects (--offline, tarballs only).
//   1. both tarballs, cargo absent from PATH: the prebuilt binary serves require, import,
//      `npx leakguard check` and `npx leakguard demo`;
//   2. the main tarball alone, cargo on PATH: the install step builds from source (a real
//      cargo release build; it shares this repository's target/ so that only the
//      leakguard crate compiles), and a rebuild does not run cargo again;
//   3. the main tarball alone, no cargo: the install succeeds and loading throws
//      ERR_LEAKGUARD_NO_BINARY naming the platform, the package and the remedies.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const { version } = manifest
const WIN = process.platform === 'win32'
const NPM = WIN ? 'npm.cmd' : 'npm'
const NPX = WIN ? 'npx.cmd' : 'npx'
// The binary `npm run build` made here names this machine's target (linux-x64-gnu...).
const builtNode = fs.readdirSync(ROOT).find((f) => /^leakguard\..+\.node$/.test(f))
const TARGET = builtNode?.slice('leakguard.'.length, -'.node'.length)
const PLATFORM_PACKAGE = `leakguard-${TARGET}`
const INSTALL = ['install', '--offline', '--no-audit', '--no-fund']

// A leaky job handler, as a user would write one: it keeps every job.
const LEAKY_WORKER = `const kept = []
module.exports = async function handle(job) {
  kept.push({ job, copy: \`\${job.id}:\`.repeat(200) })
}
module.exports.makeJob = (i) => ({ id: \`job-\${i}\` })
`

let tmp
let mainTarball
let platformTarball
let mainFiles
let withCargo
let withoutCargo

function run(command, args, { cwd, env = withoutCargo } = {}) {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, shell: WIN, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr })
    })
  })
}

async function ok(command, args, options) {
  const r = await run(command, args, options)
  assert.equal(r.code, 0, `${command} ${args.join(' ')}: ${r.stdout}${r.stderr}`)
  return r
}

function onPath(command, envPath) {
  const exts = WIN ? ['.exe', '.cmd'] : ['']
  return envPath
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => exts.some((ext) => fs.existsSync(path.join(dir, command + ext))))
}

/** The environment of a user's shell: none of this npm run's own variables. */
function userEnv(envPath) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|INIT_CWD$|CARGO_TARGET_DIR$)/i.test(k)) env[k] = v
  }
  return { ...env, PATH: envPath, CARGO_NET_OFFLINE: 'true', NO_COLOR: '1' }
}

async function pack(dir, dest) {
  const r = await ok(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], {
    cwd: dir,
    env: withCargo
  })
  return path.join(dest, JSON.parse(r.stdout)[0].filename)
}

async function project(name) {
  const dir = path.join(tmp, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, private: true }, null, 2)}\n`)
  fs.writeFileSync(path.join(dir, 'worker.js'), LEAKY_WORKER)
  return dir
}

const installed = (dir, ...rest) => path.join(dir, 'node_modules', 'leakguard', ...rest)
const status = (dir) => JSON.parse(fs.readFileSync(installed(dir, 'install-status.json'), 'utf8'))

/** Loads leakguard in the project (CommonJS and ESM) and reports what happened. */
const LOAD = `
  const show = (e) => ({ code: e.code, message: e.message, platform: e.platform, arch: e.arch, libc: e.libc, packageName: e.packageName })
  let out = {}
  try {
    const l = require('leakguard')
    const cache = new l.BoundedCache({ max: 10 })
    cache.set('k', { n: 1 })
    out.require = { value: cache.get('k'), noBinaryCode: l.codes.NO_BINARY }
  } catch (e) { out.require = { error: show(e) } }
  import('leakguard').then((m) => { out.import = { BoundedCache: typeof m.BoundedCache, defaultCodes: typeof m.default.codes } },
    (e) => { out.import = { error: show(e) } }).then(() => process.stdout.write(JSON.stringify(out)))`

async function load(dir, preload = []) {
  const r = await ok(process.execPath, [...preload, '-e', LOAD], { cwd: dir })
  return JSON.parse(r.stdout)
}

before(async () => {
  assert.ok(TARGET, 'no leakguard.<target>.node in the repository: `npm run build` (pretest) makes it')
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-install-'))
  // cargo absent: PATH without the folders that hold it, plus one that holds node.
  const nodeBin = path.join(tmp, 'node-bin')
  fs.mkdirSync(nodeBin)
  // (a copy on Windows, where symbolic links need a privilege)
  const link = WIN ? fs.copyFileSync : fs.symlinkSync
  link(process.execPath, path.join(nodeBin, path.basename(process.execPath)))
  const dirs = (process.env.PATH ?? '').split(path.delimiter)
  const noCargo = [nodeBin, ...dirs.filter((d) => d && !onPath('cargo', d))].join(path.delimiter)
  assert.ok(onPath('cargo', process.env.PATH ?? ''), 'these tests need cargo on PATH (scenario 2)')
  assert.ok(!onPath('cargo', noCargo))
  withoutCargo = userEnv(noCargo)
  withCargo = { ...userEnv(process.env.PATH), CARGO_TARGET_DIR: path.join(ROOT, 'target') }

  // The main package as published: the packed repository plus the optionalDependencies
  // that the release writes (napi pre-publish) right before `npm publish`.
  const packed = path.join(tmp, 'packed')
  fs.mkdirSync(packed)
  const raw = await pack(ROOT, packed)
  const stage = path.join(tmp, 'stage')
  fs.mkdirSync(stage)
  await ok('tar', ['xzf', raw, '-C', stage], { env: withCargo })
  await ok(process.execPath, [path.join(ROOT, 'scripts', 'versions.mjs'), 'optional', path.join(stage, 'package')], {
    env: withCargo
  })
  mainTarball = await pack(path.join(stage, 'package'), tmp)
  mainFiles = (await ok('tar', ['tzf', mainTarball], { env: withCargo })).stdout.split('\n').filter(Boolean)

  // The platform package as `napi artifacts` fills it: npm/<target> plus the binary.
  const platform = path.join(tmp, 'platform')
  fs.cpSync(path.join(ROOT, 'npm', TARGET), platform, { recursive: true })
  fs.copyFileSync(path.join(ROOT, 'LICENSE'), path.join(platform, 'LICENSE'))
  fs.copyFileSync(path.join(ROOT, builtNode), path.join(platform, builtNode))
  platformTarball = await pack(platform, tmp)
})

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

test('the main tarball ships the sources for a build, the loader and the license, and no tests, benches, fixtures or binaries', () => {
  const files = new Set(mainFiles.map((f) => f.replace(/^package\//, '')))
  for (const f of ['Cargo.toml', 'Cargo.lock', 'build.rs', 'src/lib.rs', 'src/errors.rs', 'scripts/install.js']) {
    assert.ok(files.has(f), `${f} is shipped`)
  }
  for (const f of [
    'LICENSE',
    'README.md',
    'binding.js',
    'index.d.mts',
    'lib/common/native.js',
    'lib/fleet/prometheus.d.mts'
  ]) {
    assert.ok(files.has(f), `${f} is shipped`)
  }
  const unwanted = [...files].filter((f) =>
    /^(__test__|benches|fuzz|npm|target|\.github|\.ci)\/|fixtures|tests\.rs$|\.node$|^scripts\/(?!install\.js$)/.test(f)
  )
  assert.deepEqual(unwanted, [])
  const pkg = JSON.parse(fs.readFileSync(path.join(tmp, 'stage', 'package', 'package.json'), 'utf8'))
  assert.equal(pkg.scripts.install, 'node scripts/install.js')
  assert.equal(Object.keys(pkg.optionalDependencies).length, manifest.napi.targets.length)
  for (const [name, v] of Object.entries(pkg.optionalDependencies)) {
    assert.match(name, /^leakguard-(linux|darwin|win32)-/)
    assert.equal(v, version, `${name} at the main package's version`)
  }
  assert.equal(pkg.optionalDependencies[PLATFORM_PACKAGE], version)
  for (const key of ['repository', 'homepage', 'bugs']) assert.ok(pkg[key], `package.json has ${key}`)
})

test("the README's pictures show on the registry page: absolute URLs to files of this version's tarball", () => {
  const readme = fs.readFileSync(path.join(tmp, 'stage', 'package', 'README.md'), 'utf8')
  const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)|<img[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1] ?? m[2])
  assert.ok(images.length > 0)
  for (const url of images) {
    const m = /^https:\/\/cdn\.jsdelivr\.net\/npm\/leakguard@([^/]+)\/(.+)$/.exec(url)
    assert.ok(m, `${url} is an absolute URL into the published package`)
    assert.equal(m[1], version)
    assert.ok(mainFiles.includes(`package/${m[2]}`), `${m[2]} is in the tarball`)
  }
})

test('the platform tarball holds its binary and tells npm which os, cpu and libc it is for', async () => {
  const files = (await ok('tar', ['tzf', platformTarball], { env: withCargo })).stdout.split('\n').filter(Boolean)
  assert.deepEqual(
    files.sort(),
    ['package/LICENSE', 'package/README.md', `package/${builtNode}`, 'package/package.json'].sort()
  )
  const pkg = JSON.parse(fs.readFileSync(path.join(tmp, 'platform', 'package.json'), 'utf8'))
  assert.equal(pkg.name, PLATFORM_PACKAGE)
  assert.equal(pkg.version, version)
  assert.deepEqual(pkg.os, [process.platform])
  assert.deepEqual(pkg.cpu, [process.arch])
  if (process.platform === 'linux') assert.deepEqual(pkg.libc, [TARGET.endsWith('musl') ? 'musl' : 'glibc'])
})

test('the npm/ packages pass `napi pre-publish --dry-run` (stand-in files for the binaries only the release workflow builds)', async () => {
  const napi = path.join(ROOT, 'node_modules', '.bin', WIN ? 'napi.cmd' : 'napi')
  const dir = path.join(tmp, 'prepublish')
  fs.mkdirSync(dir)
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'))
  fs.cpSync(path.join(ROOT, 'npm'), path.join(dir, 'npm'), { recursive: true })
  for (const t of fs.readdirSync(path.join(dir, 'npm'))) {
    const file = path.join(dir, 'npm', t, `leakguard.${t}.node`)
    if (t === TARGET) fs.copyFileSync(path.join(ROOT, builtNode), file)
    else fs.writeFileSync(file, '')
  }
  const args = ['pre-publish', '--dry-run', '-t', 'npm', '--no-gh-release']
  await ok(napi, args, { cwd: dir, env: withCargo })
  // It checks what it publishes: a package without its binary is refused.
  fs.rmSync(path.join(dir, 'npm', TARGET, builtNode))
  const r = await run(napi, args, { cwd: dir, env: withCargo })
  assert.notEqual(r.code, 0)
  assert.match(
    r.stdout + r.stderr,
    new RegExp(`${PLATFORM_PACKAGE} is incomplete: missing ${builtNode.replaceAll('.', '\\.')}`)
  )
})

test('1. main + platform tarballs, no cargo on PATH: require, import, `npx leakguard check` (exit 1) and `npx leakguard demo` (exit 0)', async () => {
  const dir = await project('prebuilt')
  await ok(NPM, [...INSTALL, mainTarball, platformTarball], { cwd: dir })
  const s = status(dir)
  assert.equal(s.state, 'loaded')
  assert.ok(s.binary.includes(path.join('node_modules', PLATFORM_PACKAGE)), s.binary)
  assert.ok(!fs.existsSync(installed(dir, 'build-from-source.log')), 'no build was tried')

  const loaded = await load(dir)
  assert.deepEqual(loaded.require.value, { n: 1 })
  // The loader's copy of the code is the one in the native table (src/errors.rs).
  assert.equal(loaded.require.noBinaryCode, 'ERR_LEAKGUARD_NO_BINARY')
  assert.deepEqual(loaded.import, { BoundedCache: 'function', defaultCodes: 'object' })

  const check = await run(NPX, ['leakguard', 'check', 'worker.js', '--jobs', '100'], { cwd: dir })
  assert.equal(check.code, 1, check.stdout + check.stderr)
  assert.match(check.stdout, /^LEAK: /m)
  const demo = await run(NPX, ['leakguard', 'demo', '--jobs', '40'], { cwd: dir })
  assert.equal(demo.code, 0, demo.stdout + demo.stderr)
  assert.match(demo.stdout, /Leaky worker: leak found; fixed worker: bounded/)
})

test('2. main tarball alone, cargo on PATH (in a Cargo workspace): the install builds from source, and a rebuild does not run cargo again', async () => {
  const dir = await project('from-source')
  // A project that is also a Cargo workspace (a Rust + Node monorepo): the package's
  // sources under node_modules must still build as their own workspace.
  fs.writeFileSync(path.join(dir, 'Cargo.toml'), '[workspace]\nmembers = []\nresolver = "2"\n')
  await ok(NPM, [...INSTALL, mainTarball], { cwd: dir, env: withCargo })
  const s = status(dir)
  assert.equal(s.state, 'built', JSON.stringify(s))
  assert.equal(s.binary, installed(dir, builtNode))
  const log = fs.readFileSync(installed(dir, 'build-from-source.log'), 'utf8')
  // cargo compiled the crate from the installed package's own sources.
  assert.ok(log.includes(`Compiling leakguard v${version} (${installed(dir)})`), log.slice(-2000))
  assert.ok(!fs.existsSync(installed(dir, 'target')), 'the build used the given CARGO_TARGET_DIR')

  const loaded = await load(dir)
  assert.deepEqual(loaded.require.value, { n: 1 })
  assert.deepEqual(loaded.import, { BoundedCache: 'function', defaultCodes: 'object' })

  // The install step again (what `npm rebuild leakguard` runs): a binary loads, so no cargo.
  const logBefore = fs.statSync(installed(dir, 'build-from-source.log')).mtimeMs
  await ok(NPM, ['rebuild', 'leakguard'], { cwd: dir, env: withCargo })
  assert.equal(status(dir).state, 'loaded')
  assert.equal(fs.statSync(installed(dir, 'build-from-source.log')).mtimeMs, logBefore, 'cargo was not run')
})

/** What the message must say wherever no binary loads. */
function assertRemedies(error, { platform, arch, libc, packageName }) {
  assert.equal(error.code, 'ERR_LEAKGUARD_NO_BINARY')
  assert.match(error.message, new RegExp(`platform ${platform}, arch ${arch}, libc ${libc}`))
  assert.equal(error.packageName, packageName)
  assert.ok(error.message.includes(packageName), error.message)
  assert.match(
    error.message,
    /Prebuilt binaries are published for: Linux x64 \(glibc\), Linux x64 \(musl\), Linux arm64 \(glibc\), Linux arm64 \(musl\), macOS x64, macOS arm64, Windows x64\./
  )
  assert.match(error.message, /install Rust \(https:\/\/rustup\.rs\), then run: npm rebuild leakguard/)
  assert.doesNotMatch(error.message, /npm has a bug|npm i` again/i)
}

const hostLibc = () => (process.platform !== 'linux' ? 'n/a' : TARGET.endsWith('musl') ? 'musl' : 'glibc')
/** What the error must name on this machine. */
const hostExpected = () => ({
  platform: process.platform,
  arch: process.arch,
  libc: hostLibc(),
  packageName: PLATFORM_PACKAGE
})

test('3. main tarball alone, no cargo: the install succeeds, and loading throws ERR_LEAKGUARD_NO_BINARY with the remedies', async () => {
  const dir = await project('no-binary')
  await ok(NPM, [...INSTALL, mainTarball], { cwd: dir })
  assert.equal(status(dir).state, 'no-cargo')

  const loaded = await load(dir)
  assertRemedies(loaded.require.error, hostExpected())
  assert.match(
    loaded.require.error.message,
    new RegExp(
      `${PLATFORM_PACKAGE}@${version.replaceAll('.', '\\.')}, an optional dependency of leakguard, which is not installed`
    )
  )
  assert.match(loaded.require.error.message, new RegExp(`npm install ${PLATFORM_PACKAGE}@`))
  assert.match(loaded.require.error.message, /cargo was not on PATH/)
  assert.equal(loaded.import.error.code, 'ERR_LEAKGUARD_NO_BINARY')

  const demo = await run(NPX, ['leakguard', 'demo'], { cwd: dir })
  assert.equal(demo.code, 2, demo.stdout + demo.stderr)
  assert.match(demo.stderr, /no native binary that loads/)

  // Another platform, faked in the same install: the message names its package.
  const fake = path.join(dir, 'fake-platform.cjs')
  fs.writeFileSync(
    fake,
    `Object.defineProperty(process, 'platform', { value: process.env.FAKE_PLATFORM })
Object.defineProperty(process, 'arch', { value: process.env.FAKE_ARCH })
`
  )
  const darwin = await run(process.execPath, ['-r', fake, '-e', LOAD], {
    cwd: dir,
    env: { ...withoutCargo, FAKE_PLATFORM: 'darwin', FAKE_ARCH: 'arm64' }
  })
  const darwinError = JSON.parse(darwin.stdout).require.error
  assertRemedies(darwinError, { platform: 'darwin', arch: 'arm64', libc: 'n/a', packageName: 'leakguard-darwin-arm64' })
  assert.match(
    darwinError.message,
    /leakguard-darwin-arm64@\S+, an optional dependency of leakguard, which is not installed/
  )
  if (process.platform === 'linux') {
    const riscv = await run(process.execPath, ['-r', fake, '-e', LOAD], {
      cwd: dir,
      env: { ...withoutCargo, FAKE_PLATFORM: 'linux', FAKE_ARCH: 'riscv64' }
    })
    const riscvError = JSON.parse(riscv.stdout).require.error
    assertRemedies(riscvError, {
      platform: 'linux',
      arch: 'riscv64',
      libc: hostLibc(),
      packageName: `leakguard-linux-riscv64-${TARGET.endsWith('musl') ? 'musl' : 'gnu'}`
    })
    assert.match(riscvError.message, /No prebuilt binary is published for this platform/)
    assert.doesNotMatch(riscvError.message, /npm install leakguard-linux-riscv64/)
  }
})

test('3c. a build from source that fails does not fail the install, and the error points at its log', async () => {
  const dir = await project('build-fails')
  // A cargo that fails at once, first on PATH.
  const fakeBin = path.join(tmp, 'failing-cargo')
  fs.mkdirSync(fakeBin)
  if (WIN) fs.writeFileSync(path.join(fakeBin, 'cargo.cmd'), '@echo cargo: failing on purpose 1>&2\r\n@exit /b 101\r\n')
  else
    fs.writeFileSync(path.join(fakeBin, 'cargo'), '#!/bin/sh\necho "cargo: failing on purpose" >&2\nexit 101\n', {
      mode: 0o755
    })
  const env = { ...withoutCargo, PATH: [fakeBin, withoutCargo.PATH].join(path.delimiter) }
  await ok(NPM, [...INSTALL, mainTarball], { cwd: dir, env })
  const s = status(dir)
  assert.equal(s.state, 'build-failed', JSON.stringify(s))
  assert.equal(s.log, installed(dir, 'build-from-source.log'))
  const { require: r } = await load(dir)
  assertRemedies(r.error, hostExpected())
  assert.ok(r.error.message.includes(`the build from source failed (cargo `), r.error.message)
  assert.ok(r.error.message.includes(`its log is ${s.log}`), r.error.message)
})

test('3b. installed with --ignore-scripts: the error says npm did not run the install script, and how to let it', async () => {
  const dir = await project('ignore-scripts')
  await ok(NPM, [...INSTALL, '--ignore-scripts', mainTarball], { cwd: dir })
  assert.ok(!fs.existsSync(installed(dir, 'install-status.json')))
  const { require: r } = await load(dir)
  assertRemedies(r.error, hostExpected())
  assert.match(r.error.message, /npm did not run leakguard's install script/)
  assert.match(r.error.message, /--ignore-scripts=false/)
  assert.match(r.error.message, /"allowScripts"/)
})

test('npm publish --dry-run passes for the main package as published', async () => {
  const r = await ok(NPM, ['publish', '--dry-run', '--ignore-scripts', '--offline'], {
    cwd: path.join(tmp, 'stage', 'package'),
    env: withCargo
  })
  assert.match(r.stdout, new RegExp(`\\+ leakguard@${version.replaceAll('.', '\\.')}`))
})
