// ESM entry: re-exports the CommonJS API by name so that
// `import { processMemory } from 'leakguard'` works in every Node >= 20.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const leakguard = require('./index.js')

export const codes = leakguard.codes
export const processMemory = leakguard.processMemory
export const monitor = leakguard.monitor
export const onWorkerWarning = leakguard.onWorkerWarning
export default leakguard
