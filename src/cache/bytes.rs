//! Byte strings stored inline when short. Keys and small values (most cache
//! keys, short string values) then live inside the LRU node itself: one
//! allocation and one pointer chase fewer per entry, which the `get`
//! profile showed as cache misses in the lookup.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

const INLINE: usize = 22;

/// 24 bytes either way: up to 22 bytes inline, else a boxed slice.
#[derive(Clone)]
pub enum SmallBytes {
  Inline(u8, [u8; INLINE]),
  Heap(Box<[u8]>),
}

impl SmallBytes {
  /// The bytes as an owned boxed slice (for handing out removed entries).
  pub fn into_box(self) -> Box<[u8]> {
    match self {
      SmallBytes::Heap(b) => b,
      inline => Box::from(&*inline),
    }
  }
}

impl SmallBytes {
  /// `tag` followed by `payload`, built in place: no heap allocation when
  /// the whole fits inline (a `set` of a short value then allocates nothing
  /// but the LRU node).
  pub fn tagged(tag: u8, payload: &[u8]) -> Self {
    if payload.len() < INLINE {
      let mut buf = [0u8; INLINE];
      buf[0] = tag;
      buf[1..=payload.len()].copy_from_slice(payload);
      SmallBytes::Inline(payload.len() as u8 + 1, buf)
    } else {
      let mut b = Vec::with_capacity(1 + payload.len());
      b.push(tag);
      b.extend_from_slice(payload);
      SmallBytes::Heap(b.into_boxed_slice())
    }
  }
}

/// A value on its way into the store, compared with the stored bytes before
/// any copy is made: storing the same value again (a common cache-aside
/// pattern) then copies nothing.
pub trait Incoming {
  /// Bytes it will occupy once stored.
  fn stored_len(&self) -> usize;
  /// Whether `stored` holds exactly these bytes.
  fn same_as(&self, stored: &[u8]) -> bool;
  fn into_stored(self) -> SmallBytes;
}

/// A tag byte followed by a payload, as the glue encodes values.
pub struct Tagged<'a>(pub u8, pub &'a [u8]);

impl Incoming for Tagged<'_> {
  #[inline]
  fn stored_len(&self) -> usize {
    1 + self.1.len()
  }
  #[inline]
  fn same_as(&self, stored: &[u8]) -> bool {
    stored.split_first() == Some((&self.0, self.1))
  }
  #[inline]
  fn into_stored(self) -> SmallBytes {
    SmallBytes::tagged(self.0, self.1)
  }
}

impl<T: Into<SmallBytes> + std::ops::Deref<Target = [u8]>> Incoming for T {
  fn stored_len(&self) -> usize {
    self.len()
  }
  fn same_as(&self, stored: &[u8]) -> bool {
    **self == *stored
  }
  fn into_stored(self) -> SmallBytes {
    self.into()
  }
}

impl From<&[u8]> for SmallBytes {
  fn from(b: &[u8]) -> Self {
    if b.len() <= INLINE {
      let mut buf = [0u8; INLINE];
      buf[..b.len()].copy_from_slice(b);
      SmallBytes::Inline(b.len() as u8, buf)
    } else {
      SmallBytes::Heap(b.into())
    }
  }
}

impl From<Box<[u8]>> for SmallBytes {
  fn from(b: Box<[u8]>) -> Self {
    if b.len() <= INLINE {
      SmallBytes::from(&*b)
    } else {
      SmallBytes::Heap(b)
    }
  }
}

impl Deref for SmallBytes {
  type Target = [u8];
  fn deref(&self) -> &[u8] {
    match self {
      SmallBytes::Inline(len, buf) => &buf[..*len as usize],
      SmallBytes::Heap(b) => b,
    }
  }
}

impl Borrow<[u8]> for SmallBytes {
  fn borrow(&self) -> &[u8] {
    self
  }
}

// Hash and Eq must agree with `[u8]`'s, since lookups borrow as `[u8]`.
impl Hash for SmallBytes {
  fn hash<H: Hasher>(&self, state: &mut H) {
    (**self).hash(state)
  }
}

impl PartialEq for SmallBytes {
  fn eq(&self, other: &Self) -> bool {
    **self == **other
  }
}

impl Eq for SmallBytes {}

/// Key bytes as looked up in the store. Same hash as `[u8]`; equality
/// compares keys of 4-16 bytes with two word loads each instead of a call to
/// `memcmp` (the call was ~2.5% of a `get` in perf).
#[repr(transparent)]
#[derive(Debug)]
pub struct Key([u8]);

impl Key {
  #[inline(always)]
  pub fn new(bytes: &[u8]) -> &Key {
    // SAFETY: `Key` is a `repr(transparent)` wrapper of `[u8]`, so the two
    // references have the same layout and metadata (as `Path` over `OsStr`).
    unsafe { &*(bytes as *const [u8] as *const Key) }
  }
}

impl PartialEq for Key {
  #[inline(always)]
  fn eq(&self, other: &Key) -> bool {
    let (a, b) = (&self.0, &other.0);
    let n = a.len();
    if n != b.len() {
      return false;
    }
    // Two overlapping loads cover every length in the range.
    if (8..=16).contains(&n) {
      let w = |s: &[u8], i: usize| u64::from_ne_bytes(s[i..i + 8].try_into().expect("8 bytes"));
      return w(a, 0) == w(b, 0) && w(a, n - 8) == w(b, n - 8);
    }
    if (4..8).contains(&n) {
      let w = |s: &[u8], i: usize| u32::from_ne_bytes(s[i..i + 4].try_into().expect("4 bytes"));
      return w(a, 0) == w(b, 0) && w(a, n - 4) == w(b, n - 4);
    }
    a == b
  }
}

impl Eq for Key {}

impl Hash for Key {
  #[inline(always)]
  fn hash<H: Hasher>(&self, state: &mut H) {
    self.0.hash(state)
  }
}

impl Borrow<Key> for SmallBytes {
  #[inline(always)]
  fn borrow(&self) -> &Key {
    Key::new(self)
  }
}

impl std::fmt::Debug for SmallBytes {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    (**self).fmt(f)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn inline_and_heap_hold_the_same_bytes() {
    for n in [0usize, 1, 21, 22, 23, 100] {
      let v: Vec<u8> = (0..n as u8).collect();
      let s = SmallBytes::from(&v[..]);
      assert_eq!(&*s, &v[..]);
      assert_eq!(matches!(s, SmallBytes::Inline(..)), n <= INLINE);
      assert_eq!(&*s.clone().into_box(), &v[..]);
      assert_eq!(SmallBytes::from(v.clone().into_boxed_slice()), s);
    }
    assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
  }

  #[test]
  fn key_equality_matches_slice_equality() {
    let words: Vec<Vec<u8>> = (0..40u8)
      .flat_map(|n| {
        let base: Vec<u8> = (0..n).map(|i| b'a' + i % 26).collect();
        let mut first = base.clone();
        let mut last = base.clone();
        if n > 0 {
          first[0] ^= 1;
          last[n as usize - 1] ^= 1;
        }
        [base, first, last]
      })
      .collect();
    for a in &words {
      for b in &words {
        assert_eq!(Key::new(a) == Key::new(b), a == b, "{a:?} vs {b:?}");
      }
    }
  }

  #[test]
  fn tagged_is_the_tag_then_the_payload() {
    for n in [0usize, 1, 20, 21, 22, 100] {
      let payload: Vec<u8> = (0..n as u8).collect();
      let t = SmallBytes::tagged(7, &payload);
      assert_eq!(t[0], 7);
      assert_eq!(&t[1..], &payload[..]);
      assert_eq!(matches!(t, SmallBytes::Inline(..)), n < INLINE);
    }
  }
}
