'use strict'
// The memory figures the assertions and `leakguard check` measure per job, in
// the order every output lists them, and the ones whose growth is a verdict.

/** Every measured metric, in display order. */
const MEASURED_METRICS = Object.freeze(['heapUsed', 'external', 'arrayBuffers', 'rss', 'code'])

/**
 * Metrics whose growth fails an assertion or makes `check` say LEAK. RSS grows
 * in healthy processes (V8 resizes new space, the allocator keeps freed pages),
 * and compiled code grows as the JIT tiers up hot functions over the first
 * thousands of calls (bounded by the program's size), so both are reported but
 * never a verdict by default.
 */
const VERDICT_METRICS = Object.freeze(['heapUsed', 'external', 'arrayBuffers'])

module.exports = { MEASURED_METRICS, VERDICT_METRICS }
