//! napi glue for heap snapshots. Results cross the boundary as one JSON
//! string (a few KB: the top groups and suspects), parsed by
//! `lib/snapshot/snapshot.js`; errors travel inside it as `{ error: { code, message } }`
//! because napi's `Task` can only reject with a generic status, and the JS
//! layer must see our `ERR_LEAKGUARD_*` code.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{catch_panic, LeakguardError, Result};
use crate::snapshot::{diff_files, summarize_file, DiffOptions};

/// Lets JS stop a running analysis: an `AbortSignal` listener calls
/// `cancel()`, the worker thread sees the flag between chunks.
#[napi]
pub struct SnapshotCancelToken {
  flag: Arc<AtomicBool>,
}

#[napi]
impl SnapshotCancelToken {
  #[napi(constructor)]
  pub fn new() -> Self {
    SnapshotCancelToken {
      flag: Arc::new(AtomicBool::new(false)),
    }
  }

  #[napi]
  pub fn cancel(&self) {
    self.flag.store(true, Ordering::Relaxed);
  }
}

impl Default for SnapshotCancelToken {
  fn default() -> Self {
    Self::new()
  }
}

enum Job {
  Diff {
    before: PathBuf,
    after: PathBuf,
    opts: DiffOptions,
    harness: Vec<String>,
  },
  Summary {
    path: PathBuf,
    top: usize,
  },
}

fn run(job: &Job, cancel: &AtomicBool) -> String {
  let r: std::result::Result<String, LeakguardError> = (|| match job {
    Job::Diff {
      before,
      after,
      opts,
      harness,
    } => {
      let d = diff_files(before, after, *opts, harness, cancel)?;
      serde_json::to_string(&serde_json::json!({ "ok": d }))
        .map_err(|e| LeakguardError::new(crate::errors::ErrorCode::Panic, e.to_string()))
    }
    Job::Summary { path, top } => {
      let s = summarize_file(path, *top, cancel)?;
      serde_json::to_string(&serde_json::json!({ "ok": s }))
        .map_err(|e| LeakguardError::new(crate::errors::ErrorCode::Panic, e.to_string()))
    }
  })();
  let caught = catch_panic(|| r);
  match caught {
    Ok(s) => s,
    Err(e) => {
      serde_json::json!({ "error": { "code": e.status.as_str(), "message": e.reason } }).to_string()
    }
  }
}

pub struct SnapshotTask {
  job: Job,
  cancel: Arc<AtomicBool>,
}

impl Task for SnapshotTask {
  type Output = String;
  type JsValue = String;

  fn compute(&mut self) -> napi::Result<String> {
    let job = &self.job;
    let cancel = &self.cancel;
    // A panic inside `run` is caught there; this guards the JSON glue too.
    Ok(
      std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(job, cancel))).unwrap_or_else(|_| {
        r#"{"error":{"code":"ERR_LEAKGUARD_PANIC","message":"leakguard native code panicked (this is a bug in leakguard, please report it)"}}"#.to_string()
      }),
    )
  }

  fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
    Ok(output)
  }
}

fn diff_job(
  before: String,
  after: String,
  jobs_between: Option<f64>,
  top: u32,
  harness: Option<Vec<String>>,
) -> Job {
  Job::Diff {
    before: PathBuf::from(before),
    after: PathBuf::from(after),
    opts: DiffOptions {
      jobs_between,
      top: top as usize,
    },
    harness: harness.unwrap_or_default(),
  }
}

/// Parses and diffs two snapshots on the libuv pool. Resolves to a JSON
/// string: `{ ok: HeapDiff }` or `{ error: { code, message } }`. Options are
/// validated by `lib/snapshot/snapshot.js`; `harness` lists directories
/// whose code retainer paths avoid (leakguard's own `lib/`).
#[napi(js_name = "diffHeapSnapshotsNative")]
pub fn diff_heap_snapshots_native(
  before: String,
  after: String,
  jobs_between: Option<f64>,
  top: u32,
  token: &SnapshotCancelToken,
  harness: Option<Vec<String>>,
) -> AsyncTask<SnapshotTask> {
  AsyncTask::new(SnapshotTask {
    job: diff_job(before, after, jobs_between, top, harness),
    cancel: token.flag.clone(),
  })
}

/// Synchronous twin of `diffHeapSnapshotsNative` (same `compute`).
#[napi(js_name = "diffHeapSnapshotsNativeSync")]
pub fn diff_heap_snapshots_native_sync(
  before: String,
  after: String,
  jobs_between: Option<f64>,
  top: u32,
  harness: Option<Vec<String>>,
) -> Result<String> {
  catch_panic(|| {
    Ok(run(
      &diff_job(before, after, jobs_between, top, harness),
      &AtomicBool::new(false),
    ))
  })
}

#[napi(js_name = "summarizeHeapSnapshotNative")]
pub fn summarize_heap_snapshot_native(
  path: String,
  top: u32,
  token: &SnapshotCancelToken,
) -> AsyncTask<SnapshotTask> {
  AsyncTask::new(SnapshotTask {
    job: Job::Summary {
      path: PathBuf::from(path),
      top: top as usize,
    },
    cancel: token.flag.clone(),
  })
}

#[napi(js_name = "summarizeHeapSnapshotNativeSync")]
pub fn summarize_heap_snapshot_native_sync(path: String, top: u32) -> Result<String> {
  catch_panic(|| {
    Ok(run(
      &Job::Summary {
        path: PathBuf::from(path),
        top: top as usize,
      },
      &AtomicBool::new(false),
    ))
  })
}
