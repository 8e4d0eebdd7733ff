//! napi glue for the sampler: thin wrappers over the pure readers.

use napi_derive::napi;

use std::num::NonZeroU64;

use crate::errors::{catch_panic, ErrorCode, LeakguardError, Result};
use crate::sampler::rss;

/// Resident set size of this process in bytes, read natively
/// (`/proc/self/statm` kept open on Linux).
#[napi(js_name = "nativeRss")]
pub fn native_rss() -> Result<f64> {
  catch_panic(|| rss::resident_bytes().map(|b| b as f64))
}

use napi::bindgen_prelude::Float64ArraySlice;

use crate::sampler::thread::{self, GLOBAL};

/// One subscription to the process-wide sampling thread. `lib/monitor/monitor.js`
/// holds one per monitor. Dropping it (explicit `stop()`, garbage collection,
/// or the teardown of its worker_thread's environment, which finalizes every
/// wrapped object) unsubscribes, so a terminated worker never leaves the
/// thread running.
#[napi]
pub struct RssSampler {
  id: Option<u64>,
}

#[napi]
impl RssSampler {
  /// Subscribes with a sampling interval in milliseconds (bounds and default:
  /// `lib/monitor/options.js`).
  #[napi(constructor)]
  pub fn new(interval_ms: u32) -> Result<Self> {
    catch_panic(|| {
      let interval = NonZeroU64::new(u64::from(interval_ms)).ok_or_else(|| {
        LeakguardError::new(
          ErrorCode::InvalidArgument,
          "the sampling interval must not be 0",
        )
      })?;
      let id = GLOBAL.subscribe(interval)?;
      Ok(RssSampler { id: Some(id) })
    })
  }

  /// Writes the samples since the last pull into `out` as `[time0, rss0,
  /// fds0, time1, ...]` (epoch ms, bytes, open fds or NaN when they cannot be
  /// counted) and returns how many samples it wrote; those that do not fit
  /// wait for the next call. JS passes the same array every time: no
  /// allocation, one crossing. A read failure of the thread is thrown once as
  /// an `ERR_LEAKGUARD_IO` error.
  #[napi(js_name = "pullInto")]
  pub fn pull_into(&self, mut out: Float64ArraySlice) -> Result<u32> {
    catch_panic(|| {
      // SAFETY: the array belongs to the calling JS thread, which is blocked
      // in this call, and is never a SharedArrayBuffer view (lib/monitor
      // allocates it): nothing else reads or writes it while we fill it.
      let out = unsafe { out.as_mut() };
      let Some(id) = self.id else {
        return Ok(0);
      };
      let Some(p) = GLOBAL.pull(id, out.len() / 3) else {
        return Ok(0);
      };
      if let Some(e) = p.error {
        if p.samples.is_empty() {
          return Err(LeakguardError::new(
            ErrorCode::Io,
            format!("the sampling thread cannot read RSS: {e}"),
          ));
        }
      }
      for (i, s) in p.samples.iter().enumerate() {
        out[3 * i] = s.time_ms;
        out[3 * i + 1] = s.rss as f64;
        out[3 * i + 2] = s.fds.map_or(f64::NAN, |n| n as f64);
      }
      Ok(p.samples.len() as u32)
    })
  }

  /// Unsubscribes (idempotent). The last subscriber out stops the thread.
  #[napi]
  pub fn stop(&mut self) -> Result<()> {
    catch_panic(|| {
      if let Some(id) = self.id.take() {
        GLOBAL.unsubscribe(id);
      }
      Ok(())
    })
  }
}

impl Drop for RssSampler {
  fn drop(&mut self) {
    if let Some(id) = self.id.take() {
      // Drop runs in a finalizer: never let a panic unwind from here.
      let _ = std::panic::catch_unwind(|| GLOBAL.unsubscribe(id));
    }
  }
}

/// The soft limit on open file descriptors (`ulimit -n`), or null when
/// unlimited or unknown. The monitor projects fd growth onto it.
#[napi(js_name = "fdLimit")]
pub fn fd_limit() -> Result<Option<f64>> {
  catch_panic(|| Ok(crate::sampler::fds::fd_limit().map(|n| n as f64)))
}

/// State of the process-wide sampling thread (for tests and diagnostics).
#[napi(object)]
pub struct SamplerInfo {
  pub running: bool,
  pub subscribers: u32,
  /// The thread's period; null while no monitor is subscribed.
  pub interval_ms: Option<f64>,
  pub samples: u32,
  pub thread_name: String,
}

#[napi(js_name = "samplerInfo")]
pub fn sampler_info() -> Result<SamplerInfo> {
  catch_panic(|| {
    let i = GLOBAL.info();
    Ok(SamplerInfo {
      running: i.running,
      subscribers: i.subscribers as u32,
      interval_ms: i.interval_ms.map(|ms| ms as f64),
      samples: i.samples as u32,
      thread_name: thread::THREAD_NAME.to_string(),
    })
  })
}
