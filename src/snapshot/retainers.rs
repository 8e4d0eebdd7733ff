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
//!    *deferred* nodes (see `locate::deferred_nodes`) are reached but not
//!    followed: the module contexts of Node's own scripts (its timer list,
//!    its module cache) and the harness's closures, contexts and objects
//!    (leakguard's own, or a test runner's);
//! 2. then onwards from Node's contexts, for what only they hold (a timer);
//! 3. then onwards from the harness, for what only it holds;
//! 4. then from V8's internal subroots (`(Stack roots)`, `(Handle scope)`,
//!    `(Global handles)`, `(Builtins)`, ...), for the nodes phases 1–3 did
//!    not reach.
//!
//! Each node keeps the path of the first phase that reached it: the shortest
//! path through the program's own variables when there is one, then through
//! Node's, then through the harness, else from any root.

use std::collections::VecDeque;

use serde::Serialize;

use super::dominators::ROOT;
use super::graph::{EdgeKind, HeapGraph, NodeKind};
use super::locate::{Hop, Scope, StepInfo};

const NONE: u32 = u32::MAX;

pub struct Bfs {
  /// The edge through which each node was first reached (`NONE` for the
  /// root and for unreachable nodes).
  pub via_edge: Vec<u32>,
  /// Hops from the synthetic root along the chosen path.
  pub depth: Vec<u32>,
  /// Source node of `via_edge`.
  pub from: Vec<u32>,
  /// The phase that reached each node: `PHASE_USER`, `PHASE_NODE` (only
  /// through Node's module contexts), `PHASE_HARNESS` (only through the
  /// harness), `PHASE_INTERNAL` (only through V8's internal subroots).
  pub phase: Vec<u8>,
}

pub const PHASE_USER: u8 = 0;
pub const PHASE_NODE: u8 = 1;
pub const PHASE_HARNESS: u8 = 2;
pub const PHASE_INTERNAL: u8 = 3;

impl Bfs {
  pub fn reachable(&self, node: usize) -> bool {
    self.depth[node] != NONE
  }

  /// Reached from a user root without passing through the harness.
  pub fn from_user_root(&self, node: usize) -> bool {
    self.phase[node] == PHASE_USER
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
  /// Per node, the first phase that follows it (empty: all in phase 1).
  held: &'a [u8],
  /// Nodes reached before their phase, by phase.
  deferred: [Vec<u32>; 4],
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

  /// Breadth-first over the queue; every node reached is marked `phase`.
  /// Nodes deferred to a later phase are set aside instead of followed.
  fn drain(&mut self, phase: u8) {
    while let Some(v) = self.queue.pop_front() {
      let v = v as usize;
      self.bfs.phase[v] = phase;
      let later = self.held.get(v).copied().unwrap_or(0);
      if later > phase {
        self.deferred[later as usize].push(v as u32);
        continue;
      }
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

/// Shortest retainer paths by phases (see the module doc). `held` gives
/// each node the phase from which it is followed (`PHASE_NODE`,
/// `PHASE_HARNESS`; empty: every node in phase 1).
pub fn bfs(g: &HeapGraph, held: &[u8]) -> Bfs {
  let n = g.node_count();
  let mut s = Search {
    g,
    bfs: Bfs {
      via_edge: vec![NONE; n],
      depth: vec![NONE; n],
      from: vec![NONE; n],
      phase: vec![PHASE_INTERNAL; n],
    },
    queue: VecDeque::new(),
    held,
    deferred: Default::default(),
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
  s.drain(PHASE_USER);
  // Phases 2 and 3: onwards from Node's contexts, then from the harness, for
  // what only they hold. The deferred nodes keep the mark of the phase that
  // reached them; what they lead to is marked with the phase that follows
  // them.
  for phase in [PHASE_NODE, PHASE_HARNESS] {
    let deferred = std::mem::take(&mut s.deferred[phase as usize]);
    for &v in &deferred {
      let v = v as usize;
      for e in g.edges(v) {
        match g.edge_kind(e) {
          EdgeKind::Weak => continue,
          EdgeKind::Shortcut if v != ROOT => continue,
          _ => {}
        }
        s.reach(v, e, true);
      }
    }
    s.drain(phase);
  }
  // Phase 3: V8's internal subroots, for what the program's roots do not
  // reach (objects only on the stack, in handles, in V8's caches).
  if let Some(gc) = gc {
    for e in internal {
      s.reach(gc, e, true);
    }
  }
  s.drain(PHASE_INTERNAL);
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
  /// The edge names a variable: `module`, `closure` or `global`.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub variable: Option<Scope>,
  /// The script the snapshot ties this step to, as it names it (a path, a
  /// `file:` URL, `node:internal/...`): a variable's, a function's, or an
  /// object's constructor's.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub script: Option<String>,
  /// 1-based: where the variable is declared, the function or the
  /// constructor defined.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub line: Option<u32>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub column: Option<u32>,
  /// The node belongs to the harness (only when no other path exists).
  #[serde(skip_serializing_if = "std::ops::Not::not")]
  pub harness: bool,
}

/// The hops from the first node below the synthetic root down to `target`,
/// or `None` when the root cannot reach it.
pub fn hops_to(bfs: &Bfs, target: usize) -> Option<Vec<Hop>> {
  if !bfs.reachable(target) {
    return None;
  }
  let mut hops = Vec::new();
  let mut v = target;
  while v != ROOT {
    let parent = bfs.from[v] as usize;
    let edge = (parent != ROOT).then_some(bfs.via_edge[v] as usize);
    hops.push((edge, v));
    v = parent;
  }
  hops.reverse();
  Some(hops)
}

/// The steps of a path, with what `Locator::annotate` found (or nothing).
pub fn steps(g: &HeapGraph, hops: &[Hop], info: &[StepInfo]) -> Vec<RetainerStep> {
  hops
    .iter()
    .enumerate()
    .map(|(k, &(edge, v))| {
      let i = info.get(k).cloned().unwrap_or_default();
      RetainerStep {
        edge: edge.map(|e| g.edge_label(e)).unwrap_or_default(),
        edge_type: edge
          .map(|e| g.edge_type_names[g.edge_type[e] as usize].clone())
          .unwrap_or_default(),
        node: g.node_label(v),
        node_type: g.type_name(v).to_string(),
        id: g.node_id.get(v).copied().unwrap_or(0),
        variable: i.variable,
        script: i.script,
        line: i.line,
        column: i.column,
        harness: i.harness,
      }
    })
    .collect()
}

/// The path from the first node below the synthetic root down to `target`,
/// or `None` when the root cannot reach it (without annotations).
pub fn path_to(g: &HeapGraph, bfs: &Bfs, target: usize) -> Option<Vec<RetainerStep>> {
  hops_to(bfs, target).map(|h| steps(g, &h, &[]))
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
