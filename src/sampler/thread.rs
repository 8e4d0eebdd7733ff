//! The process-wide sampling thread. One native thread per process, shared by
//! every monitor in every worker_thread: it reads RSS every `interval` (the
//! smallest interval any subscriber asked for) into a bounded ring, whether or
//! not the JS event loop is blocked. JS pulls the samples when it wants them,
//! so the main thread pays nothing per sample.
//!
//! Lifecycle: the first subscriber starts the thread; the last one to leave
//! stops and joins it (it wakes from its timed wait at once). A native thread
//! holds no libuv handle, so it never keeps the event loop alive, and it only
//! waits on a condition variable, so joining it cannot block process exit.

use std::collections::HashMap;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use once_cell::sync::Lazy;
use parking_lot::{Condvar, Mutex};

use crate::errors::{ErrorCode, LeakguardError};
use crate::sampler::ring::{Ring, Sample};

/// Name of the native thread, visible in `/proc/self/task/*/comm` (≤ 15 bytes).
pub const THREAD_NAME: &str = "leakguard-smplr";

/// Samples kept process-wide: 16 KiB entries × 16 bytes = 256 KiB.
pub const RING_CAPACITY: usize = 16 * 1024;

/// Reads one value (RSS in bytes). Injected so tests can drive the thread.
pub type Reader = fn() -> Result<u64, LeakguardError>;

struct Subscriber {
  interval_ms: u64,
  /// Next ring sequence number this subscriber has not seen.
  cursor: u64,
  /// Time of the last sample handed out, for downsampling to `interval_ms`.
  last_time_ms: f64,
}

struct State {
  subscribers: HashMap<u64, Subscriber>,
  ring: Ring,
  next_id: u64,
  thread: Option<JoinHandle<()>>,
  /// Bumped whenever a thread is told to stop; a thread runs only while the
  /// generation it was started with is current.
  generation: u64,
  /// Last read error, reported once to JS through `pull`.
  last_error: Option<String>,
}

struct Shared {
  state: Mutex<State>,
  wake: Condvar,
  read: Reader,
}

/// A sampler: a ring, its subscribers and (while any) its thread.
#[derive(Clone)]
pub struct Sampler {
  shared: Arc<Shared>,
}

/// What a subscriber gets from `pull`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Pulled {
  pub samples: Vec<Sample>,
  /// A read failure of the thread since the last pull, if any.
  pub error: Option<String>,
}

/// Snapshot of the sampler's state, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
  pub running: bool,
  pub subscribers: usize,
  /// The thread's period: the smallest interval of the subscribers (none without any).
  pub interval_ms: Option<u64>,
  pub samples: usize,
}

pub fn now_ms() -> f64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_secs_f64() * 1000.0)
    .unwrap_or(0.0)
}

impl State {
  /// The smallest interval any subscriber asked for; `None` without subscribers.
  fn interval_ms(&self) -> Option<u64> {
    self.subscribers.values().map(|s| s.interval_ms).min()
  }
}

impl Sampler {
  pub fn new(read: Reader, capacity: usize) -> Self {
    Sampler {
      shared: Arc::new(Shared {
        state: Mutex::new(State {
          subscribers: HashMap::new(),
          ring: Ring::new(capacity),
          next_id: 1,
          thread: None,
          generation: 0,
          last_error: None,
        }),
        wake: Condvar::new(),
        read,
      }),
    }
  }

  /// Adds a subscriber sampling every `interval_ms` and returns its id.
  /// Takes one sample at once on the caller's thread so that the subscriber
  /// has a starting point, and starts the thread if it was not running.
  /// (The bound users see, and the default, live in `lib/monitor/options.js`;
  /// the type only rules out a zero period, which would spin.)
  pub fn subscribe(&self, interval_ms: NonZeroU64) -> Result<u64, LeakguardError> {
    let interval_ms = interval_ms.get();
    let first = (self.shared.read)();
    let mut st = self.shared.state.lock();
    let id = st.next_id;
    st.next_id += 1;
    let cursor = st.ring.next_seq();
    if let Ok(rss) = first {
      st.ring.push(Sample {
        time_ms: now_ms(),
        rss,
      });
    }
    st.subscribers.insert(
      id,
      Subscriber {
        interval_ms,
        cursor,
        last_time_ms: f64::NEG_INFINITY,
      },
    );
    if st.thread.is_none() {
      let generation = st.generation;
      let shared = Arc::clone(&self.shared);
      let handle = std::thread::Builder::new()
        .name(THREAD_NAME.to_string())
        .stack_size(256 * 1024)
        .spawn(move || run(shared, generation));
      match handle {
        Ok(h) => st.thread = Some(h),
        Err(e) => {
          st.subscribers.remove(&id);
          return Err(LeakguardError::new(
            ErrorCode::Io,
            format!("cannot start the sampling thread: {e}"),
          ));
        }
      }
    } else {
      // A shorter interval takes effect now, not after the current wait.
      self.shared.wake.notify_all();
    }
    Ok(id)
  }

  /// Removes a subscriber (unknown ids are ignored, so it is idempotent). The
  /// last one out stops and joins the thread.
  pub fn unsubscribe(&self, id: u64) {
    let handle = {
      let mut st = self.shared.state.lock();
      if st.subscribers.remove(&id).is_none() {
        return;
      }
      if !st.subscribers.is_empty() {
        return;
      }
      st.generation += 1;
      st.thread.take()
    };
    self.shared.wake.notify_all();
    if let Some(h) = handle {
      if h.thread().id() != std::thread::current().id() {
        let _ = h.join();
      }
    }
  }

  /// The samples taken since this subscriber's last pull, thinned to its own
  /// interval (the thread runs at the smallest interval of all subscribers).
  pub fn pull(&self, id: u64) -> Option<Pulled> {
    let mut st = self.shared.state.lock();
    let error = st.last_error.take();
    let State {
      subscribers, ring, ..
    } = &mut *st;
    let sub = subscribers.get_mut(&id)?;
    let mut out = Pulled {
      error,
      ..Pulled::default()
    };
    // Keep a sample when at least 90% of the interval has passed, so that
    // jitter of the shared schedule does not drop every other sample.
    let min_gap = sub.interval_ms as f64 * 0.9;
    let mut last = sub.last_time_ms;
    ring.read_from(sub.cursor, |s| {
      if s.time_ms - last >= min_gap {
        last = s.time_ms;
        out.samples.push(s);
      }
    });
    sub.last_time_ms = last;
    sub.cursor = ring.next_seq();
    Some(out)
  }

  pub fn info(&self) -> Info {
    let st = self.shared.state.lock();
    Info {
      running: st.thread.is_some(),
      subscribers: st.subscribers.len(),
      interval_ms: st.interval_ms(),
      samples: st.ring.len(),
    }
  }
}

fn run(shared: Arc<Shared>, generation: u64) {
  let mut next = Instant::now();
  let mut st = shared.state.lock();
  loop {
    let Some(interval_ms) = st.interval_ms() else {
      return;
    };
    if st.generation != generation {
      return;
    }
    let interval = Duration::from_millis(interval_ms);
    let now = Instant::now();
    if now >= next {
      // Read outside the lock: JS pulling must never wait for a syscall.
      let value = parking_lot::MutexGuard::unlocked(&mut st, || ((shared.read)(), now_ms()));
      match value {
        (Ok(rss), time_ms) => st.ring.push(Sample { time_ms, rss }),
        (Err(e), _) => st.last_error = Some(e.message),
      }
      next += interval;
      // After a stall (suspended VM, long lock) resume the schedule from now
      // instead of taking a burst of catch-up samples.
      if next <= now {
        next = now + interval;
      }
    } else if next > now + interval {
      // The interval shrank while waiting.
      next = now + interval;
    }
    if st.generation != generation || st.subscribers.is_empty() {
      return;
    }
    shared.wake.wait_until(&mut st, next);
  }
}

fn read_rss() -> Result<u64, LeakguardError> {
  crate::sampler::rss::resident_bytes()
}

/// The one sampler of this process.
pub static GLOBAL: Lazy<Sampler> = Lazy::new(|| Sampler::new(read_rss, RING_CAPACITY));

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::atomic::{AtomicU64, Ordering};

  static COUNTER: AtomicU64 = AtomicU64::new(0);

  fn ms(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).unwrap()
  }
  fn counting() -> Result<u64, LeakguardError> {
    Ok(COUNTER.fetch_add(1, Ordering::SeqCst))
  }

  fn sampler_threads() -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
      return 0;
    };
    dir
      .filter_map(|e| e.ok())
      .filter(|e| {
        std::fs::read_to_string(e.path().join("comm"))
          .map(|c| c.trim() == THREAD_NAME)
          .unwrap_or(false)
      })
      .count()
  }

  #[test]
  fn samples_while_subscribed_and_stops_with_the_last_subscriber() {
    let s = Sampler::new(counting, 64);
    let a = s.subscribe(ms(2)).unwrap();
    let b = s.subscribe(ms(50)).unwrap();
    assert!(s.info().running);
    assert_eq!(s.info().interval_ms, Some(2));
    std::thread::sleep(Duration::from_millis(120));
    let pa = s.pull(a).unwrap();
    let pb = s.pull(b).unwrap();
    assert!(pa.samples.len() >= 10, "a got {}", pa.samples.len());
    // b is thinned to its own 50 ms interval.
    assert!(
      pb.samples.len() <= 4 && !pb.samples.is_empty(),
      "b got {}",
      pb.samples.len()
    );
    for w in pa.samples.windows(2) {
      assert!(w[1].time_ms >= w[0].time_ms);
    }
    s.unsubscribe(a);
    assert_eq!(s.info().interval_ms, Some(50));
    assert!(s.info().running);
    s.unsubscribe(b);
    s.unsubscribe(b); // idempotent
    assert!(!s.info().running);
    assert!(s.pull(a).is_none());
    // Restartable.
    let c = s.subscribe(ms(5)).unwrap();
    assert!(s.info().running);
    s.unsubscribe(c);
    assert!(!s.info().running);
  }

  #[test]
  fn a_slow_reader_gets_the_newest_samples_only() {
    let s = Sampler::new(counting, 8);
    let a = s.subscribe(ms(1)).unwrap();
    std::thread::sleep(Duration::from_millis(60));
    let p = s.pull(a).unwrap();
    assert!(!p.samples.is_empty() && p.samples.len() <= 8, "{p:?}");
    s.unsubscribe(a);
  }

  #[test]
  fn read_errors_are_reported_not_fatal() {
    fn failing() -> Result<u64, LeakguardError> {
      Err(LeakguardError::new(ErrorCode::Io, "no /proc"))
    }
    let s = Sampler::new(failing, 8);
    let a = s.subscribe(ms(1)).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let p = s.pull(a).unwrap();
    assert!(p.samples.is_empty());
    assert_eq!(p.error.as_deref(), Some("no /proc"));
    s.unsubscribe(a);
  }

  #[test]
  fn many_start_stop_cycles_leave_no_thread() {
    let s = Sampler::new(counting, 8);
    for _ in 0..50 {
      let id = s.subscribe(ms(1)).unwrap();
      s.unsubscribe(id);
    }
    assert!(!s.info().running);
    // Other tests may run their own samplers concurrently; only require that
    // ours is gone by checking the state, and that the count is bounded.
    assert!(sampler_threads() <= 4);
  }
}
