//! Per-class totals, like DevTools' Summary view.

use serde::Serialize;

use super::dominators::{Dominators, ROOT};
use super::graph::HeapGraph;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Group {
  pub name: String,
  pub count: u64,
  /// Sum of the members' own sizes.
  pub self_size: u64,
  /// Sum of the retained sizes of the members that no other member of the
  /// group dominates (DevTools' rule: nested members are not counted twice).
  pub retained_size: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
  pub node_count: u64,
  pub edge_count: u64,
  /// Sum of all nodes' self sizes, in bytes.
  pub total_size: u64,
  /// Every node's id, sorted, once `with_ids` filled it (only the first
  /// snapshot of a diff needs it): V8 keeps an object's id across the
  /// snapshots of one process, so an id absent here is an object created later.
  #[serde(skip)]
  pub ids: Vec<u64>,
  /// Sorted by retained size, then name.
  pub groups: Vec<Group>,
}

/// `class_of`/`names` from `HeapGraph::classes()`. The synthetic root is in
/// no group.
pub fn summarize(g: &HeapGraph, doms: &Dominators, class_of: &[u32], names: &[String]) -> Summary {
  let n = g.node_count();
  let mut groups: Vec<Group> = names
    .iter()
    .map(|name| Group {
      name: name.clone(),
      count: 0,
      self_size: 0,
      retained_size: 0,
    })
    .collect();
  let mut total = 0u64;
  for node in 0..n {
    total += g.node_self[node] as u64;
    if node == ROOT {
      continue;
    }
    let gr = &mut groups[class_of[node] as usize];
    gr.count += 1;
    gr.self_size += g.node_self[node] as u64;
  }

  // Dominator-tree children as CSR, then a DFS that counts, per class, how
  // many members are on the current path: a member adds its retained size
  // only when none of its dominators is in its group.
  let mut child_start = vec![0u32; n + 1];
  for node in 0..n {
    if node != ROOT {
      child_start[doms.idom[node] as usize + 1] += 1;
    }
  }
  for i in 0..n {
    child_start[i + 1] += child_start[i];
  }
  let mut children = vec![0u32; n.saturating_sub(1)];
  {
    let mut fill = child_start.clone();
    for node in 0..n {
      if node != ROOT {
        let d = doms.idom[node] as usize;
        children[fill[d] as usize] = node as u32;
        fill[d] += 1;
      }
    }
  }
  let mut on_path = vec![0u32; names.len()];
  // (node, next child index); the node's class is counted while it is on the stack.
  let mut stack: Vec<(u32, u32)> = vec![(ROOT as u32, child_start[ROOT])];
  while let Some(top) = stack.last_mut() {
    let (node, next) = *top;
    if next < child_start[node as usize + 1] {
      top.1 += 1;
      let c = children[next as usize] as usize;
      let class = class_of[c] as usize;
      if on_path[class] == 0 {
        groups[class].retained_size += doms.retained[c];
      }
      on_path[class] += 1;
      stack.push((c as u32, child_start[c]));
    } else {
      stack.pop();
      if node as usize != ROOT {
        on_path[class_of[node as usize] as usize] -= 1;
      }
    }
  }

  groups.retain(|gr| gr.count > 0);
  groups.sort_by(|a, b| {
    b.retained_size
      .cmp(&a.retained_size)
      .then_with(|| a.name.cmp(&b.name))
  });
  Summary {
    node_count: n as u64,
    edge_count: g.edge_count() as u64,
    total_size: total,
    ids: Vec::new(),
    groups,
  }
}

impl Summary {
  /// Records the snapshot's node ids, for `has_id`.
  pub fn with_ids(mut self, g: &HeapGraph) -> Summary {
    let mut ids = g.node_id.clone();
    ids.sort_unstable();
    ids.dedup();
    self.ids = ids;
    self
  }

  /// Was a node with this id in this snapshot?
  pub fn has_id(&self, id: u64) -> bool {
    self.ids.binary_search(&id).is_ok()
  }
}
