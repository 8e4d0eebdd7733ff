//! Any byte string fed to the snapshot pipeline (parse, dominators, summary)
//! must end in Ok or a coded error: never a panic, hang or unbounded
//! allocation. Run by hand (CI runs the structure-aware mutations of
//! `src/snapshot/mutation_tests.rs` in `cargo test` instead, which fit its time):
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run parse fuzz/corpus/parse fuzz/seeds -- -max_total_time=30`
//! (`fuzz/seeds`: a valid snapshot, a repeated header, reordered sections).
#![no_main]

use std::sync::atomic::AtomicBool;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
  let _ = leakguard::snapshot::analyze_reader(data, data.len() as u64, &AtomicBool::new(false));
});
