//! Tests on tiny hand-written snapshots in V8's exact layout.

use std::sync::atomic::AtomicBool;

use super::*;
use crate::errors::ErrorCode;

const NODE_TYPES: &str = r#"["hidden","array","string","object","code","closure","regexp","number","native","synthetic","concatenated string","sliced string","symbol","bigint","object shape"]"#;
const EDGE_TYPES: &str =
  r#"["context","element","property","internal","hidden","shortcut","weak"]"#;

/// (type, name, self_size) per node; (from, type, name_or_index, to) per edge.
/// Names are given as strings and interned here; element/hidden edges take
/// their number from the `name` string parsed as an integer.
pub(super) fn snapshot_json(
  nodes: &[(&str, &str, u32)],
  edges: &[(usize, &str, &str, usize)],
) -> String {
  snapshot_json_with_locations(nodes, edges, &[])
}

/// `snapshot_json` plus a `locations` table: (node, script_id, line, column).
pub(super) fn snapshot_json_with_locations(
  nodes: &[(&str, &str, u32)],
  edges: &[(usize, &str, &str, usize)],
  locations: &[(usize, u32, u32, u32)],
) -> String {
  let node_types: Vec<String> = serde_json::from_str(NODE_TYPES).unwrap();
  let edge_types: Vec<String> = serde_json::from_str(EDGE_TYPES).unwrap();
  let mut strings: Vec<String> = vec!["<dummy>".into()];
  let mut intern = |s: &str| -> usize {
    if let Some(i) = strings.iter().position(|x| x == s) {
      i
    } else {
      strings.push(s.to_string());
      strings.len() - 1
    }
  };
  let mut node_nums = Vec::new();
  for (i, (t, name, size)) in nodes.iter().enumerate() {
    let t = node_types.iter().position(|x| x == t).unwrap();
    let count = edges.iter().filter(|e| e.0 == i).count();
    node_nums.extend([t, intern(name), i * 2 + 1, *size as usize, count, 0, 0]);
  }
  let mut edge_nums = Vec::new();
  for i in 0..nodes.len() {
    for (_, t, name, to) in edges.iter().filter(|e| e.0 == i) {
      let ti = edge_types.iter().position(|x| x == t).unwrap();
      let n = if *t == "element" || *t == "hidden" {
        name.parse().unwrap()
      } else {
        intern(name)
      };
      edge_nums.extend([ti, n, to * 7]);
    }
  }
  let join = |v: &[usize]| {
    v.iter()
      .map(|x| x.to_string())
      .collect::<Vec<_>>()
      .join(",")
  };
  format!(
    concat!(
      r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count","trace_node_id","detachedness"],"#,
      r#""node_types":[{},"string","number","number","number","number","number"],"#,
      r#""edge_fields":["type","name_or_index","to_node"],"edge_types":[{},"string_or_number","node"],"#,
      r#""trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"#,
      r#""location_fields":["object_index","script_id","line","column"]}},"node_count":{},"edge_count":{},"trace_function_count":0}},"#,
      "\n\"nodes\":[{}],\n\"edges\":[{}],\n\"trace_function_infos\":[],\"trace_tree\":[],\"samples\":[],\"locations\":[{}],\n\"strings\":{}}}\n"
    ),
    NODE_TYPES,
    EDGE_TYPES,
    nodes.len(),
    edge_nums.len() / 3,
    join(&node_nums),
    join(&edge_nums),
    join(
      &locations
        .iter()
        .flat_map(|&(n, s, l, c)| [n * 7, s as usize, l as usize, c as usize])
        .collect::<Vec<_>>()
    ),
    serde_json::to_string(&strings).unwrap()
  )
}

/// root → (GC roots) → global --leaks--> Array → elements → `orders` Orders,
/// each Order owning an Item; plus a Function, a string and code.
pub(super) fn leaky_heap(orders: usize) -> String {
  let mut nodes: Vec<(&str, &str, u32)> = vec![
    ("synthetic", "", 0),
    ("synthetic", "(GC roots)", 0),
    ("object", "global", 100),
    ("object", "Array", 32),
    ("array", "", 16),
    ("closure", "handler", 40),
    ("code", "", 200),
    ("string", "hello", 24),
  ];
  let mut edges: Vec<(usize, &str, &str, usize)> = vec![
    (0, "element", "1", 1),
    (0, "shortcut", "global", 2),
    (1, "element", "0", 2),
    (2, "property", "leaks", 3),
    (2, "property", "handler", 5),
    (2, "property", "greeting", 7),
    (3, "internal", "elements", 4),
    (5, "internal", "code", 6),
    // A weak edge never retains.
    (5, "weak", "cache", 3),
  ];
  let indexes: Vec<String> = (0..orders).map(|i| i.to_string()).collect();
  let indexes: &'static [String] = Box::leak(indexes.into_boxed_slice());
  for (i, idx) in indexes.iter().enumerate() {
    let order = nodes.len();
    nodes.push(("object", "Order", 48));
    nodes.push(("object", "Item", 16));
    edges.push((4, "element", idx.as_str(), order));
    edges.push((order, "property", "item", order + 1));
    let _ = i;
  }
  snapshot_json(&nodes, &edges)
}

fn analyze(json: &str) -> Result<Analyzed, LeakguardError> {
  analyze_reader(json.as_bytes(), json.len() as u64, &AtomicBool::new(false))
}

/// The first snapshot of a diff: its summary with its node ids.
fn first(a: &Analyzed) -> Summary {
  a.summary.clone().with_ids(&a.graph)
}

fn group<'a>(s: &'a Summary, name: &str) -> &'a Group {
  s.groups
    .iter()
    .find(|g| g.name == name)
    .unwrap_or_else(|| panic!("no group {name}"))
}

#[test]
fn parses_nodes_edges_and_strings() {
  let a = analyze(&leaky_heap(3)).unwrap();
  let g = &a.graph;
  assert_eq!(g.node_count(), 8 + 6);
  assert_eq!(g.edge_count(), 9 + 6);
  assert_eq!(g.name(2), "global");
  assert_eq!(g.edge_label(g.first_edge[2] as usize), "leaks");
  assert_eq!(g.edge_label(g.first_edge[0] as usize), "[1]");
  assert_eq!(g.node_id[3], 7);
}

#[test]
fn groups_like_devtools_summary() {
  let a = analyze(&leaky_heap(3)).unwrap();
  let s = &a.summary;
  assert_eq!(group(s, "Order").count, 3);
  assert_eq!(group(s, "Order").self_size, 3 * 48);
  assert_eq!(group(s, "Function").count, 1);
  assert_eq!(group(s, "(compiled code)").self_size, 200);
  assert_eq!(group(s, "(string)").count, 1);
  assert_eq!(group(s, "(array)").count, 1);
  assert_eq!(
    group(s, "(synthetic)").count,
    1,
    "the root itself is in no group"
  );
  assert!(s.groups.iter().all(|g| g.name != "(system)"));
}

#[test]
fn retained_sizes_follow_the_dominator_tree() {
  let a = analyze(&leaky_heap(3)).unwrap();
  let s = &a.summary;
  // Each Order dominates its Item.
  assert_eq!(group(s, "Order").retained_size, 3 * (48 + 16));
  assert_eq!(group(s, "Item").retained_size, 3 * 16);
  // The Array dominates its elements and all Orders; the weak edge from the
  // closure does not make it shared.
  assert_eq!(group(s, "Array").retained_size, 32 + 16 + 3 * 64);
  assert_eq!(
    group(s, "global").retained_size,
    100 + 32 + 16 + 3 * 64 + 40 + 200 + 24
  );
}

#[test]
fn shared_objects_are_retained_by_their_common_dominator() {
  // Two Holders share one Blob: neither retains it alone.
  let json = snapshot_json(
    &[
      ("synthetic", "", 0),
      ("object", "Root", 10),
      ("object", "Holder", 20),
      ("object", "Holder", 20),
      ("object", "Blob", 1000),
    ],
    &[
      (0, "element", "1", 1),
      (1, "property", "a", 2),
      (1, "property", "b", 3),
      (2, "property", "blob", 4),
      (3, "property", "blob", 4),
    ],
  );
  let a = analyze(&json).unwrap();
  assert_eq!(group(&a.summary, "Holder").retained_size, 40);
  assert_eq!(group(&a.summary, "Root").retained_size, 1050);
}

#[test]
fn nested_members_of_a_group_are_not_counted_twice() {
  // A linked list of Nodes: the head retains all; the group's retained size
  // is the head's, not the sum over the chain.
  let json = snapshot_json(
    &[
      ("synthetic", "", 0),
      ("object", "Node", 10),
      ("object", "Node", 10),
      ("object", "Node", 10),
    ],
    &[
      (0, "element", "1", 1),
      (1, "property", "next", 2),
      (2, "property", "next", 3),
    ],
  );
  let a = analyze(&json).unwrap();
  let g = group(&a.summary, "Node");
  assert_eq!((g.count, g.self_size, g.retained_size), (3, 30, 30));
}

#[test]
fn unreachable_and_weakly_held_nodes_hang_under_the_root() {
  let json = snapshot_json(
    &[
      ("synthetic", "", 0),
      ("object", "A", 10),
      ("object", "Weakly", 5),
      ("object", "Island", 7),
      ("object", "Island", 7),
    ],
    &[
      (0, "element", "1", 1),
      (1, "weak", "w", 2),
      (3, "property", "x", 4),
      (4, "property", "y", 3),
    ],
  );
  let a = analyze(&json).unwrap();
  assert_eq!(group(&a.summary, "A").retained_size, 10);
  assert_eq!(group(&a.summary, "Weakly").retained_size, 5);
  assert_eq!(group(&a.summary, "Island").retained_size, 14);
}

#[test]
fn diff_names_the_class_that_grows_per_job_with_its_retainer_path() {
  let before = analyze(&leaky_heap(2)).unwrap();
  let after = analyze(&leaky_heap(10)).unwrap();
  let d = diff_analyzed(
    &first(&before),
    &after,
    DiffOptions {
      jobs_between: Some(8.0),
      top: 10,
    },
    &[],
  );
  let top = &d.suspects[0];
  assert_eq!(top.name, "Order");
  assert_eq!(top.count_delta, 8);
  assert_eq!(top.per_job, Some(1.0));
  assert_eq!(top.retained_size_delta, 8 * 64);
  assert!(
    top
      .retainer_path
      .starts_with("global → leaks (Array) → elements (array) → ["),
    "{}",
    top.retainer_path
  );
  assert!(
    top.retainer_path.ends_with("(Order)"),
    "{}",
    top.retainer_path
  );
  assert!(
    top
      .message
      .starts_with("Order: +8 instances (1.00 per job)"),
    "{}",
    top.message
  );
  assert_eq!(d.suspects[1].name, "Item");
  assert_eq!(d.groups[0].name, "Order");
  assert_eq!(d.groups[0].self_size_delta, 8 * 48);
  assert!(
    d.message
      .contains("2 groups grow: Order (1.00/job), Item (1.00/job)"),
    "{}",
    d.message
  );
  // The sample is an instance created between the snapshots (an id the
  // first snapshot does not have).
  assert!(!before
    .summary
    .clone()
    .with_ids(&before.graph)
    .has_id(top.sample_id.unwrap()));
}

/// root → (GC roots) → (Stack roots) and (Handle scope) → …; root ⇢ global →
/// app (Object) → jobs (Array) → elements → Job. `stack_also` adds a Stack
/// roots edge to the first Job; `extra` adds a Job held only by the stack.
fn rooted_heap(jobs: usize, stack_also: bool, extra: bool) -> String {
  let mut nodes: Vec<(&str, &str, u32)> = vec![
    ("synthetic", "", 0),
    ("synthetic", "(GC roots)", 0),
    ("synthetic", "(Stack roots)", 0),
    ("synthetic", "(Handle scope)", 0),
    ("object", "global", 100),
    ("object", "Object", 40),
    ("object", "Array", 32),
    ("array", "", 16),
  ];
  let mut edges: Vec<(usize, &str, &str, usize)> = vec![
    (0, "element", "1", 1),
    (0, "shortcut", "global", 4),
    (1, "element", "7", 2),
    (1, "element", "11", 3),
    (3, "element", "0", 4),
    (4, "property", "app", 5),
    (5, "property", "jobs", 6),
    (6, "internal", "elements", 7),
  ];
  let indexes: &'static [String] = Box::leak(
    (0..jobs + 1)
      .map(|i| i.to_string())
      .collect::<Vec<_>>()
      .into_boxed_slice(),
  );
  for idx in indexes.iter().take(jobs) {
    edges.push((7, "element", idx.as_str(), nodes.len()));
    nodes.push(("object", "Job", 48));
  }
  if stack_also && jobs > 0 {
    edges.push((2, "element", "62", 8));
  }
  if extra {
    edges.push((2, "element", "63", nodes.len()));
    nodes.push(("object", "Job", 48));
  }
  snapshot_json(&nodes, &edges)
}

#[test]
fn retainer_paths_prefer_the_programs_roots_over_the_stack() {
  let a = analyze(&rooted_heap(3, true, true)).unwrap();
  let g = &a.graph;
  let b = retainers::bfs(g, &[]);
  // Job #8 is one hop below (Stack roots), four below global: the path
  // through the program's objects wins.
  assert!(b.from_user_root(8));
  let text = retainers::path_text(&retainers::path_to(g, &b, 8).unwrap());
  assert_eq!(
    text,
    "global → app (Object) → jobs (Array) → elements (array) → [0] (Job)"
  );
  // A Job that only the stack holds still has a path, through the stack.
  let only_stack = g.node_count() - 1;
  assert!(!b.from_user_root(only_stack));
  assert_eq!(
    retainers::path_text(&retainers::path_to(g, &b, only_stack).unwrap()),
    "(GC roots) → [7] (Stack roots) → [63] (Job)"
  );
  // The internal subroots are still reached, through (GC roots).
  assert_eq!(b.depth[2], 2);
  assert_eq!(b.depth[3], 2);
}

#[test]
fn the_sample_is_a_new_instance_the_programs_roots_hold() {
  // Before: 2 Jobs. After: 10 in the array (the first also on the stack)
  // plus one only on the stack, which is the closest to a root.
  let before = analyze(&rooted_heap(2, false, false)).unwrap();
  let after = analyze(&rooted_heap(10, true, true)).unwrap();
  let d = diff_analyzed(
    &first(&before),
    &after,
    DiffOptions {
      jobs_between: Some(9.0),
      top: 10,
    },
    &[],
  );
  let job = d.suspects.iter().find(|s| s.name == "Job").unwrap();
  assert_eq!(job.count_delta, 9);
  let id = job.sample_id.unwrap();
  assert!(!first(&before).has_id(id), "the sample is new: @{id}");
  assert!(
    job
      .retainer_path
      .starts_with("global → app (Object) → jobs (Array) → elements (array) → ["),
    "{}",
    job.retainer_path
  );
  assert!(!job.retainer_path.contains("Stack roots"));
  // Jobs [0] and [1] existed before: the sample is a later one.
  assert!(
    !job.retainer_path.ends_with("[0] (Job)") && !job.retainer_path.ends_with("[1] (Job)"),
    "{}",
    job.retainer_path
  );
}

/// Only the stack holds the program: (Stack roots) → system / Context →
/// kept (Array) → elements → Job × `jobs`, and (with `in_flight`) one more
/// Job directly on the stack, as a running loop's local variable.
fn stack_only_heap(jobs: usize, in_flight: bool) -> String {
  let mut nodes: Vec<(&str, &str, u32)> = vec![
    ("synthetic", "", 0),
    ("synthetic", "(GC roots)", 0),
    ("synthetic", "(Stack roots)", 0),
    ("object", "system / Context", 40),
    ("object", "Array", 32),
    ("array", "", 16),
  ];
  let mut edges: Vec<(usize, &str, &str, usize)> = vec![
    (0, "element", "1", 1),
    (1, "element", "7", 2),
    (2, "element", "33", 3),
    (3, "context", "kept", 4),
    (4, "internal", "elements", 5),
  ];
  let indexes: &'static [String] = Box::leak(
    (0..jobs)
      .map(|i| i.to_string())
      .collect::<Vec<_>>()
      .into_boxed_slice(),
  );
  for idx in indexes.iter() {
    edges.push((5, "element", idx.as_str(), nodes.len()));
    nodes.push(("object", "Job", 48));
  }
  if in_flight {
    edges.push((2, "element", "34", nodes.len()));
    nodes.push(("object", "Job", 48));
  }
  snapshot_json(&nodes, &edges)
}

#[test]
fn the_sample_is_held_by_an_object_rather_than_by_the_stack_directly() {
  let before = analyze(&stack_only_heap(2, false)).unwrap();
  let after = analyze(&stack_only_heap(10, true)).unwrap();
  let d = diff_analyzed(
    &first(&before),
    &after,
    DiffOptions {
      jobs_between: Some(9.0),
      top: 10,
    },
    &[],
  );
  let job = d.suspects.iter().find(|s| s.name == "Job").unwrap();
  assert_eq!(
    job.retainer_path,
    "(GC roots) → [7] (Stack roots) → [33] (system / Context) → kept (Array) → elements (array) → [2] (Job)"
  );
}

#[test]
fn v8_internal_groups_rank_after_the_programs_types() {
  let d = |name: &str, retained: i64| GroupDelta {
    name: name.into(),
    count_before: 0,
    count_after: 10,
    count_delta: 10,
    self_size_before: 0,
    self_size_after: 100,
    self_size_delta: 100,
    retained_size_before: 0,
    retained_size_after: retained as u64,
    retained_size_delta: retained,
    per_job: None,
  };
  let ranked = diff::rank_suspects(vec![
    d("system / Context", 9000),
    d("(string)", 8000),
    d("Order", 100),
  ]);
  let names: Vec<&str> = ranked.iter().map(|g| g.name.as_str()).collect();
  assert_eq!(names, ["Order", "system / Context", "(string)"]);
}

#[test]
fn no_suspects_when_nothing_grows() {
  let a = analyze(&leaky_heap(4)).unwrap();
  let b = analyze(&leaky_heap(4)).unwrap();
  let d = diff_analyzed(
    &first(&a),
    &b,
    DiffOptions {
      jobs_between: Some(100.0),
      top: 10,
    },
    &[],
  );
  assert!(d.suspects.is_empty());
  assert!(d.groups.is_empty());
  assert!(
    d.message.ends_with("no group grows with the job count"),
    "{}",
    d.message
  );
}

fn err_of(json: &[u8]) -> LeakguardError {
  match analyze_reader(json, json.len() as u64, &AtomicBool::new(false)) {
    Ok(_) => panic!(
      "accepted {:?}",
      String::from_utf8_lossy(&json[..json.len().min(80)])
    ),
    Err(e) => e,
  }
}

#[test]
fn malformed_inputs_are_coded_errors_with_offsets() {
  let cases: &[(&[u8], &str)] = &[
    (b"", "the file is empty"),
    (b"   \n", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n", "expected a JSON object"),
    (b"[1,2,3]", "expected a JSON object"),
    (b"{}", "no \"snapshot\" header"),
    (
      br#"{"nodes":[1]}"#,
      "\"nodes\" comes before the \"snapshot\" header",
    ),
    (br#"{"snapshot":{"meta":{}}}"#, "has no string array"),
    (br#"{"a":1} x"#, "after the top-level object"),
    (br#"{"snapshot":5"#, "has no \"meta\""),
  ];
  for (input, want) in cases {
    let e = err_of(input);
    assert_eq!(e.code, ErrorCode::MalformedSnapshot);
    assert!(
      e.message.contains(want),
      "{:?}: {}",
      String::from_utf8_lossy(input),
      e.message
    );
    assert!(e.message.contains("(at byte "), "{}", e.message);
  }
}

#[test]
fn every_truncation_of_a_snapshot_is_refused() {
  let json = leaky_heap(2);
  let bytes = json.trim_end().as_bytes();
  for cut in 0..bytes.len() {
    let e = err_of(&bytes[..cut]);
    assert_eq!(
      e.code,
      ErrorCode::MalformedSnapshot,
      "cut at {cut}: {}",
      e.message
    );
  }
}

#[test]
fn hostile_counts_do_not_allocate() {
  let json = leaky_heap(1).replacen("\"node_count\":10", "\"node_count\":1000000000000", 1);
  let e = err_of(json.as_bytes());
  assert!(e.message.contains("more than a"), "{}", e.message);
  let json = leaky_heap(1).replacen("\"edge_count\":11", "\"edge_count\":2000000000", 1);
  assert!(err_of(json.as_bytes()).message.contains("more than a"));
}

#[test]
fn inconsistent_arrays_are_refused() {
  let base = leaky_heap(1);
  // An edge pointing between nodes.
  let bad_to = base.replacen("\"edges\":[1,1,7", "\"edges\":[1,1,8", 1);
  assert!(err_of(bad_to.as_bytes())
    .message
    .contains("does not point at a node"));
  // Fewer nodes than declared.
  let short = base.replacen("\"node_count\":10", "\"node_count\":9", 1);
  assert!(err_of(short.as_bytes())
    .message
    .contains("more than the declared 9 nodes"));
  // A name index past the strings table.
  let bad_name = base.replacen("\"nodes\":[9,1,", "\"nodes\":[9,999,", 1);
  assert!(err_of(bad_name.as_bytes())
    .message
    .contains("not in \"strings\""));
  // A type outside meta.node_types.
  let bad_type = base.replacen("\"nodes\":[9,", "\"nodes\":[99,", 1);
  assert!(err_of(bad_type.as_bytes())
    .message
    .contains("not in meta.node_types"));
  // Negative and fractional numbers.
  let neg = base.replacen("\"nodes\":[9,", "\"nodes\":[-9,", 1);
  assert!(err_of(neg.as_bytes())
    .message
    .contains("expected an unsigned integer"));
  let frac = base.replacen("\"nodes\":[9,", "\"nodes\":[9.5,", 1);
  assert!(err_of(frac.as_bytes()).message.contains("fraction"));
}

#[test]
fn strings_decode_escapes_and_surrogates() {
  let json = snapshot_json(
    &[("synthetic", "", 0), ("object", "x", 1)],
    &[(0, "element", "1", 1)],
  )
  .replacen("\"x\"", r#""a\"b\\c\u00e9\ud83d\ude00\ud800z""#, 1);
  let a = analyze(&json).unwrap();
  assert_eq!(a.graph.name(1), "a\"b\\c\u{e9}\u{1F600}\u{FFFD}z");
}

#[test]
fn cancel_flag_aborts() {
  let json = leaky_heap(3);
  let cancel = AtomicBool::new(true);
  let e = analyze_reader(json.as_bytes(), json.len() as u64, &cancel)
    .err()
    .unwrap();
  assert_eq!(e.code, ErrorCode::Aborted);
}

/// Bounded randomized mutation of the seed snapshots (the cargo-fuzz
/// target does the same unbounded): no input may panic.
#[test]
fn random_mutations_never_panic() {
  let seeds = [leaky_heap(3), leaky_heap(0)];
  let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
  let mut rnd = || {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
  };
  let alphabet = b"0123456789,[]{}\":-.e\\u \n9";
  for round in 0..3000 {
    let mut bytes = seeds[round % 2].clone().into_bytes();
    for _ in 0..(1 + rnd() % 4) {
      let at = (rnd() as usize) % bytes.len();
      match rnd() % 4 {
        0 => bytes[at] = alphabet[(rnd() as usize) % alphabet.len()],
        1 => {
          bytes.remove(at);
        }
        2 => bytes.insert(at, alphabet[(rnd() as usize) % alphabet.len()]),
        _ => bytes[at] = rnd() as u8,
      }
    }
    let _ = std::panic::catch_unwind(|| {
      analyze_reader(&bytes[..], bytes.len() as u64, &AtomicBool::new(false))
    })
    .unwrap_or_else(|_| {
      panic!(
        "panic on mutation round {round}: {:?}",
        String::from_utf8_lossy(&bytes)
      )
    });
  }
}
