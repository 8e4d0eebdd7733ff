//! The off-heap LRU store behind `BoundedCache`: plain Rust, no napi.
//!
//! Keys and values are opaque byte strings (the glue decides their encoding);
//! the store bounds them by entry count (`max`) and by the exact number of
//! bytes held (`max_size`, key bytes + value bytes), expires them lazily by
//! TTL (no timer per entry), and hands every removed entry to a caller-supplied
//! sink so that `dispose` callbacks can run after the lock is released.

pub mod binding;
pub mod bytes;
pub mod clock;
pub mod registry;

#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

use lru::LruCache;
use parking_lot::lock_api::{self, GuardNoSend, RawRwLock};

pub use bytes::{Incoming, Key, SmallBytes, Tagged};

use crate::errors::{ErrorCode, LeakguardError};

/// The options that define a store. Two openings of one named store must
/// agree on all of them.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
  /// Most entries held; `None` = no count bound.
  pub max: Option<usize>,
  /// Most bytes (keys + values as stored) held; `None` = no byte bound.
  pub max_size: Option<u64>,
  /// Largest single entry in bytes; defaults to `max_size`.
  pub max_entry_size: Option<u64>,
  /// Default time-to-live in ms; 0 = entries do not expire.
  pub ttl: f64,
  /// A `get` hit restarts the entry's TTL.
  pub update_age_on_get: bool,
  /// `get`/`peek` return an expired entry (once, for `get`) instead of nothing.
  pub allow_stale: bool,
  /// Sizes counted against `max_size` are given with each `set` (lru-cache's
  /// `sizeCalculation`), not the exact stored bytes.
  pub custom_sizes: bool,
}

impl Config {
  /// Rejects a configuration without any bound and out-of-range numbers.
  pub fn validate(&self) -> Result<(), LeakguardError> {
    let bad = |m: String| Err(LeakguardError::new(ErrorCode::InvalidOption, m));
    if self.max.is_none() && self.max_size.is_none() {
      return bad("At least one of options.max or options.maxSize is required: an unbounded cache is the leak".into());
    }
    if self.max == Some(0) {
      return bad("options.max must be a positive integer (received 0)".into());
    }
    if self.max_size == Some(0) {
      return bad("options.maxSize must be a positive integer (received 0)".into());
    }
    if self.max_entry_size == Some(0) {
      return bad("options.maxEntrySize must be a positive integer (received 0)".into());
    }
    if !(self.ttl >= 0.0 && self.ttl.is_finite()) {
      return bad(format!(
        "options.ttl must be a non-negative finite number (received {})",
        self.ttl
      ));
    }
    Ok(())
  }

  /// The name of the first option in which `other` differs from `self`.
  pub fn first_difference(&self, other: &Config) -> Option<&'static str> {
    if self.max != other.max {
      Some("max")
    } else if self.max_size != other.max_size {
      Some("maxSize")
    } else if self.max_entry_size != other.max_entry_size {
      Some("maxEntrySize")
    } else if self.ttl != other.ttl {
      Some("ttl")
    } else if self.update_age_on_get != other.update_age_on_get {
      Some("updateAgeOnGet")
    } else if self.allow_stale != other.allow_stale {
      Some("allowStale")
    } else if self.custom_sizes != other.custom_sizes {
      Some("sizeCalculation")
    } else {
      None
    }
  }

  fn entry_limit(&self) -> Option<u64> {
    match (self.max_entry_size, self.max_size) {
      (Some(e), Some(s)) => Some(e.min(s)),
      (e, s) => e.or(s),
    }
  }
}

/// Why an entry left the store: lru-cache's `DisposeReason`, with its
/// rules (`pop` evicts, `clear` deletes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
  Evict,
  Set,
  Delete,
  Expire,
  /// A `fetch()` failed or resolved to nothing (decided by the JS side).
  Fetch,
}

impl Reason {
  pub fn as_str(self) -> &'static str {
    match self {
      Reason::Evict => "evict",
      Reason::Set => "set",
      Reason::Delete => "delete",
      Reason::Expire => "expire",
      Reason::Fetch => "fetch",
    }
  }

  /// The reason a caller names by number (`delete(h, key, reason)`).
  pub fn from_code(code: u32) -> Reason {
    match code {
      1 => Reason::Expire,
      2 => Reason::Fetch,
      _ => Reason::Delete,
    }
  }
}

/// An entry removed by an operation, for the caller's `dispose`.
#[derive(Debug)]
pub struct Disposed {
  pub key: Box<[u8]>,
  pub value: Box<[u8]>,
  pub reason: Reason,
}

/// Where removed entries go: `None` when nobody listens (they are dropped).
pub type Sink<'a> = Option<&'a mut Vec<Disposed>>;

/// The time of an operation, in ms on the store's clock. `Native` reads the
/// process-wide monotonic clock, and only if the operation needs the time.
#[derive(Clone, Copy, Debug)]
pub enum Now {
  Native,
  At(f64),
}

impl Now {
  fn get(&mut self) -> f64 {
    match *self {
      Now::At(t) => t,
      Now::Native => {
        let t = clock::now_ms();
        *self = Now::At(t);
        t
      }
    }
  }
}

#[derive(Debug)]
struct Entry {
  value: SmallBytes,
  /// When the TTL started (ms on the clock); meaningless if `ttl == 0`.
  start: f64,
  /// 0 = never expires.
  ttl: f64,
  /// A number the caller attached with `get_tagging` (`NO_TAG` if none),
  /// given back when the entry is evicted. The glue uses it for the slot of
  /// the JS memo of hot values that holds this entry's value. (The node is
  /// the same malloc size class with or without it.)
  tag: u32,
  /// The size counted against `max_size` when the caller gave one (lru-cache's
  /// `sizeCalculation`); 0 = the exact stored bytes. (Fits beside `tag`: the
  /// node stays the same size.)
  size: u32,
}

/// `Entry::tag` of an entry nobody tagged.
pub const NO_TAG: u32 = u32::MAX;

impl Entry {
  fn is_stale(&self, now: &mut Now) -> bool {
    self.ttl > 0.0 && now.get() - self.start > self.ttl
  }

  /// What this entry counts against `max_size` under `key`.
  fn counted(&self, key: &[u8]) -> u64 {
    if self.size != 0 {
      u64::from(self.size)
    } else {
      entry_bytes(key, &self.value)
    }
  }
}

/// How a read treats the entry (lru-cache's per-call get/peek/has options).
#[derive(Clone, Copy, Debug)]
pub struct ReadOpts {
  /// Give an expired entry's value (`allowStale`).
  pub allow_stale: bool,
  /// A hit restarts the entry's TTL (`updateAgeOnGet`/`updateAgeOnHas`).
  pub update_age: bool,
  /// A hit makes the entry most recently used and counts in the stats
  /// (`get`); false for `peek`/`has`.
  pub touch: bool,
  /// Remove an expired entry found (reason `expire`), as `get` does unless
  /// `noDeleteOnStaleGet`.
  pub delete_stale: bool,
}

/// What a read found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
  Miss,
  Hit,
  Stale,
}

/// What a read saw of the entry, for lru-cache's status objects.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
  pub found: Found,
  /// 0 when the entry has no TTL (or none was found).
  pub ttl: f64,
  pub start: f64,
}

/// Per-`set` options (lru-cache's `SetOptions` that reach the store).
#[derive(Clone, Copy, Debug, Default)]
pub struct SetOpts {
  /// Overrides the store's default TTL (0 = no expiry).
  pub ttl: Option<f64>,
  /// When the TTL started (lru-cache's `start`), instead of now.
  pub start: Option<f64>,
  /// The size counted against `max_size`; None = the exact stored bytes.
  pub size: Option<u32>,
  /// Replacing a value keeps the entry's TTL and start (`noUpdateTTL`).
  pub no_update_ttl: bool,
}

/// How a `set` went (lru-cache's `status.set`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetKind {
  Add,
  Replace,
  /// The same value again.
  Update,
}

/// What a `set` did, for the caller's status object and `onInsert`.
#[derive(Clone, Copy, Debug)]
pub struct SetReport {
  pub kind: SetKind,
  /// Other entries were evicted to make room.
  pub evicted: bool,
  /// What the entry counts against `max_size`.
  pub entry_size: u64,
  /// The store's counted size afterwards.
  pub total: u64,
  pub ttl: f64,
  pub start: f64,
}

/// Counters since the store was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
  pub hits: u64,
  pub misses: u64,
  pub sets: u64,
  pub evictions: u64,
  pub expirations: u64,
  pub deletes: u64,
  pub size: u64,
  pub calculated_size: u64,
}

struct Inner {
  lru: LruCache<SmallBytes, Entry>,
  bytes: u64,
  stats: Stats,
}

/// One entry as seen by iteration: key, value, TTL start and TTL.
pub struct EntryView<'a> {
  pub key: &'a [u8],
  pub value: &'a [u8],
  pub start: f64,
  pub ttl: f64,
  /// What it counts against `max_size`.
  pub size: u64,
}

/// The bounded store. All operations take the one lock briefly; removed
/// entries are pushed to the sink and dropped (or disposed) by the caller.
///
/// `L` is the lock: `parking_lot`'s reader-writer lock for a store that
/// threads share (the default, `Store`), or [`LocalLock`] for one that a
/// single thread owns (`LocalStore`, what an unnamed cache opens). Every
/// operation takes it exclusively except `get_shared`, the read path of
/// stores that many threads read at once.
pub struct Store<L: RawRwLock = parking_lot::RawRwLock> {
  config: Config,
  inner: lock_api::RwLock<L, Inner>,
  /// Change stamps of a store threads share (see `stamp_of`): every change
  /// to an entry bumps the stamp of its key's slot, under the lock, so that
  /// a thread's memo of values it read can be checked without a lock.
  stamps: Option<Box<[AtomicU32]>>,
}

/// Slots of a shared store's change stamps (16 KB): keys share a slot only
/// by hash, which costs a needless memo miss, never a wrong value.
pub const STAMP_SLOTS: usize = 4096;

/// The stamp slot of a key: FNV-1a of its bytes.
pub fn stamp_slot(key: &[u8]) -> usize {
  let h = key.iter().fold(0x811c_9dc5u32, |h, &b| {
    (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
  });
  h as usize & (STAMP_SLOTS - 1)
}

fn bump(stamps: Option<&[AtomicU32]>, key: &[u8]) {
  if let Some(st) = stamps {
    st[stamp_slot(key)].fetch_add(1, Ordering::Release);
  }
}

/// What `get_shared` found.
#[derive(Debug)]
pub enum Quick<R> {
  /// Fresh: the value (recency and the hit are the caller's to record).
  Hit(R),
  /// Absent (the miss is the caller's to count).
  Miss,
  /// Present but the read needs the exclusive path (expired, or the store
  /// restarts ages on get).
  Slow,
}

/// A store only its creating thread can use: the compiler refuses to share
/// it (`LocalLock` is not `Sync`).
pub type LocalStore = Store<LocalLock>;

/// The lock of a store that one thread owns: a plain counter, no atomic
/// instruction. An uncontended `parking_lot` lock + unlock is two atomic
/// read-modify-writes, ~5 ns here (`cargo run --release` of a 50M-iteration
/// loop), about 4% of a native `get` called from JS; an unnamed cache has
/// no other thread to exclude. A nested lock (a bug: the store never calls
/// out while locked) panics instead of deadlocking, and the glue turns the
/// panic into a coded JS error.
pub struct LocalLock(Cell<usize>);

/// `LocalLock`'s state when held exclusively (else: the number of readers).
const EXCLUSIVE: usize = usize::MAX;

// SAFETY: `lock_exclusive`/`try_lock_exclusive` only succeed while nobody
// holds the lock, and `lock_shared`/`try_lock_shared` only while no one holds
// it exclusively; each unlock is only called by the guard that locked. The
// state is a `Cell`, so the lock is `!Sync` and never reached from two threads.
unsafe impl RawRwLock for LocalLock {
  #[allow(clippy::declare_interior_mutable_const)]
  const INIT: LocalLock = LocalLock(Cell::new(0));
  type GuardMarker = GuardNoSend;

  #[inline]
  fn lock_exclusive(&self) {
    assert!(
      self.try_lock_exclusive(),
      "leakguard: a cache store was locked twice by its own thread"
    );
  }

  #[inline]
  fn try_lock_exclusive(&self) -> bool {
    if self.0.get() != 0 {
      return false;
    }
    self.0.set(EXCLUSIVE);
    true
  }

  #[inline]
  unsafe fn unlock_exclusive(&self) {
    self.0.set(0);
  }

  #[inline]
  fn lock_shared(&self) {
    assert!(
      self.try_lock_shared(),
      "leakguard: a cache store was locked twice by its own thread"
    );
  }

  #[inline]
  fn try_lock_shared(&self) -> bool {
    let n = self.0.get();
    if n == EXCLUSIVE {
      return false;
    }
    self.0.set(n + 1);
    true
  }

  #[inline]
  unsafe fn unlock_shared(&self) {
    self.0.set(self.0.get() - 1);
  }
}

fn entry_bytes(key: &[u8], value: &[u8]) -> u64 {
  (key.len() + value.len()) as u64
}

impl Store {
  /// A store that threads can share.
  pub fn new(config: Config) -> Result<Store, LeakguardError> {
    let mut s = Store::with_lock(config)?;
    s.stamps = Some((0..STAMP_SLOTS).map(|_| AtomicU32::new(0)).collect());
    Ok(s)
  }

  /// The change stamps (see `Store::stamps`), for the glue to hand to JS.
  pub fn stamps(&self) -> Option<&[AtomicU32]> {
    self.stamps.as_deref()
  }

  /// The stamp slot of `key` and its stamp now. Read before the value (see
  /// the glue's `getRemember`): a change after it makes the pair stale.
  pub fn stamp_of(&self, key: &[u8]) -> (usize, u32) {
    let i = stamp_slot(key);
    let st = self
      .stamps
      .as_deref()
      .map_or(0, |s| s[i].load(Ordering::Acquire));
    (i, st)
  }
}

impl LocalStore {
  /// A store for the calling thread only.
  pub fn new_local(config: Config) -> Result<LocalStore, LeakguardError> {
    Store::with_lock(config)
  }
}

impl<L: RawRwLock> Store<L> {
  fn with_lock(config: Config) -> Result<Store<L>, LeakguardError> {
    config.validate()?;
    Ok(Store {
      config,
      stamps: None,
      inner: lock_api::RwLock::new(Inner {
        lru: LruCache::unbounded(),
        bytes: 0,
        stats: Stats::default(),
      }),
    })
  }

  pub fn config(&self) -> &Config {
    &self.config
  }

  /// Looks `key` up, updating recency (and age with `update_age_on_get`), and
  /// passes the value to `f` while the lock is held. Expired entries are
  /// removed (reason `expire`); with `allow_stale` their value is still given.
  pub fn get<R>(&self, key: &[u8], now: Now, sink: Sink, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    self.get_tagging(key, now, sink, None, f)
  }

  /// The store's own read options for `get`.
  pub fn get_opts(&self) -> ReadOpts {
    ReadOpts {
      allow_stale: self.config.allow_stale,
      update_age: self.config.update_age_on_get,
      touch: true,
      delete_stale: true,
    }
  }

  /// `get` that also attaches `tag` to the entry on a hit (see `Entry::tag`).
  #[inline]
  pub fn get_tagging<R>(
    &self,
    key: &[u8],
    now: Now,
    sink: Sink,
    tag: Option<u32>,
    f: impl FnOnce(&[u8]) -> R,
  ) -> Option<R> {
    self.read(key, now, sink, self.get_opts(), tag, f).0
  }

  /// The one read behind `get`, `peek` and `has`, with lru-cache's per-call
  /// options: gives the value to `f` (under the lock) when found and fresh,
  /// or expired with `allow_stale`; says what it saw.
  #[inline]
  pub fn read<R>(
    &self,
    key: &[u8],
    mut now: Now,
    sink: Sink,
    opts: ReadOpts,
    tag: Option<u32>,
    f: impl FnOnce(&[u8]) -> R,
  ) -> (Option<R>, Seen) {
    let mut g = self.inner.write();
    let inner = &mut *g;
    let entry = if opts.touch {
      inner.lru.get_mut(Key::new(key))
    } else {
      inner.lru.peek_mut(Key::new(key))
    };
    let Some(entry) = entry else {
      if opts.touch {
        inner.stats.misses += 1;
      }
      return (
        None,
        Seen {
          found: Found::Miss,
          ttl: 0.0,
          start: 0.0,
        },
      );
    };
    let mut seen = Seen {
      found: Found::Hit,
      ttl: entry.ttl,
      start: entry.start,
    };
    if entry.is_stale(&mut now) {
      seen.found = Found::Stale;
      let r = opts.allow_stale.then(|| f(&entry.value));
      if opts.touch {
        inner.stats.misses += 1;
      }
      if opts.delete_stale {
        inner.remove(key, Reason::Expire, sink, self.stamps.as_deref());
      } else if opts.touch {
        // lru-cache leaves a stale entry it keeps where it was.
      }
      return (r, seen);
    }
    if opts.update_age && entry.ttl > 0.0 {
      entry.start = now.get();
    }
    if opts.touch {
      inner.stats.hits += 1;
    }
    if let Some(tag) = tag {
      entry.tag = tag;
    }
    (Some(f(&entry.value)), seen)
  }

  /// Replays `get` hits that were served elsewhere (the JS side's memo of
  /// hot values, or `get_shared`): each key, in order, becomes most recently
  /// used and counts as a hit, under one lock; `misses` more misses are
  /// counted. Keys no longer present are skipped.
  pub fn touch<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>, misses: u64) {
    self.replay(keys.into_iter().map(|k| (k, true)), misses)
  }

  /// `touch` of buffered events in order: `(key, true)` a read (a hit if
  /// the key is still there), `(key, false)` a set of the same value again
  /// (see `set_same_shared`: it counts as a set).
  pub fn replay<'k>(&self, events: impl IntoIterator<Item = (&'k [u8], bool)>, misses: u64) {
    let mut g = self.inner.write();
    let inner = &mut *g;
    inner.stats.misses += misses;
    for (key, read) in events {
      let present = inner.lru.get_mut(Key::new(key)).is_some();
      if !read {
        inner.stats.sets += 1;
      } else if present {
        inner.stats.hits += 1;
      }
    }
  }

  /// A `set` of the value a key already holds, under the shared lock: true
  /// when the entry exists with exactly these bytes, no TTL and no given
  /// size, and the set would use no TTL either; then nothing changes but
  /// recency and the `sets` count, which the caller records like a read
  /// (`touch_counting`). False: take the exclusive path.
  pub fn set_same_shared(&self, key: &[u8], value: &impl Incoming, ttl: Option<f64>) -> bool {
    if ttl.unwrap_or(self.config.ttl) != 0.0 {
      return false;
    }
    let g = self.inner.read();
    matches!(g.lru.peek(Key::new(key)), Some(e) if e.ttl == 0.0 && e.size == 0 && value.same_as(&e.value))
  }

  /// `get` under the shared lock, so that threads reading one store at
  /// once do not wait for each other: a fresh entry's value is given to `f`
  /// without moving the entry; the caller records the read (and a miss) and
  /// replays them with `touch` in batches (Caffeine's read buffer). An
  /// entry that needs more (expired, or an age to restart) is `Slow`.
  #[inline]
  pub fn get_shared<R>(&self, key: &[u8], mut now: Now, f: impl FnOnce(&[u8]) -> R) -> Quick<R> {
    let g = self.inner.read();
    match g.lru.peek(Key::new(key)) {
      None => Quick::Miss,
      Some(e) if self.config.update_age_on_get || e.is_stale(&mut now) => Quick::Slow,
      Some(e) => Quick::Hit(f(&e.value)),
    }
  }

  /// Like `get` without touching recency, age, stats, or expired entries.
  pub fn peek<R>(&self, key: &[u8], now: Now, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    let opts = ReadOpts {
      allow_stale: self.config.allow_stale,
      update_age: false,
      touch: false,
      delete_stale: false,
    };
    self.read(key, now, None, opts, None, f).0
  }

  /// The entry under `key`, expired or not, without touching anything.
  pub fn peek_entry<R>(&self, key: &[u8], f: impl FnOnce(EntryView<'_>) -> R) -> Option<R> {
    let g = self.inner.read();
    let e = g.lru.peek(Key::new(key))?;
    Some(f(EntryView {
      key,
      value: &e.value,
      start: e.start,
      ttl: e.ttl,
      size: e.counted(key),
    }))
  }

  /// Present and not expired; does not touch recency.
  pub fn has(&self, key: &[u8], mut now: Now) -> bool {
    let g = self.inner.read();
    matches!(g.lru.peek(Key::new(key)), Some(e) if !e.is_stale(&mut now))
  }

  /// Stores `value` under `key` as most recently used, then evicts least
  /// recently used entries until both bounds hold. `ttl` overrides the
  /// store's default for this entry (0 = no expiry). An entry larger than
  /// `maxEntrySize`/`maxSize` is refused (any older value of the key is
  /// removed with reason `set`, as lru-cache does) with `EntryTooLarge`.
  /// Returns whether other entries were evicted to make room.
  pub fn set(
    &self,
    key: &[u8],
    value: impl Incoming,
    ttl: Option<f64>,
    now: Now,
    sink: Sink,
  ) -> Result<bool, LeakguardError> {
    self.set_reporting(key, value, ttl, now, sink, |_, _| ())
  }

  /// `set` that also calls `tagged_evicted(tag, key)` for each evicted entry
  /// that carries a tag (see `Entry::tag`), while the store is locked.
  pub fn set_reporting(
    &self,
    key: &[u8],
    value: impl Incoming,
    ttl: Option<f64>,
    now: Now,
    sink: Sink,
    tagged_evicted: impl FnMut(u32, &[u8]),
  ) -> Result<bool, LeakguardError> {
    let opts = SetOpts {
      ttl,
      ..SetOpts::default()
    };
    Ok(
      self
        .set_with(key, value, opts, now, sink, tagged_evicted)?
        .evicted,
    )
  }

  /// The one `set`, with lru-cache's per-call options, reporting what it did.
  pub fn set_with(
    &self,
    key: &[u8],
    value: impl Incoming,
    opts: SetOpts,
    mut now: Now,
    mut sink: Sink,
    mut tagged_evicted: impl FnMut(u32, &[u8]),
  ) -> Result<SetReport, LeakguardError> {
    let size = match opts.size {
      Some(s) => u64::from(s),
      None => (key.len() + value.stored_len()) as u64,
    };
    let ttl = opts.ttl.unwrap_or(self.config.ttl);
    // Sizes the caller gave have no unit; exact ones are bytes.
    let unit = if opts.size.is_some() { "" } else { " bytes" };
    let mut g = self.inner.write();
    let inner = &mut *g;
    if let Some(limit) = self.config.entry_limit() {
      if size > limit {
        inner.remove(key, Reason::Set, sink, self.stamps.as_deref());
        return Err(LeakguardError::new(
          ErrorCode::EntryTooLarge,
          format!(
            "The entry for key {} is {size}{unit}, more than {} ({limit}{unit}); it was not stored",
            describe_key(key),
            if self.config.max_entry_size == Some(limit) {
              "options.maxEntrySize"
            } else {
              "options.maxSize"
            }
          ),
        ));
      }
    }
    let start = if ttl > 0.0 {
      opts.start.unwrap_or_else(|| now.get())
    } else {
      0.0
    };
    let stored_size = opts.size.unwrap_or(0);
    inner.stats.sets += 1;
    // One lookup (which also makes the entry most recently used) decides
    // between refreshing, replacing and inserting.
    let (kind, old) = match inner.lru.get_mut(Key::new(key)) {
      Some(slot) if value.same_as(&slot.value) && slot.size == stored_size => {
        // The same bytes again (lru-cache's `v === oldValue`): no dispose,
        // and no reallocation, so threads that store the same data into a
        // shared store do not churn the allocator.
        if !opts.no_update_ttl {
          slot.start = start;
          slot.ttl = ttl;
        }
        let (ttl, start) = (slot.ttl, slot.start);
        return Ok(SetReport {
          kind: SetKind::Update,
          evicted: false,
          entry_size: size,
          total: inner.bytes,
          ttl,
          start,
        });
      }
      Some(slot) => {
        // The tag stays: whoever tagged the key may still hold it (a stale
        // tag is harmless, a lost one would hide a later eviction).
        let (ttl, start) = if opts.no_update_ttl {
          (slot.ttl, slot.start)
        } else {
          (ttl, start)
        };
        let new = Entry {
          value: value.into_stored(),
          start,
          ttl,
          tag: slot.tag,
          size: stored_size,
        };
        (SetKind::Replace, Some(std::mem::replace(slot, new)))
      }
      None => {
        let entry = Entry {
          value: value.into_stored(),
          start,
          ttl,
          tag: NO_TAG,
          size: stored_size,
        };
        inner.lru.push(key.into(), entry);
        (SetKind::Add, None)
      }
    };
    bump(self.stamps.as_deref(), key);
    if let Some(old) = old {
      inner.bytes = inner.bytes - old.counted(key) + size;
      if let Some(s) = sink.as_deref_mut() {
        s.push(Disposed {
          key: key.into(),
          value: old.value.into_box(),
          reason: Reason::Set,
        });
      }
    } else {
      inner.bytes += size;
    }
    let mut evicted = false;
    while self.config.max.is_some_and(|m| inner.lru.len() > m)
      || self.config.max_size.is_some_and(|m| inner.bytes > m)
    {
      evicted = true;
      let Some((k, e)) = inner.lru.pop_lru() else {
        break;
      };
      inner.bytes -= e.counted(&k);
      inner.stats.evictions += 1;
      bump(self.stamps.as_deref(), &k);
      if e.tag != NO_TAG {
        tagged_evicted(e.tag, &k);
      }
      if let Some(s) = sink.as_deref_mut() {
        s.push(Disposed {
          key: k.into_box(),
          value: e.value.into_box(),
          reason: Reason::Evict,
        });
      }
    }
    let (ttl, start) = inner
      .lru
      .peek(Key::new(key))
      .map_or((ttl, start), |e| (e.ttl, e.start));
    Ok(SetReport {
      kind,
      evicted,
      entry_size: size,
      total: inner.bytes,
      ttl,
      start,
    })
  }

  /// Removes `key` (reason `delete`); true if it was present.
  pub fn delete(&self, key: &[u8], sink: Sink) -> bool {
    self.delete_for(key, Reason::Delete, sink)
  }

  /// Removes `key` for `reason` (`delete`, or `expire`/`fetch` when the JS
  /// side decides: an autopurge timer, a failed fetch); true if present.
  pub fn delete_for(&self, key: &[u8], reason: Reason, sink: Sink) -> bool {
    let mut g = self.inner.write();
    let present = g.remove(key, reason, sink, self.stamps.as_deref());
    if present && reason != Reason::Expire {
      g.stats.deletes += 1;
    }
    present
  }

  /// Removes `key` if it has expired (reason `expire`); true if it was.
  pub fn expire(&self, key: &[u8], mut now: Now, sink: Sink) -> bool {
    let mut g = self.inner.write();
    let stale = matches!(g.lru.peek(Key::new(key)), Some(e) if e.is_stale(&mut now));
    stale && g.remove(key, Reason::Expire, sink, self.stamps.as_deref())
  }

  /// Removes the least recently used entry and gives its value to `f`
  /// (reason `evict`, as lru-cache's `pop`).
  pub fn pop<R>(&self, sink: Sink, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    let mut g = self.inner.write();
    let (k, e) = g.lru.pop_lru()?;
    bump(self.stamps.as_deref(), &k);
    g.bytes -= e.counted(&k);
    g.stats.deletes += 1;
    let r = f(&e.value);
    if let Some(s) = sink {
      s.push(Disposed {
        key: k.into_box(),
        value: e.value.into_box(),
        reason: Reason::Evict,
      });
    }
    Some(r)
  }

  /// Removes everything (reason `delete`, as lru-cache's `clear`).
  pub fn clear(&self, sink: Sink) {
    let mut g = self.inner.write();
    let old = std::mem::replace(&mut g.lru, LruCache::unbounded());
    g.bytes = 0;
    for st in self.stamps.iter().flat_map(|s| s.iter()) {
      st.fetch_add(1, Ordering::Release);
    }
    drop(g);
    if let Some(s) = sink {
      // lru's IntoIter yields LRU first, like eviction order.
      s.extend(old.into_iter().map(|(k, e)| Disposed {
        key: k.into_box(),
        value: e.value.into_box(),
        reason: Reason::Delete,
      }));
    }
  }

  /// Removes every expired entry (reason `expire`); true if any was.
  pub fn purge_stale(&self, mut now: Now, mut sink: Sink) -> bool {
    let mut g = self.inner.write();
    let stale: Vec<SmallBytes> = g
      .lru
      .iter()
      .filter(|(_, e)| e.is_stale(&mut now))
      .map(|(k, _)| k.clone())
      .collect();
    for k in &stale {
      g.remove(
        k,
        Reason::Expire,
        sink.as_deref_mut(),
        self.stamps.as_deref(),
      );
    }
    !stale.is_empty()
  }

  /// lru-cache's `getRemainingTTL`: 0 if absent, `Infinity` if the entry
  /// has no TTL, else ms left (negative once expired but not yet removed).
  pub fn remaining_ttl(&self, key: &[u8], mut now: Now) -> f64 {
    let g = self.inner.write();
    match g.lru.peek(Key::new(key)) {
      None => 0.0,
      Some(e) if e.ttl == 0.0 => f64::INFINITY,
      Some(e) => e.ttl - (now.get() - e.start),
    }
  }

  /// Visits entries from most to least recently used, skipping expired ones
  /// unless `include_stale`, with the lock held.
  pub fn for_each(&self, mut now: Now, include_stale: bool, mut f: impl FnMut(EntryView<'_>)) {
    let g = self.inner.write();
    for (k, e) in g.lru.iter() {
      if include_stale || !e.is_stale(&mut now) {
        f(EntryView {
          key: k,
          value: &e.value,
          start: e.start,
          ttl: e.ttl,
          size: e.counted(k),
        });
      }
    }
  }

  pub fn len(&self) -> usize {
    self.inner.write().lru.len()
  }

  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }

  /// Size held: the sum over entries of what each counts (exact key + value
  /// bytes, or the size the caller gave).
  pub fn calculated_size(&self) -> u64 {
    self.inner.write().bytes
  }

  pub fn stats(&self) -> Stats {
    let g = self.inner.write();
    Stats {
      size: g.lru.len() as u64,
      calculated_size: g.bytes,
      ..g.stats
    }
  }
}

impl Inner {
  fn remove(
    &mut self,
    key: &[u8],
    reason: Reason,
    sink: Sink,
    stamps: Option<&[AtomicU32]>,
  ) -> bool {
    let Some((k, e)) = self.lru.pop_entry(Key::new(key)) else {
      return false;
    };
    bump(stamps, key);
    self.bytes -= e.counted(&k);
    if reason == Reason::Expire {
      self.stats.expirations += 1;
    }
    if let Some(s) = sink {
      s.push(Disposed {
        key: k.into_box(),
        value: e.value.into_box(),
        reason,
      });
    }
    true
  }
}

/// A key for error messages: text if it is UTF-8, else its length.
pub fn describe_key(key: &[u8]) -> String {
  match std::str::from_utf8(key) {
    Ok(s) if s.chars().count() <= 60 => format!("{s:?}"),
    Ok(s) => format!("{:?}...", s.chars().take(57).collect::<String>()),
    Err(_) => format!("<{} bytes>", key.len()),
  }
}
