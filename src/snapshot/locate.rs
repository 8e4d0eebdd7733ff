//! Locate: a retainer path as the program sees it. A raw path starts deep in
//! Node's internals (`Node / Environment → principal_realm → cleanup_queue →
//! … → exports (handle()) → context → inFlight (Map) → table → [1160]`); what
//! the user needs is the variable that holds what grows, its file and line:
//! `… 8 internal hops … → handler.js:4 inFlight (Map) → table[1160] (Entry)`.
//!
//! The snapshot has what it takes:
//! - a closure's script: `closure → shared → script_or_debug_info`, a `code`
//!   node named by the script's file name, whose `source` edge holds its
//!   source (V8 cuts strings at 1024 characters; a longer source is read
//!   from the file named, and used only if it starts with what the snapshot
//!   holds, so a file changed since the snapshot is never misread);
//! - a context's variables: its `context` edges, named; its scope: a module's
//!   context follows the native context (`previous`), a function's another
//!   context; its script: the closures whose `context` it is;
//! - the `locations` table: a closure's position, an object's constructor's;
//! - where a variable is declared: from its script's source (`source.rs`).
//!
//! The *harness* (leakguard's own `lib/`, or any directory the caller names)
//! is code that runs the user's jobs: a path through its closures and
//! objects (the immediate that writes the snapshot, a scope's records) is
//! true but not the leak, so the search follows them last.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use super::dominators::ROOT;
use super::graph::{EdgeKind, HeapGraph, NodeKind};
use super::retainers::{PHASE_HARNESS, PHASE_NODE};
use super::source;

/// A source longer than this many characters is cut in the snapshot.
const SNAPSHOT_STRING_LIMIT: usize = 1024;
/// Larger files are not read to find a declaration.
const MAX_SOURCE_BYTES: u64 = 8 << 20;

/// String indexes of the edge names followed here (V8 interns strings, so
/// an edge's name index equals these when the name is equal).
struct Names {
  shared: Option<u32>,
  script: Option<u32>,
  context: Option<u32>,
  previous: Option<u32>,
  source: Option<u32>,
  extension: Option<u32>,
}

impl Names {
  fn of(g: &HeapGraph) -> Names {
    Names {
      shared: g.strings.find("shared"),
      script: g.strings.find("script_or_debug_info"),
      context: g.strings.find("context"),
      previous: g.strings.find("previous"),
      source: g.strings.find("source"),
      extension: g.strings.find("extension"),
    }
  }
}

fn follow(g: &HeapGraph, node: usize, name: Option<u32>) -> Option<usize> {
  g.edge_named(node, name?)
}

/// A file path for a script name: an absolute path as is, a `file:` URL
/// decoded; `None` for Node's own (`node:internal/...`) and eval'd code.
pub fn script_path(name: &str) -> Option<PathBuf> {
  if let Some(rest) = name.strip_prefix("file://") {
    return Some(PathBuf::from(percent_decode(rest)));
  }
  let windows =
    name.len() > 2 && name.as_bytes()[1] == b':' && matches!(name.as_bytes()[2], b'\\' | b'/');
  if name.starts_with('/') || windows {
    return Some(PathBuf::from(name));
  }
  None
}

fn percent_decode(s: &str) -> String {
  let b = s.as_bytes();
  let mut out = Vec::with_capacity(b.len());
  let mut i = 0;
  while i < b.len() {
    if b[i] == b'%' && i + 2 < b.len() {
      let hex = |c: u8| (c as char).to_digit(16);
      if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
        out.push((h * 16 + l) as u8);
        i += 3;
        continue;
      }
    }
    out.push(b[i]);
    i += 1;
  }
  String::from_utf8_lossy(&out).into_owned()
}

/// How a script name is shown: a `file:` URL as its path.
pub fn script_display(name: &str) -> String {
  if name.starts_with("file://") {
    if let Some(p) = script_path(name) {
      return p.to_string_lossy().into_owned();
    }
  }
  name.to_string()
}

/// Does a script name lie under one of the harness directories?
fn under(name: &str, prefixes: &[String]) -> bool {
  if prefixes.is_empty() {
    return false;
  }
  let Some(p) = script_path(name) else {
    return false;
  };
  let p = p.to_string_lossy();
  prefixes.iter().any(|d| p.starts_with(d.as_str()))
}

/// The program's own code: a file (not Node's `node:` modules, not eval'd
/// code) outside the harness.
fn is_user_script(name: &str, harness: &[String]) -> bool {
  script_path(name).is_some() && !under(name, harness)
}

/// A closure's script node (a `code` node named by the file).
fn closure_script(g: &HeapGraph, names: &Names, closure: usize) -> Option<usize> {
  let sfi = follow(g, closure, names.shared)?;
  let script = follow(g, sfi, names.script)?;
  (g.kind(script) == NodeKind::Code && g.strings.byte_len(g.node_name[script]) > 0)
    .then_some(script)
}

/// Per node, the retainer search's phase that follows it (see
/// `retainers::bfs`): `PHASE_NODE` for the contexts of Node's own scripts
/// (`node:…`: its timer list, its module cache are true retainers, but a
/// path through the program's own variables says more), `PHASE_HARNESS`
/// for closures defined in scripts under `harness`, their contexts, and
/// objects whose constructor is defined there; 0 for the rest.
pub fn deferred_nodes(g: &HeapGraph, harness: &[String]) -> Vec<u8> {
  let names = Names::of(g);
  let n = g.node_count();
  let mut held = vec![0u8; n];
  // Per script node: Node's own, the harness's, or neither.
  let mut verdict: HashMap<usize, u8> = HashMap::new();
  for node in 0..n {
    if g.kind(node) != NodeKind::Closure {
      continue;
    }
    let Some(script) = closure_script(g, &names, node) else {
      continue;
    };
    let level = *verdict.entry(script).or_insert_with(|| {
      let name = g.name(script);
      if name.starts_with("node:") {
        PHASE_NODE
      } else if under(&name, harness) {
        PHASE_HARNESS
      } else {
        0
      }
    });
    if level == PHASE_HARNESS {
      held[node] = PHASE_HARNESS;
    }
    if level > 0 {
      if let Some(ctx) = follow(g, node, names.context) {
        held[ctx] = held[ctx].max(level);
      }
    }
  }
  // Script ids of the harness's scripts, from its closures' locations; then
  // the objects whose constructor is one of them.
  let mut ids: Vec<u32> = g
    .locations
    .iter()
    .filter(|l| {
      held[l.node as usize] == PHASE_HARNESS && g.kind(l.node as usize) == NodeKind::Closure
    })
    .map(|l| l.script_id)
    .collect();
  ids.sort_unstable();
  ids.dedup();
  if !ids.is_empty() {
    for l in &g.locations {
      let v = l.node as usize;
      if g.kind(v) == NodeKind::Object && ids.binary_search(&l.script_id).is_ok() {
        held[v] = PHASE_HARNESS;
      }
    }
  }
  held
}

/// One hop of a path: the edge from the previous node (`None` for the
/// first node, reached from the synthetic root), and the node.
pub type Hop = (Option<usize>, usize);

/// A variable's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Scope {
  /// A module's top-level variable (CommonJS or ESM), or a script's.
  Module,
  /// A variable of a function, captured by a closure.
  Closure,
  /// A property of the global object.
  Global,
}

impl Scope {
  fn words(self) -> &'static str {
    match self {
      Scope::Module => "a module-scope variable",
      Scope::Closure => "a closure variable",
      Scope::Global => "a global variable",
    }
  }
}

/// What the snapshot says about one node of a path, beyond its class.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepInfo {
  /// The edge into this node names a variable of this scope.
  pub variable: Option<Scope>,
  /// The script this step belongs to: a variable's, a closure's, or an
  /// object's constructor's (as the snapshot names it).
  pub script: Option<String>,
  /// 1-based line and column: where a variable is declared, a function
  /// defined, an object's constructor defined.
  pub line: Option<u32>,
  pub column: Option<u32>,
  /// The script is the program's own (a file outside the harness).
  pub user: bool,
  /// The node belongs to the harness.
  pub harness: bool,
}

/// A path step as the program view shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProgramStep {
  /// Index of this step in the suspect's `retainers`.
  pub step: u32,
  /// Internal hops folded just before this step (`… N internal hops …`).
  pub folded: u32,
  /// The edge as shown: a variable or property name, `[3]`, or internal
  /// hops merged into it (`table[1160]`).
  pub edge: String,
  /// The node's class (closures: `name()` or `Function`).
  pub node: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub variable: Option<Scope>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub script: Option<String>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub line: Option<u32>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub column: Option<u32>,
}

/// Where the user's code imports a package: file and 1-based line.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Site {
  pub script: String,
  pub line: u32,
  pub column: u32,
}

/// The variable that holds what grows.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Holder {
  /// The variable's name (`inFlight`).
  pub variable: String,
  /// The class of what it holds (`Map`).
  pub node: String,
  pub scope: Scope,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub script: Option<String>,
  /// Where it is declared (1-based), when the source says so.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub line: Option<u32>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub column: Option<u32>,
  /// Index of its step in the suspect's `retainers`.
  pub step: u32,
  /// The program's own variable (`false`: one of Node's, e.g. its timer
  /// list, when no variable of the program is on the path).
  pub user: bool,
  /// New instances of the suspect group held through it between the
  /// snapshots (estimated from a sample when there are many).
  pub count: u64,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub per_job: Option<f64>,
  /// When the script lies under `node_modules`: where the program's own
  /// code imports that package, if a script of the program says so.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub imported_at: Option<Site>,
  /// A closure's variable: the function on the path that captures it.
  #[serde(skip_serializing_if = "Option::is_none")]
  pub captured_by: Option<Site>,
}

/// Annotates paths: variables, scripts, declarations. Caches sources and
/// context owners across the suspects of one diff.
pub struct Locator<'g> {
  g: &'g HeapGraph,
  names: Names,
  harness: &'g [String],
  held: &'g [u8],
  shortcut_targets: Vec<usize>,
  /// script_id -> script node, from closures' locations (built on demand).
  script_ids: Option<HashMap<u32, usize>>,
  /// context -> a closure whose context it is (filled on demand).
  owners: HashMap<usize, Option<usize>>,
  /// script node -> its whole source, when known.
  sources: HashMap<usize, Option<String>>,
}

impl<'g> Locator<'g> {
  pub fn new(g: &'g HeapGraph, harness: &'g [String], held: &'g [u8]) -> Self {
    let shortcut_targets = if g.node_count() == 0 {
      Vec::new()
    } else {
      g.edges(ROOT)
        .filter(|&e| g.edge_kind(e) == EdgeKind::Shortcut)
        .map(|e| g.edge_to[e] as usize)
        .collect()
    };
    Locator {
      g,
      names: Names::of(g),
      harness,
      held,
      shortcut_targets,
      script_ids: None,
      owners: HashMap::new(),
      sources: HashMap::new(),
    }
  }

  fn is_harness(&self, node: usize) -> bool {
    self.held.get(node).copied() == Some(PHASE_HARNESS)
  }

  fn is_context(&self, node: usize) -> bool {
    let name = self.g.name(node);
    matches!(self.g.kind(node), NodeKind::Object | NodeKind::Hidden) && name == "system / Context"
  }

  /// Fills `owners` for the contexts among `nodes` with one pass over the
  /// closures.
  pub fn find_owners(&mut self, nodes: &[usize]) {
    let want: Vec<usize> = nodes
      .iter()
      .copied()
      .filter(|&c| self.is_context(c) && !self.owners.contains_key(&c))
      .collect();
    if want.is_empty() {
      return;
    }
    for &c in &want {
      self.owners.insert(c, None);
    }
    let Some(ctx_name) = self.names.context else {
      return;
    };
    for node in 0..self.g.node_count() {
      if self.g.kind(node) != NodeKind::Closure {
        continue;
      }
      if let Some(c) = self.g.edge_named(node, ctx_name) {
        if let Some(slot) = self.owners.get_mut(&c) {
          if slot.is_none() {
            *slot = Some(node);
          }
        }
      }
    }
  }

  /// A closure using this context, or one using a context nested in it.
  fn owner(&mut self, ctx: usize) -> Option<usize> {
    if let Some(&o) = self.owners.get(&ctx) {
      return o;
    }
    self.find_owners(&[ctx]);
    self.owners.get(&ctx).copied().flatten()
  }

  fn scope_of(&self, ctx: usize) -> Scope {
    let g = self.g;
    let outer = follow(g, ctx, self.names.previous);
    let module = follow(g, ctx, self.names.extension)
      .map(|x| g.name(x).contains("Module"))
      .unwrap_or(false);
    match outer {
      _ if module => Scope::Module,
      Some(p) if g.name(p) == "system / NativeContext" => Scope::Module,
      None => Scope::Module,
      _ => Scope::Closure,
    }
  }

  fn script_by_id(&mut self, id: u32) -> Option<usize> {
    if self.script_ids.is_none() {
      let mut map = HashMap::new();
      for l in &self.g.locations {
        let v = l.node as usize;
        if self.g.kind(v) != NodeKind::Closure || map.contains_key(&l.script_id) {
          continue;
        }
        if let Some(s) = closure_script(self.g, &self.names, v) {
          map.insert(l.script_id, s);
        }
      }
      self.script_ids = Some(map);
    }
    self.script_ids.as_ref()?.get(&id).copied()
  }

  fn script_name(&self, script: usize) -> String {
    self.g.name(script).into_owned()
  }

  /// A script's whole source: the snapshot's when it is not cut, else the
  /// file's if that starts with what the snapshot holds.
  fn source(&mut self, script: usize) -> Option<String> {
    if let Some(s) = self.sources.get(&script) {
      return s.clone();
    }
    let g = self.g;
    let held = follow(g, script, self.names.source)
      .filter(|&s| {
        matches!(
          g.kind(s),
          NodeKind::String | NodeKind::ConsString | NodeKind::SlicedString
        )
      })
      .map(|s| g.name(s));
    let found = match held {
      Some(text) if text.chars().count() < SNAPSHOT_STRING_LIMIT => Some(text.into_owned()),
      Some(prefix) => read_matching(&self.script_name(script), &prefix),
      None => None,
    };
    self.sources.insert(script, found.clone());
    found
  }

  /// Scripts of the program (files outside the harness and node_modules)
  /// whose closures the snapshot holds.
  fn user_scripts(&mut self) -> Vec<usize> {
    if self.script_ids.is_none() {
      let _ = self.script_by_id(u32::MAX);
    }
    let mut out: Vec<usize> = self
      .script_ids
      .as_ref()
      .map(|m| m.values().copied().collect())
      .unwrap_or_default();
    out.sort_unstable();
    out.dedup();
    out.retain(|&s| {
      let name = self.g.name(s);
      is_user_script(&name, self.harness) && package_dir(&name).is_none()
    });
    out
  }

  /// Where the program's own code imports the package at `dir` (a
  /// `…/node_modules/name` directory): the first `require('name…')` or
  /// `import … 'name…'` in a program script.
  fn import_site(&mut self, dir: &str) -> Option<Site> {
    let name = package_name_from_dir(dir)?;
    for script in self.user_scripts() {
      let Some(src) = self.source(script) else {
        continue;
      };
      if let Some((line, column)) = find_import(&src, &name) {
        return Some(Site {
          script: script_display(&self.script_name(script)),
          line: line + 1,
          column: column + 1,
        });
      }
    }
    None
  }

  /// The script a context belongs to, and a position inside its scope (a
  /// closure that uses it), found through the closure before it on the path
  /// when there is one.
  fn context_site(
    &mut self,
    ctx: usize,
    via: Option<usize>,
  ) -> Option<(usize, Option<(u32, u32)>)> {
    let g = self.g;
    let closure = via
      .filter(|&c| g.kind(c) == NodeKind::Closure && follow(g, c, self.names.context) == Some(ctx))
      .or_else(|| self.owner(ctx))?;
    let script = closure_script(g, &self.names, closure)?;
    let at = g.location(closure).map(|l| (l.line, l.column));
    Some((script, at))
  }

  /// Annotates each hop of a path.
  pub fn annotate(&mut self, hops: &[Hop]) -> Vec<StepInfo> {
    let g = self.g;
    let contexts: Vec<usize> = hops
      .iter()
      .map(|&(_, v)| v)
      .filter(|&v| self.is_context(v))
      .collect();
    self.find_owners(&contexts);
    let mut out = Vec::with_capacity(hops.len());
    for (k, &(edge, v)) in hops.iter().enumerate() {
      let mut info = StepInfo {
        harness: self.is_harness(v),
        ..StepInfo::default()
      };
      let parent = if k > 0 { Some(hops[k - 1].1) } else { None };
      let edge_name = edge
        .filter(|&e| g.edge_kind(e).name_is_string())
        .map(|e| g.strings.get(g.edge_name[e]));
      // A variable: a named slot of a context, or a property of the global object.
      if let (Some(e), Some(p), Some(name)) = (edge, parent, edge_name.as_deref()) {
        if g.edge_kind(e) == EdgeKind::Context && self.is_context(p) && !name.starts_with('.') {
          let scope = self.scope_of(p);
          info.variable = Some(scope);
          let before = if k >= 2 { Some(hops[k - 2].1) } else { None };
          if let Some((script, at)) = self.context_site(p, before) {
            let script_name = self.script_name(script);
            info.user = is_user_script(&script_name, self.harness) && !self.is_harness(p);
            if name != "this" {
              if let Some(src) = self.source(script) {
                if let Some(d) = source::declaration_of(&src, name, at, scope == Scope::Module) {
                  info.line = Some(d.line + 1);
                  info.column = Some(d.column + 1);
                }
              }
            }
            info.script = Some(script_name);
          }
        } else if g.edge_kind(e) == EdgeKind::Property && self.shortcut_targets.contains(&p) {
          info.variable = Some(Scope::Global);
          // Node's own globals (timers, process, ...) lead into Node's code.
          info.user = !self.is_node_owned(v);
        }
      }
      if info.script.is_none() {
        match g.kind(v) {
          NodeKind::Closure => {
            if let Some(script) = closure_script(g, &self.names, v) {
              let name = self.script_name(script);
              info.user =
                info.user || (is_user_script(&name, self.harness) && info.variable.is_none());
              info.script = Some(name);
              if let Some(l) = g.location(v) {
                info.line = Some(l.line + 1);
                info.column = Some(l.column + 1);
              }
            }
          }
          NodeKind::Object if info.variable.is_none() => {
            if let Some(l) = g.location(v) {
              if let Some(script) = self.script_by_id(l.script_id) {
                let name = self.script_name(script);
                info.user = is_user_script(&name, self.harness);
                info.script = Some(name);
                info.line = Some(l.line + 1);
                info.column = Some(l.column + 1);
              }
            }
          }
          _ => {}
        }
      }
      out.push(info);
    }
    out
  }

  /// A global that Node defines: a function of Node's own scripts, or an
  /// object whose constructor is one.
  fn is_node_owned(&mut self, v: usize) -> bool {
    let g = self.g;
    let script = match g.kind(v) {
      NodeKind::Closure => closure_script(g, &self.names, v),
      _ => g.location(v).and_then(|l| self.script_by_id(l.script_id)),
    };
    match script {
      Some(s) => script_path(&g.name(s)).is_none(),
      None => false,
    }
  }

  /// The program view of a path, and the variable that holds what grows.
  /// `collection` is the position on the path of the node under which most
  /// new instances of the group hang (see `diff_analyzed`); `count` how
  /// many, `per_job` their rate.
  pub fn program_view(
    &mut self,
    hops: &[Hop],
    info: &[StepInfo],
    collection: Option<usize>,
    count: u64,
    per_job: Option<f64>,
  ) -> (Vec<ProgramStep>, Option<Holder>) {
    let g = self.g;
    if hops.is_empty() {
      return (Vec::new(), None);
    }
    let user_var = |k: usize| info[k].variable.is_some() && info[k].user;
    let any_var = |k: usize| info[k].variable.is_some();
    let n = hops.len();
    // The holder: the program's variable nearest above the collection, else
    // the first one below it (a closure's variable that Node's timer list
    // holds), else the last variable of the program on the path, else the
    // last variable at all (one of Node's).
    let holder_at = match collection {
      Some(c) => (0..=c.min(n - 1))
        .rev()
        .find(|&k| user_var(k))
        .or_else(|| (c..n).find(|&k| user_var(k))),
      None => (0..n).rev().find(|&k| user_var(k)),
    }
    .or_else(|| (0..n).rev().find(|&k| any_var(k)));
    // Where the view starts: the program's first module-scope (or global)
    // variable; else its first variable, closure or object; else the holder.
    let first_module = (0..n).find(|&k| user_var(k) && info[k].variable != Some(Scope::Closure));
    let first_user = (0..n.saturating_sub(1)).find(|&k| info[k].user);
    // Else the objects at the end of the path, after V8's and Node's nodes
    // (roots, native wrappers, internal arrays): `(Stack roots) → [36]
    // (Array) → [146] (Job)` shows the array.
    let trailing = (1..n)
      .rev()
      .find(|&k| {
        let v = hops[k - 1].1;
        self.is_internal_node(v) || g.kind(v) == NodeKind::Native
      })
      .unwrap_or(0);
    let anchor = first_module
      .or(first_user)
      .or(holder_at)
      .unwrap_or(trailing);

    let mut steps: Vec<ProgramStep> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for k in anchor..n {
      let (edge, v) = hops[k];
      let mut label = edge.map(|e| g.edge_label(e)).unwrap_or_default();
      // V8 names the slots of a Map's table by number, as internal edges.
      if !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()) {
        label = format!("[{label}]");
      }
      let internal =
        k != anchor && k != n - 1 && info[k].variable.is_none() && self.is_internal_node(v);
      if internal {
        // Context hops are implied by the variable that follows.
        let ctx_hop =
          self.is_context(v) || edge.is_some_and(|e| g.edge_kind(e) == EdgeKind::Context);
        if !ctx_hop {
          pending.push(label);
        }
        continue;
      }
      let mut shown = String::new();
      for p in pending.drain(..) {
        if !shown.is_empty() && !p.starts_with('[') {
          shown.push('.');
        }
        shown.push_str(&p);
      }
      if !shown.is_empty() && !label.starts_with('[') && !label.is_empty() {
        shown.push('.');
      }
      shown.push_str(&label);
      // Sites for variables and functions; an object's constructor site is
      // in `retainers`, not in the view. A closure's variable without a
      // known line (`this`) goes without: the function before it has one.
      let i = &info[k];
      let sited = (i.variable.is_some()
        && !(i.variable == Some(Scope::Closure) && i.line.is_none()))
        || g.kind(v) == NodeKind::Closure;
      steps.push(ProgramStep {
        step: k as u32,
        folded: if k == anchor { anchor as u32 } else { 0 },
        edge: shown,
        node: g.node_label(v),
        variable: i.variable,
        script: i.script.as_deref().filter(|_| sited).map(script_display),
        line: i.line.filter(|_| sited),
        column: i.column.filter(|_| sited),
      });
    }
    let holder = holder_at.map(|k| {
      let (edge, v) = hops[k];
      let i = &info[k];
      let script = i.script.as_deref().map(script_display);
      let imported_at = script
        .as_deref()
        .and_then(package_dir)
        .and_then(|dir| self.import_site(&dir));
      // closure → context (→ previous …) → variable: the closure above the
      // contexts (a block's context leads to its function's).
      let mut j = k;
      while j > 0 && self.is_context(hops[j - 1].1) {
        j -= 1;
      }
      let captured_by = (i.variable == Some(Scope::Closure) && j > 0 && j < k)
        .then(|| &info[j - 1])
        .filter(|c| g.kind(hops[j - 1].1) == NodeKind::Closure && c.line.is_some())
        .and_then(|c| {
          Some(Site {
            script: script_display(c.script.as_deref()?),
            line: c.line?,
            column: c.column.unwrap_or(1),
          })
        });
      Holder {
        variable: edge.map(|e| g.edge_label(e)).unwrap_or_default(),
        node: g.node_label(v),
        scope: i.variable.unwrap_or(Scope::Module),
        script,
        line: i.line,
        column: i.column,
        step: k as u32,
        user: i.user,
        count,
        per_job,
        imported_at,
        captured_by,
      }
    });
    (steps, holder)
  }

  /// Nodes of V8's machinery: what it shows as `(array)`, `system / …`,
  /// code, shapes, and closures' contexts. Merged into the next step's edge
  /// (`table[1160]`) after the view's start.
  fn is_internal_node(&self, v: usize) -> bool {
    let g = self.g;
    match g.kind(v) {
      NodeKind::Hidden
      | NodeKind::Code
      | NodeKind::Synthetic
      | NodeKind::Array
      | NodeKind::ObjectShape => true,
      NodeKind::Object => g.name(v).starts_with("system / "),
      _ => false,
    }
  }
}

/// Reads `script`'s file when it starts with `prefix` (what the snapshot
/// holds of its source).
fn read_matching(script: &str, prefix: &str) -> Option<String> {
  let path = script_path(script)?;
  let meta = std::fs::metadata(&path).ok()?;
  if !meta.is_file() || meta.len() > MAX_SOURCE_BYTES {
    return None;
  }
  let text = std::fs::read_to_string(&path).ok()?;
  // V8 may hold a cut surrogate pair as U+FFFD: compare up to the last
  // character before it.
  let cut: String = prefix.chars().take_while(|&c| c != '\u{FFFD}').collect();
  text.starts_with(cut.as_str()).then_some(text)
}

/// The package directory (`…/node_modules/name` or `…/node_modules/@scope/name`)
/// a file lies in, from its last `node_modules` segment.
pub fn package_dir(file: &str) -> Option<String> {
  let norm = file.replace('\\', "/");
  let at = norm.rfind("/node_modules/")?;
  let rest = &norm[at + "/node_modules/".len()..];
  let mut parts = rest.split('/');
  let first = parts.next()?;
  let len = if first.starts_with('@') {
    let second = parts.next()?;
    first.len() + 1 + second.len()
  } else {
    first.len()
  };
  // A file directly in node_modules is no package's.
  parts.next()?;
  Some(file[..at + "/node_modules/".len() + len].to_string())
}

fn package_name_from_dir(dir: &str) -> Option<String> {
  let norm = dir.replace('\\', "/");
  let at = norm.rfind("/node_modules/")?;
  Some(norm[at + "/node_modules/".len()..].to_string())
}

/// The first `require('name')`, `require('name/…')`, `import … from 'name'`
/// or `import('name')` in `src`: 0-based line and column of the specifier's
/// quote.
pub fn find_import(src: &str, name: &str) -> Option<(u32, u32)> {
  let mut line = 0u32;
  let mut line_start = 0usize;
  let bytes = src.as_bytes();
  for (i, &b) in bytes.iter().enumerate() {
    if b == b'\n' {
      line += 1;
      line_start = i + 1;
      continue;
    }
    if b != b'\'' && b != b'"' {
      continue;
    }
    let rest = &src[i + 1..];
    let Some(after) = rest.strip_prefix(name) else {
      continue;
    };
    if !(after.starts_with(b as char) || after.starts_with('/')) {
      continue;
    }
    let before = src[line_start..i].trim_end();
    let trimmed = before.trim_start();
    if trimmed.starts_with("//") || trimmed.starts_with('*') || trimmed.starts_with("/*") {
      continue;
    }
    let call = before.ends_with("require(") || before.ends_with("import(");
    let from = before.ends_with("from") || before.trim_start().starts_with("import");
    if call || from {
      let column = src[line_start..i].chars().count() as u32;
      return Some((line, column));
    }
  }
  None
}

/// `file:line` of a step for text: the script as displayed, the line if known.
pub fn site_text(script: Option<&str>, line: Option<u32>) -> Option<String> {
  let s = script?;
  Some(match line {
    Some(l) => format!("{s}:{l}"),
    None => s.to_string(),
  })
}

/// `… 8 internal hops … → /w/handler.js:4 inFlight (Map) → table[1160] (Entry)`.
pub fn program_text(steps: &[ProgramStep]) -> String {
  let mut out = String::new();
  for (i, s) in steps.iter().enumerate() {
    if s.folded > 0 {
      if i > 0 {
        out.push_str(" → ");
      }
      out.push_str(&format!(
        "… {} internal hop{} … → ",
        s.folded,
        if s.folded == 1 { "" } else { "s" }
      ));
    } else if i > 0 {
      out.push_str(" → ");
    }
    if let Some(site) = site_text(s.script.as_deref(), s.line) {
      out.push_str(&site);
      out.push(' ');
    }
    if !s.edge.is_empty() {
      out.push_str(&s.edge);
      out.push(' ');
    }
    if s.node.starts_with('(') {
      out.push_str(&s.node);
    } else {
      out.push('(');
      out.push_str(&s.node);
      out.push(')');
    }
  }
  out
}

/// "inFlight (Map), a module-scope variable of /w/handler.js:4".
pub fn holder_text(h: &Holder) -> String {
  let site = site_text(h.script.as_deref(), h.line);
  let mut out = format!("{} ({}), {}", h.variable, h.node, h.scope.words());
  if let Some(site) = site {
    out.push_str(" of ");
    out.push_str(&site);
  }
  if let Some(c) = &h.captured_by {
    out.push_str(&format!(
      ", captured by the function at {}:{}",
      c.script, c.line
    ));
  }
  out
}
