//! The native half of the JS memo of hot values (`lib/cache/memo.js`).
//!
//! The JS side serves repeated reads of small immutable values from a Map,
//! without a native call. To keep recency, evictions and the hit counter
//! exact, it queues each read it served by memo slot in a shared Int32Array;
//! the handle replays the queue as `get` hits, in order, at the start of its
//! next call of any kind (`Handle::catch_up`). The native side knows which
//! key each slot holds (`getRemember` records it, `Entry::tag` carries it),
//! so that a `set` can tell the JS side which memo slot an eviction emptied.

use std::ptr;

use napi::sys;

use super::handle::{AnyStore, Handle};
use super::toolkit::{type_error, Cx, R};
use crate::cache::SmallBytes;
use crate::errors::ErrorCode;

// ---- The memo protocol --------------------------------------------------
// One half of it; the other is `PROTOCOL` in lib/cache/memo.js. Keep the two
// in step (a spec compares them through `cacheOps.memoProtocol`).

/// The replay queue is an Int32Array laid out `[count, slot, slot, ...]`:
/// the index of the count of queued reads,
pub const QUEUE_COUNT: usize = 0;
/// and the index of the first queued slot (reads follow in order).
pub const QUEUE_FIRST: usize = 1;
/// What a `set` returns when its evictions emptied no memo slot,
pub const EVICTED_NONE: i32 = -1;
/// or emptied several (the JS memo then forgets everything); else the one
/// slot that was emptied.
pub const EVICTED_SEVERAL: i32 = -2;
/// Most memo slots the JS side may use (it uses fewer; this bounds the
/// table against a bad argument).
pub const MEMO_SLOTS_MAX: usize = 1 << 16;
/// A queued entry at or above QUEUE_SET is a `set` of the value the memo
/// holds in slot `entry - QUEUE_SET` (served by the JS side: it changes
/// nothing but recency and the `sets` count), below it a read of that slot.
pub const QUEUE_SET: i32 = MEMO_SLOTS_MAX as i32;
/// For a store threads share, a memo entry is checked against the store's
/// change stamps (`cacheOps.stamps(h)`, an ArrayBuffer of STAMP_SLOTS
/// u32): `getRemember` writes the key's stamp slot at SEEN_SLOT and the
/// stamp it read before the value at SEEN_STAMP of the `seen` Int32Array;
/// the entry is good while the stamp is unchanged.
pub const SEEN_SLOT: usize = 0;
pub const SEEN_STAMP: usize = 1;

/// The protocol's numbers by name, for `cacheOps.memoProtocol`.
pub const PROTOCOL: [(&str, i32); 9] = [
  ("QUEUE_COUNT", QUEUE_COUNT as i32),
  ("QUEUE_FIRST", QUEUE_FIRST as i32),
  ("QUEUE_SET", QUEUE_SET),
  ("EVICTED_NONE", EVICTED_NONE),
  ("EVICTED_SEVERAL", EVICTED_SEVERAL),
  ("SLOTS_MAX", MEMO_SLOTS_MAX as i32),
  ("SEEN_SLOT", SEEN_SLOT as i32),
  ("SEEN_STAMP", SEEN_STAMP as i32),
  ("STAMP_SLOTS", crate::cache::STAMP_SLOTS as i32),
];

// ---- The queue and the slot table -----------------------------------------

/// An Int32Array the JS memo queues its reads in (see `QUEUE_COUNT`).
/// Held by a strong reference, so its memory stays put while we hold it.
pub struct Replay {
  reference: sys::napi_ref,
  data: *mut i32,
  len: usize,
}

impl Replay {
  /// Releases the strong reference (the handle is being dropped).
  pub fn release(self, env: sys::napi_env) {
    // SAFETY: called from `Handle`'s drop, which runs in a finalizer of the
    // env the reference was made on, on that env's thread.
    unsafe { sys::napi_delete_reference(env, self.reference) };
  }
}

impl Replay {
  /// Writes `values` at the start of the array.
  pub fn write(&self, values: &[i32]) {
    let n = values.len().min(self.len);
    // SAFETY: `data` points at `len` i32 of an Int32Array we hold a strong
    // reference to; JS runs on this thread and is not running now.
    let out = unsafe { std::slice::from_raw_parts_mut(self.data, self.len) };
    out[..n].copy_from_slice(&values[..n]);
  }
}

impl Handle {
  /// Records `key` as the one the JS memo holds under `slot`.
  pub fn remember(&self, slot: usize, key: &[u8]) {
    let mut keys = self.memo_keys.borrow_mut();
    if keys.len() <= slot {
      keys.resize(slot + 1, SmallBytes::from(&[][..]));
    }
    keys[slot] = SmallBytes::from(key);
  }

  /// Replays the reads the JS memo served since the last native call (as
  /// `get` hits, in order), so that recency and the hit counter are exact
  /// before this call looks at or changes the store. Costs one load when the
  /// queue is empty or there is no memo.
  #[inline]
  pub fn catch_up(&self) {
    let replay = self.replay.borrow();
    let Some(r) = replay.as_ref() else { return };
    // SAFETY: `data` points at `len` (>= 2) i32 of an Int32Array we hold a
    // strong reference to; JS runs on this thread and is not running now.
    let queue = unsafe { std::slice::from_raw_parts_mut(r.data, r.len) };
    let count = queue[QUEUE_COUNT];
    if count <= 0 {
      return;
    }
    queue[QUEUE_COUNT] = 0;
    let count = (count as usize).min(r.len - QUEUE_FIRST);
    let keys = self.memo_keys.borrow();
    // (key, true) a read, (key, false) a set of the same value.
    let queued = queue[QUEUE_FIRST..QUEUE_FIRST + count]
      .iter()
      .filter_map(|&i| {
        let (slot, read) = if i >= QUEUE_SET {
          (i - QUEUE_SET, false)
        } else {
          (i, true)
        };
        keys.get(usize::try_from(slot).ok()?).map(|k| (&**k, read))
      });
    if let AnyStore::Shared(_) = self.store {
      // A store other threads use: into this handle's read buffer, in
      // order after the reads already there, replayed with them (before
      // this handle's next change, or when the buffer is full). Replaying
      // here took the exclusive lock on almost every native call of a
      // thread whose memo serves most reads: with 4 threads on a store,
      // that lock was contended.
      for (key, read) in queued {
        if read {
          self.note_read(key);
        } else {
          self.note_same_set(key);
        }
      }
    } else {
      self.store.replay(queued, 0);
    }
  }
}

/// Collects which memo slots a `set`'s evictions emptied, for its return
/// value (`EVICTED_NONE`, one slot, or `EVICTED_SEVERAL`).
pub struct EvictedSlots(i32);

impl EvictedSlots {
  pub fn new() -> Self {
    EvictedSlots(EVICTED_NONE)
  }

  /// An evicted entry carried memo tag `slot`; it counts only if that slot
  /// still holds this key (the tag may be stale: the slot since reused).
  pub fn note(&mut self, h_keys: &[SmallBytes], slot: u32, key: &[u8]) {
    if h_keys.get(slot as usize).is_some_and(|k| **k == *key) {
      self.0 = if self.0 == EVICTED_NONE {
        slot as i32
      } else {
        EVICTED_SEVERAL
      };
    }
  }

  pub fn get(&self) -> i32 {
    self.0
  }
}

impl Cx {
  /// Gives `h` the JS memo's replay queue (an Int32Array of length >= 2),
  /// holding it with a strong reference.
  pub fn set_replay(self, h: &Handle, v: sys::napi_value) -> R<()> {
    let r = self.int32_array(v, "replay")?;
    if let Some(old) = h.replay.borrow_mut().replace(r) {
      self.delete_ref(old.reference);
    }
    Ok(())
  }

  /// Gives `h` the Int32Array where `getRemember` reports stamps (see `SEEN_*`).
  pub fn set_seen(self, h: &Handle, v: sys::napi_value) -> R<()> {
    let r = self.int32_array(v, "seen")?;
    if let Some(old) = h.seen.borrow_mut().replace(r) {
      self.delete_ref(old.reference);
    }
    Ok(())
  }

  /// An Int32Array of length >= 2, held with a strong reference.
  fn int32_array(self, v: sys::napi_value, what: &str) -> R<Replay> {
    let (ty, len, data) = self.typed_array(v).unwrap_or((-1, 0, ptr::null_mut()));
    if ty != sys::TypedarrayType::int32_array || len < QUEUE_FIRST + 1 || data.is_null() {
      return Err(type_error(
        ErrorCode::InvalidArgument,
        format!("The \"{what}\" argument must be an Int32Array of length 2 or more"),
      ));
    }
    let reference = self.strong_ref(v)?;
    Ok(Replay {
      reference,
      data: data as *mut i32,
      len,
    })
  }
}
