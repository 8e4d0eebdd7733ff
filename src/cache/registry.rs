//! Named stores: one `Store` per name per process, whatever worker_thread
//! opens it. A named store lives until `drop_named` or process exit, even
//! while no cache instance refers to it (so a pool of short-lived workers
//! keeps its warm data); instances that still hold it keep working on it
//! after a drop, and the next opening of the name creates a fresh store.

use std::collections::HashMap;
use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::{Config, Store};
use crate::errors::{ErrorCode, LeakguardError};

static NAMED: Lazy<Mutex<HashMap<String, Arc<Store>>>> = Lazy::new(|| Mutex::new(HashMap::new()));

/// Opens (or creates) the store called `name`. Opening an existing name with
/// a different configuration is an `OptionsMismatch` error naming the option.
pub fn open(name: &str, config: Config) -> Result<Arc<Store>, LeakguardError> {
  let mut map = NAMED.lock();
  if let Some(s) = map.get(name) {
    if let Some(opt) = s.config().first_difference(&config) {
      return Err(LeakguardError::new(
        ErrorCode::OptionsMismatch,
        format!(
          "options.{opt} differs from the options the shared cache {name:?} was created with ({}); \
           every opening of a named cache must pass the same max, maxSize, maxEntrySize, ttl, \
           updateAgeOnGet and allowStale",
          describe_option(s.config(), opt)
        ),
      ));
    }
    return Ok(s.clone());
  }
  let store = Arc::new(Store::new(config)?);
  map.insert(name.to_string(), store.clone());
  Ok(store)
}

fn describe_option(c: &Config, opt: &str) -> String {
  let n = |v: Option<u64>| v.map_or("undefined".to_string(), |v| v.to_string());
  match opt {
    "max" => format!("max: {}", n(c.max.map(|v| v as u64))),
    "maxSize" => format!("maxSize: {}", n(c.max_size)),
    "maxEntrySize" => format!("maxEntrySize: {}", n(c.max_entry_size)),
    "ttl" => format!("ttl: {}", c.ttl),
    "updateAgeOnGet" => format!("updateAgeOnGet: {}", c.update_age_on_get),
    _ => format!("allowStale: {}", c.allow_stale),
  }
}

/// Forgets the store called `name`; true if there was one. Its memory is
/// freed when the last instance using it is garbage-collected.
pub fn drop_named(name: &str) -> bool {
  NAMED.lock().remove(name).is_some()
}

/// Names of the stores currently registered.
pub fn names() -> Vec<String> {
  let mut v: Vec<String> = NAMED.lock().keys().cloned().collect();
  v.sort();
  v
}

/// True while `store` is the one registered under `name` (not dropped).
pub fn is_current(name: &str, store: &Arc<Store>) -> bool {
  NAMED
    .lock()
    .get(name)
    .is_some_and(|s| Arc::ptr_eq(s, store))
}
