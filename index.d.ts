// Public types of leakguard, gathered from the capabilities: each lib/<capability>/*.d.ts
// types the JS file beside it. Hand-written: the generated loader's types live in
// binding.d.ts and are not part of the public API.

export * from './lib/common/units.js'
export * from './lib/common/errors.js'
export * from './lib/common/memory.js'
export * from './lib/cache/cache.js'
export * from './lib/scope/scope.js'
export * from './lib/monitor/monitor.js'
export * from './lib/assert/assert.js'
export * from './lib/snapshot/snapshot.js'
export * from './lib/fleet/recycle.js'
