'use strict'
// The one place that loads the generated napi loader, so every JS module
// shares a single binding instance (and a single failure message).
module.exports = require('../../binding.js')
