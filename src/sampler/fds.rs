//! Open file descriptors of this process, counted natively. A stream, socket
//! or pool left open per job is an fd leak before it is a memory leak (one
//! unclosed stream per job exhausts a 20k fd limit in 20 s at 1000 jobs/s), and
//! `process.getActiveResourcesInfo()` does not see unref'd sockets nor plain
//! file streams. The sampling thread counts the entries of `/proc/self/fd`, so
//! the main thread pays nothing.

/// Number of open file descriptors, `None` where it cannot be counted
/// (non-Linux, `/proc` not mounted).
#[cfg(target_os = "linux")]
pub fn open_fds() -> Option<u64> {
  let dir = std::fs::read_dir("/proc/self/fd").ok()?;
  // The directory handle being read is itself one of the entries.
  let n = dir.filter(|e| e.is_ok()).count() as u64;
  Some(n.saturating_sub(1))
}

#[cfg(not(target_os = "linux"))]
pub fn open_fds() -> Option<u64> {
  None
}

/// The soft `RLIMIT_NOFILE` (what `ulimit -n` says): opening one more fd past
/// it fails with EMFILE. `None` when unlimited or unknown.
#[cfg(unix)]
pub fn fd_limit() -> Option<u64> {
  let mut lim = libc::rlimit {
    rlim_cur: 0,
    rlim_max: 0,
  };
  // SAFETY: getrlimit writes into the struct we own and pass by pointer; it has
  // no other preconditions.
  let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
  if rc != 0 || lim.rlim_cur == libc::RLIM_INFINITY {
    return None;
  }
  // rlim_t is u64 here, narrower or signed on other targets.
  #[allow(clippy::unnecessary_cast)]
  Some(lim.rlim_cur as u64)
}

#[cfg(not(unix))]
pub fn fd_limit() -> Option<u64> {
  None
}

#[cfg(test)]
mod tests {
  use super::*;

  #[cfg(target_os = "linux")]
  #[test]
  fn counts_the_files_this_test_opens() {
    let before = open_fds().unwrap();
    let files: Vec<std::fs::File> = (0..20)
      .map(|_| std::fs::File::open("/proc/self/statm").unwrap())
      .collect();
    let during = open_fds().unwrap();
    drop(files);
    // Other tests run on other threads and may open files too: allow slack.
    assert!(during >= before + 15, "{before} -> {during}");
    assert!(fd_limit().unwrap_or(u64::MAX) >= during);
  }
}
