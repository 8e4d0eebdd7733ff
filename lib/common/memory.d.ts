// Types of lib/common/memory.js: processMemory().
import type { Bytes } from './units.js'

/** Memory figures of this process, in bytes. */
export interface ProcessMemory {
  /** Resident set size, read natively (kept-open `/proc/self/statm` on Linux). */
  rss: Bytes
  /** V8 heap reserved (`heapTotal` of `process.memoryUsage()`). */
  heapTotal: Bytes
  /** V8 heap in use, live objects plus not-yet-collected garbage. */
  heapUsed: Bytes
  /** Memory of C++ objects bound to JS objects (Buffers, native addons). */
  external: Bytes
  /**
   * Memory of ArrayBuffers and SharedArrayBuffers (included in `external`).
   * Only present when `{ arrayBuffers: true }` is passed: Node exposes it only
   * through `process.memoryUsage()`, which costs ~8 µs per call.
   */
  arrayBuffers: Bytes | undefined
}

export interface ProcessMemoryOptions {
  /** Also read `arrayBuffers` (costs one `process.memoryUsage()` call). Default `false`. */
  arrayBuffers?: boolean
}

/**
 * The figures of `process.memoryUsage()` at a fraction of its cost: RSS read
 * natively, heap figures from `v8.getHeapStatistics()`.
 * @throws {TypeError} `ERR_LEAKGUARD_INVALID_OPTION` for a bad `options`.
 */
export declare function processMemory(options?: ProcessMemoryOptions): ProcessMemory
