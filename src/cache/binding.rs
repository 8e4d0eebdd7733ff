//! napi glue for `BoundedCache`, written against raw N-API (`napi::sys`).
//!
//! Why raw: a napi-rs 3.16 class method costs ~490 ns per call (`this`
//! unwrapping, type check, argument borrow tracking) against ~120 ns for a
//! raw N-API function, and lru-cache's `get` is ~55 ns. So the store is an
//! `External` passed as the first argument, keys are read into a stack
//! buffer, and results are created directly. These functions are attached to
//! the addon's exports as `cacheOps` by `init` and used by `lib/cache/cache.js`,
//! which validates arguments before calling them. They are still reachable
//! by deep-requiring `binding.js`, so each checks that its first argument is
//! a store External made by `open` (an N-API type tag) before reading it.
//!
//! Every callback runs its body inside `catch_quiet` (no unwind crosses FFI)
//! and reports failures by throwing a coded JS error.

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CString};
use std::mem::MaybeUninit;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::Object;
use napi::sys;
use napi::sys::{Status, ValueType};
use napi::{Env, JsValue};
use napi_derive::napi;

use crate::cache::{
  registry, Config, Disposed, EntryView, LocalStore, Now, Sink, SmallBytes, Stats, Store, Tagged,
};
use crate::errors::{catch_quiet, panic_message, ErrorCode, LeakguardError};

// Value encoding: one tag byte, then the payload. The tag is part of the
// stored bytes (and of `calculatedSize`).
const TAG_STRING: u8 = 0;
const TAG_BUFFER: u8 = 1;
const TAG_NUMBER: u8 = 2;
const TAG_TRUE: u8 = 3;
const TAG_FALSE: u8 = 4;
const TAG_NULL: u8 = 5;
const TAG_JSON: u8 = 6;
/// A string whose UTF-8 is pure ASCII: read back with a plain copy.
const TAG_ASCII: u8 = 7;
/// First byte of a number key. 0xFF never occurs in UTF-8, so number keys
/// (`1`) and string keys (`'1'`) never collide, as in lru-cache's Map.
const KEY_NUMBER: u8 = 0xFF;
/// Keys up to this many UTF-8 bytes are read without a heap allocation.
const STACK_KEY: usize = 256;
/// Keys up to this many UTF-16 units take the vectorised ASCII path.
const SHORT_KEY: usize = 16;
/// Type tag of the store Externals made by `open` (random, fixed: it names
/// the type, not an instance). `Cx::handle` reads no External without it.
static STORE_TAG: sys::napi_type_tag = sys::napi_type_tag {
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
struct Handle {
  store: AnyStore,
  /// Keys of the values the JS side holds in its memo of hot values, by
  /// memo slot (see `getRemember` and `touch`, and `lib/cache/cache.js`).
  memo_keys: RefCell<Vec<SmallBytes>>,
  /// The JS memo's queue of reads not yet seen by the store, given by `bind`.
  replay: RefCell<Option<Replay>>,
  name: Option<String>,
  dispose: sys::napi_ref,
  /// The env `dispose` was created on (and the only one this handle is used on).
  env: sys::napi_env,
}

/// A named store (shared with every thread that opens the name) or an
/// unnamed one, which only this handle's thread ever uses, so it takes no
/// atomic lock (see `LocalLock`).
enum AnyStore {
  Shared(Arc<Store>),
  Local(LocalStore),
}

/// `AnyStore::op(args)` = the same op on whichever store it is.
macro_rules! forward {
  ($(fn $name:ident $(<$g:ident>)? (&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)*) => {
    impl AnyStore {
      $(
        #[inline]
        fn $name $(<$g>)? (&self $(, $arg: $ty)*) -> $ret {
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
  fn set_reporting(&self, key: &[u8], value: Tagged<'_>, ttl: Option<f64>, now: Now, sink: Sink, tagged_evicted: impl FnMut(u32, &[u8])) -> Result<bool, LeakguardError>;
  fn delete(&self, key: &[u8], sink: Sink) -> bool;
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
  fn touch<'k>(&self, keys: impl IntoIterator<Item = &'k [u8]>) {
    match self {
      AnyStore::Shared(s) => s.touch(keys),
      AnyStore::Local(s) => s.touch(keys),
    }
  }
}

/// An Int32Array the JS memo queues its reads in: `[count, slot, slot, ...]`.
/// Held by a strong reference, so its memory stays put while we hold it.
struct Replay {
  reference: sys::napi_ref,
  data: *mut i32,
  len: usize,
}

impl Handle {
  /// Records `key` as the one the JS memo holds under `slot`.
  fn remember(&self, slot: usize, key: &[u8]) {
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
  fn catch_up(&self) {
    let replay = self.replay.borrow();
    let Some(r) = replay.as_ref() else { return };
    // SAFETY: `data` points at `len` (>= 1) i32 of an Int32Array we hold a
    // strong reference to; JS runs on this thread and is not running now.
    let queue = unsafe { std::slice::from_raw_parts_mut(r.data, r.len) };
    let count = queue[0];
    if count <= 0 {
      return;
    }
    queue[0] = 0;
    let count = (count as usize).min(r.len - 1);
    let keys = self.memo_keys.borrow();
    self.store.touch(
      queue[1..=count]
        .iter()
        .filter_map(|&i| keys.get(usize::try_from(i).ok()?).map(|k| &**k)),
    );
  }
}

impl Drop for Handle {
  fn drop(&mut self) {
    if let Some(r) = self.replay.get_mut().take() {
      // SAFETY: as for `dispose` below.
      unsafe { sys::napi_delete_reference(self.env, r.reference) };
    }
    if !self.dispose.is_null() {
      // SAFETY: a Handle is dropped only by a finalizer of its env, on that
      // env's thread, and the env is still alive while its finalizers run.
      unsafe { sys::napi_delete_reference(self.env, self.dispose) };
    }
  }
}

impl Handle {
  fn sink<'a>(&self, v: &'a mut Vec<Disposed>) -> Option<&'a mut Vec<Disposed>> {
    if self.dispose.is_null() {
      None
    } else {
      Some(v)
    }
  }
}

enum Kind {
  Error,
  Type,
  Range,
}

/// A failed callback: either a JS exception is already pending, or one is to
/// be thrown.
///
/// The error to throw is boxed so that `Fail` is one pointer and an `R<T>`
/// stays a few words: on the hot path (`get`) these results are passed up
/// through several closures, and with a 40-byte inline error each layer
/// copied them through the stack (store-forwarding stalls in the profile).
enum Fail {
  Pending,
  Throw(Box<(Kind, ErrorCode, String)>),
}

impl Fail {
  fn throw(kind: Kind, code: ErrorCode, msg: String) -> Self {
    Fail::Throw(Box::new((kind, code, msg)))
  }
}

impl From<LeakguardError> for Fail {
  fn from(e: LeakguardError) -> Self {
    let kind = match e.code {
      ErrorCode::InvalidArgument | ErrorCode::InvalidValue => Kind::Type,
      ErrorCode::InvalidOption | ErrorCode::EntryTooLarge | ErrorCode::OptionsMismatch => {
        Kind::Range
      }
      _ => Kind::Error,
    };
    Fail::throw(kind, e.code, e.message)
  }
}

type R<T> = Result<T, Fail>;

fn type_error(code: ErrorCode, msg: impl Into<String>) -> Fail {
  Fail::throw(Kind::Type, code, msg.into())
}

/// The env of the callback being run. Only constructed at the top of a
/// callback, so every `napi_*` call made through it happens on the env's own
/// thread, inside a live handle scope, while the callback's arguments are alive.
#[derive(Clone, Copy)]
struct Cx(sys::napi_env);

/// Runs a callback body: converts panics and failures into thrown JS errors.
fn run(env: sys::napi_env, body: impl FnOnce(Cx) -> R<sys::napi_value>) -> sys::napi_value {
  let cx = Cx(env);
  let fail = match catch_quiet(|| body(cx)) {
    Ok(Ok(v)) => return v,
    Ok(Err(f)) => f,
    Err(p) => Fail::throw(
      Kind::Error,
      ErrorCode::Panic,
      format!(
        "leakguard native code panicked: {} (this is a bug in leakguard, please report it)",
        panic_message(p.as_ref())
      ),
    ),
  };
  if let Fail::Throw(thrown) = fail {
    let (kind, code, msg) = *thrown;
    let code = CString::new(code.as_str()).unwrap_or_default();
    let msg = CString::new(msg.replace('\0', "\\0")).unwrap_or_default();
    // SAFETY: env is the live env of this callback; both strings are
    // NUL-terminated and outlive the call. If an exception is already
    // pending the throw fails harmlessly and the pending one propagates.
    unsafe {
      match kind {
        Kind::Error => sys::napi_throw_error(env, code.as_ptr(), msg.as_ptr()),
        Kind::Type => sys::napi_throw_type_error(env, code.as_ptr(), msg.as_ptr()),
        Kind::Range => sys::napi_throw_range_error(env, code.as_ptr(), msg.as_ptr()),
      };
    }
  }
  ptr::null_mut()
}

impl Cx {
  #[inline(always)]
  fn check(self, status: sys::napi_status) -> R<()> {
    if status == Status::napi_ok {
      Ok(())
    } else {
      self.failed(status)
    }
  }

  #[cold]
  #[inline(never)]
  fn failed(self, status: sys::napi_status) -> R<()> {
    let mut pending = false;
    // SAFETY: see `Cx`; `pending` is a valid out-pointer.
    unsafe { sys::napi_is_exception_pending(self.0, &mut pending) };
    if pending {
      Err(Fail::Pending)
    } else {
      Err(Fail::throw(
        Kind::Error,
        ErrorCode::Panic,
        format!("leakguard: N-API call failed with status {status}"),
      ))
    }
  }

  fn args<const N: usize>(self, info: sys::napi_callback_info) -> R<[sys::napi_value; N]> {
    Ok(self.args_counted::<N>(info)?.0)
  }

  /// The arguments and how many were passed, so that an absent trailing
  /// `now` costs no N-API call.
  fn args_counted<const N: usize>(
    self,
    info: sys::napi_callback_info,
  ) -> R<([sys::napi_value; N], usize)> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    // SAFETY: `info` belongs to the running callback; argv has room for
    // `argc` values and N-API fills missing ones with `undefined`.
    let s = unsafe {
      sys::napi_get_cb_info(
        self.0,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        ptr::null_mut(),
        ptr::null_mut(),
      )
    };
    self.check(s)?;
    Ok((argv, argc))
  }

  /// The arguments of a function made by `bind`, and the handle that is its
  /// data. No check is needed: the data was set by `bind` and JS cannot
  /// change it. The reference is valid for the running callback: the
  /// function being called is alive, and so is the `Rc` count it holds.
  fn bound<'a, const N: usize>(
    self,
    info: sys::napi_callback_info,
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
  fn handle<'a>(self, v: sys::napi_value) -> R<&'a Handle> {
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
    Ok(h)
  }

  /// Reads a JS string as UTF-8 and gives the bytes and whether they are
  /// all ASCII to `f`; `None` if `v` is not a string. Short strings use a
  /// stack buffer.
  ///
  /// Measured: V8's `WriteUtf8` was the largest single cost of a `get`
  /// (~14%), while the UTF-16 read is a widening copy. So short strings are
  /// read as UTF-16 and narrowed when ASCII (then identical to UTF-8); only
  /// non-ASCII or long strings take the UTF-8 path.
  fn utf8<T>(self, v: sys::napi_value, f: impl FnOnce(&[u8], bool) -> T) -> R<Option<T>> {
    // Uninitialised: zeroing 768 bytes per call showed up in the profile.
    let mut wide = MaybeUninit::<[u16; STACK_KEY]>::uninit();
    // SAFETY: the first SHORT_KEY units are inside `wide`.
    unsafe { (wide.as_mut_ptr() as *mut [u16; SHORT_KEY]).write([0; SHORT_KEY]) };
    let mut len = 0usize;
    // SAFETY: see `Cx`; wide is writable for STACK_KEY units.
    let s = unsafe {
      sys::napi_get_value_string_utf16(
        self.0,
        v,
        wide.as_mut_ptr() as *mut u16,
        STACK_KEY,
        &mut len,
      )
    };
    if s == Status::napi_string_expected {
      return Ok(None);
    }
    self.check(s)?;
    if len <= SHORT_KEY {
      // Most keys: narrowed in fixed-size blocks, which the compiler turns
      // into a few vector instructions and one 16-byte store. A byte-by-byte
      // narrowing made the hash's 8-byte reads of the key wait for the byte
      // stores to land (a store-forwarding stall, ~8% of `get` in perf).
      // SAFETY: N-API wrote `len` units and the rest of the first SHORT_KEY
      // were zeroed above, so all SHORT_KEY are initialised.
      let units = unsafe { &*(wide.as_ptr() as *const [u16; SHORT_KEY]) };
      let mut narrow = [0u8; SHORT_KEY];
      let mut any = 0u16;
      for (n, &u) in narrow.iter_mut().zip(units) {
        any |= u;
        *n = u as u8;
      }
      if any < 0x80 {
        return Ok(Some(f(&narrow[..len], true)));
      }
    } else if len < STACK_KEY - 2 {
      // SAFETY: N-API wrote `len` (< STACK_KEY) UTF-16 units at the start of `wide`.
      let units = unsafe { std::slice::from_raw_parts(wide.as_ptr() as *const u16, len) };
      if units.iter().fold(0u16, |acc, &u| acc | u) < 0x80 {
        let mut narrow = MaybeUninit::<[u8; STACK_KEY]>::uninit();
        let dst = narrow.as_mut_ptr() as *mut u8;
        for (i, &u) in units.iter().enumerate() {
          // SAFETY: i < len < STACK_KEY, inside `narrow`.
          unsafe { dst.add(i).write(u as u8) };
        }
        // SAFETY: the first `len` bytes of `narrow` were written just above.
        let bytes = unsafe { std::slice::from_raw_parts(dst as *const u8, len) };
        return Ok(Some(f(bytes, true)));
      }
    }
    self.utf8_slow(v, |b| f(b, false))
  }

  fn utf8_slow<T>(self, v: sys::napi_value, f: impl FnOnce(&[u8]) -> T) -> R<Option<T>> {
    let mut buf = [0u8; STACK_KEY];
    let mut len = 0usize;
    // SAFETY: see `Cx`; buf is writable for STACK_KEY bytes.
    let s = unsafe {
      sys::napi_get_value_string_utf8(
        self.0,
        v,
        buf.as_mut_ptr() as *mut c_char,
        STACK_KEY,
        &mut len,
      )
    };
    if s == Status::napi_string_expected {
      return Ok(None);
    }
    self.check(s)?;
    // N-API never splits a character, so a full buffer is detected by being
    // within 4 bytes of its end; then the exact length is asked for.
    if len < STACK_KEY - 4 {
      return Ok(Some(f(&buf[..len])));
    }
    let mut full = 0usize;
    // SAFETY: a null buffer asks N-API for the length only.
    let s = unsafe { sys::napi_get_value_string_utf8(self.0, v, ptr::null_mut(), 0, &mut full) };
    self.check(s)?;
    let mut heap = vec![0u8; full + 1];
    // SAFETY: heap is writable for full + 1 bytes (room for the NUL).
    let s = unsafe {
      sys::napi_get_value_string_utf8(
        self.0,
        v,
        heap.as_mut_ptr() as *mut c_char,
        full + 1,
        &mut len,
      )
    };
    self.check(s)?;
    Ok(Some(f(&heap[..len])))
  }

  /// A typed array's element type, length in elements and data pointer
  /// (already offset to its first element).
  fn typed_array(self, v: sys::napi_value) -> R<(sys::napi_typedarray_type, usize, *mut c_void)> {
    let (mut ty, mut len, mut data) = (0, 0usize, ptr::null_mut::<c_void>());
    // SAFETY: see `Cx`; the out-pointers are valid, the rest may be null.
    let s = unsafe {
      sys::napi_get_typedarray_info(
        self.0,
        v,
        &mut ty,
        &mut len,
        &mut data,
        ptr::null_mut(),
        ptr::null_mut(),
      )
    };
    self.check(s)?;
    Ok((ty, len, data))
  }

  /// Gives `h` the JS memo's replay queue (an Int32Array of length >= 2),
  /// holding it with a strong reference.
  fn set_replay(self, h: &Handle, v: sys::napi_value) -> R<()> {
    let (ty, len, data) = self.typed_array(v).unwrap_or((-1, 0, ptr::null_mut()));
    if ty != sys::TypedarrayType::int32_array || len < 2 || data.is_null() {
      return Err(type_error(
        ErrorCode::InvalidArgument,
        "The \"replay\" argument must be an Int32Array of length 2 or more",
      ));
    }
    let mut reference = ptr::null_mut();
    // SAFETY: see `Cx`; refcount 1 keeps the array (and its memory) alive.
    self.check(unsafe { sys::napi_create_reference(self.0, v, 1, &mut reference) })?;
    let old = h.replay.borrow_mut().replace(Replay {
      reference,
      data: data as *mut i32,
      len,
    });
    if let Some(old) = old {
      // SAFETY: see `Cx`; the reference was made by us on this env.
      unsafe { sys::napi_delete_reference(self.0, old.reference) };
    }
    Ok(())
  }

  fn number(self, v: sys::napi_value) -> Option<f64> {
    let mut n = 0f64;
    // SAFETY: see `Cx`; a non-number gives napi_number_expected and no write.
    let s = unsafe { sys::napi_get_value_double(self.0, v, &mut n) };
    (s == Status::napi_ok).then_some(n)
  }

  fn boolean(self, v: sys::napi_value) -> bool {
    let mut b = false;
    // SAFETY: see `Cx`; a non-boolean leaves `b` false.
    unsafe { sys::napi_get_value_bool(self.0, v, &mut b) };
    b
  }

  /// `now` argument: a number from the instance's `perf.now()`, or the native clock.
  fn now(self, v: sys::napi_value) -> Now {
    self.number(v).map_or(Now::Native, Now::At)
  }

  fn type_of(self, v: sys::napi_value) -> R<sys::napi_valuetype> {
    let mut t = 0;
    // SAFETY: see `Cx`.
    let s = unsafe { sys::napi_typeof(self.0, v, &mut t) };
    self.check(s)?;
    Ok(t)
  }

  /// Gives the encoded key to `f`: UTF-8 for a string, a tagged f64 for a number.
  fn key<T>(self, v: sys::napi_value, f: impl FnOnce(&[u8]) -> T) -> R<T> {
    let mut f = Some(f);
    if let Some(r) = self.utf8(v, |b, _| (f.take().expect("called once"))(b))? {
      return Ok(r);
    }
    let Some(mut n) = self.number(v) else {
      return Err(type_error(
        ErrorCode::InvalidArgument,
        format!(
          "The \"key\" argument must be a string or a number (received {})",
          self.type_name(v)
        ),
      ));
    };
    if n == 0.0 {
      n = 0.0; // -0 and 0 are one key (SameValueZero, as in a Map)
    }
    if n.is_nan() {
      n = f64::NAN;
    }
    let mut k = [0u8; 9];
    k[0] = KEY_NUMBER;
    k[1..].copy_from_slice(&n.to_le_bytes());
    Ok((f.take().expect("called once"))(&k))
  }

  fn type_name(self, v: sys::napi_value) -> &'static str {
    match self.type_of(v) {
      Ok(ValueType::napi_undefined) => "undefined",
      Ok(ValueType::napi_null) => "null",
      Ok(ValueType::napi_boolean) => "a boolean",
      Ok(ValueType::napi_number) => "a number",
      Ok(ValueType::napi_string) => "a string",
      Ok(ValueType::napi_symbol) => "a symbol",
      Ok(ValueType::napi_function) => "a function",
      Ok(ValueType::napi_bigint) => "a bigint",
      Ok(ValueType::napi_external) => "an External",
      _ => "an object",
    }
  }

  /// Encodes a primitive or a Buffer/Uint8Array (objects arrive as JSON text
  /// through `setJson`) and gives it to `f` while the bytes are still where
  /// they were read (no copy unless the store keeps them). Anything else is
  /// a TypeError naming the key.
  fn encode<T>(self, v: sys::napi_value, key: &[u8], f: impl FnOnce(Tagged<'_>) -> T) -> R<T> {
    let mut f = Some(f);
    let mut give = |t: Tagged<'_>| (f.take().expect("called once"))(t);
    // Strings first, without asking for the type: the read itself reports a
    // non-string, and most cached values are strings.
    if let Some(r) = self.utf8(v, |b, ascii| {
      give(Tagged(if ascii { TAG_ASCII } else { TAG_STRING }, b))
    })? {
      return Ok(r);
    }
    match self.type_of(v)? {
      ValueType::napi_number => Ok(give(Tagged(
        TAG_NUMBER,
        &self.number(v).unwrap_or(f64::NAN).to_le_bytes(),
      ))),
      ValueType::napi_boolean => Ok(give(Tagged(
        if self.boolean(v) { TAG_TRUE } else { TAG_FALSE },
        &[],
      ))),
      ValueType::napi_null => Ok(give(Tagged(TAG_NULL, &[]))),
      ValueType::napi_object => {
        let mut is_ta = false;
        // SAFETY: see `Cx`.
        self.check(unsafe { sys::napi_is_typedarray(self.0, v, &mut is_ta) })?;
        if is_ta {
          let (ty, len, data) = self.typed_array(v)?;
          if ty == sys::TypedarrayType::uint8_array {
            let bytes: &[u8] = if len == 0 || data.is_null() {
              &[]
            } else {
              // SAFETY: N-API reports `len` bytes at `data` for this live Uint8Array.
              unsafe { std::slice::from_raw_parts(data as *const u8, len) }
            };
            return Ok(give(Tagged(TAG_BUFFER, bytes)));
          }
        }
        Err(self.bad_value(key, "this kind of object"))
      }
      _ => Err(self.bad_value(key, self.type_name(v))),
    }
  }

  fn bad_value(self, key: &[u8], what: &str) -> Fail {
    type_error(
      ErrorCode::InvalidValue,
      format!(
        "The value for key {} cannot be stored: {what} is not supported (a BoundedCache stores strings, numbers, \
         booleans, null, Buffer/Uint8Array and JSON-compatible objects and arrays)",
        key_text(key)
      ),
    )
  }

  fn string(self, s: &[u8]) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`; `s` is valid for s.len() bytes of UTF-8.
    let st = unsafe {
      sys::napi_create_string_utf8(
        self.0,
        s.as_ptr() as *const c_char,
        s.len() as isize,
        &mut out,
      )
    };
    self.check(st)?;
    Ok(out)
  }

  fn double(self, n: f64) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_create_double(self.0, n, &mut out) })?;
    Ok(out)
  }

  fn bool_value(self, b: bool) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_get_boolean(self.0, b, &mut out) })?;
    Ok(out)
  }

  fn undefined(self) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_get_undefined(self.0, &mut out) })?;
    Ok(out)
  }

  fn null(self) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_get_null(self.0, &mut out) })?;
    Ok(out)
  }

  fn object(self) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_create_object(self.0, &mut out) })?;
    Ok(out)
  }

  fn set_prop(self, obj: sys::napi_value, name: &str, v: sys::napi_value) -> R<()> {
    let name = CString::new(name).expect("static property names have no NUL");
    // SAFETY: see `Cx`; `name` is NUL-terminated.
    self.check(unsafe { sys::napi_set_named_property(self.0, obj, name.as_ptr(), v) })
  }

  fn get_prop(self, obj: sys::napi_value, name: &str) -> R<sys::napi_value> {
    let name = CString::new(name).expect("static property names have no NUL");
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`; `name` is NUL-terminated.
    self.check(unsafe { sys::napi_get_named_property(self.0, obj, name.as_ptr(), &mut out) })?;
    Ok(out)
  }

  fn array(self, items: &[sys::napi_value]) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_create_array_with_length(self.0, items.len(), &mut out) })?;
    for (i, v) in items.iter().enumerate() {
      // SAFETY: see `Cx`; `out` is the array just created.
      self.check(unsafe { sys::napi_set_element(self.0, out, i as u32, *v) })?;
    }
    Ok(out)
  }

  fn call(self, f: sys::napi_value, args: &[sys::napi_value]) -> R<sys::napi_value> {
    let recv = self.undefined()?;
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`; args holds args.len() live values.
    self.check(unsafe {
      sys::napi_call_function(self.0, recv, f, args.len(), args.as_ptr(), &mut out)
    })?;
    Ok(out)
  }

  /// `JSON.parse(text)` of the realm running this callback.
  fn parse_json(self, text: &[u8]) -> R<sys::napi_value> {
    let mut global = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_get_global(self.0, &mut global) })?;
    let json = self.get_prop(global, "JSON")?;
    let parse = self.get_prop(json, "parse")?;
    let s = self.string(text)?;
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`; `json` is the receiver, one live argument.
    self.check(unsafe { sys::napi_call_function(self.0, json, parse, 1, &s, &mut out) })?;
    Ok(out)
  }

  /// Turns stored value bytes into a JS value (a fresh copy). JSON values
  /// are returned as their text to be parsed once the store lock is released.
  fn decode_now(self, b: &[u8]) -> R<Decoded> {
    let (tag, payload) = b
      .split_first()
      .ok_or_else(|| type_error(ErrorCode::Panic, "leakguard: empty stored value"))?;
    let v = match *tag {
      TAG_STRING => self.string(payload)?,
      TAG_ASCII => {
        let mut out = ptr::null_mut();
        // SAFETY: see `Cx`; ASCII is valid Latin-1 of the same length.
        let s = unsafe {
          sys::napi_create_string_latin1(
            self.0,
            payload.as_ptr() as *const c_char,
            payload.len() as isize,
            &mut out,
          )
        };
        self.check(s)?;
        out
      }
      TAG_BUFFER => {
        let mut out = ptr::null_mut();
        let mut data = ptr::null_mut();
        // SAFETY: see `Cx`; payload is valid for payload.len() bytes.
        let s = unsafe {
          sys::napi_create_buffer_copy(
            self.0,
            payload.len(),
            payload.as_ptr() as *const c_void,
            &mut data,
            &mut out,
          )
        };
        self.check(s)?;
        out
      }
      TAG_NUMBER => self.double(f64::from_le_bytes(payload.try_into().unwrap_or([0; 8])))?,
      TAG_TRUE => self.bool_value(true)?,
      TAG_FALSE => self.bool_value(false)?,
      TAG_NULL => self.null()?,
      TAG_JSON => return Ok(Decoded::Json(payload.into())),
      _ => {
        return Err(type_error(
          ErrorCode::Panic,
          "leakguard: unknown stored value tag",
        ))
      }
    };
    Ok(Decoded::Value(v))
  }

  fn finish(self, d: Option<Decoded>) -> R<sys::napi_value> {
    match d {
      None => self.undefined(),
      Some(Decoded::Value(v)) => Ok(v),
      Some(Decoded::Json(text)) => self.parse_json(&text),
    }
  }

  fn decode(self, b: &[u8]) -> R<sys::napi_value> {
    let d = self.decode_now(b)?;
    self.finish(Some(d))
  }

  fn key_value(self, k: &[u8]) -> R<sys::napi_value> {
    if k.len() == 9 && k[0] == KEY_NUMBER {
      self.double(f64::from_le_bytes(k[1..].try_into().expect("8 bytes")))
    } else {
      self.string(k)
    }
  }

  /// Calls this instance's `dispose(value, key, reason)` for each removed
  /// entry, after the store lock is released (so `dispose` may use the
  /// cache). Every call is made even if one throws; the first error is
  /// rethrown afterwards.
  fn dispose(self, h: &Handle, removed: Vec<Disposed>) -> R<()> {
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

enum Decoded {
  Value(sys::napi_value),
  Json(Box<[u8]>),
}

fn key_text(key: &[u8]) -> String {
  if key.len() == 9 && key[0] == KEY_NUMBER {
    f64::from_le_bytes(key[1..].try_into().expect("8 bytes")).to_string()
  } else {
    crate::cache::describe_key(key)
  }
}

/// Frees a handle when its External is garbage-collected (or its env tears down).
/// Releases one count of a handle when its External or a bound function is
/// garbage-collected (or its env tears down).
unsafe extern "C" fn finalize_handle(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  // Dropping a store cannot panic in practice; the guard keeps even that
  // from unwinding into Node.
  let _ = catch_quiet(|| {
    // SAFETY: `data` is one count of an `Rc<Handle>` given to this External
    // or function by `open` or `bind`, released exactly once, here.
    drop(unsafe { Rc::from_raw(data as *const Handle) });
  });
}

fn opt_bound(cx: Cx, v: sys::napi_value) -> Option<u64> {
  cx.number(v).filter(|n| *n > 0.0).map(|n| n as u64)
}

// ---- the callbacks ----------------------------------------------------------

/// open(name | undefined, max, maxSize, maxEntrySize, ttl, updateAgeOnGet,
/// allowStale, dispose | undefined) -> External. Bounds of 0 mean "none".
unsafe extern "C" fn cb_open(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<8>(info)?;
    let config = Config {
      max: opt_bound(cx, a[1]).map(|n| n as usize),
      max_size: opt_bound(cx, a[2]),
      max_entry_size: opt_bound(cx, a[3]),
      ttl: cx.number(a[4]).unwrap_or(0.0),
      update_age_on_get: cx.boolean(a[5]),
      allow_stale: cx.boolean(a[6]),
    };
    let name = cx.utf8(a[0], |b, _| String::from_utf8_lossy(b).into_owned())?;
    let store = match &name {
      Some(n) => AnyStore::Shared(registry::open(n, config)?),
      None => AnyStore::Local(LocalStore::new_local(config)?),
    };
    let mut dispose = ptr::null_mut();
    if cx.type_of(a[7])? == ValueType::napi_function {
      // SAFETY: see `Cx`; refcount 0 = weak, the JS wrapper holds the function.
      cx.check(unsafe { sys::napi_create_reference(env, a[7], 0, &mut dispose) })?;
    }
    let raw = Rc::into_raw(Rc::new(Handle {
      store,
      memo_keys: RefCell::new(Vec::new()),
      replay: RefCell::new(None),
      name,
      dispose,
      env,
    }));
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`; ownership of `raw` passes to the External, freed by `finalize_handle`.
    let s = unsafe {
      sys::napi_create_external(
        env,
        raw as *mut c_void,
        Some(finalize_handle),
        ptr::null_mut(),
        &mut out,
      )
    };
    if s != Status::napi_ok {
      // SAFETY: the External was not created, so the count `raw` holds is still ours.
      drop(unsafe { Rc::from_raw(raw) });
    }
    cx.check(s)?;
    // An untagged External would be refused by every op; if tagging fails
    // the External is dropped and its finalizer frees `raw` later.
    // SAFETY: see `Cx`; `out` is the External just created, the tag is a 'static.
    cx.check(unsafe { sys::napi_type_tag_object(env, out, &STORE_TAG) })?;
    Ok(out)
  })
}

fn get_with(cx: Cx, h: &Handle, key: sys::napi_value, now: Now) -> R<sys::napi_value> {
  get_remembering(cx, h, key, now, None)
}

/// `get`; with `slot`, a hit also records the key under that slot of the JS
/// memo (`getRemember`).
fn get_remembering(
  cx: Cx,
  h: &Handle,
  key: sys::napi_value,
  now: Now,
  slot: Option<usize>,
) -> R<sys::napi_value> {
  if !h.dispose.is_null() {
    return get_disposing(cx, h, key, now);
  }
  // No `dispose`: nothing removed is collected, so no Vec is made and moved
  // (the moves showed up as a store-forwarding stall in the `get` profile).
  let got = cx.key(key, |k| {
    let tag = slot.map(|s| s as u32);
    let got = h.store.get_tagging(k, now, None, tag, |v| cx.decode_now(v));
    if let (Some(slot), Some(_)) = (slot, &got) {
      h.remember(slot, k);
    }
    got
  })?;
  match got {
    None => cx.undefined(),
    Some(d) => cx.finish(Some(d?)),
  }
}

#[inline(never)]
fn get_disposing(cx: Cx, h: &Handle, key: sys::napi_value, now: Now) -> R<sys::napi_value> {
  let mut removed = Vec::new();
  let sink = h.sink(&mut removed);
  let got = cx.key(key, |k| h.store.get(k, now, sink, |v| cx.decode_now(v)))?;
  let got = got.transpose()?;
  cx.dispose(h, removed)?;
  cx.finish(got)
}

fn peek_with(cx: Cx, h: &Handle, key: sys::napi_value, now: Now) -> R<sys::napi_value> {
  let got = cx
    .key(key, |k| h.store.peek(k, now, |v| cx.decode_now(v)))?
    .transpose()?;
  cx.finish(got)
}

fn has_with(cx: Cx, h: &Handle, key: sys::napi_value, now: Now) -> R<sys::napi_value> {
  let found = cx.key(key, |k| h.store.has(k, now))?;
  cx.bool_value(found)
}

type KeyOp = fn(Cx, &Handle, sys::napi_value, Now) -> R<sys::napi_value>;

/// op(h, key, now?) on a handle argument.
fn with_handle(env: sys::napi_env, info: sys::napi_callback_info, op: KeyOp) -> sys::napi_value {
  run(env, |cx| {
    let (a, argc) = cx.args_counted::<3>(info)?;
    let h = cx.handle(a[0])?;
    let now = if argc > 2 { cx.now(a[2]) } else { Now::Native };
    op(cx, h, a[1], now)
  })
}

/// op(key, now?) on the handle bound by `bind`: no handle to check per call.
/// Only the key is asked for: `now` (passed only with `perf`) is read by a
/// second call when there is one.
fn with_bound(env: sys::napi_env, info: sys::napi_callback_info, op: KeyOp) -> sys::napi_value {
  run(env, |cx| {
    let ([key], argc, h) = cx.bound::<1>(info)?;
    let now = if argc > 1 {
      cx.now(cx.args::<2>(info)?[1])
    } else {
      Now::Native
    };
    op(cx, h, key, now)
  })
}

/// get(h, key, now?) -> value | undefined
unsafe extern "C" fn cb_get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  with_handle(env, info, get_with)
}

/// peek(h, key, now?) -> value | undefined
unsafe extern "C" fn cb_peek(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  with_handle(env, info, peek_with)
}

/// has(h, key, now?) -> boolean
unsafe extern "C" fn cb_has(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  with_handle(env, info, has_with)
}

/// Bound get(key, now?), made by `bind`.
unsafe extern "C" fn cb_bound_get(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  with_bound(env, info, get_with)
}

/// Bound peek(key, now?), made by `bind`.
unsafe extern "C" fn cb_bound_peek(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  with_bound(env, info, peek_with)
}

/// Bound has(key, now?), made by `bind`.
unsafe extern "C" fn cb_bound_has(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  with_bound(env, info, has_with)
}

/// Most memo slots the JS side may use (it uses fewer; this bounds the
/// table against a bad argument).
const MEMO_SLOTS_MAX: usize = 1 << 16;

/// Bound getRemember(key, slot): `get`, and on a hit also records the key
/// under `slot` of this handle's memo table, so that the JS side can later
/// replay reads it served from its memo by slot number (`touch`), without
/// passing key strings back.
unsafe extern "C" fn cb_bound_get_remember(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let ([key, slot], _, h) = cx.bound::<2>(info)?;
    let slot = match cx.number(slot) {
      Some(n) if n >= 0.0 && n < MEMO_SLOTS_MAX as f64 && n.fract() == 0.0 => n as usize,
      _ => {
        return Err(Fail::throw(
          Kind::Range,
          ErrorCode::InvalidArgument,
          format!(
            "The \"slot\" argument must be an integer from 0 to {}",
            MEMO_SLOTS_MAX - 1
          ),
        ))
      }
    };
    get_remembering(cx, h, key, Now::Native, Some(slot))
  })
}

/// Bound touch(): replays the JS memo's queued reads now (every other op
/// on the handle does so first anyway; see `Handle::catch_up`).
unsafe extern "C" fn cb_bound_touch(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    cx.bound::<0>(info)?;
    cx.undefined()
  })
}

/// Bound set(key, value, ttl?, now?), made by `bind`. `ttl` and `now` are
/// read by a second call only when passed.
unsafe extern "C" fn cb_bound_set(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let (kv, argc, h) = cx.bound::<2>(info)?;
    let (ttl, now) = if argc > 2 {
      let a = cx.args::<4>(info)?;
      (cx.number(a[2]), cx.now(a[3]))
    } else {
      (None, Now::Native)
    };
    set_with(cx, h, kv, false, ttl, now)
  })
}

/// bind(h, replay?) -> [get, peek, has, set, getRemember, touch]: the hot
/// operations as functions of this one store, taking (key, now?),
/// (key, value, ttl?, now?), (key, slot) and (). `replay` is the JS memo's
/// queue of reads (see `Handle::catch_up`). The
/// handle is each function's N-API data, so a call skips reading and
/// type-checking a handle argument (~15 ns of a ~130 ns `get`). Each
/// function holds a count of the handle, released by its finalizer.
unsafe extern "C" fn cb_bind(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<2>(info)?;
    let h: *const Handle = cx.handle(a[0])?;
    if cx.type_of(a[1])? != ValueType::napi_undefined {
      // SAFETY: `h` is live for this call (see `Cx::handle`).
      cx.set_replay(unsafe { &*h }, a[1])?;
    }
    let mut fns = Vec::with_capacity(6);
    for (name, cb) in [
      ("get", cb_bound_get as Callback),
      ("peek", cb_bound_peek),
      ("has", cb_bound_has),
      ("set", cb_bound_set),
      ("getRemember", cb_bound_get_remember),
      ("touch", cb_bound_touch),
    ] {
      // SAFETY: `h` comes from a live `Rc<Handle>` (the External argument
      // holds a count); this count becomes the function's data.
      unsafe { Rc::increment_strong_count(h) };
      let data = h as *mut c_void;
      let mut f = ptr::null_mut();
      // SAFETY: see `Cx`; `name` is valid for its length; `cb` never unwinds.
      let s = unsafe {
        sys::napi_create_function(
          env,
          name.as_ptr() as *const c_char,
          name.len() as isize,
          Some(cb),
          data,
          &mut f,
        )
      };
      if s != Status::napi_ok {
        // SAFETY: no function was made, so the count taken above is still ours.
        drop(unsafe { Rc::from_raw(h) });
        cx.check(s)?;
      }
      // SAFETY: see `Cx`; the finalizer releases the count when `f` is collected.
      let s = unsafe {
        sys::napi_add_finalizer(
          env,
          f,
          data,
          Some(finalize_handle),
          ptr::null_mut(),
          ptr::null_mut(),
        )
      };
      // If that failed, the function is never returned, so nothing calls it;
      // its count is leaked rather than risk a dangling data pointer.
      cx.check(s)?;
      fns.push(f);
    }
    cx.array(&fns)
  })
}

fn set_common(cx: Cx, info: sys::napi_callback_info, json: bool) -> R<sys::napi_value> {
  let (a, argc) = cx.args_counted::<5>(info)?;
  let h = cx.handle(a[0])?;
  let ttl = if argc > 3 { cx.number(a[3]) } else { None };
  let now = if argc > 4 { cx.now(a[4]) } else { Now::Native };
  set_with(cx, h, [a[1], a[2]], json, ttl, now)
}

/// Stores `kv` = [key, value]: the value encoded, or JSON text (`json`).
fn set_with(
  cx: Cx,
  h: &Handle,
  kv: [sys::napi_value; 2],
  json: bool,
  ttl: Option<f64>,
  now: Now,
) -> R<sys::napi_value> {
  let mut removed = Vec::new();
  let sink = h.sink(&mut removed);
  // Which memo slots lost their entry to eviction: -1 none, the slot if one,
  // -2 several (the JS memo then forgets everything).
  let mut memo_evicted = -1f64;
  let r = cx.key(kv[0], |k| -> R<bool> {
    let keys = h.memo_keys.borrow();
    let report = |slot: u32, key: &[u8]| {
      // The tag may be stale (the slot since reused for another key).
      if keys.get(slot as usize).is_some_and(|k| **k == *key) {
        memo_evicted = if memo_evicted == -1.0 {
          slot as f64
        } else {
          -2.0
        };
      }
    };
    if json {
      let stored = cx.utf8(kv[1], |t, _| {
        h.store
          .set_reporting(k, Tagged(TAG_JSON, t), ttl, now, sink, report)
      })?;
      Ok(stored.unwrap_or(Ok(false))?)
    } else {
      Ok(cx.encode(kv[1], k, |t| {
        h.store.set_reporting(k, t, ttl, now, sink, report)
      })??)
    }
  })?;
  // dispose runs even when the set was refused (the old value left with 'set').
  cx.dispose(h, removed)?;
  r?;
  cx.double(memo_evicted)
}

/// set(h, key, value, ttl?, now?) for primitives and Buffer/Uint8Array.
unsafe extern "C" fn cb_set(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| set_common(cx, info, false))
}

/// setJson(h, key, jsonText, ttl?, now?) for objects and arrays (stringified in JS).
unsafe extern "C" fn cb_set_json(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| set_common(cx, info, true))
}

/// delete(h, key) -> boolean
unsafe extern "C" fn cb_delete(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<2>(info)?;
    let h = cx.handle(a[0])?;
    let mut removed = Vec::new();
    let sink = h.sink(&mut removed);
    let found = cx.key(a[1], |k| h.store.delete(k, sink))?;
    cx.dispose(h, removed)?;
    cx.bool_value(found)
  })
}

/// pop(h) -> value of the least recently used entry | undefined
unsafe extern "C" fn cb_pop(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let h = cx.handle(a[0])?;
    let mut removed = Vec::new();
    let sink = h.sink(&mut removed);
    let got = h.store.pop(sink, |v| cx.decode_now(v)).transpose()?;
    cx.dispose(h, removed)?;
    cx.finish(got)
  })
}

/// clear(h)
unsafe extern "C" fn cb_clear(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let h = cx.handle(a[0])?;
    let mut removed = Vec::new();
    h.store.clear(h.sink(&mut removed));
    cx.dispose(h, removed)?;
    cx.undefined()
  })
}

/// purgeStale(h, now?) -> boolean
unsafe extern "C" fn cb_purge_stale(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<2>(info)?;
    let h = cx.handle(a[0])?;
    let mut removed = Vec::new();
    let any = h.store.purge_stale(cx.now(a[1]), h.sink(&mut removed));
    cx.dispose(h, removed)?;
    cx.bool_value(any)
  })
}

/// remainingTtl(h, key, now?) -> number
unsafe extern "C" fn cb_remaining_ttl(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let (a, argc) = cx.args_counted::<3>(info)?;
    let h = cx.handle(a[0])?;
    let now = if argc > 2 { cx.now(a[2]) } else { Now::Native };
    let ms = cx.key(a[1], |k| h.store.remaining_ttl(k, now))?;
    cx.double(ms)
  })
}

/// key, value (unless only keys are listed), TTL start, TTL.
type ListRow = (Box<[u8]>, Option<Box<[u8]>>, f64, f64);

/// list(h, now?, mode) -> array, MRU first. mode 0: keys, 1: values,
/// 2: [key, value] pairs, 3: [key, value, start, ttl] of every entry
/// including expired ones (for dump).
unsafe extern "C" fn cb_list(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<3>(info)?;
    let h = cx.handle(a[0])?;
    let mode = cx.number(a[2]).unwrap_or(0.0) as u32;
    let include_stale = mode == 3 || h.store.config().allow_stale;
    // Values are copied out under the lock and turned into JS values after,
    // so that JSON.parse never runs while the store is locked.
    let mut rows: Vec<ListRow> = Vec::new();
    h.store.for_each(cx.now(a[1]), include_stale, |e| {
      rows.push((
        e.key.into(),
        (mode != 0).then(|| e.value.into()),
        e.start,
        e.ttl,
      ));
    });
    let mut items = Vec::with_capacity(rows.len());
    for (k, v, start, ttl) in rows {
      let item = match (mode, v) {
        (0, _) | (_, None) => cx.key_value(&k)?,
        (1, Some(v)) => cx.decode(&v)?,
        (2, Some(v)) => cx.array(&[cx.key_value(&k)?, cx.decode(&v)?])?,
        (_, Some(v)) => cx.array(&[
          cx.key_value(&k)?,
          cx.decode(&v)?,
          cx.double(start)?,
          cx.double(ttl)?,
        ])?,
      };
      items.push(item);
    }
    cx.array(&items)
  })
}

/// entry(h, key) -> [value, start, ttl] | undefined (expired or not; no recency change)
unsafe extern "C" fn cb_entry(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<2>(info)?;
    let h = cx.handle(a[0])?;
    let got = cx.key(a[1], |k| {
      h.store
        .peek_entry(k, |e| (Box::<[u8]>::from(e.value), e.start, e.ttl))
    })?;
    match got {
      None => cx.undefined(),
      Some((v, start, ttl)) => cx.array(&[cx.decode(&v)?, cx.double(start)?, cx.double(ttl)?]),
    }
  })
}

/// stats(h) -> { hits, misses, sets, evictions, expirations, deletes, size, calculatedSize }
unsafe extern "C" fn cb_stats(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let h = cx.handle(a[0])?;
    let s = h.store.stats();
    let o = cx.object()?;
    for (name, v) in [
      ("hits", s.hits),
      ("misses", s.misses),
      ("sets", s.sets),
      ("evictions", s.evictions),
      ("expirations", s.expirations),
      ("deletes", s.deletes),
      ("size", s.size),
      ("calculatedSize", s.calculated_size),
    ] {
      cx.set_prop(o, name, cx.double(v as f64)?)?;
    }
    Ok(o)
  })
}

/// size(h) -> number of entries (expired ones not yet removed included)
unsafe extern "C" fn cb_size(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let h = cx.handle(a[0])?;
    cx.double(h.store.len() as f64)
  })
}

/// calculatedSize(h) -> exact bytes held (keys + values as stored)
unsafe extern "C" fn cb_calculated_size(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let h = cx.handle(a[0])?;
    cx.double(h.store.calculated_size() as f64)
  })
}

/// info(h) -> { name, shared, instances }: `instances` counts the live
/// handles (in any thread) plus the registry's own hold on a named store.
unsafe extern "C" fn cb_info(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let h = cx.handle(a[0])?;
    let o = cx.object()?;
    let name = match &h.name {
      Some(n) => cx.string(n.as_bytes())?,
      None => cx.undefined()?,
    };
    cx.set_prop(o, "name", name)?;
    cx.set_prop(
      o,
      "references",
      cx.double(match &h.store {
        AnyStore::Shared(s) => Arc::strong_count(s) as f64,
        AnyStore::Local(_) => 1.0,
      })?,
    )?;
    cx.set_prop(
      o,
      "registered",
      cx.bool_value(
        h.name
          .as_deref()
          .is_some_and(|n| matches!(&h.store, AnyStore::Shared(s) if registry::is_current(n, s))),
      )?,
    )?;
    Ok(o)
  })
}

/// dropNamed(name) -> boolean
unsafe extern "C" fn cb_drop_named(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let found = cx
      .utf8(a[0], |b, _| {
        registry::drop_named(&String::from_utf8_lossy(b))
      })?
      .unwrap_or(false);
    cx.bool_value(found)
  })
}

/// names() -> names of the registered shared stores
unsafe extern "C" fn cb_names(
  env: sys::napi_env,
  _info: sys::napi_callback_info,
) -> sys::napi_value {
  run(env, |cx| {
    let names = registry::names()
      .iter()
      .map(|n| cx.string(n.as_bytes()))
      .collect::<R<Vec<_>>>()?;
    cx.array(&names)
  })
}

/// now() -> the native clock, ms (what `now` defaults to)
unsafe extern "C" fn cb_now(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| cx.double(crate::cache::clock::now_ms()))
}

type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

const OPS: &[(&str, Callback)] = &[
  ("open", cb_open),
  ("bind", cb_bind),
  ("get", cb_get),
  ("peek", cb_peek),
  ("has", cb_has),
  ("set", cb_set),
  ("setJson", cb_set_json),
  ("delete", cb_delete),
  ("pop", cb_pop),
  ("clear", cb_clear),
  ("purgeStale", cb_purge_stale),
  ("remainingTtl", cb_remaining_ttl),
  ("list", cb_list),
  ("entry", cb_entry),
  ("stats", cb_stats),
  ("size", cb_size),
  ("calculatedSize", cb_calculated_size),
  ("info", cb_info),
  ("dropNamed", cb_drop_named),
  ("names", cb_names),
  ("now", cb_now),
];

/// Test-only: an External made by napi-rs's own machinery, i.e. by native
/// code other than `open`, whose data is not a `Handle`. The test suite
/// passes it to every op to prove that a foreign External is refused.
#[napi(js_name = "__foreignExternalForTest")]
pub fn foreign_external_for_test() -> napi::bindgen_prelude::External<u64> {
  napi::bindgen_prelude::External::new(u64::MAX)
}

/// Attaches the raw cache functions to the addon's exports as `cacheOps`.
#[napi(module_exports)]
pub fn init(exports: Object, env: Env) -> napi::Result<()> {
  let raw_env = env.raw();
  let cx = Cx(raw_env);
  let attach = || -> R<()> {
    let ops = cx.object()?;
    for (name, cb) in OPS {
      let cname = CString::new(*name).expect("op names have no NUL");
      let mut f = ptr::null_mut();
      // SAFETY: module init runs on the env's thread; `cb` is a
      // 'static extern "C" fn that never unwinds (see `run`).
      let s = unsafe {
        sys::napi_create_function(
          raw_env,
          cname.as_ptr(),
          name.len() as isize,
          Some(*cb),
          ptr::null_mut(),
          &mut f,
        )
      };
      cx.check(s)?;
      cx.set_prop(ops, name, f)?;
    }
    cx.set_prop(exports.raw(), "cacheOps", ops)
  };
  attach().map_err(|_| napi::Error::from_reason("leakguard: could not attach the cache functions"))
}
