/// <reference types="node" />
// Types of lib/snapshot/snapshot.js: heap snapshots.
import type { Bytes } from '../common/units.js'

/** A path to a `.heapsnapshot` file, or a `file:` URL. */
export type HeapSnapshotPath = string | URL

/**
 * Runs a full garbage collection (works without `--expose-gc`), then writes a
 * heap snapshot of the calling thread's isolate with `v8.writeHeapSnapshot`.
 * Blocks the event loop for the whole write: about 1 s per 20 MB of snapshot
 * (a 300 MB snapshot took 12–16 s on a 2-core VM), and the writer needs
 * roughly 5× the snapshot size in memory. Take snapshots in tests, `leakguard
 * check`, or a worker drained of jobs — not on a busy production process.
 * @param path File to write. Default: V8's `Heap.<date>.<pid>.<tid>.<seq>.heapsnapshot` in the cwd.
 * @returns The path written.
 * @throws {TypeError} `ERR_LEAKGUARD_INVALID_ARGUMENT` for a non-string path.
 * @throws {Error} `ERR_LEAKGUARD_IO` when the file cannot be written.
 */
export declare function writeHeapSnapshot(path?: HeapSnapshotPath): string

/** One group of DevTools' Summary view in one snapshot. */
export interface HeapGroup {
  /**
   * The group: constructor name for objects and native objects (`Order`,
   * `Map`), `Function` for closures, `RegExp`, `(system)` for V8's hidden
   * objects, `(compiled code)`, and `(<type>)` for the other node types
   * (`(string)`, `(concatenated string)`, `(array)`, `(number)`, ...).
   */
  name: string
  /** Number of objects. */
  count: number
  /** Sum of the objects' own sizes. */
  selfSize: Bytes
  /**
   * Memory freed if all the group's objects were collected: the retained
   * sizes (dominator tree over the non-weak edges) of the members that no
   * other member dominates.
   */
  retainedSize: Bytes
}

/** `summarizeHeapSnapshot()`'s result. */
export interface HeapSummary {
  nodeCount: number
  edgeCount: number
  /** Sum of all objects' self sizes. */
  totalSize: Bytes
  /** The `top` groups by retained size, largest first. */
  groups: HeapGroup[]
}

/** How one group changed between two snapshots. */
export interface HeapGroupDelta {
  name: string
  countBefore: number
  countAfter: number
  countDelta: number
  selfSizeBefore: Bytes
  selfSizeAfter: Bytes
  selfSizeDelta: Bytes
  retainedSizeBefore: Bytes
  retainedSizeAfter: Bytes
  retainedSizeDelta: Bytes
  /** `countDelta / jobsBetween`; present only when `jobsBetween` was given. */
  perJob?: number
}

/** One step of a retainer path, from a GC root towards the sample object. */
export interface RetainerStep {
  /** The reference from the previous step: property or variable name, or `[index]`. Empty on the first step. */
  edge: string
  /** V8's edge type: `property`, `element`, `context`, `internal`, `hidden`, `shortcut`. Empty on the first step. */
  edgeType: string
  /** The object's class; synthetic and `(system)` objects show their own name, closures `name()`. */
  node: string
  /** V8's node type: `object`, `array`, `closure`, `hidden`, `synthetic`, `string`, ... */
  nodeType: string
  /** The object's `@id`, as DevTools shows it. */
  id: number
  /** The edge names a variable: of a module (CommonJS or ESM), of a function captured by a closure, or of the global object. */
  variable?: VariableScope
  /**
   * The script the snapshot ties this step to, as the snapshot names it (a
   * path, a `file:` URL, `node:internal/timers`): a variable's script, a
   * function's, or an object's constructor's.
   */
  script?: string
  /** 1-based: where the variable is declared, the function or the constructor defined. */
  line?: number
  /** 1-based column of `line`. */
  column?: number
  /** The step belongs to leakguard's own code (its `lib/`): shown only when nothing else holds the object. */
  harness?: true
}

/** Where a variable lives. */
export type VariableScope = 'module' | 'closure' | 'global'

/** One step of a path as the program sees it (`Suspect.programSteps`). */
export interface ProgramStep {
  /** Index of this step in `Suspect.retainers`. */
  step: number
  /** Internal hops folded just before this step (`… 8 internal hops …`); 0 when none. */
  folded: number
  /** The edge as shown: a variable or property name, `[3]`, or V8's hops merged into it (`table[1160]`). */
  edge: string
  /** The object's class (closures: `name()` or `Function`). */
  node: string
  variable?: VariableScope
  /** Script of a variable or a function, as a path when the snapshot gives a `file:` URL; absent for objects. */
  script?: string
  /** 1-based line: a variable's declaration, a function's definition. */
  line?: number
  column?: number
}

/** A source position: a script (a path) and a 1-based line and column. */
export interface SourceSite {
  script: string
  line: number
  column: number
}

/**
 * The variable that holds what grows: the program's variable nearest above
 * the place where most new instances meet (a Map, an array, an emitter's
 * listener list), or below Node's timer list the closure's variable.
 */
export interface Holder {
  /** The variable's name, e.g. `inFlight`. */
  variable: string
  /** The class of the object it holds, e.g. `Map`. */
  node: string
  scope: VariableScope
  /** The script, as a path (or `node:…` for Node's own). */
  script?: string
  /** 1-based line of the declaration, when the script's source says so (a file changed since the snapshot is not read). */
  line?: number
  column?: number
  /** Index of its step in `Suspect.retainers`. */
  step: number
  /** The program's own variable; `false` for one of Node's (its timer list) when the path has no variable of the program. */
  user: boolean
  /** New instances of the group held through it between the snapshots (estimated from a sample of up to 2048). */
  count: number
  /** `count / jobsBetween`; present only when `jobsBetween` was given. */
  perJob?: number
  /** `name@version` (from its package.json) when the script lies under node_modules. */
  package?: string
  /** When it lies under node_modules: the first `require()` / `import` of that package in the program's own scripts. */
  importedAt?: SourceSite
  /** A closure's variable: the function on the path that captures it. */
  capturedBy?: SourceSite
}

/** A group whose instance count grows with the number of jobs. */
export interface Suspect {
  name: string
  countDelta: number
  /** New instances per job; present only when `jobsBetween` was given. */
  perJob?: number
  selfSizeDelta: Bytes
  retainedSizeDelta: Bytes
  /**
   * Shortest path to one instance (preferably one created between the
   * snapshots) from the program's roots (the global object, Node's
   * environment and module records), or from V8's stack and handles only
   * when nothing else holds it, e.g.
   * `global → app (Object) → leaks (Array) → [100] (Order)`.
   * Empty when no instance is reachable.
   */
  retainerPath: string
  /** The same path as data. */
  retainers: RetainerStep[]
  /**
   * The path as the program sees it: from the program's outermost
   * module-scope variable (else its first variable, function or object),
   * V8's and Node's hops folded, e.g.
   * `… 8 internal hops … → /srv/worker.js:4 inFlight (Map) → table[1160] (Entry)`.
   * Paths avoid leakguard's own objects and prefer the program's variables
   * to Node's (its timer list) when both hold an instance. Empty when no
   * instance is reachable.
   */
  programPath: string
  /** The steps of `programPath`. */
  programSteps: ProgramStep[]
  /** The variable that holds what grows, when the path has one. */
  holder?: Holder
  /** `@id` of the instance the path leads to: a new one, held like most of the new ones. */
  sampleId?: number
  /**
   * A sentence: `Order: +900 instances (1.00 per job), +35.2 KB self, +119.5 KB retained;
   * held by leaks (Array), a module-scope variable of /srv/worker.js:33; path: … → /srv/worker.js:33 leaks (Array) → [100] (Order)`.
   */
  message: string
}

/** Totals of one snapshot. */
export interface HeapSnapshotTotals {
  nodeCount: number
  edgeCount: number
  totalSize: Bytes
}

/** `diffHeapSnapshots()`'s result. */
export interface HeapDiff {
  before: HeapSnapshotTotals
  after: HeapSnapshotTotals
  totalSizeDelta: Bytes
  jobsBetween?: number
  /** The `top` changed groups, largest self-size growth first. */
  groups: HeapGroupDelta[]
  /**
   * Groups that grow with the job count, most likely cause first: program
   * classes before V8-internal groups (`(string)`, `(system)`...), then by
   * retained-size growth (the object holding the others comes first). With
   * `jobsBetween`, a group is a suspect when it gained ≥ 1 instance per 100
   * jobs (and ≥ 2); without, ≥ 10 instances and ≥ 10%. At most `top`.
   */
  suspects: Suspect[]
  /** A sentence: `heap +137.6 KB (+3630 objects) over 900 jobs; 2 groups grow: Order (1.00/job), ...`. */
  message: string
}

export interface DiffHeapSnapshotsOptions {
  /**
   * Jobs run between the two snapshots (> 0, need not be an integer).
   * Enables `perJob` and the per-job suspect threshold. Default: none.
   */
  jobsBetween?: number
  /** Maximum number of groups and of suspects returned; integer 1–10000. Default 20. */
  top?: number
  /** Aborts the analysis: the promise rejects with `ERR_LEAKGUARD_ABORTED` (cause: `signal.reason`). Not accepted by the Sync variant. */
  signal?: AbortSignal
}

export interface SummarizeHeapSnapshotOptions {
  /** Maximum number of groups returned; integer 1–10000. Default 20. */
  top?: number
  /** Aborts the analysis (`ERR_LEAKGUARD_ABORTED`). Not accepted by the Sync variant. */
  signal?: AbortSignal
}

/**
 * Compares two heap snapshots natively, off the main thread (the two files
 * are parsed on two threads): per-group count/self/retained deltas, the
 * groups growing with the job count, and a retainer path for each.
 * Rejects with `ERR_LEAKGUARD_MALFORMED_SNAPSHOT` (message gives the byte
 * offset) for truncated, non-JSON or non-snapshot files, `ERR_LEAKGUARD_IO`
 * when a file cannot be read, `ERR_LEAKGUARD_INVALID_ARGUMENT` /
 * `ERR_LEAKGUARD_INVALID_OPTION` for bad arguments.
 */
export declare function diffHeapSnapshots(
  before: HeapSnapshotPath,
  after: HeapSnapshotPath,
  options?: DiffHeapSnapshotsOptions
): Promise<HeapDiff>
/** Synchronous twin of `diffHeapSnapshots` (blocks the calling thread; no `signal`). */
export declare function diffHeapSnapshotsSync(
  before: HeapSnapshotPath,
  after: HeapSnapshotPath,
  options?: Omit<DiffHeapSnapshotsOptions, 'signal'>
): HeapDiff
/** Per-group totals of one snapshot, like DevTools' Summary view, off the main thread. */
export declare function summarizeHeapSnapshot(
  path: HeapSnapshotPath,
  options?: SummarizeHeapSnapshotOptions
): Promise<HeapSummary>
/** Synchronous twin of `summarizeHeapSnapshot`. */
export declare function summarizeHeapSnapshotSync(
  path: HeapSnapshotPath,
  options?: Omit<SummarizeHeapSnapshotOptions, 'signal'>
): HeapSummary
