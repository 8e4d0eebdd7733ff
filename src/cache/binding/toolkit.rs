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

  /// Reads a JS string as WTF-8 (UTF-8, except that a lone surrogate keeps
  /// its own 3-byte sequence instead of becoming U+FFFD, so that every JS
  /// string has its own bytes and comes back exactly) and gives the bytes and
  /// whether they are all ASCII to `f`; `None` if `v` is not a string. Strings
  /// up to STACK_KEY units use stack buffers.
  ///
  /// Measured: V8's `WriteUtf8` was the largest single cost of a `get`
  /// (~14%), while the UTF-16 read is a widening copy. So short strings are
  /// read as UTF-16 and narrowed when ASCII (then identical to UTF-8), and
  /// transcoded here otherwise (V8's UTF-8 writer would also replace lone
  /// surrogates).
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
    if len < STACK_KEY - 1 {
      // The whole string is in `wide`: transcode it on the stack.
      // SAFETY: N-API wrote `len` (< STACK_KEY) UTF-16 units at the start of `wide`.
      let units = unsafe { std::slice::from_raw_parts(wide.as_ptr() as *const u16, len) };
      let mut out = [0u8; 3 * STACK_KEY];
      let n = wtf8_encode(units, &mut out);
      return Ok(Some(f(&out[..n], false)));
    }
    self.wtf8_long(v, |b| f(b, false))
  }

  /// `utf8` for a string too long for the stack buffers.
  fn wtf8_long<T>(self, v: sys::napi_value, f: impl FnOnce(&[u8]) -> T) -> R<Option<T>> {
    let mut len = 0usize;
    // SAFETY: see `Cx`; a null buffer asks N-API for the length only.
    let s = unsafe { sys::napi_get_value_string_utf16(self.0, v, ptr::null_mut(), 0, &mut len) };
    if s == Status::napi_string_expected {
      return Ok(None);
    }
    self.check(s)?;
    let mut units = vec![0u16; len + 1];
    let mut got = 0usize;
    // SAFETY: see `Cx`; `units` is writable for len + 1 units (room for the NUL).
    let s =
      unsafe { sys::napi_get_value_string_utf16(self.0, v, units.as_mut_ptr(), len + 1, &mut got) };
    self.check(s)?;
    let mut out = vec![0u8; 3 * got];
    let n = wtf8_encode(&units[..got], &mut out);
    Ok(Some(f(&out[..n])))
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

  /// A JS string from WTF-8 bytes (see `utf8`): a lone surrogate comes back
  /// as itself.
  pub fn string(self, s: &[u8]) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    if has_surrogate(s) {
      let units = wtf8_decode(s);
      // SAFETY: see `Cx`; `units` is valid for units.len() UTF-16 units.
      let st = unsafe {
        sys::napi_create_string_utf16(self.0, units.as_ptr(), units.len() as isize, &mut out)
      };
      self.check(st)?;
      return Ok(out);
    }
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

  /// An ArrayBuffer over `len` bytes of native memory at `data`; `fin(env,
  /// data, hint)` runs when it is collected. The caller keeps the memory
  /// alive until then (through `hint`).
  pub fn external_arraybuffer(
    self,
    data: *mut c_void,
    len: usize,
    fin: Finalizer,
    hint: *mut c_void,
  ) -> R<sys::napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: see `Cx`; the caller's contract keeps `data` valid for `len`
    // bytes until `fin` runs.
    let s = unsafe {
      sys::napi_create_external_arraybuffer(self.0, data, len, Some(fin), hint, &mut out)
    };
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

/// Encodes UTF-16 as WTF-8 into `out` (room for 3 bytes per unit): UTF-8 for
/// every well-formed character, and a lone surrogate as the 3-byte sequence
/// of its code point. Returns the length written. For a well-formed string
/// this is exactly its UTF-8.
pub fn wtf8_encode(units: &[u16], out: &mut [u8]) -> usize {
  let mut n = 0;
  let mut i = 0;
  while i < units.len() {
    let u = u32::from(units[i]);
    i += 1;
    let c = match units.get(i) {
      Some(&low) if (0xD800..0xDC00).contains(&u) && (0xDC00..0xE000).contains(&low) => {
        i += 1;
        0x10000 + ((u - 0xD800) << 10) + (u32::from(low) - 0xDC00)
      }
      _ => u,
    };
    if c < 0x80 {
      out[n] = c as u8;
      n += 1;
    } else if c < 0x800 {
      out[n] = 0xC0 | (c >> 6) as u8;
      out[n + 1] = 0x80 | (c & 0x3F) as u8;
      n += 2;
    } else if c < 0x10000 {
      out[n] = 0xE0 | (c >> 12) as u8;
      out[n + 1] = 0x80 | ((c >> 6) & 0x3F) as u8;
      out[n + 2] = 0x80 | (c & 0x3F) as u8;
      n += 3;
    } else {
      out[n] = 0xF0 | (c >> 18) as u8;
      out[n + 1] = 0x80 | ((c >> 12) & 0x3F) as u8;
      out[n + 2] = 0x80 | ((c >> 6) & 0x3F) as u8;
      out[n + 3] = 0x80 | (c & 0x3F) as u8;
      n += 4;
    }
  }
  n
}

/// Whether WTF-8 bytes hold a lone surrogate (its lead byte 0xED is then
/// followed by 0xA0..=0xBF, which UTF-8 never has).
pub fn has_surrogate(bytes: &[u8]) -> bool {
  bytes.windows(2).any(|w| w[0] == 0xED && w[1] >= 0xA0)
}

/// Decodes WTF-8 (as `wtf8_encode` makes it) back to UTF-16. Bytes that are
/// not WTF-8 (never stored by us) decode as U+FFFD.
pub fn wtf8_decode(bytes: &[u8]) -> Vec<u16> {
  let mut out = Vec::with_capacity(bytes.len());
  let mut i = 0;
  while i < bytes.len() {
    let b = u32::from(bytes[i]);
    let (len, init) = match b {
      0x00..=0x7F => (1, b),
      0xC0..=0xDF => (2, b & 0x1F),
      0xE0..=0xEF => (3, b & 0x0F),
      0xF0..=0xF7 => (4, b & 0x07),
      _ => (0, 0),
    };
    let cont = bytes.get(i + 1..i + len.max(1));
    let c = match cont {
      Some(rest) if len > 0 && rest.iter().all(|&x| x & 0xC0 == 0x80) => rest
        .iter()
        .fold(init, |acc, &x| (acc << 6) | u32::from(x & 0x3F)),
      _ => {
        out.push(0xFFFD);
        i += 1;
        continue;
      }
    };
    i += len;
    if c >= 0x10000 {
      let c = c - 0x10000;
      out.push(0xD800 + (c >> 10) as u16);
      out.push(0xDC00 + (c & 0x3FF) as u16);
    } else {
      out.push(c as u16);
    }
  }
  out
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn wtf8_round_trips_every_utf16_string_and_is_utf8_when_well_formed() {
    let cases: Vec<Vec<u16>> = vec![
      "plain".encode_utf16().collect(),
      "é-😀-한".encode_utf16().collect(),
      vec![0xD800],
      vec![0xDC00],
      vec![0x61, 0xD800, 0x62],
      vec![0xDFFF, 0xD800],
      vec![0xD83D, 0xDE00, 0xD83D],
      vec![0xFFFD],
    ];
    let mut seen = std::collections::HashSet::new();
    for units in &cases {
      let mut out = vec![0u8; 3 * units.len()];
      let n = wtf8_encode(units, &mut out);
      let bytes = &out[..n];
      assert_eq!(&wtf8_decode(bytes), units, "{units:x?}");
      assert!(
        seen.insert(bytes.to_vec()),
        "two strings share bytes: {units:x?}"
      );
      let lone = String::from_utf16(units).is_err();
      assert_eq!(has_surrogate(bytes), lone, "{units:x?}");
      if !lone {
        assert_eq!(bytes, String::from_utf16(units).unwrap().as_bytes());
      }
    }
  }
}
