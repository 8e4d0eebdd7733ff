// Types of the ESM twin of leakguard/prometheus (prometheus.mjs): the named exports of the CommonJS
// module, whose types are prometheus.d.ts, and as default export the whole module object.
import * as mod from './prometheus.js'

export * from './prometheus.js'
export default mod
