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
