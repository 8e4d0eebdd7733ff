// ESM twin of leakguard/otel (re-exports the CommonJS module by name).
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const mod = require('./otel.js')

export const registerMetrics = mod.registerMetrics
export default mod
