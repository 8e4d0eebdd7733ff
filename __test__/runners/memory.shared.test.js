'use strict'
// One assertion file, run unchanged by node:test, Jest, Vitest and Mocha
// (__test__/runners.spec.mjs spawns each). LEAKGUARD_RUNNER_CASE=leaky swaps in
// the leaky handler, which must fail under every runner with the readable message.
const { assertMemoryBounded } = require('../../index.js')
const listener = require('../fixtures/leaks/listener.js')

// Jest has a global `test`, Mocha a global `it`, Vitest either with
// `globals: true`; node:test has no globals.
const test =
  typeof globalThis.test === 'function'
    ? globalThis.test
    : typeof globalThis.it === 'function'
      ? globalThis.it
      : require('node:test').test

const variant = process.env.LEAKGUARD_RUNNER_CASE === 'leaky' ? 'leaky' : 'fixed'

test(`the ${variant} job handler keeps memory bounded over 2000 jobs`, async () => {
  await assertMemoryBounded((i) => listener[variant](i), { iterations: 2000 })
})
