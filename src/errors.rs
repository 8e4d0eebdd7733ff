//! The one table of error codes that native code throws, and the conversion of
//! Rust failures (including panics) into JS errors. `lib/common/errors.js` reads
//! this table through `errorCodes()` so JS and Rust never disagree on a code.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

/// Every `ERR_LEAKGUARD_*` code. JS-side validation codes live here too so
/// that the table is defined exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
  /// An option has the wrong type, is out of range, or conflicts with another.
  InvalidOption,
  /// A positional argument has the wrong type or value.
  InvalidArgument,
  /// A value cannot be stored (function, symbol, BigInt, cycle, undefined).
  InvalidValue,
  /// A Rust panic was caught at the FFI boundary.
  Panic,
  /// An operating-system call failed (reading /proc, opening a file, ...).
  Io,
  /// A file is not a well-formed V8 heap snapshot.
  MalformedSnapshot,
  /// A job or operation ran past its time bound.
  Timeout,
  /// An operation was aborted through its AbortSignal.
  Aborted,
  /// A named native store was opened with options that differ from its first opening.
  OptionsMismatch,
  /// An entry is larger than `maxEntrySize` or `maxSize`.
  EntryTooLarge,
  /// A scope was used after it closed, or a job left resources open under `onLeftOpen: 'throw'`.
  ScopeClosed,
  /// `requireScope()` was called outside a job run by `guard()`/`withScope()`.
  NoScope,
  /// Resources were left open by a job (onLeftOpen: 'throw').
  LeftOpen,
  /// An optional peer dependency is not installed.
  MissingPeer,
  /// A job's payload was still reachable several major GCs after the job ended (retainCheck).
  PayloadRetained,
  /// No native binary loads on this platform (no prebuilt package, no source build).
  /// Thrown by the JS loader (`lib/common/native.js`) itself, since it is exactly the
  /// case where this table cannot be read: the loader keeps a copy of the string,
  /// and a spec checks that the two agree.
  NoBinary,
}

impl ErrorCode {
  pub const ALL: &'static [ErrorCode] = &[
    ErrorCode::InvalidOption,
    ErrorCode::InvalidArgument,
    ErrorCode::InvalidValue,
    ErrorCode::Panic,
    ErrorCode::Io,
    ErrorCode::MalformedSnapshot,
    ErrorCode::Timeout,
    ErrorCode::Aborted,
    ErrorCode::OptionsMismatch,
    ErrorCode::EntryTooLarge,
    ErrorCode::ScopeClosed,
    ErrorCode::NoScope,
    ErrorCode::LeftOpen,
    ErrorCode::MissingPeer,
    ErrorCode::PayloadRetained,
    ErrorCode::NoBinary,
  ];

  /// The stable string a JS caller sees as `error.code`.
  pub fn as_str(self) -> &'static str {
    match self {
      ErrorCode::InvalidOption => "ERR_LEAKGUARD_INVALID_OPTION",
      ErrorCode::InvalidArgument => "ERR_LEAKGUARD_INVALID_ARGUMENT",
      ErrorCode::InvalidValue => "ERR_LEAKGUARD_INVALID_VALUE",
      ErrorCode::Panic => "ERR_LEAKGUARD_PANIC",
      ErrorCode::Io => "ERR_LEAKGUARD_IO",
      ErrorCode::MalformedSnapshot => "ERR_LEAKGUARD_MALFORMED_SNAPSHOT",
      ErrorCode::Timeout => "ERR_LEAKGUARD_TIMEOUT",
      ErrorCode::Aborted => "ERR_LEAKGUARD_ABORTED",
      ErrorCode::OptionsMismatch => "ERR_LEAKGUARD_OPTIONS_MISMATCH",
      ErrorCode::EntryTooLarge => "ERR_LEAKGUARD_ENTRY_TOO_LARGE",
      ErrorCode::ScopeClosed => "ERR_LEAKGUARD_SCOPE_CLOSED",
      ErrorCode::NoScope => "ERR_LEAKGUARD_NO_SCOPE",
      ErrorCode::LeftOpen => "ERR_LEAKGUARD_LEFT_OPEN",
      ErrorCode::MissingPeer => "ERR_LEAKGUARD_MISSING_PEER",
      ErrorCode::PayloadRetained => "ERR_LEAKGUARD_PAYLOAD_RETAINED",
      ErrorCode::NoBinary => "ERR_LEAKGUARD_NO_BINARY",
    }
  }

  /// The short name JS uses as a key (`codes.INVALID_OPTION`).
  pub fn key(self) -> &'static str {
    &self.as_str()["ERR_LEAKGUARD_".len()..]
  }
}

impl AsRef<str> for ErrorCode {
  fn as_ref(&self) -> &str {
    self.as_str()
  }
}

/// A failure of a pure core: a code plus a human sentence. Cores return this;
/// the glue turns it into a JS `Error` whose `code` is `code.as_str()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakguardError {
  pub code: ErrorCode,
  pub message: String,
}

impl LeakguardError {
  pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
    LeakguardError {
      code,
      message: message.into(),
    }
  }
}

impl fmt::Display for LeakguardError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{} ({})", self.message, self.code.as_str())
  }
}

impl std::error::Error for LeakguardError {}

impl From<std::io::Error> for LeakguardError {
  fn from(e: std::io::Error) -> Self {
    LeakguardError::new(ErrorCode::Io, e.to_string())
  }
}

/// A path as error messages show it: whole up to `MAX_SHOWN_PATH` characters,
/// else its start and its end around an ellipsis (a 16 MB path must not make a
/// 16 MB message; the end names the file, the start where it lives).
pub fn shown_path(path: &std::path::Path) -> String {
  clip_middle(&path.display().to_string(), MAX_SHOWN_PATH)
}

/// The longest path `shown_path` shows whole.
pub const MAX_SHOWN_PATH: usize = 200;

fn clip_middle(text: &str, max: usize) -> String {
  let count = text.chars().count();
  if count <= max {
    return text.to_string();
  }
  let head = max / 3;
  let tail = max - head - 1;
  let start: String = text.chars().take(head).collect();
  let end: String = text.chars().skip(count - tail).collect();
  format!("{start}…{end}")
}

/// The error type every exported function returns: JS sees `error.code`.
pub type Result<T> = napi::Result<T, ErrorCode>;

impl From<LeakguardError> for napi::Error<ErrorCode> {
  fn from(e: LeakguardError) -> Self {
    napi::Error::new(e.code, e.message)
  }
}

/// Describes a panic payload for the error message.
fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
  if let Some(s) = payload.downcast_ref::<&str>() {
    (*s).to_string()
  } else if let Some(s) = payload.downcast_ref::<String>() {
    s.clone()
  } else {
    "unknown panic payload".to_string()
  }
}

thread_local! {
  /// How many `catch_quiet` calls are running on this thread: a panic with
  /// a depth above 0 is about to be caught and turned into a JS error.
  static CATCH_DEPTH: Cell<u32> = const { Cell::new(0) };
  /// What the hook saw of the last caught panic on this thread (its message
  /// and source location), taken by `panic_message`.
  static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static HOOK: Once = Once::new();

/// Installs (once per process) a panic hook that keeps the message and
/// location of a panic that `catch_quiet` is about to catch, instead of
/// printing it: the host's stderr belongs to the host, and the text travels
/// in the `ERR_LEAKGUARD_PANIC` error. A panic outside any `catch_quiet`
/// (which would be a bug in the catching itself) still goes to the previous
/// hook, and so do the test harness's own assertion failures.
fn install_hook() {
  HOOK.call_once(|| {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
      if CATCH_DEPTH.with(Cell::get) == 0 {
        previous(info);
        return;
      }
      let mut text = payload_text(info.payload());
      if let Some(at) = info.location() {
        text.push_str(&format!(" at {}:{}:{}", at.file(), at.line(), at.column()));
      }
      LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
    }));
  });
}

/// The message of a panic `catch_quiet` just caught: what the hook kept (with
/// the source location), else the payload itself.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
  LAST_PANIC
    .with(|p| p.borrow_mut().take())
    .unwrap_or_else(|| payload_text(payload))
}

/// `catch_unwind` that prints nothing: the panic's message and location are
/// kept for `panic_message`. Every place that stops an unwind at the FFI
/// boundary (or at the join of a thread of ours) goes through this.
pub fn catch_quiet<T>(f: impl FnOnce() -> T) -> std::thread::Result<T> {
  install_hook();
  CATCH_DEPTH.with(|d| d.set(d.get() + 1));
  let r = catch_unwind(AssertUnwindSafe(f));
  CATCH_DEPTH.with(|d| d.set(d.get() - 1));
  r
}

/// The `ERR_LEAKGUARD_PANIC` error for a caught panic payload.
pub fn panic_error(payload: &(dyn std::any::Any + Send)) -> LeakguardError {
  LeakguardError::new(
    ErrorCode::Panic,
    format!(
      "leakguard native code panicked: {} (this is a bug in leakguard, please report it)",
      panic_message(payload)
    ),
  )
}

/// Runs `f`, turning a panic into an `ERR_LEAKGUARD_PANIC` error so that no
/// unwind ever crosses the FFI boundary. Every exported function body goes
/// through this (or through a core that cannot panic).
pub fn catch_panic<T>(f: impl FnOnce() -> std::result::Result<T, LeakguardError>) -> Result<T> {
  match catch_quiet(f) {
    Ok(Ok(v)) => Ok(v),
    Ok(Err(e)) => Err(e.into()),
    Err(payload) => Err(panic_error(payload.as_ref()).into()),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn codes_are_unique_and_prefixed() {
    let mut seen = std::collections::HashSet::new();
    for c in ErrorCode::ALL {
      assert!(c.as_str().starts_with("ERR_LEAKGUARD_"));
      assert!(seen.insert(c.as_str()), "duplicate code {}", c.as_str());
      assert_eq!(format!("ERR_LEAKGUARD_{}", c.key()), c.as_str());
    }
  }

  #[test]
  fn panic_becomes_coded_error_with_its_location() {
    let r: Result<()> = catch_panic(|| panic!("boom"));
    let e = r.unwrap_err();
    assert_eq!(e.status, ErrorCode::Panic);
    assert!(e.reason.contains("boom at src/errors.rs:"), "{}", e.reason);
    // Nothing is left behind for the next caught panic.
    assert!(LAST_PANIC.with(|p| p.borrow().is_none()));
    assert_eq!(CATCH_DEPTH.with(Cell::get), 0);
  }

  #[test]
  fn nested_catches_keep_each_message() {
    let r: Result<()> = catch_panic(|| {
      let inner: Result<()> = catch_panic(|| panic!("inner"));
      assert!(inner.unwrap_err().reason.contains("inner at "));
      panic!("outer")
    });
    let e = r.unwrap_err();
    assert!(e.reason.contains("outer at "), "{}", e.reason);
    assert!(!e.reason.contains("inner"), "{}", e.reason);
  }

  #[test]
  fn long_paths_are_shown_clipped_in_the_middle() {
    let short = std::path::Path::new("/tmp/a.heapsnapshot");
    assert_eq!(shown_path(short), "/tmp/a.heapsnapshot");
    let long = format!("/{}/end.heapsnapshot", "d".repeat(1 << 20));
    let shown = shown_path(std::path::Path::new(&long));
    assert_eq!(shown.chars().count(), MAX_SHOWN_PATH);
    assert!(
      shown.starts_with("/ddd") && shown.ends_with("d/end.heapsnapshot"),
      "{shown}"
    );
    assert!(shown.contains('…'));
  }

  #[test]
  fn core_error_keeps_its_code() {
    let r: Result<()> = catch_panic(|| Err(LeakguardError::new(ErrorCode::Io, "nope")));
    let e = r.unwrap_err();
    assert_eq!(e.status, ErrorCode::Io);
    assert_eq!(e.reason, "nope");
  }
}
