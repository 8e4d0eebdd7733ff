//! Shortest retainer paths: one breadth-first search from the synthetic root
//! over the edges that keep objects alive (no weak edges; shortcut edges only
//! from the root, where they lead to the global objects).

use serde::Serialize;

use super::dominators::ROOT;
use super::graph::{EdgeKind, HeapGraph};

const NONE: u32 = u32::MAX;

pub struct Bfs {
  /// The edge through which each node was first reached (`NONE` for the
  /// root and for unreachable nodes).
  pub via_edge: Vec<u32>,
  pub depth: Vec<u32>,
  /// Source node of `via_edge`.
  pub from: Vec<u32>,
}

pub fn bfs(g: &HeapGraph) -> Bfs {
  let n = g.node_count();
  let mut via_edge = vec![NONE; n];
  let mut from = vec![NONE; n];
  let mut depth = vec![NONE; n];
  let mut queue: std::collections::VecDeque<u32> = std::collections::VecDeque::new();
  depth[ROOT] = 0;
  queue.push_back(ROOT as u32);
  while let Some(v) = queue.pop_front() {
    let v = v as usize;
    for e in g.edges(v) {
      match g.edge_kind(e) {
        EdgeKind::Weak => continue,
        EdgeKind::Shortcut if v != ROOT => continue,
        _ => {}
      }
      let to = g.edge_to[e] as usize;
      if depth[to] == NONE {
        depth[to] = depth[v] + 1;
        via_edge[to] = e as u32;
        from[to] = v as u32;
        queue.push_back(to as u32);
      }
    }
  }
  Bfs {
    via_edge,
    depth,
    from,
  }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RetainerStep {
  /// The edge from the previous step's node (`[3]` for an index); empty on
  /// the first step.
  pub edge: String,
  /// `property`, `element`, `context`, `internal`, `hidden`, `shortcut`.
  pub edge_type: String,
  /// The node's class, or for synthetic/hidden nodes their name
  /// (`(GC roots)`, `system / Context`), for closures `name()`.
  pub node: String,
  /// V8's node type: `object`, `array`, `closure`, `hidden`, ...
  pub node_type: String,
  /// The node's `@id`, as DevTools shows it.
  pub id: u64,
}

/// The path from the first node below the synthetic root down to `target`,
/// or `None` when the root cannot reach it.
pub fn path_to(g: &HeapGraph, bfs: &Bfs, target: usize) -> Option<Vec<RetainerStep>> {
  if bfs.depth[target] == NONE {
    return None;
  }
  let mut steps = Vec::new();
  let mut v = target;
  while v != ROOT {
    let e = bfs.via_edge[v] as usize;
    let parent = bfs.from[v] as usize;
    let edge = if parent == ROOT {
      String::new()
    } else {
      g.edge_label(e)
    };
    let edge_type = if parent == ROOT {
      String::new()
    } else {
      g.edge_type_names[g.edge_type[e] as usize].clone()
    };
    let node = g.node_label(v);
    steps.push(RetainerStep {
      edge,
      edge_type,
      node,
      node_type: g.type_name(v).to_string(),
      id: g.node_id.get(v).copied().unwrap_or(0),
    });
    v = parent;
  }
  steps.reverse();
  Some(steps)
}

/// `(GC roots) → [7] (Stack roots) → leaks (Array) → [41] (Order)`: the first
/// node, then each hop as `edge (node)`.
pub fn path_text(steps: &[RetainerStep]) -> String {
  let mut out = String::new();
  for (i, s) in steps.iter().enumerate() {
    if i == 0 {
      out.push_str(&s.node);
    } else {
      out.push_str(" → ");
      out.push_str(&s.edge);
      // `(Stack roots)` and `(array)` are already parenthesized.
      if s.node.starts_with('(') {
        out.push(' ');
        out.push_str(&s.node);
      } else {
        out.push_str(" (");
        out.push_str(&s.node);
        out.push(')');
      }
    }
  }
  out
}
