//! Heap snapshots: a streaming `.heapsnapshot` parser, dominator tree and
//! retained sizes, DevTools-like per-class summary, a two-snapshot diff that
//! names the groups growing per job, and shortest retainer paths. Pure Rust;
//! the napi glue is in `binding`.

pub mod binding;
pub mod diff;
pub mod dominators;
pub mod graph;
pub mod input;
pub mod parse;
pub mod retainers;
pub mod summary;

use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::errors::{catch_quiet, panic_error, shown_path, ErrorCode, LeakguardError};

pub use diff::{DiffOptions, GroupDelta, HeapDiff, Suspect};
pub use graph::HeapGraph;
pub use summary::{Group, Summary};

/// A parsed snapshot with its summary; the graph is kept for retainer paths.
pub struct Analyzed {
  pub graph: HeapGraph,
  pub summary: Summary,
  pub class_of: Vec<u32>,
  pub class_names: Vec<String>,
  /// Immediate dominators, kept to tell which growing group holds which.
  pub idom: Vec<u32>,
}

fn open<'a>(
  path: &Path,
  cancel: &'a AtomicBool,
) -> Result<(input::Input<'a>, u64), LeakguardError> {
  let io = |e: std::io::Error| {
    LeakguardError::new(
      ErrorCode::Io,
      format!("cannot read heap snapshot {}: {e}", shown_path(path)),
    )
  };
  let opened = input::open(path, cancel).map_err(io)?;
  if opened.is_dir {
    return Err(LeakguardError::new(
      ErrorCode::Io,
      format!(
        "cannot read heap snapshot {}: it is a directory",
        shown_path(path)
      ),
    ));
  }
  Ok((opened.input, opened.size))
}

/// Parses and summarizes one snapshot from any reader of `size` bytes.
pub fn analyze_reader<R: Read>(
  input: R,
  size: u64,
  cancel: &AtomicBool,
) -> Result<Analyzed, LeakguardError> {
  let t = std::time::Instant::now();
  let graph = parse::parse_snapshot(input, size, cancel)?;
  let t1 = t.elapsed();
  let doms = dominators::compute(&graph, cancel)?;
  let t2 = t.elapsed();
  let (class_of, class_names) = graph.classes();
  let summary = summary::summarize(&graph, &doms, &class_of, &class_names);
  if std::env::var_os("LG_TIMING").is_some() {
    eprintln!(
      "parse {t1:?} dom {:?} summary {:?}",
      t2 - t1,
      t.elapsed() - t2
    );
  }
  Ok(Analyzed {
    graph,
    summary,
    class_of,
    class_names,
    idom: doms.idom,
  })
}

pub fn analyze_file(path: &Path, cancel: &AtomicBool) -> Result<Analyzed, LeakguardError> {
  let (f, size) = open(path, cancel)?;
  analyze_reader(f, size, cancel).map_err(|e| match e.code {
    ErrorCode::Aborted => e,
    _ => LeakguardError::new(e.code, format!("{}: {}", shown_path(path), e.message)),
  })
}

/// One snapshot's per-class totals, cut to `top` groups (largest retained first).
pub fn summarize_file(
  path: &Path,
  top: usize,
  cancel: &AtomicBool,
) -> Result<Summary, LeakguardError> {
  let mut s = analyze_file(path, cancel)?.summary;
  s.groups.truncate(top);
  Ok(s)
}

/// Compares two analyzed snapshots. `before` carries its node ids
/// (`Summary::with_ids`), to tell new objects; `after` must still hold its
/// graph (for retainer paths).
pub fn diff_analyzed(before: &Summary, after: &Analyzed, opts: DiffOptions) -> HeapDiff {
  let all = diff::group_deltas(before, &after.summary, opts.jobs_between);
  let candidates: Vec<GroupDelta> = all
    .iter()
    .filter(|d| diff::is_suspect(d, opts.jobs_between))
    .cloned()
    .collect();
  let ranked = diff::rank_suspects(candidates);

  // One pass over the nodes picks, per suspect group, a sample instance:
  // one created after the first snapshot (its id is not in `before`), then
  // one the program's own roots reach (not only V8's stack or handles), then
  // one another object holds (not a local variable held directly by the
  // stack or a handle: the job in flight), then the one closest to a root.
  let g = &after.graph;
  let bfs = retainers::bfs(g);
  let mut slot_of_class = vec![usize::MAX; after.class_names.len()];
  for (i, d) in ranked.iter().enumerate() {
    if let Some(c) = after.class_names.iter().position(|n| n == &d.name) {
      slot_of_class[c] = i;
    }
  }
  let is_new = |v: usize| !before.has_id(g.node_id[v]);
  let held_by_root = |v: usize| g.kind(bfs.from[v] as usize) == graph::NodeKind::Synthetic;
  // (old, not from a user root, held by a root directly, depth, node): the
  // smallest is the best sample.
  type SampleKey = (bool, bool, bool, u32, usize);
  let mut best: Vec<Option<SampleKey>> = vec![None; ranked.len()];
  for node in 1..g.node_count() {
    let slot = slot_of_class[after.class_of[node] as usize];
    if slot == usize::MAX || !bfs.reachable(node) {
      continue;
    }
    let key = (
      !is_new(node),
      !bfs.from_user_root[node],
      held_by_root(node),
      bfs.depth[node],
      node,
    );
    if best[slot].is_none_or(|b| key < b) {
      best[slot] = Some(key);
    }
  }
  // A growing group whose new instance is dominated by a new instance of
  // another growing program class is a consequence of that one (an Order's
  // `lines` array grows with the Orders): it ranks after the causes.
  let fresh = |v: usize| {
    is_new(v)
      && !matches!(
        g.kind(v),
        graph::NodeKind::Native | graph::NodeKind::Synthetic
      )
  };
  let nested: Vec<bool> = best
    .iter()
    .enumerate()
    .map(|(slot, pick)| {
      let Some((_, _, _, _, node)) = *pick else {
        return false;
      };
      let mut v = after.idom[node] as usize;
      for _ in 0..1_000_000 {
        if v == dominators::ROOT {
          return false;
        }
        let other = slot_of_class[after.class_of[v] as usize];
        if other != usize::MAX
          && other != slot
          && !diff::is_internal(&ranked[other].name)
          && fresh(v)
        {
          return true;
        }
        v = after.idom[v] as usize;
      }
      false
    })
    .collect();
  let mut order: Vec<usize> = (0..ranked.len()).collect();
  // Stable: within each class of (internal, nested), the ranking above holds.
  order.sort_by_key(|&i| (diff::is_internal(&ranked[i].name), nested[i]));
  order.truncate(opts.top);
  let suspects = order
    .into_iter()
    .map(|i| (&ranked[i], best[i]))
    .map(|(d, pick)| {
      let (steps, sample_id) = match pick {
        Some((_, _, _, _, node)) => (
          retainers::path_to(g, &bfs, node).unwrap_or_default(),
          Some(g.node_id[node]),
        ),
        None => (Vec::new(), None),
      };
      let text = retainers::path_text(&steps);
      Suspect {
        name: d.name.clone(),
        count_delta: d.count_delta,
        per_job: d.per_job,
        self_size_delta: d.self_size_delta,
        retained_size_delta: d.retained_size_delta,
        message: diff::suspect_message(d, &text),
        retainer_path: text,
        retainers: steps,
        sample_id,
      }
    })
    .collect();
  let groups = diff::top_groups(all, opts.top);
  diff::build(before, &after.summary, opts, suspects, groups)
}

/// Diffs two snapshot files, parsing them on two threads.
pub fn diff_files(
  before: &Path,
  after: &Path,
  opts: DiffOptions,
  cancel: &AtomicBool,
) -> Result<HeapDiff, LeakguardError> {
  let (b, a) = std::thread::scope(|s| {
    // The panic (a bug) is caught on the thread where it happens, so that
    // its message is kept and nothing is printed.
    let handle = s.spawn(|| {
      catch_quiet(|| analyze_file(before, cancel).map(|x| x.summary.with_ids(&x.graph)))
        .unwrap_or_else(|p| Err(panic_error(p.as_ref())))
    });
    let a = analyze_file(after, cancel);
    let b = handle
      .join()
      .unwrap_or_else(|p| Err(panic_error(p.as_ref())));
    (b, a)
  });
  let b = b?;
  let a = a?;
  Ok(diff_analyzed(&b, &a, opts))
}

#[cfg(test)]
mod mutations;
#[cfg(test)]
mod tests;
