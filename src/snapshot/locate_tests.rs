//! The program view of retainer paths, on small hand-built graphs laid out
//! like Node 20's: scripts hang off closures' shared function infos, a
//! module's context follows the native context, positions come from the
//! `locations` table.

use std::sync::atomic::AtomicBool;

use super::locate::{find_import, package_dir, Scope};
use super::tests::snapshot_json_with_locations;
use super::*;

const HANDLER: &str = "'use strict'\nclass Entry { constructor (job) { this.job = job } }\nconst inFlight = new Map()\nmodule.exports = async function handle (job) {\n  inFlight.set(job.id, new Entry(job))\n}\n";

fn analyze(json: &str) -> Analyzed {
  analyze_reader(json.as_bytes(), json.len() as u64, &AtomicBool::new(false)).unwrap()
}

fn first(a: &Analyzed) -> Summary {
  a.summary.clone().with_ids(&a.graph)
}

fn opts(jobs: f64) -> DiffOptions {
  DiffOptions {
    jobs_between: Some(jobs),
    top: 10,
  }
}

/// root → Node / Environment → cleanup_queue → Module → exports (handle()) →
/// context (the module's) → inFlight (Map) → table (array) → [i] (Entry)
/// × `entries`; `handle` is defined in /w/handler.js (HANDLER). The
/// harness (/lg/lib/check-child.js) holds the last Entry through an
/// Immediate's callback: a shorter path, which must not be the one shown.
/// Node's timer list (`timerListMap` in node:internal/timers) also holds a
/// Timeout per entry whose callback closes over it.
fn node_like_heap(entries: usize) -> String {
  let mut nodes: Vec<(&str, &str, u32)> = vec![
    ("synthetic", "", 0),                      // 0
    ("synthetic", "(GC roots)", 0),            // 1
    ("object", "global", 100),                 // 2
    ("native", "Node / Environment", 10),      // 3
    ("native", "Node / CleanupQueue", 10),     // 4
    ("object", "Module", 40),                  // 5
    ("closure", "handle", 32),                 // 6
    ("code", "handle", 40),                    // 7  shared function info
    ("code", "/w/handler.js", 80),             // 8  script
    ("string", HANDLER, 200),                  // 9  its source
    ("object", "system / Context", 40),        // 10 the module's context
    ("hidden", "system / NativeContext", 500), // 11
    ("object", "Map", 32),                     // 12 inFlight
    ("array", "", 64),                         // 13 its table
    ("object", "Array", 32),                   // 14 execution_async_resources
    ("object", "Immediate", 40),               // 15
    ("closure", "", 32),                       // 16 the harness's callback
    ("code", "", 40),                          // 17 its shared function info
    ("code", "/lg/lib/check-child.js", 80),    // 18
    ("object", "system / Context", 40),        // 19 the harness's context
    ("object", "Object", 40),                  // 20 timerListMap
    ("object", "TimersList", 40),              // 21
    ("closure", "clearTimeout", 32),           // 22
    ("code", "clearTimeout", 40),              // 23
    ("code", "node:internal/timers", 80),      // 24
    ("object", "system / Context", 40),        // 25 node:internal/timers' context
  ];
  let mut edges: Vec<(usize, &str, &str, usize)> = vec![
    (0, "element", "1", 1),
    (0, "shortcut", "global", 2),
    (0, "element", "3", 3),
    (3, "internal", "cleanup_queue", 4),
    (4, "element", "2", 5),
    (5, "property", "exports", 6),
    (6, "internal", "shared", 7),
    (6, "internal", "context", 10),
    (7, "internal", "script_or_debug_info", 8),
    (8, "internal", "source", 9),
    (10, "context", "inFlight", 12),
    (10, "internal", "previous", 11),
    (12, "internal", "table", 13),
    (3, "internal", "execution_async_resources", 14),
    (14, "element", "1", 15),
    (15, "property", "_onImmediate", 16),
    (16, "internal", "shared", 17),
    (16, "internal", "context", 19),
    (17, "internal", "script_or_debug_info", 18),
    (2, "property", "clearTimeout", 22),
    (22, "internal", "shared", 23),
    (22, "internal", "context", 25),
    (23, "internal", "script_or_debug_info", 24),
    (25, "context", "timerListMap", 20),
    (25, "internal", "previous", 11),
    (20, "element", "60000", 21),
  ];
  let mut locations = vec![(6, 1, 3, 39), (16, 2, 7, 12), (22, 3, 40, 2)];
  let names: &'static [String] = Box::leak(
    (0..entries)
      .map(|i| (i * 3 + 1).to_string())
      .collect::<Vec<_>>()
      .into_boxed_slice(),
  );
  let mut prev_timeout = 21;
  for name in names.iter() {
    let entry = nodes.len();
    nodes.push(("object", "Entry", 24));
    nodes.push(("object", "Object", 48)); // the job
    edges.push((13, "element", name.as_str(), entry));
    edges.push((entry, "property", "job", entry + 1));
    locations.push((entry, 1, 1, 14));
    // A timer per entry, in Node's list, whose callback (defined in the
    // handler) closes over the entry.
    let timeout = nodes.len();
    nodes.push(("object", "Timeout", 40));
    nodes.push(("closure", "", 32));
    nodes.push(("object", "system / Context", 40));
    edges.push((prev_timeout, "property", "_idleNext", timeout));
    edges.push((timeout, "property", "_onTimeout", timeout + 1));
    edges.push((timeout + 1, "internal", "shared", 7));
    edges.push((timeout + 1, "internal", "context", timeout + 2));
    edges.push((timeout + 2, "context", "entry", entry));
    edges.push((timeout + 2, "internal", "previous", 10));
    prev_timeout = timeout;
  }
  // The harness holds the last entry.
  if entries > 0 {
    edges.push((19, "context", "current", nodes.len() - 5));
  }
  snapshot_json_with_locations(&nodes, &edges, &locations)
}

#[test]
fn the_path_starts_at_the_programs_variable_with_its_file_and_line() {
  let before = analyze(&node_like_heap(2));
  let after = analyze(&node_like_heap(12));
  let d = diff_analyzed(
    &first(&before),
    &after,
    opts(10.0),
    &["/lg/lib/".to_string()],
  );
  let entry = d.suspects.iter().find(|s| s.name == "Entry").unwrap();
  assert_eq!(entry.count_delta, 10);
  // The full path (verbose) and the program's view of it.
  assert!(
    entry
      .retainer_path
      .starts_with("Node / Environment → cleanup_queue (Node / CleanupQueue) → [2] (Module) → exports (handle()) → context (system / Context) → inFlight (Map) → table (array) → ["),
    "{}",
    entry.retainer_path
  );
  assert!(
    entry
      .program_path
      .starts_with("… 5 internal hops … → /w/handler.js:3 inFlight (Map) → table["),
    "{}",
    entry.program_path
  );
  assert!(
    entry.program_path.ends_with("] (Entry)"),
    "{}",
    entry.program_path
  );
  let h = entry.holder.as_ref().unwrap();
  assert_eq!(
    (
      h.variable.as_str(),
      h.node.as_str(),
      h.scope,
      h.line,
      h.column,
      h.user
    ),
    ("inFlight", "Map", Scope::Module, Some(3), Some(7), true)
  );
  assert_eq!(h.script.as_deref(), Some("/w/handler.js"));
  assert_eq!(h.count, 10);
  assert_eq!(h.per_job, Some(1.0));
  assert!(
    entry
      .message
      .contains("held by inFlight (Map), a module-scope variable of /w/handler.js:3"),
    "{}",
    entry.message
  );
  // No step of the chosen path belongs to the harness; the steps carry
  // what the snapshot says about them.
  assert!(entry.retainers.iter().all(|s| !s.harness));
  let closure = entry
    .retainers
    .iter()
    .find(|s| s.node == "handle()")
    .unwrap();
  assert_eq!(
    (closure.script.as_deref(), closure.line),
    (Some("/w/handler.js"), Some(4))
  );
  let var = entry
    .retainers
    .iter()
    .find(|s| s.edge == "inFlight")
    .unwrap();
  assert_eq!(var.variable, Some(Scope::Module));
  let last = entry.retainers.last().unwrap();
  assert_eq!(
    (last.script.as_deref(), last.line),
    (Some("/w/handler.js"), Some(2)),
    "Entry's constructor"
  );
}

#[test]
fn without_the_harness_named_the_shorter_path_through_it_is_taken() {
  let after = analyze(&node_like_heap(12));
  let g = &after.graph;
  let last_entry = g.node_count() - 5;
  let plain = retainers::bfs(g, &[]);
  let text = retainers::path_text(&retainers::path_to(g, &plain, last_entry).unwrap());
  assert!(text.contains("_onImmediate"), "{text}");
  let held = locate::deferred_nodes(g, &["/lg/lib/".to_string()]);
  assert_eq!(
    (held[16], held[19]),
    (retainers::PHASE_HARNESS, retainers::PHASE_HARNESS),
    "the harness's closure and its context"
  );
  assert_eq!((held[6], held[10]), (0, 0), "the program's");
  assert_eq!(
    (held[22], held[25]),
    (0, retainers::PHASE_NODE),
    "Node's context, not its function"
  );
  let avoiding = retainers::bfs(g, &held);
  let text = retainers::path_text(&retainers::path_to(g, &avoiding, last_entry).unwrap());
  assert!(
    text.contains("inFlight (Map)") && !text.contains("_onImmediate"),
    "{text}"
  );
  assert!(avoiding.from_user_root(last_entry));
  // The harness's closure is reached but not followed; what only it holds
  // (its context) is reached afterwards, marked as such.
  assert_eq!(avoiding.phase[16], retainers::PHASE_USER);
  assert_eq!(avoiding.phase[19], retainers::PHASE_HARNESS);
}

#[test]
fn a_closure_variable_below_nodes_timer_list_is_named_with_its_script() {
  let before = analyze(&node_like_heap(2));
  let after = analyze(&node_like_heap(12));
  let d = diff_analyzed(
    &first(&before),
    &after,
    opts(10.0),
    &["/lg/lib/".to_string()],
  );
  let timeout = d.suspects.iter().find(|s| s.name == "Timeout").unwrap();
  // Node's own timer list holds the Timeouts: its variable is named, as
  // Node's, and the view starts there.
  let h = timeout.holder.as_ref().unwrap();
  assert_eq!((h.variable.as_str(), h.user), ("timerListMap", false));
  assert_eq!(h.script.as_deref(), Some("node:internal/timers"));
  assert!(
    timeout.program_path.starts_with(
      "… 3 internal hops … → node:internal/timers timerListMap (Object) → [60000] (TimersList)"
    ),
    "{}",
    timeout.program_path
  );
}

#[test]
fn an_object_of_a_growing_class_is_shown_from_the_module_variable_down() {
  // The job objects (class Object) hang under each Entry: the view starts
  // at inFlight and goes through the Entry to `job`.
  let before = analyze(&node_like_heap(2));
  let after = analyze(&node_like_heap(12));
  let d = diff_analyzed(
    &first(&before),
    &after,
    opts(10.0),
    &["/lg/lib/".to_string()],
  );
  let obj = d.suspects.iter().find(|s| s.name == "Object").unwrap();
  assert!(
    obj
      .program_path
      .contains("/w/handler.js:3 inFlight (Map) → table[")
      && obj.program_path.ends_with("] (Entry) → job (Object)"),
    "{}",
    obj.program_path
  );
  assert_eq!(obj.holder.as_ref().unwrap().variable, "inFlight");
}

#[test]
fn sources_cut_by_the_snapshot_are_read_from_the_file_when_it_matches() {
  let dir = std::env::temp_dir().join(format!("leakguard-locate-{}", std::process::id()));
  std::fs::create_dir_all(&dir).unwrap();
  let file = dir.join("long.js");
  let filler: String = (0..40)
    .map(|i| format!("// filler line {i} {}\n", "x".repeat(40)))
    .collect();
  let full = format!("'use strict'\n{filler}const registry = []\nmodule.exports = (job) => {{ registry.push(job) }}\n");
  std::fs::write(&file, &full).unwrap();
  let cut: String = full.chars().take(1024).collect();
  let script = file.to_string_lossy().into_owned();
  let heap = |n: usize| {
    let mut nodes: Vec<(&str, &str, u32)> = vec![
      ("synthetic", "", 0),
      ("object", "Module", 40),
      ("closure", "", 32),
      ("code", "", 40),
      ("code", script.as_str(), 80),
      ("string", cut.as_str(), 2000),
      ("object", "system / Context", 40),
      ("hidden", "system / NativeContext", 40),
      ("object", "Array", 32),
    ];
    let mut edges: Vec<(usize, &str, &str, usize)> = vec![
      (0, "element", "1", 1),
      (1, "property", "exports", 2),
      (2, "internal", "shared", 3),
      (2, "internal", "context", 6),
      (3, "internal", "script_or_debug_info", 4),
      (4, "internal", "source", 5),
      (6, "context", "registry", 8),
      (6, "internal", "previous", 7),
    ];
    let idx: &'static [String] = Box::leak(
      (0..n)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .into_boxed_slice(),
    );
    for i in idx.iter() {
      edges.push((8, "element", i.as_str(), nodes.len()));
      nodes.push(("object", "Job", 16));
    }
    snapshot_json_with_locations(&nodes, &edges, &[(2, 1, 42, 17)])
  };
  let d = diff_analyzed(
    &first(&analyze(&heap(1))),
    &analyze(&heap(9)),
    opts(8.0),
    &[],
  );
  let h = d.suspects[0].holder.clone().unwrap();
  assert_eq!((h.variable.as_str(), h.line), ("registry", Some(42)));
  // A file changed since the snapshot is not read: no line is better than a wrong one.
  std::fs::write(&file, format!("// changed\n{full}")).unwrap();
  let d = diff_analyzed(
    &first(&analyze(&heap(1))),
    &analyze(&heap(9)),
    opts(8.0),
    &[],
  );
  let h = d.suspects[0].holder.clone().unwrap();
  assert_eq!((h.variable.as_str(), h.line), ("registry", None));
  std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_holder_in_a_package_names_where_the_program_imports_it() {
  let dir = std::env::temp_dir().join(format!("leakguard-locate-pkg-{}", std::process::id()));
  let pkg = dir.join("node_modules").join("@acme").join("registry");
  std::fs::create_dir_all(&pkg).unwrap();
  let lib = pkg.join("index.js").to_string_lossy().into_owned();
  let worker = dir.join("worker.js").to_string_lossy().into_owned();
  let lib_src = "const seen = []\nexports.track = (job) => { seen.push(job) }\n";
  let worker_src = "'use strict'\nconst { track } = require('@acme/registry')\nmodule.exports = (job) => track(job)\n";
  let heap = |n: usize| {
    let mut nodes: Vec<(&str, &str, u32)> = vec![
      ("synthetic", "", 0),
      ("object", "Module", 40),
      ("closure", "track", 32),
      ("code", "", 40),
      ("code", lib.as_str(), 80),
      ("string", lib_src, 200),
      ("object", "system / Context", 40),
      ("hidden", "system / NativeContext", 40),
      ("object", "Array", 32),
      ("closure", "", 32),
      ("code", "", 40),
      ("code", worker.as_str(), 80),
      ("string", worker_src, 200),
    ];
    let mut edges: Vec<(usize, &str, &str, usize)> = vec![
      (0, "element", "1", 1),
      (1, "property", "exports", 2),
      (1, "property", "worker", 9),
      (2, "internal", "shared", 3),
      (2, "internal", "context", 6),
      (3, "internal", "script_or_debug_info", 4),
      (4, "internal", "source", 5),
      (6, "context", "seen", 8),
      (6, "internal", "previous", 7),
      (9, "internal", "shared", 10),
      (10, "internal", "script_or_debug_info", 11),
      (11, "internal", "source", 12),
    ];
    let idx: &'static [String] = Box::leak(
      (0..n)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .into_boxed_slice(),
    );
    for i in idx.iter() {
      edges.push((8, "element", i.as_str(), nodes.len()));
      nodes.push(("object", "Job", 16));
    }
    snapshot_json_with_locations(&nodes, &edges, &[(2, 1, 1, 16), (9, 2, 2, 17)])
  };
  let d = diff_analyzed(
    &first(&analyze(&heap(1))),
    &analyze(&heap(9)),
    opts(8.0),
    &[],
  );
  let h = d.suspects[0].holder.clone().unwrap();
  assert_eq!(
    (h.variable.as_str(), h.line, h.user),
    ("seen", Some(1), true)
  );
  assert_eq!(h.script.as_deref(), Some(lib.as_str()));
  let at = h.imported_at.unwrap();
  assert_eq!(
    (at.script.as_str(), at.line, at.column),
    (worker.as_str(), 2, 27)
  );
  std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn package_directories_and_import_sites() {
  assert_eq!(
    package_dir("/a/node_modules/x/lib/i.js").as_deref(),
    Some("/a/node_modules/x")
  );
  assert_eq!(
    package_dir("/a/node_modules/x/node_modules/@s/y/i.js").as_deref(),
    Some("/a/node_modules/x/node_modules/@s/y")
  );
  assert_eq!(package_dir("/a/node_modules/i.js"), None);
  assert_eq!(package_dir("/a/src/i.js"), None);
  let src = "// require('x') in a comment\nimport a from \"xy\"\nimport { b } from 'x/sub'\nconst c = require('x')\n";
  assert_eq!(find_import(src, "x"), Some((2, 18)));
  assert_eq!(find_import("const c = require('x')", "x"), Some((0, 18)));
  assert_eq!(
    find_import("import { b } from 'x/sub'\n", "x"),
    Some((0, 18))
  );
  assert_eq!(
    find_import("const y = await import('x')", "x"),
    Some((0, 23))
  );
  assert_eq!(
    find_import("const s = 'x'", "x"),
    None,
    "a string is not an import"
  );
  assert_eq!(find_import("import a from \"xy\"", "x"), None);
}

/// Jobs held twice: by the program's `kept` array (6 hops from the root) and
/// by closures in Node's timer list (5 hops); `callbacks` new closures in an
/// emitter's listener array, and one new closure of the harness right
/// below the root.
fn twice_held_heap(jobs: usize, harness_closure: bool) -> String {
  let mut nodes: Vec<(&str, &str, u32)> = vec![
    ("synthetic", "", 0),                      // 0
    ("object", "global", 100),                 // 1
    ("closure", "clearTimeout", 32),           // 2
    ("code", "clearTimeout", 40),              // 3
    ("code", "node:timers", 80),               // 4
    ("object", "system / Context", 40),        // 5  node:timers' context
    ("hidden", "system / NativeContext", 500), // 6
    ("object", "Object", 40),                  // 7  timerListMap
    ("native", "Node / Environment", 10),      // 8
    ("object", "Module", 40),                  // 9
    ("closure", "handle", 32),                 // 10
    ("code", "handle", 40),                    // 11
    ("code", "/w/worker.js", 80),              // 12
    ("object", "system / Context", 40),        // 13 the worker's context
    ("object", "Array", 32),                   // 14 kept
    ("object", "EventEmitter", 32),            // 15 bus
    ("object", "Array", 32),                   // 16 bus's listeners
    ("closure", "", 32),                       // 17 the harness's callback
    ("code", "", 40),                          // 18
    ("code", "/lg/lib/check-child.js", 80),    // 19
  ];
  let mut edges: Vec<(usize, &str, &str, usize)> = vec![
    (0, "shortcut", "global", 1),
    (0, "element", "2", 8),
    (1, "property", "clearTimeout", 2),
    (2, "internal", "shared", 3),
    (2, "internal", "context", 5),
    (3, "internal", "script_or_debug_info", 4),
    (5, "context", "timerListMap", 7),
    (5, "internal", "previous", 6),
    (8, "internal", "cleanup_queue", 9),
    (9, "property", "exports", 10),
    (10, "internal", "shared", 11),
    (10, "internal", "context", 13),
    (11, "internal", "script_or_debug_info", 12),
    (13, "context", "kept", 14),
    (13, "context", "bus", 15),
    (13, "internal", "previous", 6),
    (15, "property", "listeners", 16),
    (17, "internal", "shared", 18),
    (18, "internal", "script_or_debug_info", 19),
  ];
  if harness_closure {
    edges.push((8, "property", "immediate", 17));
  }
  let idx: &'static [String] = Box::leak(
    (0..jobs)
      .map(|i| i.to_string())
      .collect::<Vec<_>>()
      .into_boxed_slice(),
  );
  for i in idx.iter() {
    let job = nodes.len();
    nodes.push(("object", "Job", 24));
    nodes.push(("closure", "", 32)); // a listener, defined in the worker
    edges.push((14, "element", i.as_str(), job));
    edges.push((7, "element", i.as_str(), job));
    edges.push((16, "element", i.as_str(), job + 1));
    edges.push((job + 1, "internal", "shared", 11));
  }
  snapshot_json_with_locations(&nodes, &edges, &[(2, 1, 10, 0), (10, 2, 3, 30)])
}

#[test]
fn the_programs_variable_wins_over_a_shorter_path_through_nodes_timer_list() {
  let before = analyze(&twice_held_heap(2, false));
  let after = analyze(&twice_held_heap(12, true));
  let d = diff_analyzed(
    &first(&before),
    &after,
    opts(10.0),
    &["/lg/lib/".to_string()],
  );
  let job = d.suspects.iter().find(|s| s.name == "Job").unwrap();
  assert!(
    job.retainer_path.contains("kept (Array)") && !job.retainer_path.contains("timerListMap"),
    "{}",
    job.retainer_path
  );
  assert_eq!(job.holder.as_ref().unwrap().variable, "kept");
  // Without the program's path, Node's is the one: Timeouts only Node holds.
  let plain = retainers::bfs(&after.graph, &[]);
  let text = retainers::path_text(&retainers::path_to(&after.graph, &plain, 20).unwrap());
  assert!(text.contains("timerListMap"), "{text}");
}

#[test]
fn the_sample_is_a_typical_instance_never_the_harnesss_own() {
  // 10 new listeners in the bus's array, and the harness's new closure one
  // hop below the root: the sample is a listener, the holder `bus`.
  let before = analyze(&twice_held_heap(2, false));
  let after = analyze(&twice_held_heap(12, true));
  let d = diff_analyzed(
    &first(&before),
    &after,
    opts(10.0),
    &["/lg/lib/".to_string()],
  );
  let f = d.suspects.iter().find(|s| s.name == "Function").unwrap();
  assert!(
    f.retainer_path
      .contains("bus (EventEmitter) → listeners (Array) → ["),
    "{}",
    f.retainer_path
  );
  let h = f.holder.as_ref().unwrap();
  assert_eq!((h.variable.as_str(), h.count), ("bus", 10));
  assert!(f.retainers.iter().all(|s| !s.harness));
  // The listener's step carries its function's script (the worker's).
  assert_eq!(
    f.retainers.last().unwrap().script.as_deref(),
    Some("/w/worker.js")
  );
}

#[test]
fn without_variables_the_view_starts_after_v8s_nodes() {
  // (GC roots) → (Stack roots) → [36] (Array) → [i] (Job): no variable, no
  // script; the view folds the roots and shows the array.
  let heap = |n: usize| {
    let mut nodes: Vec<(&str, &str, u32)> = vec![
      ("synthetic", "", 0),
      ("synthetic", "(GC roots)", 0),
      ("synthetic", "(Stack roots)", 0),
      ("object", "Array", 32),
    ];
    let mut edges: Vec<(usize, &str, &str, usize)> = vec![
      (0, "element", "1", 1),
      (1, "element", "7", 2),
      (2, "element", "36", 3),
    ];
    let idx: &'static [String] = Box::leak(
      (0..n)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .into_boxed_slice(),
    );
    for i in idx.iter() {
      edges.push((3, "element", i.as_str(), nodes.len()));
      nodes.push(("object", "Job", 16));
    }
    snapshot_json_with_locations(&nodes, &edges, &[])
  };
  let d = diff_analyzed(
    &first(&analyze(&heap(1))),
    &analyze(&heap(9)),
    opts(8.0),
    &[],
  );
  let job = &d.suspects[0];
  assert!(
    job
      .program_path
      .starts_with("… 2 internal hops … → [36] (Array) → ["),
    "{}",
    job.program_path
  );
  assert!(job.holder.is_none());
}

#[test]
fn a_linked_list_grown_between_the_snapshots_is_counted_whole() {
  // timers (List, module-scope) → next → Timeout → next → … 600 long: every
  // new Timeout hangs under the list, however deep in the chain.
  let heap = |n: usize| {
    let mut nodes: Vec<(&str, &str, u32)> = vec![
      ("synthetic", "", 0),
      ("object", "Module", 40),
      ("closure", "handle", 32),
      ("code", "", 40),
      ("code", "/w/timers.js", 80),
      (
        "string",
        "const timers = { next: null }\nmodule.exports = function handle () {}\n",
        100,
      ),
      ("object", "system / Context", 40),
      ("hidden", "system / NativeContext", 40),
      ("object", "List", 32),
    ];
    let mut edges: Vec<(usize, &str, &str, usize)> = vec![
      (0, "element", "1", 1),
      (1, "property", "exports", 2),
      (2, "internal", "shared", 3),
      (2, "internal", "context", 6),
      (3, "internal", "script_or_debug_info", 4),
      (4, "internal", "source", 5),
      (6, "context", "timers", 8),
      (6, "internal", "previous", 7),
    ];
    let mut prev = 8;
    for _ in 0..n {
      edges.push((prev, "property", "next", nodes.len()));
      prev = nodes.len();
      nodes.push(("object", "Timeout", 40));
    }
    snapshot_json_with_locations(&nodes, &edges, &[(2, 1, 1, 33)])
  };
  let d = diff_analyzed(
    &first(&analyze(&heap(0))),
    &analyze(&heap(600)),
    opts(600.0),
    &[],
  );
  let t = &d.suspects[0];
  assert_eq!(t.name, "Timeout");
  let h = t.holder.as_ref().unwrap();
  assert_eq!(
    (h.variable.as_str(), h.line, h.count, h.per_job),
    ("timers", Some(1), 600, Some(1.0))
  );
  // The sample is the one nearest the list.
  assert!(
    t.program_path.ends_with("timers (List) → next (Timeout)"),
    "{}",
    t.program_path
  );
}
