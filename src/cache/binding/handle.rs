//! What a JS `BoundedCache` holds natively: a `Handle` (its store, its
//! `dispose`, its memo table), how a callback gets at it (a type-tagged
//! External argument, or the data of a function made by `bind`), and the
//! `dispose` calls made after an operation released the store lock.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use napi::sys;
use napi::sys::Status;

use super::memo::Replay;
use super::toolkit::{type_error, Callback, Cx, Fail, R};
use crate::cache::{
  Config, Disposed, EntryView, LocalStore, Now, ReadOpts, Reason, Seen, SetOpts, SetReport, Sink,
  SmallBytes, Stats, Store, Tagged,
};
use crate::errors::{ErrorCode, LeakguardError};

/// Type tag of the store Externals made by `open` (random, fixed: it names
/// the type, not an instance). `Cx::handle` reads no External without it.
pub static STORE_TAG: sys::napi_type_tag = sys::napi_type_tag {
  lower: 0x1e81_9874_ece8_e5c9,
  upper: 0xcb61_fe70_32a1_2ae3,
};

/// What one JS-facing store instance holds: the (possibly shared) store, and
/// this instance's `dispose`, as a weak reference (the JS wrapper keeps the
/// function alive; a strong one would make a cycle through native memory
/// when `dispose` closes over the cache).
///
/// Shared (`Rc`: all of them live and die on the env's thread) by the store
/// External and the functions `bind` makes for it, each holding one count,
/// so a bound function taken out of its cache keeps the handle alive. It is
/// dropped by the last of their finalizers.
pub struct Handle {
  pub store: AnyStore,
  /// Keys of the values the JS side holds in its memo of hot values, by
  /// memo slot (see `getRemember` and `touch`, and `lib/cache/cache.js`).
  pub memo_keys: RefCell<Vec<SmallBytes>>,
  /// The JS memo's queue of reads not yet seen by the store, given by `bind`.
  pub replay: RefCell<Option<Replay>>,
  /// Reads of a shared store served under its shared lock and not yet
  /// replayed to it (see `Store::get_shared`).
  pub reads: RefCell<Reads>,
  /// Where `getRemember` on a shared store reports the stamp slot and stamp
  /// of the key it read (an Int32Array of 2 given by `bind`; see memo.rs).
  pub seen: RefCell<Option<Replay>>,
  pub name: Option<String>,
  pub dispose: sys::napi_ref,
  /// The env `dispose` was created on (and the only one this handle is used on).
  pub env: sys::napi_env,
}

/// A named store (shared with every thread that opens the name) or an
/// unnamed one, which only this handle's thread ever uses, so it takes no
/// atomic lock (see `LocalLock`).
// The local store sits inline on purpose: a handle is made once per cache,
// and boxing it would add a pointer chase to every operation.
#[allow(clippy::large_enum_variant)]
pub enum AnyStore {
  Shared(Arc<Store>),
  Local(LocalStore),
}

/// `AnyStore::op(args)` = the same op on whichever store it is.
macro_rules! forward {
  ($(fn $name:ident $(<$g:ident>)? (&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
    impl AnyStore {
      $(
        #[inline]
        pub fn $name $(<$g>)? (&self $(, $arg: $ty)*) -> $ret {
          match self {
            AnyStore::Shared(s) => s.$name($($arg),*),
            AnyStore::Local(s) => s.$name($($arg),*),
          }
        }
      )*
    }
  };
}

forward! {
  fn get<T>(&self, key: &[u8], now: Now, sink: Sink, f: impl FnOnce(&[u8]) -> T) -> Option<T>;
  fn peek<T>(&self, key: &[u8], now: Now, f: impl FnOnce(&[u8]) -> T) -> Option<T>;
  fn peek_entry<T>(&self, key: &[u8], f: impl FnOnce(EntryView<'_>) -> T) -> Option<T>;
  fn has(&self, key: &[u8], now: Now) -> bool;
  fn get_tagging<T>(&self, key: &[u8], now: Now, sink: Sink, tag: Option<u32>, f: impl FnOnce(&[u8]) -> T) -> Option<T>;
  fn read<T>(&self, key: &[u8], now: Now, sink: Sink, opts: ReadOpts, tag: Option<u32>, f: impl FnOnce(&[u8]) -> T) -> (Option<T>, Seen);
  fn set_with(&self, key: &[u8], value: Tagged<'_>, opts: SetOpts, now: Now, sink: Sink, tagged_evicted: impl FnMut(u32, &[u8])) -> Result<SetReport, LeakguardError>;
  fn delete_for(&self, key: &[u8], reason: Reason, sink: Sink) -> bool;
  fn expire(&self, key: &[u8], now: Now, sink: Sink) -> bool;
  fn pop<T>(&self, sink: Sink, f: impl FnOnce(&[u8]) -> T) -> Option<T>;
  fn clear(&self, sink: Sink) -> ();
  fn purge_stale(&self, now: Now, sink: Sink) -> bool;
  fn remaining_ttl(&self, key: &[u8], now: Now) -> f64;
  fn for_each(&self, now: Now, include_stale: bool, f: impl FnMut(EntryView<'_>)) -> ();
  fn len(&self) -> usize;
  fn calculated_size(&self) -> u64;
  fn stats(&self) -> Stats;
  fn config(&self) -> &Config;
}

impl AnyStore {
  pub fn replay<'k>(&self, events: impl IntoIterator<Item = (&'k [u8], bool)>, misses: u64) {
    match self {
      AnyStore::Shared(s) => s.replay(events, misses),
      AnyStore::Local(s) => s.replay(events, misses),
    }
  }
}

impl Drop for Handle {
  fn drop(&mut self) {
    if let Some(r) = self.replay.get_mut().take() {
      r.release(self.env);
    }
    if let Some(r) = self.seen.get_mut().take() {
      r.release(self.env);
    }
    if !self.dispose.is_null() {
      // SAFETY: a Handle is dropped only by a finalizer of its env, on that
      // env's thread, and the env is still alive while its finalizers run.
      unsafe { sys::napi_delete_reference(self.env, self.dispose) };
    }
  }
}

/// The read buffer of a handle on a shared store: the keys it read (in
/// order) and the misses it saw, replayed to the store every READ_BUFFER
/// reads and before any other operation of this handle, so that this
/// thread's own sequence of operations sees exact recency; other threads
/// see its reads at most READ_BUFFER reads late.
#[derive(Default)]
pub struct Reads {
  /// Keys in order: true a read, false a set of the same value (see
  /// `Store::set_same_shared`).
  keys: Vec<(SmallBytes, bool)>,
  misses: u64,
}

/// Reads buffered before a replay.
const READ_BUFFER: usize = 64;

impl Handle {
  /// Records a read served by `get_shared`.
  #[inline]
  pub fn note_read(&self, key: &[u8]) {
    self.note(key, true);
  }

  /// Records a set of the same value served by `set_same_shared`.
  pub fn note_same_set(&self, key: &[u8]) {
    self.note(key, false);
  }

  fn note(&self, key: &[u8], read: bool) {
    let mut r = self.reads.borrow_mut();
    r.keys.push((SmallBytes::from(key), read));
    if r.keys.len() >= READ_BUFFER {
      drop(r);
      self.flush_reads();
    }
  }

  /// Records a miss seen by `get_shared`.
  pub fn note_miss(&self) {
    self.reads.borrow_mut().misses += 1;
  }

  /// Replays the buffered reads to the store (one exclusive lock).
  pub fn flush_reads(&self) {
    let mut r = self.reads.borrow_mut();
    if r.keys.is_empty() && r.misses == 0 {
      return;
    }
    self
      .store
      .replay(r.keys.iter().map(|(k, read)| (&**k, *read)), r.misses);
    r.keys.clear();
    r.misses = 0;
  }

  /// Wraps a new handle in a store External (tagged `STORE_TAG`) that owns
  /// the first count of it.
  pub fn into_external(self, cx: Cx) -> R<sys::napi_value> {
    let raw = Rc::into_raw(Rc::new(self)) as *mut c_void;
    let out = match cx.external(raw, finalize_handle) {
      Ok(out) => out,
      Err(f) => {
        // SAFETY: no External was made, so the count `raw` holds is still ours.
        drop(unsafe { Rc::from_raw(raw as *const Handle) });
        return Err(f);
      }
    };
    // An untagged External would be refused by every op; if tagging fails
    // the External is dropped and its finalizer frees `raw` later.
    cx.type_tag(out, &STORE_TAG)?;
    Ok(out)
  }

  /// A function running `cb` with this handle as its N-API data (see
  /// `Cx::bound`). The function owns a count of the handle, released by its
  /// finalizer, so it keeps the handle alive after its cache is collected.
  pub fn bound_function(&self, cx: Cx, name: &str, cb: Callback) -> R<sys::napi_value> {
    let data = self as *const Handle;
    // SAFETY: `self` is behind a live `Rc<Handle>` (every `&Handle` a
    // callback gets comes from one: see `Cx::handle` and `Cx::bound`); this
    // new count becomes the function's data.
    unsafe { Rc::increment_strong_count(data) };
    let f = match cx.function(name, cb, data as *mut c_void) {
      Ok(f) => f,
      Err(fail) => {
        // SAFETY: no function was made, so the count taken above is still ours.
        drop(unsafe { Rc::from_raw(data) });
        return Err(fail);
      }
    };
    // If this fails, the function is never returned, so nothing calls it;
    // its count is leaked rather than risk a dangling data pointer.
    cx.add_finalizer(f, data as *mut c_void, finalize_handle)?;
    Ok(f)
  }

  pub fn sink<'a>(&self, v: &'a mut Vec<Disposed>) -> Option<&'a mut Vec<Disposed>> {
    if self.dispose.is_null() {
      None
    } else {
      Some(v)
    }
  }
}

impl Cx {
  /// The arguments of a function made by `bind`, and the handle that is its
  /// data. No check is needed: the data was set by `bind` and JS cannot
  /// change it. The reference is valid for the running callback: the
  /// function being called is alive, and so is the `Rc` count it holds.
  pub fn bound<'a, const N: usize>(
    self,
    info: sys::napi_callback_info,
  ) -> R<([sys::napi_value; N], usize, &'a Handle)> {
    self.bound_reading::<N>(info, false)
  }

  /// `bound` for get/peek/has (`reading`): the read buffer of a shared store
  /// is left to fill (a read does not need it replayed first).
  pub fn bound_reading<'a, const N: usize>(
    self,
    info: sys::napi_callback_info,
    reading: bool,
  ) -> R<([sys::napi_value; N], usize, &'a Handle)> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: as in `args_counted`; `data` is a valid out-pointer.
    let s = unsafe {
      sys::napi_get_cb_info(
        self.0,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        ptr::null_mut(),
        &mut data,
      )
    };
    self.check(s)?;
    if data.is_null() {
      return Err(type_error(
        ErrorCode::Panic,
        "leakguard: bound cache function without a handle",
      ));
    }
    // SAFETY: the callbacks that read their data this way are only ever
    // created by `cb_bind`, with an `Rc<Handle>` count as data (see above).
    let h = unsafe { &*(data as *const Handle) };
    h.catch_up();
    if !reading {
      h.flush_reads();
    }
    Ok((argv, argc, h))
  }

  /// The handle behind a store External. The returned reference is valid for
  /// the running callback: the External is one of its arguments, so it stays
  /// reachable, and the handle is only freed by the External's finalizer.
  ///
  /// The ops are reachable from JS by deep-requiring `binding.js`, so `v` can
  /// be anything: a non-External is refused by `napi_get_value_external`, and
  /// an External made by other native code by its missing `STORE_TAG`. Only
  /// then is its data read as a `Handle`. Measured: the tag check costs
  /// ~10 ns per call (~8% of a `get`); a thread-local set of live handle
  /// addresses was slower (TLS in a dlopen'ed library goes through
  /// `__tls_get_addr`, plus a hash lookup).
  pub fn handle<'a>(self, v: sys::napi_value) -> R<&'a Handle> {
    let mut data: *mut c_void = ptr::null_mut();
    // SAFETY: see `Cx`; `data` is a valid out-pointer.
    let s = unsafe { sys::napi_get_value_external(self.0, v, &mut data) };
    let mut ours = false;
    if s == Status::napi_ok && !data.is_null() {
      // SAFETY: see `Cx`; `v` is an External (an object to V8), the tag is a
      // 'static, `ours` is a valid out-pointer.
      let s = unsafe { sys::napi_check_object_type_tag(self.0, v, &STORE_TAG, &mut ours) };
      ours &= s == Status::napi_ok;
      if s == Status::napi_pending_exception {
        let mut e = ptr::null_mut();
        // SAFETY: see `Cx`; drops the exception so the coded one is thrown.
        unsafe { sys::napi_get_and_clear_last_exception(self.0, &mut e) };
      }
    }
    if !ours {
      return Err(type_error(
        ErrorCode::InvalidArgument,
        format!(
          "The \"handle\" argument must be a BoundedCache store handle made by cacheOps.open() (received {})",
          self.type_name(v)
        ),
      ));
    }
    // SAFETY: `v` is an External tagged with STORE_TAG, and only `cb_open`
    // tags, right after creating the External around an `Rc<Handle>`
    // count that lives until the External's finalizer runs.
    let h = unsafe { &*(data as *const Handle) };
    h.catch_up();
    h.flush_reads();
    Ok(h)
  }

  /// Calls this instance's `dispose(value, key, reason)` for each removed
  /// entry, after the store lock is released (so `dispose` may use the
  /// cache). Every call is made even if one throws; the first error is
  /// rethrown afterwards.
  pub fn dispose(self, h: &Handle, removed: Vec<Disposed>) -> R<()> {
    if removed.is_empty() || h.dispose.is_null() {
      return Ok(());
    }
    let mut f = ptr::null_mut();
    // SAFETY: see `Cx`; `h.dispose` is a live reference created in `open` on this env.
    self.check(unsafe { sys::napi_get_reference_value(self.0, h.dispose, &mut f) })?;
    if f.is_null() {
      return Ok(());
    }
    let mut first_error: sys::napi_value = ptr::null_mut();
    for d in removed {
      let args = [
        self.decode(&d.value)?,
        self.key_value(&d.key)?,
        self.string(d.reason.as_str().as_bytes())?,
      ];
      match self.call(f, &args) {
        Ok(_) => {}
        Err(Fail::Pending) => {
          let mut e = ptr::null_mut();
          // SAFETY: see `Cx`; an exception is pending, this takes it.
          unsafe { sys::napi_get_and_clear_last_exception(self.0, &mut e) };
          if first_error.is_null() {
            first_error = e;
          }
        }
        Err(other) => return Err(other),
      }
    }
    if !first_error.is_null() {
      // SAFETY: see `Cx`; rethrows the exception value taken above.
      unsafe { sys::napi_throw(self.0, first_error) };
      return Err(Fail::Pending);
    }
    Ok(())
  }
}

/// Releases one count of a handle when its External or a bound function is
/// garbage-collected (or its env tears down).
pub extern "C" fn finalize_handle(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  // Dropping a store cannot panic in practice; the guard keeps even that
  // from unwinding into Node.
  let _ = crate::errors::catch_quiet(|| {
    // SAFETY: `data` is one count of an `Rc<Handle>` given to this External
    // or function by `open` or `bind`, released exactly once, here.
    drop(unsafe { Rc::from_raw(data as *const Handle) });
  });
}
