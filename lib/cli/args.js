'use strict'
// Command-line parsing shared by the commands: flags through node:util's
// parseArgs, integer flags, module/snapshot paths. Bad input is a UsageError,
// which main() prints with the command's usage line and exit code 2.

const fs = require('node:fs')
const path = require('node:path')
const { parseArgs } = require('node:util')
// Not ../common/errors: that loads the native addon, and the CLI must load
// (and report a missing binary as a usage error) without it.
const { clip, describePath } = require('../common/format')

class UsageError extends Error {
  constructor(command, message) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

/**
 * An integer flag in [min, max] (max: none by default), or `def` when absent.
 * The message names the flag, never the API option it feeds.
 */
function intFlag(command, values, name, { min, max = Number.MAX_SAFE_INTEGER, def }) {
  const raw = values[name]
  if (raw === undefined) return def
  const n = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    // The upper bound is named when it is the one crossed.
    const range = /^\d+$/.test(raw) && n > max ? `from ${min} to ${max}` : `>= ${min}`
    throw new UsageError(command, `--${name} must be an integer ${range} (received '${clip(raw, 40)}')`)
  }
  return Number(raw)
}

function parse(command, args, options, positionals) {
  let parsed
  try {
    parsed = parseArgs({
      args,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true
    })
  } catch (err) {
    // parseArgs' messages are good ("Unknown option '--jbos'"); keep them, minus its advice to use '--'.
    throw new UsageError(command, clip(err.message.replace(/\. To specify a positional argument.*$/s, ''), 300))
  }
  if (parsed.values.help) return { help: true }
  const [min, max] = positionals
  if (parsed.positionals.length < min) {
    throw new UsageError(command, `missing argument${min - parsed.positionals.length > 1 ? 's' : ''}`)
  }
  if (parsed.positionals.length > max) {
    throw new UsageError(command, `unexpected argument '${clip(parsed.positionals[max], 60)}'`)
  }
  return parsed
}

function resolveModule(command, spec, cwd) {
  const file = path.resolve(cwd, spec)
  let stat
  try {
    stat = fs.statSync(file)
  } catch {
    throw new UsageError(command, `cannot find '${describePath(spec)}' (resolved to ${describePath(file)})`)
  }
  if (!stat.isFile()) throw new UsageError(command, `'${describePath(spec)}' is not a file`)
  return file
}

module.exports = { UsageError, intFlag, parse, resolveModule }
