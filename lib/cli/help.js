'use strict'
// The CLI's usage lines and --help texts, in one place.

const USAGE = {
  check:
    'leakguard check <module> [--jobs N] [--warmup N] [--export name] [--concurrency N] [--snapshot-jobs N] [--min-growth BYTES] [--job-timeout MS] [--report out.html] [--json] [--verbose]',
  diff: 'leakguard diff <before.heapsnapshot> <after.heapsnapshot> [--jobs-between N] [--top N] [--json] [--verbose]',
  demo: 'leakguard demo [--jobs N] [--report out.html] [--json]'
}

const HELP = {
  main: `leakguard — does my job handler leak, and where?

Usage:
  ${USAGE.check}
  ${USAGE.diff}
  ${USAGE.demo}

Commands:
  check   run a job handler many times in a child process and say whether memory
          grows per job, which resources each job leaves open, and which heap
          types grow with the job count
  diff    compare two .heapsnapshot files: which types grow, by how much per job
  demo    run the bundled leaky and fixed example workers and write a report

Exit codes: 0 bounded, 1 leak found, 2 usage error (or the check could not run).
Run 'leakguard <command> --help' for a command's options.
`,
  check: `Usage: ${USAGE.check}

Loads <module> (ESM or CommonJS) and runs its job handler in a child process
with leakguard's guards on: every job runs in a scope with autoTrack (timers,
listeners and handles the job leaves open are reported with their creation
site), memory is sampled after forced GCs and tested for a per-job trend, and
two heap snapshots taken --snapshot-jobs jobs apart are diffed natively. Each
type that grows per job is shown with the variable that holds it (its file and
line, and its package when it lies under node_modules) and its retainer path
seen from the program: Node's internal hops folded, leakguard's own objects
avoided.

The handler is the module's default export (or module.exports), or the export
named by --export. An optional export makeJob(i) builds the i-th job's argument
(default: { id: i, data: { i } }).

Options:
  --jobs N           measured jobs after the warm-up (default 1000, >= 20)
  --warmup N         jobs run first and excluded from the trend (default 100)
  --export name      the handler's export name (default: default export / module.exports)
  --concurrency N    jobs in flight at once (default 1)
  --snapshot-jobs N  jobs between the two heap snapshots (default jobs/2; 0 = no snapshots)
  --min-growth B     bytes a metric must grow over the measured jobs to count as a
                     leak (default: measureGrowth's, 131072 — above what a fresh
                     process's heap creeps by on its own). With it, 1000 jobs find
                     leaks of ~128 B/job and up; run more jobs to find smaller ones.
  --job-timeout MS   a job that has not settled after MS ms stops the check with
                     exit 2, naming the job (default 60000; 0 = wait for ever)
  --report file      write a self-contained HTML report with the memory chart
  --json             print the result as JSON on stdout (progress goes to stderr)
  --verbose          also print each growing type's full retainer path
  -h, --help         this help

Exit codes: 0 bounded, 1 leak found, 2 usage error or the check could not run.
`,
  diff: `Usage: ${USAGE.diff}

Compares two heap snapshots (e.g. written by v8.writeHeapSnapshot() or
leakguard's writeHeapSnapshot() at job 100 and job 1000) and lists the object
types that grew, per job when --jobs-between is given, with the variable that
holds them and the retainer path seen from the program.

Options:
  --jobs-between N   jobs run between the two snapshots (enables per-job figures)
  --top N            how many growing types to list (default 20)
  --json             print the diff as JSON on stdout
  --verbose          also print each type's full retainer path
  -h, --help         this help

Exit codes: 0 nothing grows per job, 1 a type grows per job, 2 usage error.
`,
  demo: `Usage: ${USAGE.demo}

Runs examples/leaky-worker.js (a job handler with four of the field guide's
root causes) and examples/fixed-worker.js (the same work with guard() and
BoundedCache) through the same path as 'leakguard check', prints both
verdicts and writes one HTML report with both runs.

Options:
  --jobs N        measured jobs per worker (default 400)
  --report file   where to write the report (default leakguard-report.html)
  --json          print both results as JSON on stdout
  -h, --help      this help

Exit codes: 0 when the leaky worker is found leaking and the fixed one bounded
(the demo worked), 1 otherwise, 2 usage error.
`
}

module.exports = { USAGE, HELP }
