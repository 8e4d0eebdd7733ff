//! Process memory sampling. `rss` reads the resident set size natively;
//! `ring` holds samples; `thread` is the process-wide sampling thread that
//! fills the ring while any monitor is subscribed.

pub mod binding;
pub mod ring;
pub mod rss;
pub mod thread;
