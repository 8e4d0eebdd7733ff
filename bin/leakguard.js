#!/usr/bin/env node
'use strict'
// The `leakguard` command: parse and dispatch only; the commands live in lib/cli/cli.js.

const { main } = require('../lib/cli/cli')

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`leakguard: ${err?.stack ? err.stack : err}\n`)
    process.exitCode = 2
  }
)
