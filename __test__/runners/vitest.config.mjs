// Vitest on the shared assertion file only; `globals` gives it the same
// global `test` as Jest.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Vite's cache would otherwise land in __test__/runners/node_modules.
  cacheDir: fileURLToPath(new URL('../../node_modules/.vite', import.meta.url)),
  test: {
    root: import.meta.dirname,
    include: ['memory.shared.test.js'],
    globals: true,
    testTimeout: 60_000
  }
})
