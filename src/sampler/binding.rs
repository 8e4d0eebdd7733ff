//! napi glue for the sampler: thin wrappers over the pure readers.

use napi_derive::napi;

use crate::errors::{catch_panic, Result};
use crate::sampler::rss;

/// Resident set size of this process in bytes, read natively
/// (`/proc/self/statm` kept open on Linux).
#[napi(js_name = "nativeRss")]
pub fn native_rss() -> Result<f64> {
  catch_panic(|| rss::resident_bytes().map(|b| b as f64))
}
