//! Process memory sampling. `rss` reads the resident set size natively;
//! `fds` counts open file descriptors; `ring` holds samples; `thread` is the
//! process-wide sampling thread that fills the ring while any monitor is
//! subscribed.

pub mod binding;
pub mod fds;
pub mod ring;
pub mod rss;
pub mod thread;
