//! Streaming reader for V8's `.heapsnapshot` JSON.
//!
//! The file is read through a fixed-size buffer, never as one string: the
//! `nodes`/`edges`/`locations` arrays go through a hand-written
//! unsigned-integer scanner straight into flat `Vec<u32>`s, `strings` are
//! decoded one by one into a single byte buffer, and everything else
//! (`trace_tree`, `samples`, ...) is skipped without being stored. Every allocation is bounded by the counts the
//! header declares, checked against the number of bytes the input can hold, so
//! a hostile `"node_count": 1e12` cannot make us allocate.

use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::errors::{ErrorCode, LeakguardError};

use super::graph::{EdgeKind, HeapGraph, Location, NodeKind, Strings};

const BUF_SIZE: usize = 1 << 18;
/// The `snapshot` header (meta + counts) is a few KB in every V8 version; a
/// bigger one is not a snapshot we understand, and must not be buffered.
const MAX_HEADER_BYTES: usize = 1 << 20;
/// The most records allocated up front when the input's size is unknown.
const UNSIZED_RESERVE: usize = 1 << 16;
/// How many array items between two looks at the cancel flag.
const CANCEL_EVERY: u32 = 1 << 20;

pub(crate) fn malformed(offset: u64, what: impl std::fmt::Display) -> LeakguardError {
  LeakguardError::new(
    ErrorCode::MalformedSnapshot,
    format!("not a valid V8 heap snapshot: {what} (at byte {offset})"),
  )
}

pub(crate) fn aborted() -> LeakguardError {
  LeakguardError::new(ErrorCode::Aborted, "heap snapshot analysis was aborted")
}

/// A byte reader with its own buffer, so the hot loops work on a slice and
/// refill only at its end.
struct Reader<R: Read> {
  inner: R,
  buf: Box<[u8]>,
  pos: usize,
  len: usize,
  /// Bytes consumed before `buf[0]`, for error offsets.
  base: u64,
  eof: bool,
}

impl<R: Read> Reader<R> {
  fn new(inner: R) -> Self {
    Reader {
      inner,
      buf: vec![0u8; BUF_SIZE].into_boxed_slice(),
      pos: 0,
      len: 0,
      base: 0,
      eof: false,
    }
  }

  fn offset(&self) -> u64 {
    self.base + self.pos as u64
  }

  fn fill(&mut self) -> Result<bool, LeakguardError> {
    if self.pos < self.len {
      return Ok(true);
    }
    if self.eof {
      return Ok(false);
    }
    self.base += self.len as u64;
    self.pos = 0;
    self.len = 0;
    loop {
      match self.inner.read(&mut self.buf) {
        Ok(0) => {
          self.eof = true;
          return Ok(false);
        }
        Ok(n) => {
          self.len = n;
          return Ok(true);
        }
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
        Err(e) if super::input::is_aborted(&e) => return Err(aborted()),
        Err(e) => return Err(e.into()),
      }
    }
  }

  fn peek(&mut self) -> Result<Option<u8>, LeakguardError> {
    if self.fill()? {
      Ok(Some(self.buf[self.pos]))
    } else {
      Ok(None)
    }
  }

  fn next_byte(&mut self, what: &str) -> Result<u8, LeakguardError> {
    match self.peek()? {
      Some(b) => {
        self.pos += 1;
        Ok(b)
      }
      None => Err(malformed(self.offset(), format!("file ends inside {what}"))),
    }
  }

  fn skip_ws(&mut self) -> Result<Option<u8>, LeakguardError> {
    loop {
      if !self.fill()? {
        return Ok(None);
      }
      while self.pos < self.len {
        let b = self.buf[self.pos];
        if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
          return Ok(Some(b));
        }
        self.pos += 1;
      }
    }
  }

  fn expect(&mut self, want: u8, what: &str) -> Result<(), LeakguardError> {
    match self.skip_ws()? {
      Some(b) if b == want => {
        self.pos += 1;
        Ok(())
      }
      Some(b) => Err(malformed(
        self.offset(),
        format!("expected '{}' {what}, found {}", want as char, show_byte(b)),
      )),
      None => Err(malformed(
        self.offset(),
        format!("file ends where '{}' {what} was expected", want as char),
      )),
    }
  }

  /// After an array item: `true` if another item follows, `false` at `]`.
  #[inline]
  fn array_sep(&mut self) -> Result<bool, LeakguardError> {
    match self.skip_ws()? {
      Some(b',') => {
        self.pos += 1;
        Ok(true)
      }
      Some(b']') => {
        self.pos += 1;
        Ok(false)
      }
      Some(b) => Err(malformed(
        self.offset(),
        format!("expected ',' or ']' in an array, found {}", show_byte(b)),
      )),
      None => Err(malformed(self.offset(), "file ends inside an array")),
    }
  }

  /// Decodes a JSON string (the opening quote already consumed) into `out`.
  fn read_string_into(&mut self, out: &mut Vec<u8>) -> Result<(), LeakguardError> {
    loop {
      if !self.fill()? {
        return Err(malformed(self.offset(), "file ends inside a string"));
      }
      let start = self.pos;
      while self.pos < self.len {
        let b = self.buf[self.pos];
        if b == b'"' || b == b'\\' || b < 0x20 {
          break;
        }
        self.pos += 1;
      }
      out.extend_from_slice(&self.buf[start..self.pos]);
      if self.pos == self.len {
        continue;
      }
      let b = self.buf[self.pos];
      self.pos += 1;
      match b {
        b'"' => return Ok(()),
        b'\\' => self.read_escape(out)?,
        _ => {
          return Err(malformed(
            self.offset() - 1,
            "control character inside a string",
          ))
        }
      }
    }
  }

  fn read_escape(&mut self, out: &mut Vec<u8>) -> Result<(), LeakguardError> {
    let e = self.next_byte("a string escape")?;
    let c = match e {
      b'"' => '"',
      b'\\' => '\\',
      b'/' => '/',
      b'b' => '\u{8}',
      b'f' => '\u{c}',
      b'n' => '\n',
      b'r' => '\r',
      b't' => '\t',
      b'u' => {
        let hi = self.read_hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
          // A surrogate pair is two escapes; V8 also writes lone
          // surrogates (strings are UTF-16), which become U+FFFD.
          if self.peek()? == Some(b'\\') {
            self.pos += 1;
            if self.next_byte("a string escape")? != b'u' {
              return Err(malformed(
                self.offset(),
                "invalid escape after a high surrogate",
              ));
            }
            let lo = self.read_hex4()?;
            if (0xDC00..0xE000).contains(&lo) {
              let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
              char::from_u32(cp).unwrap_or('\u{FFFD}')
            } else {
              push_char(out, '\u{FFFD}');
              char::from_u32(lo).unwrap_or('\u{FFFD}')
            }
          } else {
            '\u{FFFD}'
          }
        } else {
          char::from_u32(hi).unwrap_or('\u{FFFD}')
        }
      }
      other => {
        return Err(malformed(
          self.offset() - 1,
          format!("invalid string escape \\{}", show_byte(other)),
        ))
      }
    };
    push_char(out, c);
    Ok(())
  }

  fn read_hex4(&mut self) -> Result<u32, LeakguardError> {
    let mut v = 0u32;
    for _ in 0..4 {
      let b = self.next_byte("a \\u escape")?;
      let d = match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => {
          return Err(malformed(
            self.offset() - 1,
            "invalid hex digit in a \\u escape",
          ))
        }
      };
      v = v * 16 + d as u32;
    }
    Ok(v)
  }

  /// Skips one JSON value of any shape without storing it. Iterative (a
  /// depth counter), so deeply nested garbage cannot overflow the stack.
  /// When `copy` is given the raw bytes are appended to it, up to `limit`.
  fn skip_value(&mut self, mut copy: Option<(&mut Vec<u8>, usize)>) -> Result<(), LeakguardError> {
    let mut depth: u64 = 0;
    let first = self.skip_ws()?;
    if first.is_none() {
      return Err(malformed(
        self.offset(),
        "file ends where a value was expected",
      ));
    }
    loop {
      let b = self.next_byte("a value")?;
      if let Some((out, limit)) = copy.as_mut() {
        if out.len() >= *limit {
          return Err(malformed(
            self.offset(),
            "the \"snapshot\" header is too large",
          ));
        }
        out.push(b);
      }
      match b {
        b'{' | b'[' => depth += 1,
        b'}' | b']' => {
          if depth == 0 {
            return Err(malformed(self.offset() - 1, "unbalanced brackets"));
          }
          depth -= 1;
        }
        b'"' => {
          // Copy the string raw (escapes included) or skip it.
          loop {
            let c = self.next_byte("a string")?;
            if let Some((out, limit)) = copy.as_mut() {
              if out.len() >= *limit {
                return Err(malformed(
                  self.offset(),
                  "the \"snapshot\" header is too large",
                ));
              }
              out.push(c);
            }
            if c == b'\\' {
              let esc = self.next_byte("a string")?;
              if let Some((out, _)) = copy.as_mut() {
                out.push(esc);
              }
            } else if c == b'"' {
              break;
            }
          }
        }
        _ => {}
      }
      if depth == 0 {
        // A scalar ends at the next delimiter; a container at its bracket.
        match self.peek()? {
          Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') | None => return Ok(()),
          Some(_) if matches!(b, b'}' | b']' | b'"') => return Ok(()),
          Some(_) => {}
        }
      }
    }
  }
}

fn push_char(out: &mut Vec<u8>, c: char) {
  let mut tmp = [0u8; 4];
  out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
}

fn show_byte(b: u8) -> String {
  if b.is_ascii_graphic() {
    format!("'{}'", b as char)
  } else {
    format!("byte 0x{b:02x}")
  }
}

/// What the `snapshot` header says about the layout of the flat arrays.
struct Meta {
  node_fields: usize,
  node_type_at: usize,
  node_name_at: usize,
  node_id_at: usize,
  node_self_at: usize,
  node_edges_at: usize,
  node_kinds: Vec<NodeKind>,
  node_type_names: Vec<String>,
  edge_fields: usize,
  edge_type_at: usize,
  edge_name_at: usize,
  edge_to_at: usize,
  edge_kinds: Vec<EdgeKind>,
  edge_type_names: Vec<String>,
  node_count: u64,
  edge_count: u64,
  /// Records to allocate up front: the declared counts when the input's
  /// size vouches for them, else at most `UNSIZED_RESERVE`.
  reserve_nodes: usize,
  reserve_edges: usize,
  /// Positions of `object_index`, `script_id`, `line`, `column` in
  /// `meta.location_fields`, and its length; `None` when the snapshot
  /// declares no locations (older V8).
  location_fields: Option<([usize; 4], usize)>,
}

fn parse_meta(raw: &[u8], offset: u64) -> Result<Meta, LeakguardError> {
  let v: serde_json::Value = serde_json::from_slice(raw)
    .map_err(|e| malformed(offset, format!("invalid \"snapshot\" header: {e}")))?;
  let bad = |what: &str| malformed(offset, format!("the \"snapshot\" header {what}"));
  let meta = v.get("meta").ok_or_else(|| bad("has no \"meta\""))?;
  let strs = |key: &str| -> Result<Vec<String>, LeakguardError> {
    meta
      .get(key)
      .and_then(|f| f.as_array())
      .and_then(|a| {
        a.iter()
          .map(|s| s.as_str().map(str::to_owned))
          .collect::<Option<Vec<_>>>()
      })
      .ok_or_else(|| bad(&format!("has no string array \"meta.{key}\"")))
  };
  let types = |key: &str| -> Result<Vec<String>, LeakguardError> {
    meta
      .get(key)
      .and_then(|t| t.get(0))
      .and_then(|f| f.as_array())
      .and_then(|a| {
        a.iter()
          .map(|s| s.as_str().map(str::to_owned))
          .collect::<Option<Vec<_>>>()
      })
      .ok_or_else(|| bad(&format!("has no type list \"meta.{key}[0]\"")))
  };
  let node_fields = strs("node_fields")?;
  let edge_fields = strs("edge_fields")?;
  let find = |fields: &[String], name: &str, list: &str| {
    fields
      .iter()
      .position(|f| f == name)
      .ok_or_else(|| bad(&format!("lacks \"{name}\" in meta.{list}")))
  };
  let location_fields = match strs("location_fields") {
    Ok(fields) if fields.len() <= 64 => {
      let at = |name: &str| fields.iter().position(|f| f == name);
      match (
        at("object_index"),
        at("script_id"),
        at("line"),
        at("column"),
      ) {
        (Some(o), Some(s), Some(l), Some(c)) => Some(([o, s, l, c], fields.len())),
        _ => None,
      }
    }
    _ => None,
  };
  let node_type_names = types("node_types")?;
  let edge_type_names = types("edge_types")?;
  if node_type_names.len() > 255
    || edge_type_names.len() > 255
    || node_fields.len() > 64
    || edge_fields.len() > 64
  {
    return Err(bad("declares too many fields or types"));
  }
  let count = |key: &str| {
    v.get(key)
      .and_then(|c| c.as_u64())
      .ok_or_else(|| bad(&format!("has no unsigned integer \"{key}\"")))
  };
  Ok(Meta {
    node_fields: node_fields.len(),
    node_type_at: find(&node_fields, "type", "node_fields")?,
    node_name_at: find(&node_fields, "name", "node_fields")?,
    node_id_at: find(&node_fields, "id", "node_fields")?,
    node_self_at: find(&node_fields, "self_size", "node_fields")?,
    node_edges_at: find(&node_fields, "edge_count", "node_fields")?,
    node_kinds: node_type_names
      .iter()
      .map(|s| NodeKind::from_name(s))
      .collect(),
    node_type_names,
    edge_fields: edge_fields.len(),
    edge_type_at: find(&edge_fields, "type", "edge_fields")?,
    edge_name_at: find(&edge_fields, "name_or_index", "edge_fields")?,
    edge_to_at: find(&edge_fields, "to_node", "edge_fields")?,
    edge_kinds: edge_type_names
      .iter()
      .map(|s| EdgeKind::from_name(s))
      .collect(),
    edge_type_names,
    node_count: count("node_count")?,
    edge_count: count("edge_count")?,
    reserve_nodes: usize::try_from(count("node_count")?).unwrap_or(usize::MAX),
    reserve_edges: usize::try_from(count("edge_count")?).unwrap_or(usize::MAX),
    location_fields,
  })
}

/// Parses a whole snapshot. `size_hint` is the input's length in bytes (the
/// file size): declared counts that could not fit in it are refused before
/// anything is allocated for them. `u64::MAX` means "not known" (a FIFO):
/// the arrays then grow with what is actually read, from a bounded start.
pub fn parse_snapshot<R: Read>(
  input: R,
  size_hint: u64,
  cancel: &AtomicBool,
) -> Result<HeapGraph, LeakguardError> {
  let mut r = Reader::new(input);
  match r.skip_ws()? {
    None => return Err(malformed(0, "the file is empty")),
    Some(b'{') => r.pos += 1,
    Some(b) => {
      return Err(malformed(
        r.offset(),
        format!("expected a JSON object, found {}", show_byte(b)),
      ))
    }
  }
  let mut meta: Option<Meta> = None;
  let mut nodes: Option<NodesOut> = None;
  let mut edges: Option<EdgesOut> = None;
  let mut strings: Option<Strings> = None;
  let mut locations: Vec<Location> = Vec::new();
  let mut locations_seen = false;
  let mut key = Vec::new();
  let mut empty = r.skip_ws()? == Some(b'}');
  if empty {
    r.pos += 1;
  }
  while !empty {
    r.expect(b'"', "to start a top-level key")?;
    key.clear();
    r.read_string_into(&mut key)?;
    r.expect(b':', "after a top-level key")?;
    let at = r.offset();
    // A section given twice would be read against two different headers
    // (edges checked with the first, nodes read with the second): refuse it.
    let seen = match key.as_slice() {
      b"snapshot" => meta.is_some(),
      b"nodes" => nodes.is_some(),
      b"edges" => edges.is_some(),
      b"strings" => strings.is_some(),
      b"locations" => std::mem::replace(&mut locations_seen, true),
      _ => false,
    };
    if seen {
      return Err(malformed(
        at,
        format!(
          "a second \"{}\" section (each section appears once)",
          String::from_utf8_lossy(&key)
        ),
      ));
    }
    match key.as_slice() {
      b"snapshot" => {
        let mut raw = Vec::new();
        r.skip_value(Some((&mut raw, MAX_HEADER_BYTES)))?;
        let mut m = parse_meta(&raw, at)?;
        // Each node takes at least 2 bytes per field ("0,"), each edge too.
        let room = size_hint / 2;
        if m.node_count.saturating_mul(m.node_fields as u64) > room
          || m.edge_count.saturating_mul(m.edge_fields as u64) > room
        {
          return Err(malformed(
            at,
            format!(
              "declares {} nodes and {} edges, more than a {} byte file can hold",
              m.node_count, m.edge_count, size_hint
            ),
          ));
        }
        if m.node_count > u32::MAX as u64 / 2 || m.edge_count > u32::MAX as u64 / 2 {
          return Err(malformed(
            at,
            format!(
              "declares {} nodes and {} edges, more than the {} of each leakguard reads",
              m.node_count,
              m.edge_count,
              u32::MAX / 2
            ),
          ));
        }
        if size_hint == u64::MAX {
          m.reserve_nodes = m.reserve_nodes.min(UNSIZED_RESERVE);
          m.reserve_edges = m.reserve_edges.min(UNSIZED_RESERVE);
        }
        meta = Some(m);
      }
      b"nodes" => {
        let m = meta
          .as_ref()
          .ok_or_else(|| malformed(at, "\"nodes\" comes before the \"snapshot\" header"))?;
        nodes = Some(read_nodes(&mut r, m, cancel)?);
      }
      b"edges" => {
        let m = meta
          .as_ref()
          .ok_or_else(|| malformed(at, "\"edges\" comes before the \"snapshot\" header"))?;
        edges = Some(read_edges(&mut r, m, cancel)?);
      }
      b"strings" => strings = Some(read_strings(&mut r, cancel)?),
      b"locations" => match meta.as_ref() {
        Some(m) if m.location_fields.is_some() => locations = read_locations(&mut r, m, cancel)?,
        _ => r.skip_value(None)?,
      },
      _ => r.skip_value(None)?,
    }
    match r.skip_ws()? {
      Some(b',') => r.pos += 1,
      Some(b'}') => {
        r.pos += 1;
        empty = true;
      }
      Some(b) => {
        return Err(malformed(
          r.offset(),
          format!(
            "expected ',' or '}}' after a top-level value, found {}",
            show_byte(b)
          ),
        ))
      }
      None => {
        return Err(malformed(
          r.offset(),
          "file ends inside the top-level object (truncated?)",
        ))
      }
    }
  }
  if let Some(b) = r.skip_ws()? {
    return Err(malformed(
      r.offset(),
      format!("unexpected {} after the top-level object", show_byte(b)),
    ));
  }
  let end = r.offset();
  let meta = meta.ok_or_else(|| {
    malformed(
      end,
      "no \"snapshot\" header: this is not a V8 heap snapshot",
    )
  })?;
  let nodes = nodes.ok_or_else(|| malformed(end, "no \"nodes\" array"))?;
  let edges = edges.ok_or_else(|| malformed(end, "no \"edges\" array"))?;
  let strings = strings.ok_or_else(|| malformed(end, "no \"strings\" array"))?;
  assemble(meta, nodes, edges, strings, locations, end)
}

struct NodesOut {
  kind: Vec<u8>,
  name: Vec<u32>,
  id: Vec<u64>,
  self_size: Vec<u32>,
  edge_count: Vec<u32>,
}

struct EdgesOut {
  kind: Vec<u8>,
  name: Vec<u32>,
  to: Vec<u32>,
}

fn check_cancel(counter: &mut u32, cancel: &AtomicBool) -> Result<(), LeakguardError> {
  *counter += 1;
  if *counter >= CANCEL_EVERY {
    *counter = 0;
    if cancel.load(Ordering::Relaxed) {
      return Err(aborted());
    }
  }
  Ok(())
}

/// Polls `cancel` once per CANCEL_EVERY records from inside a
/// `scan_uint_array` sink, whose errors are strings: it remembers that the
/// stop was an abort, so that `outcome` reports ABORTED and not MALFORMED.
struct CancelPoll<'a> {
  cancel: &'a AtomicBool,
  tick: u32,
  aborted: bool,
}

impl<'a> CancelPoll<'a> {
  fn new(cancel: &'a AtomicBool) -> Self {
    CancelPoll {
      cancel,
      tick: 0,
      aborted: false,
    }
  }

  /// Counts one record; an error once `cancel` is set.
  fn record(&mut self) -> Result<(), String> {
    self.tick += 1;
    if self.tick == CANCEL_EVERY {
      self.tick = 0;
      if self.cancel.load(Ordering::Relaxed) {
        self.aborted = true;
        return Err("aborted".into());
      }
    }
    Ok(())
  }

  /// The scan's error as reported: ABORTED when the poll stopped it.
  fn outcome(&self, e: LeakguardError) -> LeakguardError {
    if self.aborted {
      aborted()
    } else {
      e
    }
  }
}

/// Scans a JSON array of unsigned integers (after its `[`, through its `]`),
/// handing each to `sink`. This loop sees ~90% of a snapshot's bytes, so it
/// works on the buffer slice directly and carries a number across refills.
fn scan_uint_array<R: Read>(
  r: &mut Reader<R>,
  mut sink: impl FnMut(u64) -> Result<(), String>,
) -> Result<(), LeakguardError> {
  let mut value: u64 = 0;
  let mut digits: u32 = 0;
  let mut need_value = true;
  let mut any = false;
  loop {
    if !r.fill()? {
      return Err(malformed(r.offset(), "file ends inside a number array"));
    }
    let start = r.pos;
    let end = r.len;
    let mut i = start;
    while i < end {
      let b = r.buf[i];
      let d = b.wrapping_sub(b'0');
      if d <= 9 {
        if digits == 0 && !need_value {
          return Err(malformed(r.base + i as u64, "expected ',' between numbers"));
        }
        digits += 1;
        if digits > 19 {
          return Err(malformed(r.base + i as u64, "number too large"));
        }
        value = value * 10 + d as u64;
        i += 1;
        continue;
      }
      if digits > 0 {
        if let Err(what) = sink(value) {
          return Err(malformed(r.base + i as u64, what));
        }
        value = 0;
        digits = 0;
        need_value = false;
        any = true;
      }
      match b {
        b',' => {
          if need_value {
            return Err(malformed(
              r.base + i as u64,
              "expected an unsigned integer, found ','",
            ));
          }
          need_value = true;
        }
        b']' => {
          if need_value && any {
            return Err(malformed(
              r.base + i as u64,
              "expected an unsigned integer, found ']'",
            ));
          }
          r.pos = i + 1;
          return Ok(());
        }
        b' ' | b'\n' | b'\r' | b'\t' => {}
        b'.' | b'e' | b'E' => {
          return Err(malformed(
            r.base + i as u64,
            "expected an integer, found a fraction or exponent",
          ))
        }
        other => {
          return Err(malformed(
            r.base + i as u64,
            format!("expected an unsigned integer, found {}", show_byte(other)),
          ))
        }
      }
      i += 1;
    }
    r.pos = end;
  }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
  Type,
  Name,
  Id,
  SelfSize,
  EdgeCount,
  To,
  Ignore,
}

/// The role of each of `fields` record fields: the one at each listed
/// position, `Ignore` for the rest.
fn roles(fields: usize, at: &[(usize, Role)]) -> Vec<Role> {
  (0..fields)
    .map(|f| {
      at.iter()
        .find(|(i, _)| *i == f)
        .map_or(Role::Ignore, |(_, r)| *r)
    })
    .collect()
}

fn to_u32(v: u64, what: &str) -> Result<u32, String> {
  u32::try_from(v).map_err(|_| format!("{what} {v} is out of range"))
}

/// Scans a flat integer array of `count` records of `roles.len()` fields each
/// (V8's `nodes` and `edges`), handing every value with its role to
/// `on_value`. Checks the record count against the header both ways and
/// polls `cancel` once per CANCEL_EVERY records.
fn scan_records<R: Read>(
  r: &mut Reader<R>,
  section: &str,
  fields_name: &str,
  roles: &[Role],
  count: usize,
  cancel: &AtomicBool,
  mut on_value: impl FnMut(Role, u64) -> Result<(), String>,
) -> Result<(), LeakguardError> {
  let mut field = 0usize;
  let mut records = 0usize;
  let mut poll = CancelPoll::new(cancel);
  scan_uint_array(r, |v| {
    if field == 0 {
      if records == count {
        return Err(format!(
          "\"{section}\" holds more than the declared {count} {section}"
        ));
      }
      records += 1;
      poll.record()?;
    }
    on_value(roles[field], v)?;
    field += 1;
    if field == roles.len() {
      field = 0;
    }
    Ok(())
  })
  .map_err(|e| poll.outcome(e))?;
  if field != 0 {
    return Err(malformed(
      r.offset(),
      format!("\"{section}\" length is not a multiple of {fields_name}"),
    ));
  }
  if records != count {
    return Err(malformed(
      r.offset(),
      format!("\"{section}\" holds {records} {section}, the header declares {count}"),
    ));
  }
  Ok(())
}

fn read_nodes<R: Read>(
  r: &mut Reader<R>,
  m: &Meta,
  cancel: &AtomicBool,
) -> Result<NodesOut, LeakguardError> {
  r.expect(b'[', "to start \"nodes\"")?;
  let n = m.node_count as usize;
  let cap = m.reserve_nodes;
  let mut out = NodesOut {
    kind: Vec::with_capacity(cap),
    name: Vec::with_capacity(cap),
    id: Vec::with_capacity(cap),
    self_size: Vec::with_capacity(cap),
    edge_count: Vec::with_capacity(cap),
  };
  let roles = roles(
    m.node_fields,
    &[
      (m.node_type_at, Role::Type),
      (m.node_name_at, Role::Name),
      (m.node_id_at, Role::Id),
      (m.node_self_at, Role::SelfSize),
      (m.node_edges_at, Role::EdgeCount),
    ],
  );
  let type_count = m.node_kinds.len() as u64;
  scan_records(
    r,
    "nodes",
    "meta.node_fields",
    &roles,
    n,
    cancel,
    |role, v| {
      match role {
        Role::Type => {
          if v >= type_count {
            return Err(format!("node type {v} is not in meta.node_types"));
          }
          out.kind.push(v as u8);
        }
        Role::Name => out.name.push(to_u32(v, "node name index")?),
        Role::Id => out.id.push(v),
        Role::SelfSize => out.self_size.push(to_u32(v, "node self_size")?),
        Role::EdgeCount => out.edge_count.push(to_u32(v, "node edge_count")?),
        _ => {}
      }
      Ok(())
    },
  )?;
  Ok(out)
}

fn read_edges<R: Read>(
  r: &mut Reader<R>,
  m: &Meta,
  cancel: &AtomicBool,
) -> Result<EdgesOut, LeakguardError> {
  r.expect(b'[', "to start \"edges\"")?;
  let n = m.edge_count as usize;
  let cap = m.reserve_edges;
  let mut out = EdgesOut {
    kind: Vec::with_capacity(cap),
    name: Vec::with_capacity(cap),
    to: Vec::with_capacity(cap),
  };
  let roles = roles(
    m.edge_fields,
    &[
      (m.edge_type_at, Role::Type),
      (m.edge_name_at, Role::Name),
      (m.edge_to_at, Role::To),
    ],
  );
  let nf = m.node_fields as u64;
  let type_count = m.edge_kinds.len() as u64;
  scan_records(
    r,
    "edges",
    "meta.edge_fields",
    &roles,
    n,
    cancel,
    |role, v| {
      match role {
        Role::Type => {
          if v >= type_count {
            return Err(format!("edge type {v} is not in meta.edge_types"));
          }
          out.kind.push(v as u8);
        }
        Role::Name => out.name.push(to_u32(v, "edge name_or_index")?),
        Role::To => {
          if v % nf != 0 || v / nf >= m.node_count {
            return Err(format!("edge to_node {v} does not point at a node"));
          }
          out.to.push((v / nf) as u32);
        }
        _ => {}
      }
      Ok(())
    },
  )?;
  Ok(out)
}

/// The `locations` table: one record per object V8 knows a source position
/// for (closures, and objects by their constructor). Object indexes are
/// checked like edges' `to_node`; the table is small next to `nodes`.
fn read_locations<R: Read>(
  r: &mut Reader<R>,
  m: &Meta,
  cancel: &AtomicBool,
) -> Result<Vec<Location>, LeakguardError> {
  r.expect(b'[', "to start \"locations\"")?;
  let Some(([at_object, at_script, at_line, at_column], fields)) = m.location_fields else {
    return Ok(Vec::new());
  };
  let nf = m.node_fields as u64;
  let mut out: Vec<Location> = Vec::new();
  let mut record = [0u64; 4];
  let mut field = 0usize;
  let mut poll = CancelPoll::new(cancel);
  scan_uint_array(r, |v| {
    if field == at_object {
      record[0] = v;
    } else if field == at_script {
      record[1] = v;
    } else if field == at_line {
      record[2] = v;
    } else if field == at_column {
      record[3] = v;
    }
    field += 1;
    if field == fields {
      field = 0;
      let [object, script, line, column] = record;
      if object % nf != 0 || object / nf >= m.node_count {
        return Err(format!(
          "location object_index {object} does not point at a node"
        ));
      }
      out.push(Location {
        node: (object / nf) as u32,
        script_id: to_u32(script, "location script_id")?,
        line: to_u32(line, "location line")?,
        column: to_u32(column, "location column")?,
      });
      poll.record()?;
    }
    Ok(())
  })
  .map_err(|e| poll.outcome(e))?;
  if field != 0 {
    return Err(malformed(
      r.offset(),
      "\"locations\" length is not a multiple of meta.location_fields",
    ));
  }
  // V8 writes them in node order; sort anyway, lookups binary-search.
  if !out.is_sorted_by_key(|l| l.node) {
    out.sort_by_key(|l| l.node);
  }
  Ok(out)
}

fn read_strings<R: Read>(
  r: &mut Reader<R>,
  cancel: &AtomicBool,
) -> Result<Strings, LeakguardError> {
  r.expect(b'[', "to start \"strings\"")?;
  let mut s = Strings::default();
  if r.skip_ws()? == Some(b']') {
    r.pos += 1;
    return Ok(s);
  }
  let mut tick = 0u32;
  loop {
    r.expect(b'"', "to start an item of \"strings\"")?;
    r.read_string_into(&mut s.bytes)?;
    if s.bytes.len() > u32::MAX as usize {
      return Err(malformed(r.offset(), "\"strings\" exceeds 4 GB"));
    }
    s.ends.push(s.bytes.len() as u32);
    check_cancel(&mut tick, cancel)?;
    if !r.array_sep()? {
      break;
    }
  }
  Ok(s)
}

fn assemble(
  m: Meta,
  n: NodesOut,
  e: EdgesOut,
  strings: Strings,
  locations: Vec<Location>,
  end: u64,
) -> Result<HeapGraph, LeakguardError> {
  let string_count = strings.len() as u32;
  let mut first_edge = Vec::with_capacity(n.kind.len() + 1);
  let mut sum: u64 = 0;
  for (i, &c) in n.edge_count.iter().enumerate() {
    first_edge.push(sum as u32);
    sum += c as u64;
    if sum > e.kind.len() as u64 {
      return Err(malformed(
        end,
        format!(
          "node {i}'s edges run past the {} edges of \"edges\"",
          e.kind.len()
        ),
      ));
    }
    if n.name[i] >= string_count {
      return Err(malformed(
        end,
        format!("node {i}'s name index {} is not in \"strings\"", n.name[i]),
      ));
    }
  }
  if sum != e.kind.len() as u64 {
    return Err(malformed(
      end,
      format!("nodes own {sum} edges but \"edges\" holds {}", e.kind.len()),
    ));
  }
  first_edge.push(sum as u32);
  for (i, (&k, &name)) in e.kind.iter().zip(&e.name).enumerate() {
    if m.edge_kinds[k as usize].name_is_string() && name >= string_count {
      return Err(malformed(
        end,
        format!("edge {i}'s name index {name} is not in \"strings\""),
      ));
    }
  }
  if n.kind.is_empty() {
    return Err(malformed(
      end,
      "the snapshot has no nodes (not even the root)",
    ));
  }
  Ok(HeapGraph {
    node_kinds: m.node_kinds,
    node_type_names: m.node_type_names,
    edge_kinds: m.edge_kinds,
    edge_type_names: m.edge_type_names,
    node_type: n.kind,
    node_name: n.name,
    node_id: n.id,
    node_self: n.self_size,
    first_edge,
    edge_type: e.kind,
    edge_name: e.name,
    edge_to: e.to,
    strings,
    locations,
  })
}
