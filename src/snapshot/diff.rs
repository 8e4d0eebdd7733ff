//! Comparing two summaries: per-group deltas, and the groups whose instance
//! count grows with the number of jobs run between the snapshots.

use std::collections::HashMap;

use serde::Serialize;

use super::locate::{holder_text, Holder, ProgramStep};
use super::retainers::RetainerStep;
use super::summary::{Group, Summary};

#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
  /// Jobs run between the two snapshots; enables `per_job`.
  pub jobs_between: Option<f64>,
  /// How many groups and suspects to return.
  pub top: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupDelta {
  pub name: String,
  pub count_before: u64,
  pub count_after: u64,
  pub count_delta: i64,
  pub self_size_before: u64,
  pub self_size_after: u64,
  pub self_size_delta: i64,
  pub retained_size_before: u64,
  pub retained_size_after: u64,
  pub retained_size_delta: i64,
  /// `count_delta / jobs_between`.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub per_job: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Suspect {
  pub name: String,
  pub count_delta: i64,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub per_job: Option<f64>,
  pub self_size_delta: i64,
  pub retained_size_delta: i64,
  /// The retainer path as text, `global → … → [41] (Order)`; empty if
  /// no instance is reachable from the root.
  pub retainer_path: String,
  pub retainers: Vec<RetainerStep>,
  /// The path as the program sees it: from the program's outermost
  /// variable on, internal hops folded (`… 8 internal hops … →
  /// /w/handler.js:4 inFlight (Map) → table[1160] (Entry)`); empty when no
  /// instance is reachable.
  pub program_path: String,
  /// The steps of `program_path`.
  pub program_steps: Vec<ProgramStep>,
  /// The variable that holds what grows, when the path has one.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub holder: Option<Holder>,
  /// `@id` of the instance the path leads to (one created between the
  /// snapshots when there is one, held like most of them).
  #[serde(skip_serializing_if = "Option::is_none")]
  pub sample_id: Option<u64>,
  pub message: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotTotals {
  pub node_count: u64,
  pub edge_count: u64,
  pub total_size: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HeapDiff {
  pub before: SnapshotTotals,
  pub after: SnapshotTotals,
  pub total_size_delta: i64,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub jobs_between: Option<f64>,
  /// Groups that changed, by self-size growth (largest first).
  pub groups: Vec<GroupDelta>,
  pub suspects: Vec<Suspect>,
  pub message: String,
}

fn totals(s: &Summary) -> SnapshotTotals {
  SnapshotTotals {
    node_count: s.node_count,
    edge_count: s.edge_count,
    total_size: s.total_size,
  }
}

/// V8's own groups: `(string)`, `(compiled code)`, `(system)`, ... and the
/// hidden objects it names `system / Context`, `system / Map`. They grow as
/// a consequence of what the program keeps (the CLI's `isInternalType`).
pub fn is_internal(name: &str) -> bool {
  name.starts_with('(') || name.starts_with("system / ")
}

/// All group deltas, unsorted.
pub fn group_deltas(before: &Summary, after: &Summary, jobs: Option<f64>) -> Vec<GroupDelta> {
  let empty = Group {
    name: String::new(),
    count: 0,
    self_size: 0,
    retained_size: 0,
  };
  let old: HashMap<&str, &Group> = before.groups.iter().map(|g| (g.name.as_str(), g)).collect();
  let mut seen: HashMap<&str, ()> = HashMap::new();
  let mut out = Vec::new();
  let mut push = |name: &str, b: &Group, a: &Group| {
    let count_delta = a.count as i64 - b.count as i64;
    out.push(GroupDelta {
      name: name.to_string(),
      count_before: b.count,
      count_after: a.count,
      count_delta,
      self_size_before: b.self_size,
      self_size_after: a.self_size,
      self_size_delta: a.self_size as i64 - b.self_size as i64,
      retained_size_before: b.retained_size,
      retained_size_after: a.retained_size,
      retained_size_delta: a.retained_size as i64 - b.retained_size as i64,
      per_job: jobs.map(|j| count_delta as f64 / j),
    });
  };
  for a in &after.groups {
    seen.insert(a.name.as_str(), ());
    push(
      &a.name,
      old.get(a.name.as_str()).copied().unwrap_or(&empty),
      a,
    );
  }
  for b in &before.groups {
    if !seen.contains_key(b.name.as_str()) {
      push(&b.name, b, &empty);
    }
  }
  out
}

/// Is this group's growth a leak suspect? With a job count: at least one new
/// instance per 100 jobs (and at least 2). Without: at least 10 new
/// instances and 10% growth.
pub fn is_suspect(d: &GroupDelta, jobs: Option<f64>) -> bool {
  if d.count_delta <= 0 {
    return false;
  }
  let grown = d.count_delta as f64;
  match jobs {
    Some(j) => grown >= 2.0 && grown >= j * 0.01,
    None => grown >= 10.0 && grown >= d.count_before as f64 * 0.1,
  }
}

/// Orders suspects: program classes before V8-internal groups (a leaked
/// `Order` also grows `(string)` and `(system)`, which are its consequences),
/// then by retained-size growth, which puts the object that holds the others
/// first.
pub fn rank_suspects(mut s: Vec<GroupDelta>) -> Vec<GroupDelta> {
  s.sort_by(|a, b| {
    is_internal(&a.name)
      .cmp(&is_internal(&b.name))
      .then_with(|| b.retained_size_delta.cmp(&a.retained_size_delta))
      .then_with(|| b.count_delta.cmp(&a.count_delta))
      .then_with(|| a.name.cmp(&b.name))
  });
  s
}

pub fn fmt_bytes(b: i64) -> String {
  let sign = if b < 0 { "-" } else { "+" };
  let v = b.unsigned_abs() as f64;
  let (n, unit) = if v >= 1024.0 * 1024.0 * 1024.0 {
    (v / (1024.0 * 1024.0 * 1024.0), "GB")
  } else if v >= 1024.0 * 1024.0 {
    (v / (1024.0 * 1024.0), "MB")
  } else if v >= 1024.0 {
    (v / 1024.0, "KB")
  } else {
    return format!("{sign}{} B", v as u64);
  };
  format!("{sign}{n:.1} {unit}")
}

pub fn suspect_message(
  d: &GroupDelta,
  path: &str,
  program: &str,
  holder: Option<&Holder>,
) -> String {
  let per = match d.per_job {
    Some(p) => format!(" ({p:.2} per job)"),
    None => String::new(),
  };
  let held = match holder {
    Some(h) => format!("; held by {}", holder_text(h)),
    None => String::new(),
  };
  let via = if path.is_empty() {
    "; no instance is reachable from a GC root".to_string()
  } else if !program.is_empty() && program != path {
    format!("{held}; path: {program}")
  } else {
    format!("{held}; one instance is retained via {path}")
  };
  format!(
    "{}: {:+} instances{per}, {} self, {} retained{via}",
    d.name,
    d.count_delta,
    fmt_bytes(d.self_size_delta),
    fmt_bytes(d.retained_size_delta)
  )
}

pub fn diff_message(
  before: &Summary,
  after: &Summary,
  jobs: Option<f64>,
  suspects: &[Suspect],
) -> String {
  let bytes = after.total_size as i64 - before.total_size as i64;
  let objects = after.node_count as i64 - before.node_count as i64;
  let over = match jobs {
    Some(j) => format!(" over {j} jobs"),
    None => String::new(),
  };
  let head = format!("heap {} ({objects:+} objects){over}", fmt_bytes(bytes));
  if suspects.is_empty() {
    return format!("{head}; no group grows with the job count");
  }
  let names: Vec<String> = suspects
    .iter()
    .take(3)
    .map(|s| match s.per_job {
      Some(p) => format!("{} ({p:.2}/job)", s.name),
      None => format!("{} ({:+})", s.name, s.count_delta),
    })
    .collect();
  format!(
    "{head}; {} group{} grow{}: {}{}",
    suspects.len(),
    if suspects.len() == 1 { "" } else { "s" },
    if suspects.len() == 1 { "s" } else { "" },
    names.join(", "),
    if suspects.len() > 3 { ", ..." } else { "" }
  )
}

pub fn build(
  before: &Summary,
  after: &Summary,
  opts: DiffOptions,
  suspects: Vec<Suspect>,
  groups: Vec<GroupDelta>,
) -> HeapDiff {
  let message = diff_message(before, after, opts.jobs_between, &suspects);
  HeapDiff {
    before: totals(before),
    after: totals(after),
    total_size_delta: after.total_size as i64 - before.total_size as i64,
    jobs_between: opts.jobs_between,
    groups,
    suspects,
    message,
  }
}

/// Changed groups, largest self-size growth first, cut to `top`.
pub fn top_groups(mut all: Vec<GroupDelta>, top: usize) -> Vec<GroupDelta> {
  all.retain(|d| d.count_delta != 0 || d.self_size_delta != 0 || d.retained_size_delta != 0);
  all.sort_by(|a, b| {
    b.self_size_delta
      .cmp(&a.self_size_delta)
      .then_with(|| b.count_delta.cmp(&a.count_delta))
      .then_with(|| a.name.cmp(&b.name))
  });
  all.truncate(top);
  all
}
