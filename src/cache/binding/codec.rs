//! The value codec: how keys and values are laid out as bytes in the store,
//! and how they are read from and made into JS values.
//!
//! A value is one tag byte then its payload; the tag is part of the stored
//! bytes (so of `calculatedSize`). A key is its string's bytes, or a number
//! as `KEY_NUMBER` and 8 bytes. Objects and arrays arrive as JSON text (made
//! by `lib/cache`) and leave through the realm's `JSON.parse`.

use std::ffi::{c_char, c_void};
use std::ptr;

use napi::sys;
use napi::sys::ValueType;

use super::toolkit::{type_error, Cx, Fail, R};
use crate::cache::{Now, Tagged};
use crate::errors::ErrorCode;

// Value encoding: one tag byte, then the payload. The tag is part of the
// stored bytes (and of `calculatedSize`).
pub const TAG_STRING: u8 = 0;
pub const TAG_BUFFER: u8 = 1;
pub const TAG_NUMBER: u8 = 2;
pub const TAG_TRUE: u8 = 3;
pub const TAG_FALSE: u8 = 4;
pub const TAG_NULL: u8 = 5;
pub const TAG_JSON: u8 = 6;
/// A string whose UTF-8 is pure ASCII: read back with a plain copy.
pub const TAG_ASCII: u8 = 7;
/// First byte of a number key. 0xFF never occurs in UTF-8, so number keys
/// (`1`) and string keys (`'1'`) never collide, as in lru-cache's Map.
pub const KEY_NUMBER: u8 = 0xFF;

impl Cx {
  /// `now` argument: a number from the instance's `perf.now()`, or the native clock.
  pub fn now(self, v: sys::napi_value) -> Now {
    self.number(v).map_or(Now::Native, Now::At)
  }

  /// Gives the encoded key to `f`: UTF-8 for a string, a tagged f64 for a number.
  pub fn key<T>(self, v: sys::napi_value, f: impl FnOnce(&[u8]) -> T) -> R<T> {
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

  /// Encodes a primitive or a Buffer/Uint8Array (objects arrive as JSON text
  /// through `setJson`) and gives it to `f` while the bytes are still where
  /// they were read (no copy unless the store keeps them). Anything else is
  /// a TypeError naming the key.
  pub fn encode<T>(self, v: sys::napi_value, key: &[u8], f: impl FnOnce(Tagged<'_>) -> T) -> R<T> {
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

  pub fn bad_value(self, key: &[u8], what: &str) -> Fail {
    type_error(
      ErrorCode::InvalidValue,
      format!(
        "The value for key {} cannot be stored: {what} is not supported (a BoundedCache stores strings, numbers, \
         booleans, null, Buffer/Uint8Array and JSON-compatible objects and arrays)",
        key_text(key)
      ),
    )
  }

  /// Turns stored value bytes into a JS value (a fresh copy). JSON values
  /// are returned as their text to be parsed once the store lock is released.
  #[inline]
  pub fn decode_now(self, b: &[u8]) -> R<Decoded> {
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

  /// `decode_now` for the hot `get`: the JS value itself, or, for a JSON
  /// value, null with its text left in `json` (to be parsed once the store
  /// lock is released). One word out instead of a `Decoded`: the wider
  /// result was copied through the stack at each non-inlined layer, and the
  /// reloads of those copies were store-forwarding stalls (~8% of a `get`).
  #[inline]
  pub fn decode_into(self, b: &[u8], json: &mut Option<Box<[u8]>>) -> R<sys::napi_value> {
    match self.decode_now(b)? {
      Decoded::Value(v) => Ok(v),
      Decoded::Json(text) => {
        *json = Some(text);
        Ok(ptr::null_mut())
      }
    }
  }

  pub fn finish(self, d: Option<Decoded>) -> R<sys::napi_value> {
    match d {
      None => self.undefined(),
      Some(Decoded::Value(v)) => Ok(v),
      Some(Decoded::Json(text)) => self.parse_json(&text),
    }
  }

  pub fn decode(self, b: &[u8]) -> R<sys::napi_value> {
    let d = self.decode_now(b)?;
    self.finish(Some(d))
  }

  pub fn key_value(self, k: &[u8]) -> R<sys::napi_value> {
    if k.len() == 9 && k[0] == KEY_NUMBER {
      self.double(f64::from_le_bytes(k[1..].try_into().expect("8 bytes")))
    } else {
      self.string(k)
    }
  }
}

pub enum Decoded {
  Value(sys::napi_value),
  Json(Box<[u8]>),
}

pub fn key_text(key: &[u8]) -> String {
  if key.len() == 9 && key[0] == KEY_NUMBER {
    f64::from_le_bytes(key[1..].try_into().expect("8 bytes")).to_string()
  } else {
    crate::cache::describe_key(key)
  }
}
