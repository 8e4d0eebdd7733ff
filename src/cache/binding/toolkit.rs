//! A small raw N-API toolkit: the callback runner and the value readers and
//! makers that every cache callback uses. Nothing here knows the cache.
//!
//! Why raw N-API rather than napi-rs's classes: see `super` (the cost per
//! call). Why a toolkit: every `unsafe` N-API call lives in one of these
//! small methods, each with the one invariant it relies on, so the
//! callbacks themselves need no `unsafe` beyond their signatures.
//!
//! The invariant behind most `SAFETY` notes below ("see `Cx`"): a `Cx` is
//! only made at the top of a callback, so every call through it happens on
//! the env's own thread, inside a live handle scope, while the callback's
//! arguments are alive.

use std::ffi::{c_char, c_void, CString};
use std::mem::MaybeUninit;
use std::ptr;

use napi::sys;
use napi::sys::{Status, ValueType};

use crate::errors::{catch_quiet, panic_message, ErrorCode, LeakguardError};

/// Keys up to this many UTF-8 bytes are read without a heap allocation.
pub const STACK_KEY: usize = 256;
/// Keys up to this many UTF-16 units take the vectorised ASCII path.
pub const SHORT_KEY: usize = 16;

pub enum Kind {
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
pub enum Fail {
  Pending,
  Throw(Box<(Kind, ErrorCode, String)>),
}

impl Fail {
  pub fn throw(kind: Kind, code: ErrorCode, msg: String) -> Self {
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

pub type R<T> = Result<T, Fail>;

pub fn type_error(code: ErrorCode, msg: impl Into<String>) -> Fail {
  Fail::throw(Kind::Type, code, msg.into())
}

/// The env of the callback being run. Only constructed at the top of a
/// callback, so every `napi_*` call made through it happens on the env's own
/// thread, inside a live handle scope, while the callback's arguments are alive.
#[derive(Clone, Copy)]
pub struct Cx(pub sys::napi_env);

/// Runs a callback body: converts panics and failures into thrown JS errors.
pub fn run(env: sys::napi_env, body: impl FnOnce(Cx) -> R<sys::napi_value>) -> sys::napi_value {
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
  pub fn check(self, status: sys::napi_status) -> R<()> {
    if status == Status::napi_ok {
      Ok(())
    } else {
      self.failed(status)
    }
  }

  #[cold]
  #[inline(never)]
  pub fn failed(self, status: sys::napi_status) -> R<()> {
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

  pub fn args<const N: usize>(self, info: sys::napi_callback_info) -> R<[sys::napi_value; N]> {
    Ok(self.args_counted::<N>(info)?.0)
  }

  /// The arguments and how many were passed, so that an absent trailing
  /// `now` costs no N-API call.
  pub fn args_counted<const N: usize>(
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

  /// Reads a JS string as UTF-8 and gives the bytes and whether they are
  /// all ASCII to `f`; `None` if `v` is not a string. Short strings use a
  /// stack buffer.
  ///
  /// Measured: V8's `WriteUtf8` was the largest single cost of a `get`
  /// (~14%), while the UTF-16 read is a widening copy. So short strings are
  /// read as UTF-16 and narrowed when ASCII (then identical to UTF-8); only
  /// non-ASCII or long strings take the UTF-8 path.
  pub fn utf8<T>(self, v: sys::napi_value, f: impl FnOnce(&[u8], bool) -> T) -> R<Option<T>> {
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

  pub fn utf8_slow<T>(self, v: sys::napi_value, f: impl FnOnce(&[u8]) -> T) -> R<Option<T>> {
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
  pub fn typed_array(
    self,
    v: sys::napi_value,
  ) -> R<(sys::napi_typedarray_type, usize, *mut c_void)> {
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

  pub fn number(self, v: sys::napi_value) -> Option<f64> {
    let mut n = 0f64;
    // SAFETY: see `Cx`; a non-number gives napi_number_expected and no write.
    let s = unsafe { sys::napi_get_value_double(self.0, v, &mut n) };
    (s == Status::napi_ok).then_some(n)
  }

  pub fn boolean(self, v: sys::napi_value) -> bool {
    let mut b = false;
    // SAFETY: see `Cx`; a non-boolean leaves `b` false.
    unsafe { sys::napi_get_value_bool(self.0, v, &mut b) };
    b
  }

  pub fn type_of(self, v: sys::napi_value) -> R<sys::napi_valuetype> {
    let mut t = 0;
    // SAFETY: see `Cx`.
    let s = unsafe { sys::napi_typeof(self.0, v, &mut t) };
    self.check(s)?;
    Ok(t)
  }

  pub fn type_name(self, v: sys::napi_value) -> &'static str {
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

  pub fn string(self, s: &[u8]) -> R<sys::napi_value> {
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

  pub fn double(self, n: f64) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_create_double(self.0, n, &mut out) })?;
    Ok(out)
  }

  pub fn bool_value(self, b: bool) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_get_boolean(self.0, b, &mut out) })?;
    Ok(out)
  }

  pub fn undefined(self) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_get_undefined(self.0, &mut out) })?;
    Ok(out)
  }

  pub fn null(self) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_get_null(self.0, &mut out) })?;
    Ok(out)
  }

  pub fn object(self) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_create_object(self.0, &mut out) })?;
    Ok(out)
  }

  pub fn set_prop(self, obj: sys::napi_value, name: &str, v: sys::napi_value) -> R<()> {
    let name = CString::new(name).expect("static property names have no NUL");
    // SAFETY: see `Cx`; `name` is NUL-terminated.
    self.check(unsafe { sys::napi_set_named_property(self.0, obj, name.as_ptr(), v) })
  }

  pub fn get_prop(self, obj: sys::napi_value, name: &str) -> R<sys::napi_value> {
    let name = CString::new(name).expect("static property names have no NUL");
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`; `name` is NUL-terminated.
    self.check(unsafe { sys::napi_get_named_property(self.0, obj, name.as_ptr(), &mut out) })?;
    Ok(out)
  }

  pub fn array(self, items: &[sys::napi_value]) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`.
    self.check(unsafe { sys::napi_create_array_with_length(self.0, items.len(), &mut out) })?;
    for (i, v) in items.iter().enumerate() {
      // SAFETY: see `Cx`; `out` is the array just created.
      self.check(unsafe { sys::napi_set_element(self.0, out, i as u32, *v) })?;
    }
    Ok(out)
  }

  pub fn call(self, f: sys::napi_value, args: &[sys::napi_value]) -> R<sys::napi_value> {
    let recv = self.undefined()?;
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`; args holds args.len() live values.
    self.check(unsafe {
      sys::napi_call_function(self.0, recv, f, args.len(), args.as_ptr(), &mut out)
    })?;
    Ok(out)
  }

  /// `JSON.parse(text)` of the realm running this callback.
  pub fn parse_json(self, text: &[u8]) -> R<sys::napi_value> {
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

  /// A reference to `v` that keeps it alive (and a typed array's memory in
  /// place) until `delete_ref`.
  pub fn strong_ref(self, v: sys::napi_value) -> R<sys::napi_ref> {
    let mut r = ptr::null_mut();
    // SAFETY: see `Cx`; refcount 1 = strong.
    self.check(unsafe { sys::napi_create_reference(self.0, v, 1, &mut r) })?;
    Ok(r)
  }

  /// A reference to `v` that does not keep it alive.
  pub fn weak_ref(self, v: sys::napi_value) -> R<sys::napi_ref> {
    let mut r = ptr::null_mut();
    // SAFETY: see `Cx`; refcount 0 = weak.
    self.check(unsafe { sys::napi_create_reference(self.0, v, 0, &mut r) })?;
    Ok(r)
  }

  /// Frees a reference made by `strong_ref` or `weak_ref` on this env.
  pub fn delete_ref(self, r: sys::napi_ref) {
    // SAFETY: see `Cx`; `r` was made on this env and is deleted once.
    unsafe { sys::napi_delete_reference(self.0, r) };
  }

  /// A JS function named `name` that runs `cb` with `data` as its N-API data.
  pub fn function(self, name: &str, cb: Callback, data: *mut c_void) -> R<sys::napi_value> {
    let mut f = ptr::null_mut();
    // SAFETY: see `Cx`; `name` is valid for its length; `cb` is a 'static
    // extern "C" fn that never unwinds (it runs its body through `run`).
    let s = unsafe {
      sys::napi_create_function(
        self.0,
        name.as_ptr() as *const c_char,
        name.len() as isize,
        Some(cb),
        data,
        &mut f,
      )
    };
    self.check(s)?;
    Ok(f)
  }

  /// Runs `fin(data)` when `obj` is garbage-collected (or the env tears down).
  pub fn add_finalizer(self, obj: sys::napi_value, data: *mut c_void, fin: Finalizer) -> R<()> {
    // SAFETY: see `Cx`; `fin` must accept `data` (the caller's contract).
    let s = unsafe {
      sys::napi_add_finalizer(
        self.0,
        obj,
        data,
        Some(fin),
        ptr::null_mut(),
        ptr::null_mut(),
      )
    };
    self.check(s)
  }

  /// An External around `data`, given to `fin` when it is collected.
  /// Err means no External was made, so `data` is still the caller's.
  pub fn external(self, data: *mut c_void, fin: Finalizer) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`; `fin` must accept `data` (the caller's contract).
    let s =
      unsafe { sys::napi_create_external(self.0, data, Some(fin), ptr::null_mut(), &mut out) };
    self.check(s)?;
    Ok(out)
  }

  /// Marks `obj` with `tag` (see `napi_check_object_type_tag`).
  pub fn type_tag(self, obj: sys::napi_value, tag: &'static sys::napi_type_tag) -> R<()> {
    // SAFETY: see `Cx`; the tag is a 'static.
    self.check(unsafe { sys::napi_type_tag_object(self.0, obj, tag) })
  }
}

/// The signature of a raw N-API callback.
pub type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// The signature of a finalizer: (env, data, hint).
pub type Finalizer = unsafe extern "C" fn(sys::napi_env, *mut c_void, *mut c_void);
