// Types of the ESM twin of leakguard/otel (otel.mjs): the named exports of the CommonJS
// module, whose types are otel.d.ts, and as default export the whole module object.
import * as mod from './otel.js'

export * from './otel.js'
export default mod
