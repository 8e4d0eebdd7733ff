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

use napi::bindgen_prelude::Float64Array;

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

  /// The samples since the last pull as `[time0, rss0, time1, rss1, ...]`
  /// (epoch ms, bytes). One flat typed array: one crossing, no objects.
  /// A read failure of the thread is thrown once as an `ERR_LEAKGUARD_IO` error.
  #[napi]
  pub fn pull(&self) -> Result<Float64Array> {
    catch_panic(|| {
      let Some(id) = self.id else {
        return Ok(Float64Array::new(Vec::new()));
      };
      let Some(p) = GLOBAL.pull(id) else {
        return Ok(Float64Array::new(Vec::new()));
      };
      if let Some(e) = p.error {
        if p.samples.is_empty() {
          return Err(LeakguardError::new(
            ErrorCode::Io,
            format!("the sampling thread cannot read RSS: {e}"),
          ));
        }
      }
      let mut flat = Vec::with_capacity(p.samples.len() * 2);
      for s in p.samples {
        flat.push(s.time_ms);
        flat.push(s.rss as f64);
      }
      Ok(Float64Array::new(flat))
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
