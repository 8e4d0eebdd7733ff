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

use crate::errors::{catch_panic, catch_quiet, panic_error, ErrorCode, LeakguardError, Result};
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
  /// Test-only: panics inside the analysis, to prove that both variants keep
  /// the panic's message and print nothing.
  Panic(String),
}

fn ok_json<T: serde::Serialize>(value: T) -> std::result::Result<String, LeakguardError> {
  serde_json::to_string(&serde_json::json!({ "ok": value }))
    .map_err(|e| LeakguardError::new(ErrorCode::Panic, e.to_string()))
}

/// Runs a job to its JSON envelope. Everything, the JSON glue included, runs
/// inside `catch_quiet`: a panic (a bug) becomes an `ERR_LEAKGUARD_PANIC`
/// envelope that keeps its message and location, the same for the Sync and
/// the async variant, and nothing is printed on the host's stderr.
fn run(job: &Job, cancel: &AtomicBool) -> String {
  let r = catch_quiet(|| match job {
    Job::Diff {
      before,
      after,
      opts,
      harness,
    } => ok_json(diff_files(before, after, *opts, harness, cancel)?),
    Job::Summary { path, top } => ok_json(summarize_file(path, *top, cancel)?),
    Job::Panic(message) => panic!("{message}"),
  })
  .unwrap_or_else(|payload| Err(panic_error(payload.as_ref())));
  match r {
    Ok(s) => s,
    Err(e) => {
      serde_json::json!({ "error": { "code": e.code.as_str(), "message": e.message } }).to_string()
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
    Ok(run(&self.job, &self.cancel))
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

/// Test-only: an analysis that panics with `message`, on the libuv pool like
/// the real ones (the test suite checks the message survives and stderr stays
/// empty).
#[napi(js_name = "__snapshotPanicForTest")]
pub fn snapshot_panic_for_test(
  message: String,
  token: &SnapshotCancelToken,
) -> AsyncTask<SnapshotTask> {
  AsyncTask::new(SnapshotTask {
    job: Job::Panic(message),
    cancel: token.flag.clone(),
  })
}

/// Test-only: the Sync twin of `__snapshotPanicForTest`.
#[napi(js_name = "__snapshotPanicForTestSync")]
pub fn snapshot_panic_for_test_sync(message: String) -> Result<String> {
  catch_panic(|| Ok(run(&Job::Panic(message), &AtomicBool::new(false))))
}
