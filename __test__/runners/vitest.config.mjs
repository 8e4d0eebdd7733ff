// Vitest on the shared assertion file only; `globals` gives it the same
// global `test` as Jest.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['memory.shared.test.js'],
    globals: true,
    testTimeout: 60_000
  }
})
