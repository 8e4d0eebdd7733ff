//! Opening a snapshot so that an abort is never stuck behind the file: a
//! regular file is read as it is (the parser looks at the cancel flag between
//! records); anything else, such as a FIFO whose writer has not come yet, is
//! opened non-blocking and read only when `poll` says there is data, waking
//! every `POLL_MS` to look at the flag. Without this, `open(2)` on a FIFO with
//! no writer blocks a libuv thread for ever, whatever the AbortSignal says.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::AtomicBool;

/// How long one wait for data lasts before the cancel flag is read again.
#[cfg(unix)]
const POLL_MS: i32 = 50;

/// The I/O error a read returns once the analysis is cancelled; the parser
/// turns it into `ERR_LEAKGUARD_ABORTED`.
#[derive(Debug)]
pub(crate) struct ReadAborted;

impl std::fmt::Display for ReadAborted {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("heap snapshot analysis was aborted")
  }
}

impl std::error::Error for ReadAborted {}

/// Whether an I/O error is the one `Input` returns after a cancel.
pub(crate) fn is_aborted(e: &io::Error) -> bool {
  e.get_ref().is_some_and(|inner| inner.is::<ReadAborted>())
}

/// A snapshot file being read; see the module comment.
pub struct Input<'a> {
  file: File,
  /// Set for files that can block (not regular files): reads wait in `poll`.
  cancel: Option<&'a AtomicBool>,
}

/// What `open` found: the input, its size in bytes (`u64::MAX` when it is
/// not known in advance, as for a FIFO), and whether it is a directory
/// (refused by the caller with its own message).
pub struct Opened<'a> {
  pub input: Input<'a>,
  pub size: u64,
  pub is_dir: bool,
}

/// Opens `path` for an analysis that `cancel` can stop at any time.
pub fn open<'a>(path: &Path, cancel: &'a AtomicBool) -> io::Result<Opened<'a>> {
  #[cfg(unix)]
  {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    let file = std::fs::OpenOptions::new()
      .read(true)
      .custom_flags(libc::O_NONBLOCK)
      .open(path)?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    let can_block = kind.is_fifo() || kind.is_char_device() || kind.is_socket();
    if !can_block {
      set_blocking(&file)?;
    }
    Ok(Opened {
      input: Input {
        file,
        cancel: can_block.then_some(cancel),
      },
      size: if kind.is_file() { meta.len() } else { u64::MAX },
      is_dir: kind.is_dir(),
    })
  }
  #[cfg(not(unix))]
  {
    let _ = cancel;
    let file = File::open(path)?;
    let meta = file.metadata()?;
    Ok(Opened {
      input: Input { file, cancel: None },
      size: meta.len(),
      is_dir: meta.is_dir(),
    })
  }
}

/// Clears O_NONBLOCK again: a regular file never blocks for long, and plain
/// reads are simpler (and never spuriously fail with EAGAIN).
#[cfg(unix)]
fn set_blocking(file: &File) -> io::Result<()> {
  use std::os::unix::io::AsRawFd;
  let fd = file.as_raw_fd();
  // SAFETY: `fd` is open for the lifetime of `file`; F_GETFL/F_SETFL only
  // read and change its status flags.
  let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
  if flags < 0 {
    return Err(io::Error::last_os_error());
  }
  // SAFETY: as above.
  if unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
    return Err(io::Error::last_os_error());
  }
  Ok(())
}

impl Read for Input<'_> {
  fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
    let Some(cancel) = self.cancel else {
      return self.file.read(buf);
    };
    #[cfg(unix)]
    loop {
      use std::os::unix::io::AsRawFd;
      if cancel.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(io::Error::other(ReadAborted));
      }
      let mut fds = libc::pollfd {
        fd: self.file.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
      };
      // SAFETY: one valid pollfd for a descriptor `self.file` keeps open.
      let n = unsafe { libc::poll(&mut fds, 1, POLL_MS) };
      if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
          continue;
        }
        return Err(e);
      }
      // No event: no data yet and no writer has come and gone (a FIFO read
      // now would report end-of-file before its writer even opened it).
      if n == 0 {
        continue;
      }
      match self.file.read(buf) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
        r => return r,
      }
    }
    #[cfg(not(unix))]
    {
      let _ = cancel;
      self.file.read(buf)
    }
  }
}
