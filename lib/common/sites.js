'use strict'
// Creation sites, as the user reads them: where a resource was created and,
// when a package under node_modules created it, which package (`name@version`)
// beside the user's own call that led there. Used by autoTrack reports,
// scopeStats(), the assertion messages and the CLI, so that a site reads the
// same everywhere.
//
// A stack is read from the innermost frame outwards:
//   - Node's own frames (node:, native, wasm) are skipped;
//   - leakguard's own frames (its lib/) are skipped;
//   - the first frame under node_modules names the package that created the
//     resource (`packageSite` is that frame);
//   - the first frame outside node_modules is the user's call site (`site`).
// leakguard's examples/ are the user's code even when leakguard itself is
// installed under node_modules (the demo runs them from there).

const fs = require('node:fs')
const path = require('node:path')

// Frames kept per captured stack: enough for a driver's own frames and Node's
// (an http.Agent socket is ~8 frames below the user's call), few enough that a
// capture stays cheap (V8 formats `.stack` only when it is read).
const STACK_LIMIT = 16
// package directories whose `name@version` is remembered
const MAX_PACKAGES = 1000

const ROOT = path.join(__dirname, '..', '..') + path.sep
const OWN_LIB = path.join(ROOT, 'lib') + path.sep
const NODE_MODULES = /[\\/]node_modules[\\/]/g

/**
 * Captures the current stack (frames above `fn` omitted) into a plain object
 * whose `.stack` is formatted only when read.
 */
function captureStack(fn) {
  const h = {}
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = STACK_LIMIT
  Error.captureStackTrace(h, fn)
  Error.stackTraceLimit = limit
  return h
}

/** `file:line:col` of one stack line, or undefined for Node's own frames. */
function frameLocation(line) {
  const open = line.lastIndexOf('(')
  let loc = open !== -1 && line.endsWith(')') ? line.slice(open + 1, -1) : line.slice(line.indexOf('at ') + 3)
  if (loc.startsWith('async ')) loc = loc.slice(6)
  if (loc.startsWith('file://')) loc = decodeURIComponent(loc.slice(7))
  if (loc.startsWith('node:') || loc === 'native' || loc.startsWith('<anonymous>') || loc.startsWith('wasm://')) {
    return undefined
  }
  return loc
}

/** The package directory a frame lies in (`.../node_modules/name`), or undefined outside node_modules. */
function packageDir(loc) {
  // In leakguard's own tree only a node_modules below it counts: its
  // examples/ stay the user's code when leakguard is installed.
  NODE_MODULES.lastIndex = loc.startsWith(ROOT) ? ROOT.length - 1 : 0
  let start = -1
  for (let m = NODE_MODULES.exec(loc); m !== null; m = NODE_MODULES.exec(loc)) start = m.index + m[0].length
  if (start === -1) return undefined
  const parts = loc.slice(start).split(/[\\/]/)
  const scoped = parts[0].startsWith('@')
  if (parts.length <= (scoped ? 2 : 1)) return undefined
  return loc.slice(0, start + parts[0].length + (scoped ? 1 + parts[1].length : 0))
}

const packages = new Map() // package directory -> 'name@version'

/** `name@version` of the package in directory `dir` (read from its package.json once), or its directory name. */
function packageName(dir) {
  let id = packages.get(dir)
  if (id !== undefined) return id
  const m = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)$/.exec(dir)
  let name = m === null ? path.basename(dir) : m[1].replace(/\\/g, '/')
  let version
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    if (typeof pkg.name === 'string' && pkg.name !== '') name = pkg.name
    if (typeof pkg.version === 'string' && pkg.version !== '') version = pkg.version
  } catch {}
  id = version === undefined ? name : `${name}@${version}`
  // Bounded: a process that loads more packages than this starts over.
  if (packages.size >= MAX_PACKAGES) packages.clear()
  packages.set(dir, id)
  return id
}

/** `name@version` of the package a file lies in, or undefined outside node_modules. */
function packageOf(file) {
  const dir = typeof file === 'string' ? packageDir(file) : undefined
  return dir === undefined ? undefined : packageName(dir)
}

/** A location relative to the working directory, without `file://`. */
function formatSite(site) {
  const cwd = process.cwd() + path.sep
  let s = String(site)
  while (s.includes(cwd)) s = s.replace(cwd, '')
  return s.replace(/^file:\/\//, '')
}

/**
 * Reads a formatted stack: `{ site, package, packageSite }` (each possibly
 * undefined), or undefined when no frame outside Node and leakguard is left.
 */
function blameStack(stack) {
  if (typeof stack !== 'string') return undefined
  const lines = stack.split('\n')
  const cwd = process.cwd() + path.sep
  const relative = (loc) => (loc.startsWith(cwd) ? loc.slice(cwd.length) : loc)
  let pkg
  let packageSite
  for (let i = 1; i < lines.length; i++) {
    const loc = frameLocation(lines[i])
    if (loc === undefined || loc.startsWith(OWN_LIB)) continue
    const dir = packageDir(loc)
    if (dir === undefined) return { site: relative(loc), package: pkg, packageSite }
    if (pkg === undefined) {
      pkg = packageName(dir)
      packageSite = relative(loc)
    }
  }
  return pkg === undefined ? undefined : { site: undefined, package: pkg, packageSite }
}

/** The blame of a stack captured by captureStack(), or undefined. */
function siteOf(holder) {
  return holder === undefined ? undefined : blameStack(holder.stack)
}

/**
 * The site of `r` (`{ site, package, packageSite }`) as a clause:
 * `left open by ioredis@5.4.1, called from src/worker.js:42:7` when a package
 * created it, else `${lead}src/worker.js:42:7`; `orElse` when nothing is known.
 */
function describeSite(r, lead = '', orElse = undefined) {
  if (r.package) {
    return r.site ? `left open by ${r.package}, called from ${r.site}` : `left open by ${r.package} (${r.packageSite})`
  }
  return r.site ? `${lead}${formatSite(r.site)}` : orElse
}

module.exports = { captureStack, siteOf, blameStack, packageName, packageOf, formatSite, describeSite }
