//! Heap snapshots: a streaming `.heapsnapshot` parser, dominator tree and
//! retained sizes, DevTools-like per-class summary, a two-snapshot diff that
//! names the groups growing per job, and shortest retainer paths. Pure Rust;
//! the napi glue is in `binding`.

pub mod binding;
pub mod diff;
pub mod dominators;
pub mod graph;
pub mod input;
pub mod locate;
pub mod parse;
pub mod retainers;
pub mod source;
pub mod summary;

use std::collections::HashMap;
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

/// New instances of a group looked at to find what holds them: enough for
/// a clear majority, few enough that walking their paths stays cheap.
const COLLECTION_SAMPLE: usize = 2048;
/// Old nodes looked at above each sampled instance (runs of new nodes in
/// between are crossed whatever their length).
const COLLECTION_WALK: usize = 256;

/// Compares two analyzed snapshots. `before` carries its node ids
/// (`Summary::with_ids`), to tell new objects; `after` must still hold its
/// graph (for retainer paths). `harness` lists directories whose code runs
/// the jobs (leakguard's own `lib/`): paths avoid it.
pub fn diff_analyzed(
  before: &Summary,
  after: &Analyzed,
  opts: DiffOptions,
  harness: &[String],
) -> HeapDiff {
  let all = diff::group_deltas(before, &after.summary, opts.jobs_between);
  let candidates: Vec<GroupDelta> = all
    .iter()
    .filter(|d| diff::is_suspect(d, opts.jobs_between))
    .cloned()
    .collect();
  let ranked = diff::rank_suspects(candidates);

  let g = &after.graph;
  let held = locate::deferred_nodes(g, harness);
  let bfs = retainers::bfs(g, &held);
  let mut slot_of_class = vec![usize::MAX; after.class_names.len()];
  for (i, d) in ranked.iter().enumerate() {
    if let Some(c) = after.class_names.iter().position(|n| n == &d.name) {
      slot_of_class[c] = i;
    }
  }
  let is_new = |v: usize| !before.has_id(g.node_id[v]);
  let held_by_root = |v: usize| g.kind(bfs.from[v] as usize) == graph::NodeKind::Synthetic;
  // (old, phase, held by a root directly, depth, node): the smallest is the
  // best sample: one created after the first snapshot (its id is not in
  // `before`), that the program's own roots reach without the harness (not
  // only V8's stack or handles), that another object holds (not a local
  // variable held directly by the stack: the job in flight), closest to a
  // root.
  type SampleKey = (bool, u8, bool, u32, usize);
  // The harness's own nodes rank with what only the harness reaches.
  let phase = |node: usize| match held.get(node) {
    Some(&retainers::PHASE_HARNESS) => retainers::PHASE_HARNESS.max(bfs.phase[node]),
    _ => bfs.phase[node],
  };
  let key = |node: usize| {
    (
      !is_new(node),
      phase(node),
      held_by_root(node),
      bfs.depth[node],
      node,
    )
  };
  let mut best: Vec<Option<SampleKey>> = vec![None; ranked.len()];
  let mut new_count = vec![0usize; ranked.len()];
  for node in 1..g.node_count() {
    let slot = slot_of_class[after.class_of[node] as usize];
    if slot == usize::MAX || !bfs.reachable(node) {
      continue;
    }
    let k = key(node);
    if !k.0 {
      new_count[slot] += 1;
    }
    if best[slot].is_none_or(|b| k < b) {
      best[slot] = Some(k);
    }
  }
  // What holds the new instances: walking up their paths, a node older than
  // the first snapshot where many of them meet (a Map, an array, an
  // emitter's listener list, Node's timer list). New nodes on the way are
  // the growth itself (a chain of timers, of closures each holding the
  // previous job), not what holds it. Of the nodes above a collection, all
  // its instances pass through them too: a collection is where the paths
  // split (no node below it gathers nearly as many). The largest wins, the
  // program's before Node's. The sample is then one of its instances, so
  // that the path shown is the typical one, not that of an odd instance.
  let stride: Vec<usize> = new_count
    .iter()
    .map(|&c| c.div_ceil(COLLECTION_SAMPLE).max(1))
    .collect();
  let mut sampled: Vec<Vec<u32>> = vec![Vec::new(); ranked.len()];
  let mut seen = vec![0usize; ranked.len()];
  for node in 1..g.node_count() {
    let slot = slot_of_class[after.class_of[node] as usize];
    if slot == usize::MAX || !bfs.reachable(node) || !is_new(node) {
      continue;
    }
    if seen[slot].is_multiple_of(stride[slot]) {
      sampled[slot].push(node as u32);
    }
    seen[slot] += 1;
  }
  // The old nodes above `v` on its path, nearest first (at most
  // COLLECTION_WALK of them). Runs of new nodes (a linked list of timers
  // grown between the snapshots) are crossed through `first_old`, memoized,
  // so a chain of any length is walked once for all its members.
  let mut first_old: HashMap<u32, u32> = HashMap::new();
  let mut old_ancestors = |v: usize| -> Vec<usize> {
    let mut out = Vec::new();
    let mut a = bfs.from[v];
    while a != u32::MAX && a as usize != dominators::ROOT && out.len() < COLLECTION_WALK {
      if is_new(a as usize) {
        let mut run = Vec::new();
        let mut b = a;
        let end = loop {
          if let Some(&m) = first_old.get(&b) {
            break m;
          }
          if b == u32::MAX || b as usize == dominators::ROOT || !is_new(b as usize) {
            break b;
          }
          run.push(b);
          b = bfs.from[b as usize];
        };
        for r in run {
          first_old.insert(r, end);
        }
        a = end;
        continue;
      }
      out.push(a as usize);
      a = bfs.from[a as usize];
    }
    out
  };
  struct Pick {
    node: usize,
    collection: Option<usize>,
    under: usize,
    sampled: usize,
  }
  let picks: Vec<Option<Pick>> = (0..ranked.len())
    .map(|slot| {
      let fallback = best[slot].map(|k| Pick {
        node: k.4,
        collection: None,
        under: 0,
        sampled: 0,
      });
      let nodes = &sampled[slot];
      if nodes.len() < 2 {
        return fallback;
      }
      let chains: Vec<Vec<usize>> = nodes.iter().map(|&v| old_ancestors(v as usize)).collect();
      let mut counts: HashMap<usize, usize> = HashMap::new();
      for chain in &chains {
        for &a in chain {
          *counts.entry(a).or_insert(0) += 1;
        }
      }
      // Per ancestor, the most instances a node below it gathers.
      let mut below: HashMap<usize, usize> = HashMap::new();
      for chain in &chains {
        let mut most = 0;
        for &a in chain {
          let b = below.entry(a).or_insert(0);
          *b = (*b).max(most);
          most = most.max(counts[&a]);
        }
      }
      let least = (nodes.len() / 10).max(2);
      let collection = counts
        .iter()
        .filter(|&(a, &c)| c >= least && (below[a] as f64) < 0.9 * c as f64)
        .max_by_key(|&(&a, &c)| {
          (
            c,
            std::cmp::Reverse(bfs.phase[a]),
            bfs.depth[a],
            std::cmp::Reverse(a),
          )
        })
        .map(|(&a, &c)| (a, c));
      let Some((coll, under)) = collection else {
        return fallback;
      };
      let node = nodes
        .iter()
        .zip(&chains)
        .filter(|(_, chain)| chain.contains(&coll))
        .map(|(&v, _)| v as usize)
        .min_by_key(|&v| key(v))?;
      Some(Pick {
        node,
        collection: Some(coll),
        under,
        sampled: nodes.len(),
      })
    })
    .collect();
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
  let nested: Vec<bool> = picks
    .iter()
    .enumerate()
    .map(|(slot, pick)| {
      let Some(pick) = pick else {
        return false;
      };
      let mut v = after.idom[pick.node] as usize;
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
  let mut locator = locate::Locator::new(g, harness, &held);
  let paths: Vec<Vec<locate::Hop>> = order
    .iter()
    .map(|&i| {
      picks[i]
        .as_ref()
        .and_then(|p| retainers::hops_to(&bfs, p.node))
        .unwrap_or_default()
    })
    .collect();
  // One pass over the closures finds the scripts of every context on the paths.
  let contexts: Vec<usize> = paths.iter().flatten().map(|&(_, v)| v).collect();
  locator.find_owners(&contexts);
  let suspects = order
    .into_iter()
    .zip(paths)
    .map(|(i, hops)| {
      let d = &ranked[i];
      let pick = picks[i].as_ref();
      let info = locator.annotate(&hops);
      let steps = retainers::steps(g, &hops, &info);
      let (program_steps, holder) = match pick {
        Some(p) if !hops.is_empty() => {
          let at = p
            .collection
            .and_then(|c| hops.iter().position(|&(_, v)| v == c));
          // New instances under the collection, scaled up from the sample.
          let count = if p.sampled > 0 {
            (p.under as f64 / p.sampled as f64 * new_count[i] as f64).round() as u64
          } else {
            new_count[i] as u64
          };
          let per_job = opts.jobs_between.map(|j| count as f64 / j);
          locator.program_view(&hops, &info, at, count, per_job)
        }
        _ => (Vec::new(), None),
      };
      let text = retainers::path_text(&steps);
      let program = locate::program_text(&program_steps);
      Suspect {
        name: d.name.clone(),
        count_delta: d.count_delta,
        per_job: d.per_job,
        self_size_delta: d.self_size_delta,
        retained_size_delta: d.retained_size_delta,
        message: diff::suspect_message(d, &text, &program, holder.as_ref()),
        retainer_path: text,
        retainers: steps,
        program_path: program,
        program_steps,
        holder,
        sample_id: pick.map(|p| g.node_id[p.node]),
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
  harness: &[String],
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
  Ok(diff_analyzed(&b, &a, opts, harness))
}

#[cfg(test)]
mod locate_tests;
#[cfg(test)]
mod mutation_tests;
#[cfg(test)]
mod tests;
