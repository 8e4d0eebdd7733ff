//! Shortest retainer paths, preferring the program's own roots. A plain
//! breadth-first search from the synthetic root names `(GC roots) → (Stack
//! roots) → …` or `(Handle scope)` for many objects: V8's internal subroots
//! are often closer to the root than the program's own references, and say
//! nothing to a user. So the search runs in two phases over the edges that
//! keep objects alive (no weak edges; shortcut edges only from the root, where
//! they lead to the global objects):
//!
//! 1. from the *user roots*: the root's edges other than `(GC roots)` (the
//!    global object, Node's `Node / Environment` with its realms and module
//!    records) and any `(GC roots)` subroot that is not one of V8's own;
//! 2. then from V8's internal subroots (`(Stack roots)`, `(Handle scope)`,
//!    `(Global handles)`, `(Builtins)`, ...), for the nodes phase 1 did not
//!    reach.
//!
//! Each node keeps the path of the first phase that reached it: the shortest
//! path from a user root when there is one, else the shortest from any root.

use std::collections::VecDeque;

use serde::Serialize;

use super::dominators::ROOT;
use super::graph::{EdgeKind, HeapGraph, NodeKind};

const NONE: u32 = u32::MAX;

pub struct Bfs {
  /// The edge through which each node was first reached (`NONE` for the
  /// root and for unreachable nodes).
  pub via_edge: Vec<u32>,
  /// Hops from the synthetic root along the chosen path.
  pub depth: Vec<u32>,
  /// Source node of `via_edge`.
  pub from: Vec<u32>,
  /// Reached from a user root (phase 1), not only through V8's internal
  /// subroots.
  pub from_user_root: Vec<bool>,
}

impl Bfs {
  pub fn reachable(&self, node: usize) -> bool {
    self.depth[node] != NONE
  }
}

/// Is this child of `(GC roots)` one of V8's internal root categories? V8
/// names all of them in parentheses (`(Stack roots)`, `(Handle scope)`,
/// `(Global handles)`, `(Internalized strings)`, ...), and the set changes
/// between V8 versions, so the rule is the naming, not a list.
fn is_internal_subroot(g: &HeapGraph, node: usize) -> bool {
  g.kind(node) == NodeKind::Synthetic && {
    let name = g.name(node);
    name.starts_with('(') && name.ends_with(')')
  }
}

/// The `(GC roots)` node among the root's children, if any.
fn gc_roots(g: &HeapGraph) -> Option<usize> {
  g.edges(ROOT)
    .map(|e| g.edge_to[e] as usize)
    .find(|&to| to != ROOT && g.kind(to) == NodeKind::Synthetic && g.name(to) == "(GC roots)")
}

struct Search<'a> {
  g: &'a HeapGraph,
  bfs: Bfs,
  queue: VecDeque<u32>,
}

impl Search<'_> {
  /// Reaches `to` from `v` through edge `e` if nothing reached it before;
  /// `expand` queues it for its own edges.
  fn reach(&mut self, v: usize, e: usize, expand: bool) -> bool {
    let to = self.g.edge_to[e] as usize;
    if self.bfs.depth[to] != NONE {
      return false;
    }
    self.bfs.depth[to] = self.bfs.depth[v] + 1;
    self.bfs.via_edge[to] = e as u32;
    self.bfs.from[to] = v as u32;
    if expand {
      self.queue.push_back(to as u32);
    }
    true
  }

  /// Breadth-first over the queue; every node reached is marked `user`.
  fn drain(&mut self, user: bool) {
    while let Some(v) = self.queue.pop_front() {
      let v = v as usize;
      self.bfs.from_user_root[v] = user;
      for e in self.g.edges(v) {
        match self.g.edge_kind(e) {
          EdgeKind::Weak => continue,
          EdgeKind::Shortcut if v != ROOT => continue,
          _ => {}
        }
        self.reach(v, e, true);
      }
    }
  }
}

pub fn bfs(g: &HeapGraph) -> Bfs {
  let n = g.node_count();
  let mut s = Search {
    g,
    bfs: Bfs {
      via_edge: vec![NONE; n],
      depth: vec![NONE; n],
      from: vec![NONE; n],
      from_user_root: vec![false; n],
    },
    queue: VecDeque::new(),
  };
  if n == 0 {
    return s.bfs;
  }
  s.bfs.depth[ROOT] = 0;
  let gc = gc_roots(g);
  // Phase 1 seeds: the root's other children (depth 1), then the user
  // subroots of `(GC roots)` (depth 2), so the queue stays ordered by depth.
  // `(GC roots)` itself is reached (a user subroot's path goes through it)
  // but not expanded here.
  for e in g.edges(ROOT) {
    let to = g.edge_to[e] as usize;
    if g.edge_kind(e) != EdgeKind::Weak && Some(to) != gc {
      s.reach(ROOT, e, true);
    }
  }
  let mut internal: Vec<usize> = Vec::new();
  if let Some(gc) = gc {
    if let Some(e) = g.edges(ROOT).find(|&e| g.edge_to[e] as usize == gc) {
      s.reach(ROOT, e, false);
    }
    for e in g.edges(gc) {
      if g.edge_kind(e) == EdgeKind::Weak {
        continue;
      }
      if is_internal_subroot(g, g.edge_to[e] as usize) {
        internal.push(e);
      } else {
        s.reach(gc, e, true);
      }
    }
  }
  s.drain(true);
  // Phase 2: V8's internal subroots, for what the program's roots do not
  // reach (objects only on the stack, in handles, in V8's caches).
  if let Some(gc) = gc {
    for e in internal {
      s.reach(gc, e, true);
    }
  }
  s.drain(false);
  s.bfs
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
  if !bfs.reachable(target) {
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

/// `global → leaks (Array) → elements (array) → [41] (Order)`: the first
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
