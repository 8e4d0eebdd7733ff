//! napi glue for `BoundedCache`: the callbacks `lib/cache` calls, written
//! against raw N-API (`napi::sys`).
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
//! Every callback runs its body inside `run` (`catch_quiet`: no unwind
//! crosses FFI) and reports failures by throwing a coded JS error.
//!
//! The pieces, by concern:
//! - `toolkit`: the callback runner (`Cx`, `Fail`, `run`) and raw value
//!   readers/makers; every N-API `unsafe` is there, one invariant each;
//! - `codec`: how keys and values are stored as bytes (`TAG_*`);
//! - `handle`: the native state of one JS cache (`Handle`) and `dispose`;
//! - `memo`: the native half of the JS memo of hot values, and its protocol;
//! - this file: the callbacks, one per `cacheOps` function.

mod codec;
mod handle;
mod memo;
mod toolkit;

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::Object;
use napi::sys;
use napi::sys::ValueType;
use napi::{Env, JsValue};
use napi_derive::napi;

use codec::TAG_JSON;
use handle::{AnyStore, Handle, Reads};
use memo::{EvictedSlots, MEMO_SLOTS_MAX, PROTOCOL};
use toolkit::{run, type_error, Callback, Cx, Fail, Kind, R};

use crate::cache::{
  registry, Config, Found, LocalStore, Now, Quick, ReadOpts, Reason, SetKind, SetOpts, SetReport,
  SmallBytes, Store, Tagged,
};
use crate::errors::ErrorCode;

fn opt_bound(cx: Cx, v: sys::napi_value) -> Option<u64> {
  cx.number(v).filter(|n| *n > 0.0).map(|n| n as u64)
}

// ---- the callbacks ----------------------------------------------------------

/// open(name | undefined, max, maxSize, maxEntrySize, ttl, updateAgeOnGet,
/// allowStale, dispose | undefined, customSizes) -> External. Bounds of 0
/// mean "none".
extern "C" fn cb_open(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<9>(info)?;
    let config = Config {
      max: opt_bound(cx, a[1]).map(|n| n as usize),
      max_size: opt_bound(cx, a[2]),
      max_entry_size: opt_bound(cx, a[3]),
      ttl: cx.number(a[4]).unwrap_or(0.0),
      update_age_on_get: cx.boolean(a[5]),
      allow_stale: cx.boolean(a[6]),
      custom_sizes: cx.boolean(a[8]),
    };
    // Names are registry keys: one with a lone surrogate (not UTF-8) would
    // be merged with another by a lossy conversion, so it is refused.
    let name = match cx.utf8(a[0], |b, _| String::from_utf8(b.to_vec()))? {
      None => None,
      Some(Ok(n)) => Some(n),
      Some(Err(_)) => {
        return Err(Fail::throw(
          Kind::Range,
          ErrorCode::InvalidOption,
          "options.name must be a well-formed string (it holds a lone surrogate)".into(),
        ))
      }
    };
    let store = match &name {
      Some(n) => AnyStore::Shared(registry::open(n, config)?),
      None => AnyStore::Local(LocalStore::new_local(config)?),
    };
    // Weak: the JS wrapper holds the function.
    let dispose = if cx.type_of(a[7])? == ValueType::napi_function {
      cx.weak_ref(a[7])?
    } else {
      ptr::null_mut()
    };
    Handle {
      store,
      memo_keys: RefCell::new(Vec::new()),
      replay: RefCell::new(None),
      reads: RefCell::new(Reads::default()),
      seen: RefCell::new(None),
      name,
      dispose,
      env,
    }
    .into_external(cx)
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
  if let AnyStore::Shared(store) = &h.store {
    return get_shared(cx, h, store, key, now, slot);
  }
  // No `dispose`: nothing removed is collected, so no Vec is made and moved
  // (the moves showed up as a store-forwarding stall in the `get` profile).
  let mut json = None;
  let got = cx.key(key, |k| {
    let tag = slot.map(|s| s as u32);
    let got = h
      .store
      .get_tagging(k, now, None, tag, |v| cx.decode_into(v, &mut json));
    if let (Some(slot), Some(_)) = (slot, &got) {
      h.remember(slot, k);
    }
    got
  })?;
  match (got, json) {
    (None, _) => cx.undefined(),
    (Some(v), None) => v,
    (Some(v), Some(text)) => {
      v?;
      cx.parse_json(&text)
    }
  }
}

/// `get` on a store other threads use: under the shared lock (threads
/// reading at once do not wait for each other), the read recorded in the
/// handle's read buffer (see `Reads`). The value bytes are copied out (short
/// values inline, no allocation) and made into a JS value after the lock is
/// released, so that V8's allocation does not lengthen anyone's wait. An
/// entry that needs the exclusive path (expired, or an age to restart)
/// takes it.
///
/// With `slot` (`getRemember`), a hit is also recorded for the JS memo under
/// that slot, with the key's change stamp read before the value (see
/// memo.rs): the memo of a shared store learns of evictions through the
/// stamps, so the entry needs no tag and the shared lock is enough.
#[inline(never)]
fn get_shared(
  cx: Cx,
  h: &Handle,
  store: &Store,
  key: sys::napi_value,
  now: Now,
  slot: Option<usize>,
) -> R<sys::napi_value> {
  let got = cx.key(key, |k| {
    let stamp = slot.map(|_| store.stamp_of(k));
    let got = match store.get_shared(k, now, |v| SmallBytes::from(v)) {
      Quick::Hit(v) => {
        h.note_read(k);
        Some(v)
      }
      Quick::Miss => {
        h.note_miss();
        None
      }
      Quick::Slow => {
        h.flush_reads();
        store.get(k, now, None, |v| SmallBytes::from(v))
      }
    };
    // Whatever value the JS memo may keep was read after `stamp`.
    if let (Some(slot), Some((i, st)), Some(_)) = (slot, stamp, &got) {
      h.remember(slot, k);
      if let Some(seen) = h.seen.borrow().as_ref() {
        seen.write(&[i as i32, st as i32]);
      }
    }
    got
  })?;
  match got {
    Some(bytes) => cx.decode(&bytes),
    None => cx.undefined(),
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

// ---- The report of the general read and set --------------------------------
// One half of it; the other is `REPORT` in lib/cache/cache.js. `read` and
// `set` fill a caller's Float64Array with what they saw, for lru-cache's
// status objects and `onInsert`.

/// Index of what was found: 0 miss, 1 hit, 2 stale (`Found`).
const REPORT_FOUND: usize = 0;
/// The entry's TTL (0 = none) and start, on the store's clock.
const REPORT_TTL: usize = 1;
const REPORT_START: usize = 2;
/// The time the operation used (NaN if it needed none).
const REPORT_NOW: usize = 3;
/// How a set went: 0 add, 1 replace, 2 update (`SetKind`).
const REPORT_SET: usize = 4;
/// What the entry counts against maxSize, and the store's total after.
const REPORT_ENTRY_SIZE: usize = 5;
const REPORT_TOTAL: usize = 6;
/// Length of a report.
const REPORT_LEN: usize = 7;

/// Flags of `read`: lru-cache's per-call options (see `ReadOpts`),
const READ_ALLOW_STALE: u32 = 1;
const READ_UPDATE_AGE: u32 = 2;
const READ_TOUCH: u32 = 4;
const READ_DELETE_STALE: u32 = 8;
/// and whether to return the value (else whether it was found fresh, `has`).
const READ_VALUE: u32 = 16;
/// Flag of `set`: keep the TTL of a replaced entry (`noUpdateTTL`).
const SET_NO_UPDATE_TTL: u32 = 1;

/// The numbers above by name, for `cacheOps.report`.
const REPORT_PROTOCOL: [(&str, u32); 15] = [
  ("FOUND", REPORT_FOUND as u32),
  ("TTL", REPORT_TTL as u32),
  ("START", REPORT_START as u32),
  ("NOW", REPORT_NOW as u32),
  ("SET", REPORT_SET as u32),
  ("ENTRY_SIZE", REPORT_ENTRY_SIZE as u32),
  ("TOTAL", REPORT_TOTAL as u32),
  ("LENGTH", REPORT_LEN as u32),
  ("READ_ALLOW_STALE", READ_ALLOW_STALE),
  ("READ_UPDATE_AGE", READ_UPDATE_AGE),
  ("READ_TOUCH", READ_TOUCH),
  ("READ_DELETE_STALE", READ_DELETE_STALE),
  ("READ_VALUE", READ_VALUE),
  ("SET_NO_UPDATE_TTL", SET_NO_UPDATE_TTL),
  ("REASON_EXPIRE", 1),
];

/// The caller's report array, if it passed one of the right shape.
fn report<'a>(cx: Cx, v: sys::napi_value) -> Option<&'a mut [f64]> {
  let (ty, len, data) = cx.typed_array(v).ok()?;
  if ty != sys::TypedarrayType::float64_array || len < REPORT_LEN || data.is_null() {
    return None;
  }
  // SAFETY: N-API reports `len` f64 at `data` for this Float64Array, which
  // is an argument of the running callback (so alive), and no JS runs while
  // the slice is used (it is dropped before the callback returns).
  Some(unsafe { std::slice::from_raw_parts_mut(data as *mut f64, len) })
}

fn now_value(now: Now) -> f64 {
  match now {
    Now::At(t) => t,
    Now::Native => f64::NAN,
  }
}

/// read(h, key, now, flags, report?) -> value | undefined, or a boolean
/// without READ_VALUE: the general get/peek/has, with lru-cache's per-call
/// options as flags.
extern "C" fn cb_read(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<5>(info)?;
    let h = cx.handle(a[0])?;
    let mut now = cx.now(a[2]);
    if matches!(now, Now::Native) {
      // Read once, so that the report says which time was used.
      now = Now::At(crate::cache::clock::now_ms());
    }
    let flags = cx.number(a[3]).unwrap_or(0.0) as u32;
    let opts = ReadOpts {
      allow_stale: flags & READ_ALLOW_STALE != 0,
      update_age: flags & READ_UPDATE_AGE != 0,
      touch: flags & READ_TOUCH != 0,
      delete_stale: flags & READ_DELETE_STALE != 0,
    };
    let want = flags & READ_VALUE != 0;
    let mut removed = Vec::new();
    let sink = h.sink(&mut removed);
    let (got, seen) = cx.key(a[1], |k| {
      h.store.read(k, now, sink, opts, None, |v| {
        if want {
          Some(cx.decode_now(v))
        } else {
          None
        }
      })
    })?;
    if let Some(r) = report(cx, a[4]) {
      r[REPORT_FOUND] = match seen.found {
        Found::Miss => 0.0,
        Found::Hit => 1.0,
        Found::Stale => 2.0,
      };
      r[REPORT_TTL] = seen.ttl;
      r[REPORT_START] = seen.start;
      r[REPORT_NOW] = now_value(now);
    }
    cx.dispose(h, removed)?;
    if !want {
      return cx.bool_value(seen.found == Found::Hit);
    }
    let got = got.flatten().transpose()?;
    cx.finish(got)
  })
}

/// expire(h, key, now?) -> boolean: removes the entry if it has expired
/// (an autopurge timer's check).
extern "C" fn cb_expire(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<3>(info)?;
    let h = cx.handle(a[0])?;
    let mut removed = Vec::new();
    let sink = h.sink(&mut removed);
    let gone = cx.key(a[1], |k| h.store.expire(k, cx.now(a[2]), sink))?;
    cx.dispose(h, removed)?;
    cx.bool_value(gone)
  })
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
    let ([key], argc, h) = cx.bound_reading::<1>(info, true)?;
    let now = if argc > 1 {
      cx.now(cx.args::<2>(info)?[1])
    } else {
      Now::Native
    };
    op(cx, h, key, now)
  })
}

/// get(h, key, now?) -> value | undefined
extern "C" fn cb_get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  with_handle(env, info, get_with)
}

/// peek(h, key, now?) -> value | undefined
extern "C" fn cb_peek(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  with_handle(env, info, peek_with)
}

/// has(h, key, now?) -> boolean
extern "C" fn cb_has(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  with_handle(env, info, has_with)
}

/// Bound get(key, now?), made by `bind`.
extern "C" fn cb_bound_get(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  with_bound(env, info, get_with)
}

/// Bound peek(key, now?), made by `bind`.
extern "C" fn cb_bound_peek(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  with_bound(env, info, peek_with)
}

/// Bound has(key, now?), made by `bind`.
extern "C" fn cb_bound_has(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  with_bound(env, info, has_with)
}
/// Bound getRemember(key, slot): `get`, and on a hit also records the key
/// under `slot` of this handle's memo table, so that the JS side can later
/// replay reads it served from its memo by slot number (`touch`), without
/// passing key strings back.
extern "C" fn cb_bound_get_remember(
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
extern "C" fn cb_bound_touch(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    cx.bound::<0>(info)?;
    cx.undefined()
  })
}

/// Bound set(key, value, ttl?, now?), made by `bind`. `ttl` and `now` are
/// read by a second call only when passed.
extern "C" fn cb_bound_set(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    // The read buffer is flushed by `set_with` unless the set joins it.
    let (kv, argc, h) = cx.bound_reading::<2>(info, true)?;
    let (ttl, now) = if argc > 2 {
      let a = cx.args::<4>(info)?;
      (cx.number(a[2]), cx.now(a[3]))
    } else {
      (None, Now::Native)
    };
    let opts = SetOpts {
      ttl,
      ..SetOpts::default()
    };
    set_with(cx, h, kv, false, opts, now, None)
  })
}

/// bind(h, replay?) -> [get, peek, has, set, getRemember, touch]: the hot
/// operations as functions of this one store, taking (key, now?),
/// (key, value, ttl?, now?), (key, slot) and (). `replay` is the JS memo's
/// queue of reads (see `Handle::catch_up`). The
/// handle is each function's N-API data, so a call skips reading and
/// type-checking a handle argument (~15 ns of a ~130 ns `get`). Each
/// function holds a count of the handle, released by its finalizer.
extern "C" fn cb_bind(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<3>(info)?;
    let h = cx.handle(a[0])?;
    if cx.type_of(a[1])? != ValueType::napi_undefined {
      cx.set_replay(h, a[1])?;
    }
    if cx.type_of(a[2])? != ValueType::napi_undefined {
      cx.set_seen(h, a[2])?;
    }
    let fns = [
      ("get", cb_bound_get as Callback),
      ("peek", cb_bound_peek),
      ("has", cb_bound_has),
      ("set", cb_bound_set),
      ("getRemember", cb_bound_get_remember),
      ("touch", cb_bound_touch),
    ]
    .into_iter()
    .map(|(name, cb)| h.bound_function(cx, name, cb))
    .collect::<R<Vec<_>>>()?;
    cx.array(&fns)
  })
}

/// set(h, key, value, ttl?, now?, size?, start?, flags?, report?): the
/// trailing arguments are read only when passed.
fn set_common(cx: Cx, info: sys::napi_callback_info, json: bool) -> R<sys::napi_value> {
  let (a, argc) = cx.args_counted::<5>(info)?;
  let h = cx.handle(a[0])?;
  let mut opts = SetOpts {
    ttl: if argc > 3 { cx.number(a[3]) } else { None },
    ..SetOpts::default()
  };
  let now = if argc > 4 { cx.now(a[4]) } else { Now::Native };
  if argc > 5 {
    let b = cx.args::<9>(info)?;
    opts.size = cx.number(b[5]).map(|n| n as u32);
    opts.start = cx.number(b[6]);
    opts.no_update_ttl = cx.number(b[7]).unwrap_or(0.0) as u32 & SET_NO_UPDATE_TTL != 0;
    return set_with(cx, h, [a[1], a[2]], json, opts, now, report(cx, b[8]));
  }
  set_with(cx, h, [a[1], a[2]], json, opts, now, None)
}

/// Stores `kv` = [key, value]: the value encoded, or JSON text (`json`).
/// Returns the memo slot its evictions emptied (see `memo::EVICTED_NONE`).
fn set_with(
  cx: Cx,
  h: &Handle,
  kv: [sys::napi_value; 2],
  json: bool,
  opts: SetOpts,
  mut now: Now,
  report_to: Option<&mut [f64]>,
) -> R<sys::napi_value> {
  if report_to.is_some() && matches!(now, Now::Native) {
    now = Now::At(crate::cache::clock::now_ms());
  }
  // A plain set on a shared store of the value the key already holds
  // changes nothing but recency: done under the shared lock and buffered
  // like a read (see `Store::set_same_shared`).
  if let AnyStore::Shared(store) = &h.store {
    let plain = !json && report_to.is_none() && h.dispose.is_null();
    let plain = plain && opts.size.is_none() && opts.start.is_none() && !opts.no_update_ttl;
    if plain {
      let same = cx.key(kv[0], |k| {
        cx.encode(kv[1], k, |t| {
          let same = store.set_same_shared(k, &t, opts.ttl);
          if same {
            h.note_same_set(k);
          }
          same
        })
      })??;
      if same {
        return cx.double(f64::from(memo::EVICTED_NONE));
      }
    }
  }
  // This thread's buffered reads reach the store before its write.
  h.flush_reads();
  let mut removed = Vec::new();
  let sink = h.sink(&mut removed);
  let mut evicted = EvictedSlots::new();
  let r = cx.key(kv[0], |k| -> R<SetReport> {
    let keys = h.memo_keys.borrow();
    let note = |slot: u32, key: &[u8]| evicted.note(&keys, slot, key);
    if json {
      let stored = cx.utf8(kv[1], |t, _| {
        h.store
          .set_with(k, Tagged(TAG_JSON, t), opts, now, sink, note)
      })?;
      stored
        .ok_or_else(|| type_error(ErrorCode::InvalidArgument, "setJson takes JSON text"))?
        .map_err(Fail::from)
    } else {
      Ok(cx.encode(kv[1], k, |t| h.store.set_with(k, t, opts, now, sink, note))??)
    }
  })?;
  // dispose runs even when the set was refused (the old value left with 'set').
  cx.dispose(h, removed)?;
  let done = r?;
  if let Some(rep) = report_to {
    rep[REPORT_SET] = match done.kind {
      SetKind::Add => 0.0,
      SetKind::Replace => 1.0,
      SetKind::Update => 2.0,
    };
    rep[REPORT_TTL] = done.ttl;
    rep[REPORT_START] = done.start;
    rep[REPORT_NOW] = now_value(now);
    rep[REPORT_ENTRY_SIZE] = done.entry_size as f64;
    rep[REPORT_TOTAL] = done.total as f64;
  }
  cx.double(f64::from(evicted.get()))
}

/// set(h, key, value, ttl?, now?) for primitives and Buffer/Uint8Array.
extern "C" fn cb_set(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| set_common(cx, info, false))
}

/// setJson(h, key, jsonText, ttl?, now?) for objects and arrays (stringified in JS).
extern "C" fn cb_set_json(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| set_common(cx, info, true))
}

/// delete(h, key, reason?) -> boolean; reason 0 delete, 1 expire, 2 fetch.
extern "C" fn cb_delete(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<3>(info)?;
    let h = cx.handle(a[0])?;
    let reason = Reason::from_code(cx.number(a[2]).unwrap_or(0.0) as u32);
    let mut removed = Vec::new();
    let sink = h.sink(&mut removed);
    let found = cx.key(a[1], |k| h.store.delete_for(k, reason, sink))?;
    cx.dispose(h, removed)?;
    cx.bool_value(found)
  })
}

/// pop(h) -> value of the least recently used entry | undefined
extern "C" fn cb_pop(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
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
extern "C" fn cb_clear(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
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
extern "C" fn cb_purge_stale(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
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
extern "C" fn cb_remaining_ttl(
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
type ListRow = (Box<[u8]>, Option<Box<[u8]>>, f64, f64, u64);

/// list(h, now?, mode) -> array, MRU first. mode 0: keys, 1: values,
/// 2: [key, value] pairs, 3: [key, value, start, ttl] of every entry
/// including expired ones (for dump).
extern "C" fn cb_list(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
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
        e.size,
      ));
    });
    let mut items = Vec::with_capacity(rows.len());
    for (k, v, start, ttl, size) in rows {
      let item = match (mode, v) {
        (0, _) | (_, None) => cx.key_value(&k)?,
        (1, Some(v)) => cx.decode(&v)?,
        (2, Some(v)) => cx.array(&[cx.key_value(&k)?, cx.decode(&v)?])?,
        (_, Some(v)) => cx.array(&[
          cx.key_value(&k)?,
          cx.decode(&v)?,
          cx.double(start)?,
          cx.double(ttl)?,
          cx.double(size as f64)?,
        ])?,
      };
      items.push(item);
    }
    cx.array(&items)
  })
}

/// entry(h, key) -> [value, start, ttl] | undefined (expired or not; no recency change)
extern "C" fn cb_entry(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<2>(info)?;
    let h = cx.handle(a[0])?;
    let got = cx.key(a[1], |k| {
      h.store
        .peek_entry(k, |e| (Box::<[u8]>::from(e.value), e.start, e.ttl, e.size))
    })?;
    match got {
      None => cx.undefined(),
      Some((v, start, ttl, size)) => cx.array(&[
        cx.decode(&v)?,
        cx.double(start)?,
        cx.double(ttl)?,
        cx.double(size as f64)?,
      ]),
    }
  })
}

/// stats(h) -> { hits, misses, sets, evictions, expirations, deletes, size, calculatedSize }
extern "C" fn cb_stats(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
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
extern "C" fn cb_size(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let h = cx.handle(a[0])?;
    cx.double(h.store.len() as f64)
  })
}

/// calculatedSize(h) -> exact bytes held (keys + values as stored)
extern "C" fn cb_calculated_size(
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
extern "C" fn cb_info(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
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
extern "C" fn cb_drop_named(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let found = cx
      .utf8(a[0], |b, _| {
        // A name with a lone surrogate was never registered (see `open`).
        std::str::from_utf8(b).is_ok_and(registry::drop_named)
      })?
      .unwrap_or(false);
    cx.bool_value(found)
  })
}

/// names() -> names of the registered shared stores
extern "C" fn cb_names(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let names = registry::names()
      .iter()
      .map(|n| cx.string(n.as_bytes()))
      .collect::<R<Vec<_>>>()?;
    cx.array(&names)
  })
}

/// stamps(h) -> ArrayBuffer | undefined: the change stamps of a shared
/// store (see memo.rs), as native memory the JS memo reads without a call.
/// The ArrayBuffer holds a count of the store, so the memory outlives it.
extern "C" fn cb_stamps(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| {
    let a = cx.args::<1>(info)?;
    let h = cx.handle(a[0])?;
    let AnyStore::Shared(store) = &h.store else {
      return cx.undefined();
    };
    let Some(stamps) = store.stamps() else {
      return cx.undefined();
    };
    let data = stamps.as_ptr() as *mut c_void;
    let len = std::mem::size_of_val(stamps);
    let hint = Arc::into_raw(store.clone()) as *mut c_void;
    cx.external_arraybuffer(data, len, release_store, hint)
      .inspect_err(|_| {
        // SAFETY: no ArrayBuffer was made, so the count `hint` holds is still ours.
        drop(unsafe { Arc::from_raw(hint as *const Store) });
      })
  })
}

/// Releases the count of a store an ArrayBuffer of its stamps held.
extern "C" fn release_store(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
  let _ = crate::errors::catch_quiet(|| {
    // SAFETY: `hint` is the count `cb_stamps` gave this ArrayBuffer,
    // released exactly once, here.
    drop(unsafe { Arc::from_raw(hint as *const Store) });
  });
}

/// now() -> the native clock, ms (what `now` defaults to)
extern "C" fn cb_now(env: sys::napi_env, _info: sys::napi_callback_info) -> sys::napi_value {
  run(env, |cx| cx.double(crate::cache::clock::now_ms()))
}

const OPS: &[(&str, Callback)] = &[
  ("open", cb_open),
  ("bind", cb_bind),
  ("get", cb_get),
  ("read", cb_read),
  ("expire", cb_expire),
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
  ("stamps", cb_stamps),
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
      let f = cx.function(name, *cb, ptr::null_mut())?;
      cx.set_prop(ops, name, f)?;
    }
    // The memo protocol's numbers, so that lib/cache/memo.js can check its own.
    let protocol = cx.object()?;
    for (name, n) in PROTOCOL {
      cx.set_prop(protocol, name, cx.double(f64::from(n))?)?;
    }
    cx.set_prop(ops, "memoProtocol", protocol)?;
    let report = cx.object()?;
    for (name, n) in REPORT_PROTOCOL {
      cx.set_prop(report, name, cx.double(f64::from(n))?)?;
    }
    cx.set_prop(ops, "report", report)?;
    cx.set_prop(exports.raw(), "cacheOps", ops)
  };
  attach().map_err(|_| napi::Error::from_reason("leakguard: could not attach the cache functions"))
}
