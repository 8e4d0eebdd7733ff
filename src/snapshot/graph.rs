//! The heap graph as flat arrays (one `Vec` per field), indexed by node
//! ordinal (the position in `nodes` divided by the field count). Edges of
//! node `i` are `first_edge[i]..first_edge[i + 1]`, as V8 lays them out.

use std::borrow::Cow;

/// V8's node types (`meta.node_types[0]`), by name so that a snapshot from a
/// V8 that reorders or adds types still reads correctly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
  Hidden,
  Array,
  String,
  Object,
  Code,
  Closure,
  Regexp,
  Number,
  Native,
  Synthetic,
  ConsString,
  SlicedString,
  Symbol,
  BigInt,
  ObjectShape,
  Other,
}

impl NodeKind {
  pub fn from_name(s: &str) -> NodeKind {
    match s {
      "hidden" => NodeKind::Hidden,
      "array" => NodeKind::Array,
      "string" => NodeKind::String,
      "object" => NodeKind::Object,
      "code" => NodeKind::Code,
      "closure" => NodeKind::Closure,
      "regexp" => NodeKind::Regexp,
      "number" => NodeKind::Number,
      "native" => NodeKind::Native,
      "synthetic" => NodeKind::Synthetic,
      "concatenated string" => NodeKind::ConsString,
      "sliced string" => NodeKind::SlicedString,
      "symbol" => NodeKind::Symbol,
      "bigint" => NodeKind::BigInt,
      "object shape" => NodeKind::ObjectShape,
      _ => NodeKind::Other,
    }
  }
}

/// V8's edge types (`meta.edge_types[0]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeKind {
  Context,
  Element,
  Property,
  Internal,
  Hidden,
  Shortcut,
  Weak,
  Other,
}

impl EdgeKind {
  pub fn from_name(s: &str) -> EdgeKind {
    match s {
      "context" => EdgeKind::Context,
      "element" => EdgeKind::Element,
      "property" => EdgeKind::Property,
      "internal" => EdgeKind::Internal,
      "hidden" => EdgeKind::Hidden,
      "shortcut" => EdgeKind::Shortcut,
      "weak" => EdgeKind::Weak,
      _ => EdgeKind::Other,
    }
  }

  /// `element` and `hidden` edges carry an index; all others a string.
  pub fn name_is_string(self) -> bool {
    !matches!(self, EdgeKind::Element | EdgeKind::Hidden)
  }
}

/// The `strings` table: one byte buffer plus end offsets, instead of one
/// allocation per string.
#[derive(Default, Debug)]
pub struct Strings {
  pub bytes: Vec<u8>,
  pub ends: Vec<u32>,
}

impl Strings {
  pub fn len(&self) -> usize {
    self.ends.len()
  }

  pub fn is_empty(&self) -> bool {
    self.ends.is_empty()
  }

  /// The index of the first string equal to `s` (V8 interns its strings,
  /// so it is the only one), for comparing edge names by index.
  pub fn find(&self, s: &str) -> Option<u32> {
    let want = s.as_bytes();
    let mut start = 0usize;
    for (i, &end) in self.ends.iter().enumerate() {
      let end = end as usize;
      if end - start == want.len() && &self.bytes[start..end] == want {
        return Some(i as u32);
      }
      start = end;
    }
    None
  }

  /// Length in bytes of string `i`, without decoding it.
  pub fn byte_len(&self, i: u32) -> usize {
    let i = i as usize;
    if i >= self.ends.len() {
      return 0;
    }
    let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
    self.ends[i] as usize - start
  }

  pub fn get(&self, i: u32) -> Cow<'_, str> {
    let i = i as usize;
    if i >= self.ends.len() {
      return Cow::Borrowed("");
    }
    let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
    String::from_utf8_lossy(&self.bytes[start..self.ends[i] as usize])
  }
}

/// One entry of the snapshot's `locations` table: where V8 says an object
/// comes from. For a closure, its function's position; for an object, its
/// constructor's. Lines and columns are 0-based, as V8 writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
  pub node: u32,
  pub script_id: u32,
  pub line: u32,
  pub column: u32,
}

#[derive(Debug)]
pub struct HeapGraph {
  pub node_kinds: Vec<NodeKind>,
  pub node_type_names: Vec<String>,
  pub edge_kinds: Vec<EdgeKind>,
  pub edge_type_names: Vec<String>,
  /// Index into `node_kinds`.
  pub node_type: Vec<u8>,
  pub node_name: Vec<u32>,
  pub node_id: Vec<u64>,
  pub node_self: Vec<u32>,
  /// `node_count + 1` entries.
  pub first_edge: Vec<u32>,
  /// Index into `edge_kinds`.
  pub edge_type: Vec<u8>,
  /// A string index, or an element index for element/hidden edges.
  pub edge_name: Vec<u32>,
  /// Target node ordinal.
  pub edge_to: Vec<u32>,
  pub strings: Strings,
  /// The `locations` table, sorted by node (empty when the snapshot has none).
  pub locations: Vec<Location>,
}

impl HeapGraph {
  pub fn node_count(&self) -> usize {
    self.node_type.len()
  }

  pub fn edge_count(&self) -> usize {
    self.edge_to.len()
  }

  #[inline]
  pub fn kind(&self, node: usize) -> NodeKind {
    self.node_kinds[self.node_type[node] as usize]
  }

  #[inline]
  pub fn edge_kind(&self, edge: usize) -> EdgeKind {
    self.edge_kinds[self.edge_type[edge] as usize]
  }

  #[inline]
  pub fn edges(&self, node: usize) -> std::ops::Range<usize> {
    self.first_edge[node] as usize..self.first_edge[node + 1] as usize
  }

  /// The location V8 recorded for a node, if any.
  pub fn location(&self, node: usize) -> Option<Location> {
    let i = self
      .locations
      .binary_search_by_key(&(node as u32), |l| l.node)
      .ok()?;
    Some(self.locations[i])
  }

  /// The target of `node`'s first edge named by string index `name` (an
  /// edge whose name is a string: property, internal, context, ...).
  pub fn edge_named(&self, node: usize, name: u32) -> Option<usize> {
    self
      .edges(node)
      .find(|&e| self.edge_name[e] == name && self.edge_kind(e).name_is_string())
      .map(|e| self.edge_to[e] as usize)
  }

  pub fn name(&self, node: usize) -> Cow<'_, str> {
    self.strings.get(self.node_name[node])
  }

  pub fn type_name(&self, node: usize) -> &str {
    &self.node_type_names[self.node_type[node] as usize]
  }

  /// How an edge is shown in a retainer path: `[3]` for indexes, the
  /// property or variable name otherwise.
  pub fn edge_label(&self, edge: usize) -> String {
    let k = self.edge_kind(edge);
    if k.name_is_string() {
      self.strings.get(self.edge_name[edge]).into_owned()
    } else {
      format!("[{}]", self.edge_name[edge])
    }
  }

  /// The group a node belongs to, by DevTools' Summary rule (its
  /// `HeapSnapshotNode.className()`): objects and native objects by
  /// constructor name, closures as `Function`, regexps as `RegExp`, hidden
  /// nodes as `(system)`, code as `(compiled code)`, every other type as
  /// `(<type>)`.
  pub fn class_name(&self, node: usize) -> Cow<'_, str> {
    match self.kind(node) {
      NodeKind::Object | NodeKind::Native => self.name(node),
      NodeKind::Hidden => Cow::Borrowed("(system)"),
      NodeKind::Code => Cow::Borrowed("(compiled code)"),
      NodeKind::Closure => Cow::Borrowed("Function"),
      NodeKind::Regexp => Cow::Borrowed("RegExp"),
      _ => Cow::Owned(format!("({})", self.type_name(node))),
    }
  }

  /// How a node is shown in a retainer path: its class, except that
  /// synthetic and hidden nodes show their own name (`(GC roots)`,
  /// `system / Context`) and closures their function name.
  pub fn node_label(&self, node: usize) -> String {
    let name = self.name(node);
    match self.kind(node) {
      NodeKind::Synthetic | NodeKind::Hidden if !name.is_empty() => name.into_owned(),
      NodeKind::Closure if !name.is_empty() => format!("{name}()"),
      _ => self.class_name(node).into_owned(),
    }
  }

  /// A dense class id per node (same id = same group), and the groups'
  /// names. Object/native nodes key on their name's string index (V8
  /// interns names), the other kinds on their type.
  pub fn classes(&self) -> (Vec<u32>, Vec<String>) {
    let n_types = self.node_kinds.len();
    let mut by_key = vec![u32::MAX; self.strings.len() + n_types];
    let mut names: Vec<String> = Vec::new();
    let mut class_of = Vec::with_capacity(self.node_count());
    for node in 0..self.node_count() {
      let key = match self.kind(node) {
        NodeKind::Object | NodeKind::Native => self.node_name[node] as usize,
        _ => self.strings.len() + self.node_type[node] as usize,
      };
      let mut id = by_key[key];
      if id == u32::MAX {
        id = names.len() as u32;
        names.push(self.class_name(node).into_owned());
        by_key[key] = id;
      }
      class_of.push(id);
    }
    // Distinct string indexes can hold equal names (a class named like a
    // type label, or non-interned duplicates): merge them by name.
    let mut canonical: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
    let mut remap: Vec<u32> = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
      remap.push(*canonical.entry(name.as_str()).or_insert(i as u32));
    }
    if remap.iter().enumerate().any(|(i, &r)| r != i as u32) {
      for c in class_of.iter_mut() {
        *c = remap[*c as usize];
      }
    }
    (class_of, names)
  }
}
