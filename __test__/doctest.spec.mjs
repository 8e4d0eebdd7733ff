// Doc-tests: every code block of README.md, CONTRIBUTING.md and docs/**/*.md runs as
// written, so the docs stay true. Each document gets its own temp dir in which
// `leakguard` (and the repo's devDependencies, e.g. prom-client) resolve to this
// checkout, and `npx leakguard` to bin/leakguard.js; its blocks run there in order,
// each in a child process.
//
// The convention (also in CONTRIBUTING.md, "Docs"):
// - Every block has a language tag.
// - ```js blocks run with node: as an ES module (.mjs) when they use import/export,
//   else as CommonJS (.cjs). One module system per block: mixing `require` with
//   top-level `await` fails here as it fails for a user.
// - ```sh blocks run with `sh -e`; they must exit 0.
// - ```text blocks are output or synopses; they are shown, never run.
// - An HTML comment on the line before a block changes what happens to it:
//     <!-- doctest: file worker.js -->   write the block to worker.js (for a later block)
//     <!-- doctest: exit 1 -->           run it; it must exit with code 1
//     <!-- doctest: skip: <reason> -->   do not run it; the reason is required
// LEAKGUARD_DOCTEST_VERBOSE=1 prints each block's output (to quote it in the docs).
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const RUN_LANGS = new Set(['js', 'sh'])
const SHOWN_LANGS = new Set(['text'])
// Generous: blocks run leakguard check, heap snapshots and GC-heavy assertions on a
// shared 2-core machine. Not a timing assertion: only a bound on a hung child.
const BLOCK_TIMEOUT_MS = 180_000

/** The documents whose blocks are tested. New docs pages are picked up automatically. */
function documents() {
  const docs = []
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(rel)
      else if (entry.name.endsWith('.md')) docs.push(rel)
    }
  }
  walk('docs')
  return ['README.md', 'CONTRIBUTING.md', ...docs.sort()]
}

/**
 * The fenced code blocks of a Markdown text: { line, lang, code, directive }. Fences may
 * be indented (inside list items); the indent is removed from the code.
 */
function parseBlocks(text) {
  const lines = text.split('\n')
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)(.*)$/.exec(lines[i])
    if (!open) continue
    const [, indent, fence, lang] = open
    const body = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(lines[j])
      if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart())
    }
    let k = i - 1
    while (k >= 0 && lines[k].trim() === '') k--
    const marker = k >= 0 ? /^\s*<!--\s*doctest:(.*?)-->\s*$/.exec(lines[k]) : null
    blocks.push({
      line: i + 1,
      lang,
      code: `${body.join('\n')}\n`,
      directive: marker ? parseDirective(marker[1]) : null
    })
    i = j
  }
  return blocks
}

/** `file NAME` | `exit N` | `skip: reason`; anything else is an error (a typo must not silently skip). */
function parseDirective(text) {
  const t = text.trim()
  let m
  if ((m = /^file\s+([\w.-]+)$/.exec(t))) return { kind: 'file', name: m[1] }
  if ((m = /^exit\s+(\d+)$/.exec(t))) return { kind: 'exit', code: Number(m[1]) }
  if ((m = /^skip:\s*(.*)$/.exec(t))) return { kind: 'skip', reason: m[1].trim() }
  return { kind: 'invalid', text: t }
}

/** ES module when the block has a top-level import or export statement. */
function isModule(code) {
  return /^(import\s|import\{|export\s)/m.test(code)
}

/** A temp project in which `leakguard` and the repo's dependencies resolve to this checkout. */
function makeProject() {
  const dir = mkdtempSync(path.join(tmpdir(), 'leakguard-doctest-'))
  const nm = path.join(dir, 'node_modules')
  mkdirSync(path.join(nm, '.bin'), { recursive: true })
  symlinkSync(root, path.join(nm, 'leakguard'), 'dir')
  symlinkSync(path.join(root, 'bin', 'leakguard.js'), path.join(nm, '.bin', 'leakguard'))
  // One link per package, never per folder of packages: an `npm install` run in the temp
  // project then removes links, not the packages of this checkout behind a linked @scope.
  const linkPackages = (from, to) => {
    for (const entry of readdirSync(from)) {
      if (entry.startsWith('.') || entry === 'leakguard') continue
      if (entry.startsWith('@')) {
        mkdirSync(path.join(to, entry))
        linkPackages(path.join(from, entry), path.join(to, entry))
      } else {
        symlinkSync(path.join(from, entry), path.join(to, entry))
      }
    }
  }
  linkPackages(path.join(root, 'node_modules'), nm)
  return dir
}

function childEnv(project) {
  const env = { ...process.env }
  // A child started by a node:test file would otherwise report to this runner.
  delete env.NODE_TEST_CONTEXT
  delete env.NODE_OPTIONS
  env.PATH = `${path.join(project, 'node_modules', '.bin')}${path.delimiter}${env.PATH}`
  env.npm_config_offline = 'true'
  env.npm_config_update_notifier = 'false'
  env.npm_config_fund = 'false'
  return env
}

function runBlock(block, cwd, env, index) {
  if (block.lang === 'sh')
    return spawnSync('sh', ['-e', '-c', block.code], { cwd, env, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS })
  const file = `block-${index}-line-${block.line}.${isModule(block.code) ? 'mjs' : 'cjs'}`
  writeFileSync(path.join(cwd, file), block.code)
  return spawnSync(process.execPath, [file], { cwd, env, encoding: 'utf8', timeout: BLOCK_TIMEOUT_MS })
}

const all = documents().map((doc) => ({ doc, blocks: parseBlocks(readFileSync(path.join(root, doc), 'utf8')) }))
const counts = { run: 0, files: 0, skipped: 0, shown: 0 }
for (const { blocks } of all) {
  for (const b of blocks) {
    if (b.directive?.kind === 'skip') counts.skipped++
    else if (b.directive?.kind === 'file') counts.files++
    else if (RUN_LANGS.has(b.lang)) counts.run++
    else counts.shown++
  }
}

test('doc blocks follow the convention: a known language tag, valid markers, skips with a reason', () => {
  const problems = []
  for (const { doc, blocks } of all) {
    for (const b of blocks) {
      const where = `${doc}:${b.line}`
      if (!RUN_LANGS.has(b.lang) && !SHOWN_LANGS.has(b.lang)) {
        problems.push(`${where}: language ${JSON.stringify(b.lang)}; use js, sh, or text for output`)
      }
      if (b.directive?.kind === 'invalid')
        problems.push(`${where}: unknown doctest marker ${JSON.stringify(b.directive.text)}`)
      if (b.directive?.kind === 'skip' && !b.directive.reason) problems.push(`${where}: doctest skip needs a reason`)
      if (b.directive && SHOWN_LANGS.has(b.lang)) problems.push(`${where}: a text block is never run; drop the marker`)
      if (b.directive?.kind === 'file' && b.lang !== 'js') problems.push(`${where}: only js blocks can be files`)
    }
  }
  assert.deepEqual(problems, [])
  // The numbers the closing note quotes, and every skipped block with its reason.
  process.stdout.write(
    `# doc-tests: ${counts.run} blocks run, ${counts.files} written as files, ${counts.skipped} skipped, ${counts.shown} text\n`
  )
  for (const { doc, blocks } of all) {
    for (const b of blocks)
      if (b.directive?.kind === 'skip') process.stdout.write(`# skipped ${doc}:${b.line}: ${b.directive.reason}\n`)
  }
  assert.ok(counts.run > 0)
})

for (const { doc, blocks } of all) {
  if (!blocks.some((b) => RUN_LANGS.has(b.lang))) continue
  describe(doc, () => {
    let project
    let cwd
    let env
    before(() => {
      project = makeProject()
      cwd = path.join(project, 'work')
      mkdirSync(cwd)
      env = childEnv(project)
    })
    after(() => rmSync(project, { recursive: true, force: true }))

    blocks.forEach((block, index) => {
      if (!RUN_LANGS.has(block.lang)) return
      const name = `${doc}:${block.line} (${block.lang})`
      const directive = block.directive
      // Skipped blocks are listed (with their reason) by the convention test above.
      if (directive?.kind === 'skip') return
      if (directive?.kind === 'file') {
        test(`${name} is ${directive.name}`, () => writeFileSync(path.join(cwd, directive.name), block.code))
        return
      }
      const expected = directive?.kind === 'exit' ? directive.code : 0
      test(`${name} exits ${expected}`, () => {
        const r = runBlock(block, cwd, env, index)
        // LEAKGUARD_DOCTEST_VERBOSE=1 shows each block's output, to quote it in the docs.
        if (process.env.LEAKGUARD_DOCTEST_VERBOSE) process.stderr.write(`--- ${name}\n${r.stdout}${r.stderr}`)
        assert.equal(r.error, undefined, `${name} could not run: ${r.error}`)
        assert.equal(
          r.status,
          expected,
          `${name} exited ${r.status ?? r.signal}, expected ${expected}\n--- block\n${block.code}--- stdout\n${r.stdout}--- stderr\n${r.stderr}`
        )
      })
    })
  })
}
