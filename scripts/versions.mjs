#!/usr/bin/env node
// Keeps every version of the release in step with package.json's: the npm/<target>
// packages (one per napi target, made by `napi create-npm-dirs`), Cargo.toml and
// Cargo.lock, the main package's optionalDependencies, and the README picture's URL
// (served from the published tarball, so it names the version).
//
//   node scripts/versions.mjs check [--publish]   report what is out of step (exit 1); npm run lint
//   node scripts/versions.mjs sync                write the version everywhere (npm version's hook)
//   node scripts/versions.mjs optional [dir]      write the optionalDependencies into dir/package.json
//
// The repository's package.json has no optionalDependencies: the platform packages are
// published by the release workflow (`napi pre-publish`, which also writes them into the
// main package.json right before `npm publish`). Listing them before they exist would
// make every `npm install` of the repository ask the registry for them, and `npm ci`
// refuse the lock file. `check --publish` (prepublishOnly) insists on them.

import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseTriple } from '@napi-rs/cli'

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const NPM_DIR = path.join(ROOT, 'npm')

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'))
const writeJson = (file, value) => fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`)

/** What napi create-npm-dirs makes for a triple: the dir name, os, cpu, libc. */
function targetOf(triple) {
  const t = parseTriple(triple)
  const libc = t.abi === 'gnu' ? ['glibc'] : t.abi === 'musl' ? ['musl'] : undefined
  return { triple, name: t.platformArchABI, os: [t.platform], cpu: [t.arch], libc }
}

export function releaseTargets(manifest = readJson(path.join(ROOT, 'package.json'))) {
  return manifest.napi.targets.map(targetOf)
}

/** The optionalDependencies the published main package carries: every platform package, same version. */
export function optionalDependencies(manifest) {
  return Object.fromEntries(releaseTargets(manifest).map((t) => [`${manifest.name}-${t.name}`, manifest.version]))
}

const IMAGE_URL = /https:\/\/cdn\.jsdelivr\.net\/npm\/leakguard@([^/]+)\//g

function cargoVersion(text) {
  return /^\[package\][^[]*?^version = "([^"]+)"/ms.exec(text)?.[1]
}

function lockVersion(text) {
  return /^\[\[package\]\]\nname = "leakguard"\nversion = "([^"]+)"/m.exec(text)?.[1]
}

export function check({ publish = false } = {}) {
  const manifest = readJson(path.join(ROOT, 'package.json'))
  const { name, version } = manifest
  const problems = []
  const targets = releaseTargets(manifest)
  for (const t of targets) {
    const file = path.join(NPM_DIR, t.name, 'package.json')
    if (!fs.existsSync(file)) {
      problems.push(`npm/${t.name}/package.json is missing (run npx napi create-npm-dirs)`)
      continue
    }
    const pkg = readJson(file)
    const binary = `${manifest.napi.binaryName}.${t.name}.node`
    const expect = {
      name: `${name}-${t.name}`,
      version,
      os: t.os,
      cpu: t.cpu,
      libc: t.libc,
      main: binary,
      files: [binary]
    }
    for (const [key, want] of Object.entries(expect)) {
      if (JSON.stringify(pkg[key]) !== JSON.stringify(want)) {
        problems.push(
          `npm/${t.name}/package.json ${key} is ${JSON.stringify(pkg[key])}, expected ${JSON.stringify(want)}`
        )
      }
    }
  }
  for (const dir of fs.readdirSync(NPM_DIR)) {
    if (!targets.some((t) => t.name === dir)) problems.push(`npm/${dir} is not a napi target in package.json`)
  }
  const cargo = cargoVersion(fs.readFileSync(path.join(ROOT, 'Cargo.toml'), 'utf8'))
  if (cargo !== version) problems.push(`Cargo.toml version is ${cargo}, expected ${version}`)
  const lock = lockVersion(fs.readFileSync(path.join(ROOT, 'Cargo.lock'), 'utf8'))
  if (lock !== version) problems.push(`Cargo.lock's leakguard version is ${lock}, expected ${version}`)
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  for (const m of readme.matchAll(IMAGE_URL)) {
    if (m[1] !== version) problems.push(`README.md links ${m[0]}, expected leakguard@${version}`)
  }
  const optional = manifest.optionalDependencies
  if (optional || publish) {
    const want = optionalDependencies(manifest)
    if (JSON.stringify(optional ?? {}) !== JSON.stringify(want)) {
      problems.push(
        `package.json optionalDependencies are ${JSON.stringify(optional)}, expected ${JSON.stringify(want)}` +
          (publish ? ' (the release workflow writes them with napi pre-publish before npm publish)' : '')
      )
    }
  }
  return problems
}

export function sync() {
  const manifestFile = path.join(ROOT, 'package.json')
  const manifest = readJson(manifestFile)
  const { version } = manifest
  for (const t of releaseTargets(manifest)) {
    const file = path.join(NPM_DIR, t.name, 'package.json')
    writeJson(file, { ...readJson(file), version })
  }
  if (manifest.optionalDependencies)
    writeJson(manifestFile, { ...manifest, optionalDependencies: optionalDependencies(manifest) })
  const edit = (file, fn) => fs.writeFileSync(path.join(ROOT, file), fn(fs.readFileSync(path.join(ROOT, file), 'utf8')))
  edit('Cargo.toml', (t) => t.replace(/^(\[package\][^[]*?^version = ")[^"]+"/ms, `$1${version}"`))
  edit('Cargo.lock', (t) => t.replace(/^(\[\[package\]\]\nname = "leakguard"\nversion = ")[^"]+"/m, `$1${version}"`))
  edit('README.md', (t) => t.replace(IMAGE_URL, `https://cdn.jsdelivr.net/npm/leakguard@${version}/`))
}

export function writeOptional(dir) {
  const file = path.join(dir, 'package.json')
  const manifest = readJson(file)
  writeJson(file, { ...manifest, optionalDependencies: optionalDependencies(manifest) })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, arg] = process.argv.slice(2)
  if (command === 'check') {
    // A dry run (npm publish --dry-run) may go without the platform packages' entries.
    const publish = arg === '--publish' && process.env.npm_config_dry_run !== 'true'
    const problems = check({ publish })
    for (const p of problems) console.error(`versions: ${p}`)
    process.exitCode = problems.length ? 1 : 0
  } else if (command === 'sync') {
    sync()
  } else if (command === 'optional') {
    writeOptional(path.resolve(arg ?? ROOT))
  } else {
    console.error('usage: node scripts/versions.mjs check [--publish] | sync | optional [dir]')
    process.exitCode = 2
  }
}
