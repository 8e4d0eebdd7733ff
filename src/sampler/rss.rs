//! Native RSS reader. On Linux it keeps `/proc/self/statm` open and re-reads it
//! with `pread`, which costs one syscall and no allocation; `process.memoryUsage()`
//! opens, reads and closes `/proc/self/stat` on every call (~8 µs measured here).

use crate::errors::{ErrorCode, LeakguardError};

#[cfg(target_os = "linux")]
mod imp {
  use super::*;
  use std::fs::File;
  use std::os::unix::fs::FileExt;
  use std::sync::OnceLock;

  static STATM: OnceLock<Result<(File, u64), String>> = OnceLock::new();

  fn open() -> Result<(File, u64), String> {
    let file =
      File::open("/proc/self/statm").map_err(|e| format!("cannot open /proc/self/statm: {e}"))?;
    // SAFETY: sysconf has no preconditions; it only reads a constant.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = if page > 0 { page as u64 } else { 4096 };
    Ok((file, page))
  }

  pub fn resident_bytes() -> Result<u64, LeakguardError> {
    let (file, page) = STATM
      .get_or_init(open)
      .as_ref()
      .map_err(|m| LeakguardError::new(ErrorCode::Io, m.clone()))?;
    let mut buf = [0u8; 128];
    let n = file.read_at(&mut buf, 0)?;
    let pages = parse_statm_resident(&buf[..n]).ok_or_else(|| {
      LeakguardError::new(
        ErrorCode::Io,
        format!(
          "unexpected /proc/self/statm content: {:?}",
          String::from_utf8_lossy(&buf[..n])
        ),
      )
    })?;
    Ok(pages * page)
  }
}

#[cfg(not(target_os = "linux"))]
mod imp {
  use super::*;
  pub fn resident_bytes() -> Result<u64, LeakguardError> {
    Err(LeakguardError::new(
      ErrorCode::Io,
      "native RSS reading is implemented for Linux only",
    ))
  }
}

/// Resident set size of this process in bytes.
pub fn resident_bytes() -> Result<u64, LeakguardError> {
  imp::resident_bytes()
}

/// Parses the second field (resident pages) of a statm line such as
/// `"12345 6789 123 4 0 567 0\n"`.
pub fn parse_statm_resident(bytes: &[u8]) -> Option<u64> {
  let mut fields = bytes
    .split(|b| b.is_ascii_whitespace())
    .filter(|f| !f.is_empty());
  fields.next()?;
  let resident = fields.next()?;
  if resident.is_empty() || resident.len() > 19 {
    return None;
  }
  let mut n: u64 = 0;
  for &b in resident {
    if !b.is_ascii_digit() {
      return None;
    }
    n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
  }
  Some(n)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn parses_statm() {
    assert_eq!(
      parse_statm_resident(b"12345 6789 123 4 0 567 0\n"),
      Some(6789)
    );
    assert_eq!(parse_statm_resident(b"1 2"), Some(2));
  }

  #[test]
  fn rejects_malformed_statm() {
    assert_eq!(parse_statm_resident(b""), None);
    assert_eq!(parse_statm_resident(b"12345"), None);
    assert_eq!(parse_statm_resident(b"1 2x 3"), None);
    assert_eq!(parse_statm_resident(b"1 99999999999999999999999"), None);
  }

  #[cfg(target_os = "linux")]
  #[test]
  fn reads_a_plausible_rss_that_follows_allocation() {
    let before = resident_bytes().unwrap();
    assert!(before > 1 << 20, "rss {before} is implausibly small");
    // Touch 64 MiB so it becomes resident; RSS must rise by most of it.
    let mut v = vec![0u8; 64 << 20];
    for i in (0..v.len()).step_by(4096) {
      v[i] = 1;
    }
    // Otherwise an optimised build drops the unused stores (and the memory).
    std::hint::black_box(&mut v);
    let after = resident_bytes().unwrap();
    assert!(after >= before + (48 << 20), "rss {before} -> {after}");
    drop(v);
  }
}
