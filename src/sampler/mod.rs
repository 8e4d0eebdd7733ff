//! Process memory sampling. `rss` reads the resident set size natively; the
//! process-wide sampling thread and ring buffer build on it.

pub mod binding;
pub mod rss;
