'use strict'
// The trivial function of the time-to-verdict bench (run-scenario.js module shape).
module.exports = { control: (i) => i * 2 }
