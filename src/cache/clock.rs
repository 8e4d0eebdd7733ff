//! The default clock of every store: monotonic milliseconds since the first
//! use in this process, shared by all threads so that a named store sees one
//! time line whatever thread touches it.

use once_cell::sync::Lazy;
use std::time::Instant;

static ORIGIN: Lazy<Instant> = Lazy::new(Instant::now);

/// Monotonic ms (fractional) since the clock's origin.
pub fn now_ms() -> f64 {
  ORIGIN.elapsed().as_secs_f64() * 1000.0
}
