#![deny(clippy::all)]
//! leakguard's native core. Wiring only: each capability lives in its own
//! module with a pure core (plain Rust types, `cargo test`) and a thin
//! `binding` submodule of napi glue.

pub mod cache;
pub mod diagnostics;
pub mod errors;
pub mod sampler;
pub mod trend;
