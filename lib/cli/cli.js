'use strict'
// The commands behind bin/leakguard.js: `check`, `diff`, `demo`, one file
// each in this folder; this file dispatches and turns errors into exit codes.
// Drives no Rust module itself: check runs lib/assert and lib/snapshot in a
// child process (run-check.js, check-child.js), diff runs lib/snapshot.

const { EXIT_BOUNDED, EXIT_USAGE } = require('./exit-codes')
const { USAGE, HELP } = require('./help')
const { UsageError } = require('./args')
const { check } = require('./check')
const { diff } = require('./diff')
const { demo } = require('./demo')
const { verdictOf, formatCheck } = require('./verdict')
const { Progress } = require('./progress')

const COMMANDS = { check, diff, demo }

/**
 * Runs the CLI. Resolves with the exit code; never calls process.exit itself,
 * so it can run inside tests and other tools.
 * @param {string[]} argv arguments after `leakguard`
 */
async function main(argv, io = {}) {
  io = { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), ...io }
  const [command, ...rest] = argv
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    if (command === 'help' && rest[0] && HELP[rest[0]]) io.stdout.write(HELP[rest[0]])
    else (command === undefined ? io.stderr : io.stdout).write(HELP.main)
    return command === undefined ? EXIT_USAGE : EXIT_BOUNDED
  }
  const run = COMMANDS[command]
  if (!run) {
    io.stderr.write(`leakguard: unknown command '${command}'\n\n${HELP.main}`)
    return EXIT_USAGE
  }
  try {
    return await run(rest, io)
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(
        `leakguard ${err.command}: ${err.message}\nUsage: ${USAGE[err.command]}\nRun 'leakguard ${err.command} --help' for details.\n`
      )
      return EXIT_USAGE
    }
    io.stderr.write(`leakguard ${command}: ${err.message}\n`)
    return EXIT_USAGE
  }
}

module.exports = {
  main,
  verdictOf,
  formatCheck,
  Progress
}
