'use strict'
// The CLI's exit codes: 0 bounded, 1 leak found, 2 usage error (or the check could not run).

const EXIT_BOUNDED = 0
const EXIT_LEAK = 1
const EXIT_USAGE = 2

module.exports = { EXIT_BOUNDED, EXIT_LEAK, EXIT_USAGE }
