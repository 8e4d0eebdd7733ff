//! Dominator tree and retained sizes (Lengauer–Tarjan, iterative, flat u32
//! arrays) over the *essential* edges, with the rule Chrome DevTools and
//! memlab share: weak edges never retain; shortcut edges retain only from
//! the synthetic root; an edge from an object the program does not own (not
//! reachable from the root's non-shortcut edges) into one it owns does not
//! count, so a debugger's references do not change program objects'
//! dominators. Nodes the root cannot reach are attached under the root, as
//! memlab does (DFS from nodes that only weak edges reach, the rest alone).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::errors::LeakguardError;

use super::graph::{EdgeKind, HeapGraph};
use super::parse::aborted;

pub const ROOT: usize = 0;

pub struct Dominators {
  /// Immediate dominator ordinal per node (the root dominates itself).
  pub idom: Vec<u32>,
  /// Self size plus everything the node dominates, in bytes.
  pub retained: Vec<u64>,
}

/// Nodes reachable from the root through its non-shortcut edges and then any
/// non-weak edge: the program's own objects.
fn owned_by_program(g: &HeapGraph) -> Vec<bool> {
  let n = g.node_count();
  let mut flag = vec![false; n];
  let mut stack: Vec<u32> = Vec::new();
  for e in g.edges(ROOT) {
    if g.edge_kind(e) == EdgeKind::Shortcut {
      continue;
    }
    let to = g.edge_to[e] as usize;
    if !flag[to] {
      flag[to] = true;
      stack.push(to as u32);
    }
  }
  while let Some(v) = stack.pop() {
    for e in g.edges(v as usize) {
      if g.edge_kind(e) == EdgeKind::Weak {
        continue;
      }
      let to = g.edge_to[e] as usize;
      if !flag[to] {
        flag[to] = true;
        stack.push(to as u32);
      }
    }
  }
  flag
}

#[inline]
fn essential(g: &HeapGraph, owned: &[bool], from: usize, e: usize) -> bool {
  let to = g.edge_to[e] as usize;
  if from == to {
    return false;
  }
  match g.edge_kind(e) {
    EdgeKind::Weak => return false,
    EdgeKind::Shortcut if from != ROOT => return false,
    _ => {}
  }
  !(from != ROOT && owned[to] && !owned[from])
}

pub fn compute(g: &HeapGraph, cancel: &AtomicBool) -> Result<Dominators, LeakguardError> {
  let n = g.node_count();
  let owned = owned_by_program(g);

  // Predecessors over essential edges, as CSR.
  let mut pred_start = vec![0u32; n + 1];
  for from in 0..n {
    for e in g.edges(from) {
      if essential(g, &owned, from, e) {
        pred_start[g.edge_to[e] as usize + 1] += 1;
      }
    }
  }
  for i in 0..n {
    pred_start[i + 1] += pred_start[i];
  }
  let mut preds = vec![0u32; pred_start[n] as usize];
  {
    let mut fill = pred_start.clone();
    for from in 0..n {
      for e in g.edges(from) {
        if essential(g, &owned, from, e) {
          let to = g.edge_to[e] as usize;
          preds[fill[to] as usize] = from as u32;
          fill[to] += 1;
        }
      }
    }
  }
  if cancel.load(Ordering::Relaxed) {
    return Err(aborted());
  }

  // Vertices are ordinal + 1 so that 0 can mean "none".
  let len = n + 1;
  let mut parent = vec![0u32; len];
  let mut semi = vec![0u32; len];
  let mut vertex = vec![0u32; len];
  let mut label = vec![0u32; len];
  let mut cursor = vec![0u32; len];
  let mut count: u32 = 0;

  let mut dfs = |start: u32,
                 parent: &mut Vec<u32>,
                 semi: &mut Vec<u32>,
                 vertex: &mut Vec<u32>,
                 label: &mut Vec<u32>,
                 count: &mut u32| {
    let mut v = start;
    cursor[start as usize] = g.first_edge[start as usize - 1];
    while v != 0 {
      if semi[v as usize] == 0 {
        *count += 1;
        semi[v as usize] = *count;
        vertex[*count as usize] = v;
        label[v as usize] = v;
      }
      let mut next = parent[v as usize];
      let from = v as usize - 1;
      let end = g.first_edge[from + 1];
      while cursor[v as usize] < end {
        let e = cursor[v as usize] as usize;
        cursor[v as usize] += 1;
        if !essential(g, &owned, from, e) {
          continue;
        }
        let w = g.edge_to[e] + 1;
        if semi[w as usize] == 0 {
          parent[w as usize] = v;
          cursor[w as usize] = g.first_edge[w as usize - 1];
          next = w;
          break;
        }
      }
      v = next;
    }
  };
  let r = (ROOT + 1) as u32;
  dfs(
    r,
    &mut parent,
    &mut semi,
    &mut vertex,
    &mut label,
    &mut count,
  );
  if (count as usize) < n {
    // Objects only weak (or shortcut) edges reach: each starts a subtree
    // under the root.
    let mut strong_referrer = vec![false; n];
    for from in 0..n {
      for e in g.edges(from) {
        if !matches!(g.edge_kind(e), EdgeKind::Weak | EdgeKind::Shortcut) {
          strong_referrer[g.edge_to[e] as usize] = true;
        }
      }
    }
    for v in 1..=n as u32 {
      if semi[v as usize] == 0 && !strong_referrer[v as usize - 1] {
        parent[v as usize] = r;
        dfs(
          v,
          &mut parent,
          &mut semi,
          &mut vertex,
          &mut label,
          &mut count,
        );
      }
    }
    // What is left is retained only by itself (cycles): attach under the root.
    for v in 1..=n as u32 {
      if semi[v as usize] == 0 {
        parent[v as usize] = r;
        count += 1;
        semi[v as usize] = count;
        vertex[count as usize] = v;
        label[v as usize] = v;
      }
    }
  }
  drop(owned);
  drop(cursor);
  if cancel.load(Ordering::Relaxed) {
    return Err(aborted());
  }

  let mut ancestor = vec![0u32; len];
  let mut dom = vec![0u32; len];
  let mut bucket_head = vec![0u32; len];
  let mut bucket_next = vec![0u32; len];
  let mut stack: Vec<u32> = Vec::new();

  // eval() with iterative path compression.
  let eval =
    |v: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], stack: &mut Vec<u32>| -> u32 {
      if ancestor[v as usize] == 0 {
        return v;
      }
      let mut x = v;
      while ancestor[ancestor[x as usize] as usize] != 0 {
        stack.push(x);
        x = ancestor[x as usize];
      }
      while let Some(w) = stack.pop() {
        let a = ancestor[w as usize] as usize;
        if semi[label[a] as usize] < semi[label[w as usize] as usize] {
          label[w as usize] = label[a];
        }
        ancestor[w as usize] = ancestor[a];
      }
      label[v as usize]
    };

  for i in (2..=count).rev() {
    if i & 0xFFFF == 0 && cancel.load(Ordering::Relaxed) {
      return Err(aborted());
    }
    let w = vertex[i as usize];
    let wo = w as usize - 1;
    let mut orphan = true;
    for p in pred_start[wo]..pred_start[wo + 1] {
      orphan = false;
      let v = preds[p as usize] + 1;
      let u = eval(v, &mut ancestor, &mut label, &semi, &mut stack);
      if semi[u as usize] < semi[w as usize] {
        semi[w as usize] = semi[u as usize];
      }
    }
    if orphan {
      semi[w as usize] = semi[r as usize];
    }
    let sd = vertex[semi[w as usize] as usize];
    bucket_next[w as usize] = bucket_head[sd as usize];
    bucket_head[sd as usize] = w;
    let pw = parent[w as usize];
    ancestor[w as usize] = pw;
    let mut v = bucket_head[pw as usize];
    bucket_head[pw as usize] = 0;
    while v != 0 {
      let next = bucket_next[v as usize];
      let u = eval(v, &mut ancestor, &mut label, &semi, &mut stack);
      dom[v as usize] = if semi[u as usize] < semi[v as usize] {
        u
      } else {
        pw
      };
      v = next;
    }
  }
  drop(bucket_head);
  drop(bucket_next);
  drop(ancestor);
  drop(preds);
  drop(pred_start);
  dom[r as usize] = r;
  for i in 2..=count {
    let w = vertex[i as usize] as usize;
    if dom[w] != vertex[semi[w] as usize] {
      dom[w] = dom[dom[w] as usize];
    }
  }

  let mut idom = vec![0u32; n];
  let mut retained: Vec<u64> = g.node_self.iter().map(|&s| s as u64).collect();
  for (o, d) in idom.iter_mut().enumerate() {
    *d = dom[o + 1].saturating_sub(1);
  }
  // Reverse DFS order: every node is added to its dominator (a DFS
  // ancestor, so numbered earlier) before the dominator is added upward.
  for i in (2..=count).rev() {
    let o = vertex[i as usize] as usize - 1;
    let d = idom[o] as usize;
    retained[d] += retained[o];
  }
  Ok(Dominators { idom, retained })
}
