'use strict'
// Locate, as the user reads it: the native diff gives each suspect the path
// seen from the program (`programSteps`) and the variable that holds what
// grows (`holder`, with its script and declaration line). This file adds the
// package (`name@version`) of a holder that lies under node_modules, and
// renders both as text, relative to a directory, for the CLI, the HTML
// report and the monitor's autopsy.

const path = require('node:path')
const { fileURLToPath } = require('node:url')
const { packageOf } = require('../common/sites')

/** A script name as a file path: `file:` URLs decoded; Node's own (`node:...`) as they are. */
function scriptFile(script) {
  if (typeof script !== 'string') return undefined
  if (script.startsWith('file://')) {
    try {
      return fileURLToPath(script)
    } catch {
      return script
    }
  }
  return script
}

/**
 * Adds `holder.package` (`name@version`) to the suspects whose holder's
 * script lies under node_modules. Mutates and returns the diff.
 */
function blamePackages(diff) {
  for (const s of diff?.suspects ?? []) {
    const h = s.holder
    if (!h?.script) continue
    const pkg = packageOf(scriptFile(h.script))
    if (pkg !== undefined) h.package = pkg
  }
  return diff
}

/** A script shown relative to `relativeTo` when it lies below it; `file:` URLs as paths. */
function showScript(script, relativeTo) {
  const file = scriptFile(script)
  if (file === undefined) return ''
  if (relativeTo && path.isAbsolute(file)) {
    const rel = path.relative(relativeTo, file)
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel
  }
  return file
}

/** `file:line` (or the script alone), or '' when nothing is known. */
function siteText(script, line, relativeTo) {
  const s = showScript(script, relativeTo)
  if (!s) return ''
  return line ? `${s}:${line}` : s
}

/** `map-by-id.cjs:4 inFlight (Map)`: one step of the program view. */
function stepText(step, relativeTo) {
  const site = siteText(step.script, step.line, relativeTo)
  const node = step.node.startsWith('(') ? step.node : `(${step.node})`
  return [site, step.edge, node].filter(Boolean).join(' ')
}

/**
 * The path seen from the program: `… 8 internal hops … → worker.js:4
 * inFlight (Map) → table[1160] (Entry)`; '' when the suspect has none.
 */
function programPathText(suspect, { relativeTo } = {}) {
  const steps = suspect?.programSteps
  if (!Array.isArray(steps) || steps.length === 0) return ''
  const parts = []
  for (const s of steps) {
    if (s.folded > 0) parts.push(`… ${s.folded} internal hop${s.folded === 1 ? '' : 's'} …`)
    parts.push(stepText(s, relativeTo))
  }
  return parts.join(' → ')
}

const SCOPE_WORDS = { module: 'a module-scope variable', closure: 'a closure variable', global: 'a global variable' }

/**
 * The holder in words: `inFlight (Map), a module-scope variable of
 * worker.js:4, +1.00 Entry per job`; in a package: `seen (Array), a
 * module-scope variable of leaky-registry@1.2.0
 * (node_modules/leaky-registry/index.js:3), required at worker.js:2`; a
 * closure's: `... captured by the function at worker.js:9`. '' when there
 * is none.
 */
function holderText(suspect, { relativeTo } = {}) {
  const h = suspect?.holder
  if (!h) return ''
  const site = siteText(h.script, h.line, relativeTo)
  let where = site
  if (h.package) {
    where = `${h.package} (${site})`
    if (h.importedAt) where += `, required at ${siteText(h.importedAt.script, h.importedAt.line, relativeTo)}`
  }
  let out = `${h.variable} (${h.node}), ${SCOPE_WORDS[h.scope] || 'a variable'}${where ? ` of ${where}` : ''}`
  if (h.capturedBy)
    out += `, captured by the function at ${siteText(h.capturedBy.script, h.capturedBy.line, relativeTo)}`
  if (typeof h.perJob === 'number' && h.perJob > 0) out += `, +${h.perJob.toFixed(2)} ${suspect.name} per job`
  return out
}

module.exports = { blamePackages, programPathText, holderText, siteText, showScript, scriptFile }
