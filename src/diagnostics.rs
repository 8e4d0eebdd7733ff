//! Exports that describe the native side itself: the error-code table and a
//! test hook proving that a panic becomes a JS error instead of an abort.

use napi_derive::napi;

use crate::errors::{catch_panic, ErrorCode, Result};

/// The `ERR_LEAKGUARD_*` table as `{ KEY: 'ERR_LEAKGUARD_KEY' }`; `lib/common/errors.js`
/// builds its `codes` from it so the codes are defined once, here.
#[napi(js_name = "errorCodes")]
pub fn error_codes() -> std::collections::HashMap<String, String> {
  ErrorCode::ALL
    .iter()
    .map(|c| (c.key().to_string(), c.as_str().to_string()))
    .collect()
}

/// Test-only: panics inside native code. Used by the test suite to prove that a
/// panic reaches JS as an `ERR_LEAKGUARD_PANIC` error and the process lives on.
#[napi(js_name = "__panicForTest")]
pub fn panic_for_test(message: String) -> Result<()> {
  catch_panic(|| panic!("{}", message))
}
