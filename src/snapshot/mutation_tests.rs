//! Structure-aware mutations of valid snapshots, run by `cargo test` in CI
//! (the cargo-fuzz target in `fuzz/` does unbounded byte-level fuzzing by
//! hand). Each mutation knows the snapshot's sections, header and records:
//! repeated sections, sections in every order, wrong field and record counts,
//! huge and non-integer numbers in every field, header type confusion, and
//! truncation at every token boundary. Every input must end in `Ok` (and
//! then survive a diff in both directions) or in
//! `ERR_LEAKGUARD_MALFORMED_SNAPSHOT` with an offset: never a panic, never
//! another code. Deterministic: the random rounds use a fixed seed, printed
//! with the failing input.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicBool;

use serde_json::{json, Value};

use super::tests::leaky_heap;
use super::*;
use crate::errors::ErrorCode;

/// A snapshot taken apart: its header and its arrays, each value as text so
/// that a mutation can put anything there.
#[derive(Clone)]
struct Parts {
  header: Value,
  nodes: Vec<String>,
  edges: Vec<String>,
  strings: Vec<String>,
}

impl Parts {
  fn of(json: &str) -> Parts {
    let v: Value = serde_json::from_str(json).unwrap();
    let nums = |key: &str| -> Vec<String> {
      v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.to_string())
        .collect()
    };
    Parts {
      header: v["snapshot"].clone(),
      nodes: nums("nodes"),
      edges: nums("edges"),
      strings: v["strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect(),
    }
  }

  fn node_fields(&self) -> usize {
    self.header["meta"]["node_fields"].as_array().unwrap().len()
  }

  /// The sections by name, as JSON text, in V8's order (plus the sections
  /// V8 writes that the parser skips).
  fn sections(&self) -> Vec<(&'static str, String)> {
    vec![
      ("snapshot", self.header.to_string()),
      ("nodes", format!("[{}]", self.nodes.join(","))),
      ("edges", format!("[{}]", self.edges.join(","))),
      ("trace_function_infos", "[]".into()),
      ("trace_tree", "[]".into()),
      ("samples", "[]".into()),
      ("locations", "[]".into()),
      ("strings", format!("[{}]", self.strings.join(","))),
    ]
  }

  fn render(&self) -> String {
    render(&self.sections())
  }
}

fn render(sections: &[(&str, String)]) -> String {
  let body: Vec<String> = sections
    .iter()
    .map(|(k, v)| format!("\"{k}\":{v}"))
    .collect();
  format!("{{{}}}", body.join(",\n"))
}

fn analyze(bytes: &[u8]) -> Result<Analyzed, LeakguardError> {
  analyze_reader(bytes, bytes.len() as u64, &AtomicBool::new(false))
}

/// What one input did: Ok (with its group names), or its malformed message.
/// Panics (fails the test) on a panic inside the pipeline or a wrong code.
fn outcome(bytes: &[u8], base: &Analyzed, what: &str) -> Result<Vec<String>, String> {
  let shown = || {
    format!(
      "{what}: {:?}",
      String::from_utf8_lossy(&bytes[..bytes.len().min(400)])
    )
  };
  let r = catch_unwind(AssertUnwindSafe(|| analyze(bytes)))
    .unwrap_or_else(|_| panic!("analysis panicked on {}", shown()));
  match r {
    Ok(a) => {
      // A snapshot the parser accepts must survive the rest of the pipeline
      // as either side of a diff.
      let opts = DiffOptions {
        jobs_between: Some(10.0),
        top: 20,
      };
      let before = base.summary.clone().with_ids(&base.graph);
      catch_unwind(AssertUnwindSafe(|| diff_analyzed(&before, &a, opts, &[])))
        .unwrap_or_else(|_| panic!("diff (as after) panicked on {}", shown()));
      let own = a.summary.clone().with_ids(&a.graph);
      catch_unwind(AssertUnwindSafe(|| diff_analyzed(&own, base, opts, &[])))
        .unwrap_or_else(|_| panic!("diff (as before) panicked on {}", shown()));
      Ok(a.summary.groups.iter().map(|g| g.name.clone()).collect())
    }
    Err(e) => {
      assert_eq!(
        e.code,
        ErrorCode::MalformedSnapshot,
        "{}: {}",
        shown(),
        e.message
      );
      assert!(
        e.message.contains("(at byte "),
        "{}: {}",
        shown(),
        e.message
      );
      Err(e.message)
    }
  }
}

fn malformed(bytes: &[u8], base: &Analyzed, what: &str) -> String {
  match outcome(bytes, base, what) {
    Ok(_) => panic!(
      "{what}: accepted {:?}",
      String::from_utf8_lossy(&bytes[..bytes.len().min(400)])
    ),
    Err(m) => m,
  }
}

fn base() -> (Parts, Analyzed, Vec<String>) {
  let json = leaky_heap(4);
  let a = analyze(json.as_bytes()).unwrap();
  let groups = a.summary.groups.iter().map(|g| g.name.clone()).collect();
  (Parts::of(&json), a, groups)
}

#[test]
fn the_parts_render_back_to_the_same_snapshot() {
  let (parts, a, groups) = base();
  assert_eq!(outcome(parts.render().as_bytes(), &a, "render"), Ok(groups));
}

#[test]
fn every_repeated_section_is_refused_wherever_it_comes_again() {
  let (parts, a, _) = base();
  let mut wider = parts.clone();
  wider.header["node_count"] = json!(parts.nodes.len() / parts.node_fields() - 1);
  let mut types = wider.header["meta"]["node_types"][0]
    .as_array()
    .unwrap()
    .clone();
  types.extend((0..10).map(|i| json!(format!("extra{i}"))));
  wider.header["meta"]["node_types"][0] = Value::Array(types);
  let variants: Vec<Vec<(&str, String)>> = vec![parts.sections(), wider.sections()];
  let mut cases = 0;
  for key in ["snapshot", "nodes", "edges", "locations", "strings"] {
    for again in &variants {
      let copy = again.iter().find(|(k, _)| *k == key).unwrap().clone();
      let first = parts
        .sections()
        .iter()
        .position(|(k, _)| *k == key)
        .unwrap();
      for at in first + 1..=parts.sections().len() {
        let mut s = parts.sections();
        s.insert(at, copy.clone());
        let m = malformed(render(&s).as_bytes(), &a, &format!("{key} again at {at}"));
        assert!(
          m.contains(&format!("a second \"{key}\" section")),
          "{key}@{at}: {m}"
        );
        cases += 1;
      }
    }
  }
  assert!(cases > 40, "{cases}");
}

#[test]
fn sections_in_any_order_parse_the_same_or_say_what_comes_too_early() {
  let (parts, a, groups) = base();
  let main = ["snapshot", "nodes", "edges", "strings"];
  let all = parts.sections();
  let mut orders = Vec::new();
  permutations(&mut main.to_vec(), 0, &mut orders);
  assert_eq!(orders.len(), 24);
  for order in orders {
    // The skipped sections go in front, between, and behind.
    let mut s: Vec<(&str, String)> = vec![all[3].clone()];
    for (k, key) in order.iter().enumerate() {
      s.push(all.iter().find(|(n, _)| n == key).unwrap().clone());
      s.push(all[4 + k % 3].clone());
    }
    let pos = |key: &str| order.iter().position(|k| *k == key).unwrap();
    let r = outcome(render(&s).as_bytes(), &a, &format!("{order:?}"));
    if pos("snapshot") < pos("nodes") && pos("snapshot") < pos("edges") {
      assert_eq!(r, Ok(groups.clone()), "{order:?}");
    } else {
      let m = r.unwrap_err();
      assert!(
        m.contains("comes before the \"snapshot\" header"),
        "{order:?}: {m}"
      );
    }
  }
}

fn permutations<'a>(items: &mut Vec<&'a str>, k: usize, out: &mut Vec<Vec<&'a str>>) {
  if k == items.len() {
    out.push(items.clone());
    return;
  }
  for i in k..items.len() {
    items.swap(k, i);
    permutations(items, k + 1, out);
    items.swap(k, i);
  }
}

#[test]
fn wrong_field_and_record_counts_are_refused() {
  let (parts, a, groups) = base();
  let nf = parts.node_fields();
  let mut cases: Vec<(String, Parts)> = Vec::new();
  for (key, delta) in [
    ("node_count", 1i64),
    ("node_count", -1),
    ("edge_count", 1),
    ("edge_count", -1),
  ] {
    let mut p = parts.clone();
    let n = p.header[key].as_i64().unwrap();
    p.header[key] = json!(n + delta);
    cases.push((format!("{key} {delta:+}"), p));
  }
  for list in ["node_fields", "edge_fields"] {
    let mut p = parts.clone();
    p.header["meta"][list]
      .as_array_mut()
      .unwrap()
      .push(json!("extra"));
    cases.push((format!("{list} + a field"), p));
    let mut p = parts.clone();
    p.header["meta"][list].as_array_mut().unwrap().pop();
    cases.push((format!("{list} - its last field"), p));
  }
  for (what, drop) in [
    ("nodes", true),
    ("nodes", false),
    ("edges", true),
    ("edges", false),
  ] {
    let mut p = parts.clone();
    let arr = if what == "nodes" {
      &mut p.nodes
    } else {
      &mut p.edges
    };
    if drop {
      arr.pop();
    } else {
      arr.push("0".into());
    }
    cases.push((
      format!("{what} {}", if drop { "- a value" } else { "+ a value" }),
      p,
    ));
  }
  // One node's edge_count off by one, for every node.
  for node in 0..parts.nodes.len() / nf {
    for delta in [1i64, -1] {
      let mut p = parts.clone();
      let at = node * nf + 4;
      let c: i64 = p.nodes[at].parse().unwrap();
      if c + delta < 0 {
        continue;
      }
      p.nodes[at] = (c + delta).to_string();
      cases.push((format!("node {node} edge_count {delta:+}"), p));
    }
  }
  for (what, p) in &cases {
    malformed(p.render().as_bytes(), &a, what);
  }
  // Consistent layout changes are fine: a column fewer in every record, or
  // the columns in another order, give the same groups.
  let mut fewer = parts.clone();
  fewer.header["meta"]["node_fields"]
    .as_array_mut()
    .unwrap()
    .pop();
  fewer.nodes = parts
    .nodes
    .chunks(nf)
    .flat_map(|r| r[..nf - 1].to_vec())
    .collect();
  // to_node is an index into "nodes": records are one value shorter now.
  for to in fewer.edges.iter_mut().skip(2).step_by(3) {
    let v: usize = to.parse().unwrap();
    *to = (v / nf * (nf - 1)).to_string();
  }
  assert_eq!(
    outcome(fewer.render().as_bytes(), &a, "fewer"),
    Ok(groups.clone())
  );
  let mut turned = parts.clone();
  turned.header["meta"]["node_fields"]
    .as_array_mut()
    .unwrap()
    .reverse();
  turned.nodes = parts
    .nodes
    .chunks(nf)
    .flat_map(|r| r.iter().rev().cloned().collect::<Vec<_>>())
    .collect();
  assert_eq!(
    outcome(turned.render().as_bytes(), &a, "reversed"),
    Ok(groups)
  );
}

const ODD_NUMBERS: &[&str] = &[
  "4294967295",
  "4294967296",
  "18446744073709551615",
  "18446744073709551616",
  "99999999999999999999999",
  "1e3",
  "-1",
  "1.5",
  "0x10",
  "01",
  "",
  "null",
  "\"7\"",
  "[]",
  "{}",
];

#[test]
fn huge_and_non_integer_numbers_in_every_field_never_panic() {
  let (parts, a, _) = base();
  let nf = parts.node_fields();
  let mut accepted = 0;
  let mut refused = 0;
  // Every field of the first two records of each array (root and a normal
  // node, the first edges), with every odd number.
  for (what, len) in [("nodes", nf * 2), ("edges", 6)] {
    for at in 0..len {
      for odd in ODD_NUMBERS {
        let mut p = parts.clone();
        let arr = if what == "nodes" {
          &mut p.nodes
        } else {
          &mut p.edges
        };
        arr[at] = odd.to_string();
        match outcome(p.render().as_bytes(), &a, &format!("{what}[{at}] = {odd}")) {
          Ok(_) => accepted += 1,
          Err(_) => refused += 1,
        }
      }
    }
  }
  // The header's counts and type lists.
  for key in ["node_count", "edge_count"] {
    for odd in ODD_NUMBERS {
      let mut s = parts.sections();
      let mut h = parts.header.to_string();
      let from = format!("\"{key}\":{}", parts.header[key]);
      assert!(h.contains(&from));
      h = h.replace(&from, &format!("\"{key}\":{odd}"));
      s[0].1 = h;
      malformed(render(&s).as_bytes(), &a, &format!("{key} = {odd}"));
    }
  }
  // Ids may be any u64; self sizes up to u32::MAX; types and names only in range.
  assert!(
    accepted > 0 && refused > 0,
    "{accepted} accepted, {refused} refused"
  );
}

/// A named change to a snapshot header.
type HeaderEdit = (&'static str, Box<dyn Fn(&mut Value)>);

#[test]
fn header_type_confusion_is_refused() {
  let (parts, a, _) = base();
  let edits: Vec<HeaderEdit> = vec![
    ("meta missing", Box::new(|h| h["meta"] = Value::Null)),
    ("meta an array", Box::new(|h| h["meta"] = json!([]))),
    (
      "node_fields a string",
      Box::new(|h| h["meta"]["node_fields"] = json!("type")),
    ),
    (
      "node_fields of numbers",
      Box::new(|h| h["meta"]["node_fields"] = json!([1, 2, 3])),
    ),
    (
      "node_types[0] a string",
      Box::new(|h| h["meta"]["node_types"][0] = json!("object")),
    ),
    (
      "node_types empty",
      Box::new(|h| h["meta"]["node_types"] = json!([])),
    ),
    (
      "no edge_types",
      Box::new(|h| h["meta"]["edge_types"] = Value::Null),
    ),
    (
      "300 node types",
      Box::new(|h| {
        h["meta"]["node_types"][0] = json!((0..300).map(|i| i.to_string()).collect::<Vec<_>>())
      }),
    ),
    (
      "100 node fields",
      Box::new(|h| {
        h["meta"]["node_fields"] = json!((0..100).map(|i| i.to_string()).collect::<Vec<_>>())
      }),
    ),
    (
      "no \"type\" field",
      Box::new(|h| h["meta"]["node_fields"][0] = json!("kind")),
    ),
    (
      "no \"to_node\" field",
      Box::new(|h| h["meta"]["edge_fields"][2] = json!("target")),
    ),
    (
      "node_count a string",
      Box::new(|h| h["node_count"] = json!("10")),
    ),
    (
      "edge_count negative",
      Box::new(|h| h["edge_count"] = json!(-1)),
    ),
    (
      "edge_count fractional",
      Box::new(|h| h["edge_count"] = json!(1.5)),
    ),
    ("the header an array", Box::new(|h| *h = json!([1, 2]))),
  ];
  for (what, edit) in edits {
    let mut p = parts.clone();
    edit(&mut p.header);
    malformed(p.render().as_bytes(), &a, what);
  }
  // Empty sections.
  for key in ["nodes", "edges", "strings"] {
    let mut s = parts.sections();
    let i = s.iter().position(|(k, _)| *k == key).unwrap();
    s[i].1 = "[]".into();
    malformed(render(&s).as_bytes(), &a, &format!("empty {key}"));
    s[i].1 = "{}".into();
    malformed(render(&s).as_bytes(), &a, &format!("{key} an object"));
  }
}

/// Where each JSON token of `text` ends (structural characters, numbers,
/// strings, literals): the places a cut leaves a well-formed prefix of tokens.
fn token_ends(text: &[u8]) -> Vec<usize> {
  let mut ends = Vec::new();
  let mut i = 0;
  while i < text.len() {
    match text[i] {
      b'"' => {
        i += 1;
        while i < text.len() && text[i] != b'"' {
          i += if text[i] == b'\\' { 2 } else { 1 };
        }
        i += 1;
      }
      b'0'..=b'9' | b'-' => {
        while i < text.len() && matches!(text[i], b'0'..=b'9' | b'-' | b'.' | b'e' | b'E' | b'+') {
          i += 1;
        }
      }
      b'a'..=b'z' => {
        while i < text.len() && text[i].is_ascii_alphabetic() {
          i += 1;
        }
      }
      _ => i += 1,
    }
    ends.push(i.min(text.len()));
  }
  ends
}

#[test]
fn truncation_at_every_token_boundary_is_refused_also_when_closed() {
  let json = leaky_heap(12);
  let a = analyze(json.as_bytes()).unwrap();
  let bytes = json.trim_end().as_bytes();
  let ends = token_ends(bytes);
  assert!(ends.len() > 500, "{}", ends.len());
  for &cut in ends.iter().filter(|&&c| c < bytes.len()) {
    malformed(&bytes[..cut], &a, &format!("cut at {cut}"));
    // The same prefix with its open brackets closed: well-formed JSON whose
    // sections end early (short arrays, missing sections).
    let mut closed = bytes[..cut].to_vec();
    let mut open = Vec::new();
    let mut in_string = false;
    let mut k = 0;
    while k < closed.len() {
      let b = closed[k];
      if in_string {
        if b == b'\\' {
          k += 1;
        } else if b == b'"' {
          in_string = false;
        }
      } else {
        match b {
          b'"' => in_string = true,
          b'{' | b'[' => open.push(if b == b'{' { b'}' } else { b']' }),
          b'}' | b']' => {
            open.pop();
          }
          _ => {}
        }
      }
      k += 1;
    }
    if in_string {
      closed.push(b'"');
    }
    while let Some(c) = open.pop() {
      if matches!(closed.last(), Some(b',' | b':')) {
        closed.push(b'0');
      }
      closed.push(c);
    }
    let _ = outcome(&closed, &a, &format!("cut at {cut}, closed"));
  }
}

/// Random rounds mixing the mutations above with byte noise. The seed is
/// fixed (CI is deterministic); the failing round and its input are printed.
#[test]
fn random_structured_mutations_never_panic() {
  const SEED: u64 = 0x5EED_1EA6_0A2D_0018;
  const ROUNDS: u32 = 3000;
  let (parts, a, _) = base();
  let mut x = SEED;
  let mut rnd = move || {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
  };
  for round in 0..ROUNDS {
    let mut p = parts.clone();
    let mut sections = None;
    for _ in 0..1 + rnd() % 3 {
      match rnd() % 7 {
        0 => {
          let arr = if rnd() % 2 == 0 {
            &mut p.nodes
          } else {
            &mut p.edges
          };
          let at = (rnd() as usize) % arr.len();
          arr[at] = ODD_NUMBERS[(rnd() as usize) % ODD_NUMBERS.len()].to_string();
        }
        1 => {
          let arr = if rnd() % 2 == 0 {
            &mut p.nodes
          } else {
            &mut p.edges
          };
          let at = (rnd() as usize) % arr.len();
          arr[at] = (rnd() % 64).to_string();
        }
        2 => {
          let key = if rnd() % 2 == 0 {
            "node_count"
          } else {
            "edge_count"
          };
          p.header[key] = json!(rnd() % 200);
        }
        3 => {
          let arr = if rnd() % 2 == 0 {
            &mut p.nodes
          } else {
            &mut p.edges
          };
          let at = (rnd() as usize) % arr.len();
          if rnd() % 2 == 0 {
            arr.remove(at);
          } else {
            arr.insert(at, (rnd() % 20).to_string());
          }
        }
        4 => {
          let at = (rnd() as usize) % p.strings.len();
          p.strings[at] = ["\"\\ud800\"", "\"\\u00zz\"", "\"a\\\"b\"", "1", "\"\""]
            [(rnd() % 5) as usize]
            .to_string();
        }
        5 => {
          let mut s = p.sections();
          let from = (rnd() as usize) % s.len();
          let copy = s[from].clone();
          let to = (rnd() as usize) % (s.len() + 1);
          if rnd() % 2 == 0 {
            s.insert(to, copy);
          } else {
            let moved = s.remove(from);
            s.insert(to.min(s.len()), moved);
          }
          sections = Some(s);
        }
        _ => {
          let list = if rnd() % 2 == 0 {
            "node_types"
          } else {
            "edge_types"
          };
          let types = p.header["meta"][list][0].as_array_mut().unwrap();
          if rnd() % 2 == 0 && types.len() > 1 {
            types.pop();
          } else {
            types.push(json!("more"));
          }
        }
      }
    }
    let mut bytes = match &sections {
      Some(s) => render(s),
      None => p.render(),
    }
    .into_bytes();
    if rnd() % 4 == 0 {
      let at = (rnd() as usize) % bytes.len();
      bytes[at] = rnd() as u8;
    }
    let _ = outcome(&bytes, &a, &format!("seed {SEED:#x} round {round}"));
  }
}
