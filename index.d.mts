// Types of the ESM entry (index.mjs): the named exports of the CommonJS entry, whose
// types are index.d.ts, and as default export the whole CommonJS module object.
import * as leakguard from './index.js'

export * from './index.js'
export default leakguard
