'use strict'
// Jest on the shared assertion file only (rootDir here, so Jest does not
// crawl the Rust target/ directory).
module.exports = {
  rootDir: __dirname,
  testMatch: ['<rootDir>/memory.shared.test.js'],
  testEnvironment: 'node',
  testTimeout: 60_000,
  watchman: false
}
