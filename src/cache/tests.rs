use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::*;

fn cfg(max: Option<usize>, max_size: Option<u64>) -> Config {
  Config {
    max,
    max_size,
    max_entry_size: None,
    ttl: 0.0,
    update_age_on_get: false,
    allow_stale: false,
    custom_sizes: false,
  }
}

fn v(s: &str) -> Box<[u8]> {
  s.as_bytes().into()
}

fn keys(s: &Store) -> Vec<String> {
  let mut out = vec![];
  s.for_each(Now::At(0.0), true, |e| {
    out.push(String::from_utf8(e.key.to_vec()).unwrap())
  });
  out
}

fn get(s: &Store, k: &str, now: f64) -> Option<String> {
  s.get(k.as_bytes(), Now::At(now), None, |b| {
    String::from_utf8(b.to_vec()).unwrap()
  })
}

#[test]
fn unbounded_and_zero_bounds_are_refused() {
  let e = Store::new(cfg(None, None)).err().unwrap();
  assert_eq!(e.code, ErrorCode::InvalidOption);
  assert!(e
    .message
    .contains("At least one of options.max or options.maxSize"));
  assert!(Store::new(cfg(Some(0), None)).is_err());
  assert!(Store::new(Config {
    ttl: f64::NAN,
    ..cfg(Some(1), None)
  })
  .is_err());
}

#[test]
fn evicts_least_recently_used_and_get_refreshes_but_peek_does_not() {
  let s = Store::new(cfg(Some(3), None)).unwrap();
  let mut sink = vec![];
  for k in ["a", "b", "c"] {
    s.set(k.as_bytes(), v(k), None, Now::At(0.0), Some(&mut sink))
      .unwrap();
  }
  assert_eq!(get(&s, "a", 0.0).as_deref(), Some("a")); // a becomes MRU
  assert!(s.peek(b"b", Now::At(0.0), |_| ()).is_some()); // b stays LRU
  s.set(b"d", v("d"), None, Now::At(0.0), Some(&mut sink))
    .unwrap();
  assert_eq!(keys(&s), ["d", "a", "c"]);
  assert_eq!(sink.len(), 1);
  assert_eq!((&*sink[0].key, sink[0].reason), (&b"b"[..], Reason::Evict));
}

#[test]
fn byte_accounting_is_exact_and_max_size_holds() {
  let s = Store::new(cfg(None, Some(20))).unwrap();
  s.set(b"k1", v("12345678"), None, Now::At(0.0), None)
    .unwrap(); // 10 bytes
  assert_eq!(s.calculated_size(), 10);
  s.set(b"k2", v("1234"), None, Now::At(0.0), None).unwrap(); // 6
  assert_eq!(s.calculated_size(), 16);
  s.set(b"k1", v("1"), None, Now::At(0.0), None).unwrap(); // replace: 3
  assert_eq!(s.calculated_size(), 9);
  s.set(b"k3", v("123456789012"), None, Now::At(0.0), None)
    .unwrap(); // 14 -> evicts k2 (LRU)
  assert_eq!(s.calculated_size(), 17);
  assert_eq!(keys(&s), ["k3", "k1"]);
  let mut sink = vec![];
  let e = s
    .set(
      b"k1",
      v(&"x".repeat(19)),
      None,
      Now::At(0.0),
      Some(&mut sink),
    )
    .unwrap_err();
  assert_eq!(e.code, ErrorCode::EntryTooLarge);
  assert!(e.message.contains("21 bytes"), "{}", e.message);
  // The old value of the key is gone (lru-cache does the same), never half-stored.
  assert_eq!(sink[0].reason, Reason::Set);
  assert_eq!(keys(&s), ["k3"]);
  assert_eq!(s.calculated_size(), 14);
}

#[test]
fn max_entry_size_is_separate_from_max_size() {
  let s = Store::new(Config {
    max_entry_size: Some(5),
    ..cfg(Some(10), None)
  })
  .unwrap();
  assert!(s.set(b"k", v("1234"), None, Now::At(0.0), None).is_ok());
  let e = s
    .set(b"k2", v("1234"), None, Now::At(0.0), None)
    .unwrap_err();
  assert!(e.message.contains("options.maxEntrySize"));
}

#[test]
fn ttl_expires_lazily_with_an_injected_clock() {
  let s = Store::new(Config {
    ttl: 100.0,
    ..cfg(Some(10), None)
  })
  .unwrap();
  s.set(b"a", v("1"), None, Now::At(1000.0), None).unwrap();
  s.set(b"b", v("2"), Some(0.0), Now::At(1000.0), None)
    .unwrap(); // never expires
  s.set(b"c", v("3"), Some(500.0), Now::At(1000.0), None)
    .unwrap();
  assert_eq!(get(&s, "a", 1100.0).as_deref(), Some("1"));
  assert_eq!(s.remaining_ttl(b"a", Now::At(1050.0)), 50.0);
  assert_eq!(s.remaining_ttl(b"b", Now::At(1050.0)), f64::INFINITY);
  assert_eq!(s.remaining_ttl(b"zz", Now::At(1050.0)), 0.0);
  assert!(!s.has(b"a", Now::At(1101.0)));
  let mut sink = vec![];
  assert_eq!(s.get(b"a", Now::At(1101.0), Some(&mut sink), |_| ()), None);
  assert_eq!((&*sink[0].key, sink[0].reason), (&b"a"[..], Reason::Expire));
  assert!(s.purge_stale(Now::At(1600.0), Some(&mut sink)));
  assert_eq!(keys(&s), ["b"]);
  assert_eq!(s.stats().expirations, 2);
}

#[test]
fn update_age_on_get_and_allow_stale() {
  let s = Store::new(Config {
    ttl: 100.0,
    update_age_on_get: true,
    allow_stale: true,
    ..cfg(Some(10), None)
  })
  .unwrap();
  s.set(b"a", v("1"), None, Now::At(0.0), None).unwrap();
  assert!(get(&s, "a", 90.0).is_some());
  assert!(get(&s, "a", 180.0).is_some()); // age restarted at 90
  assert_eq!(get(&s, "a", 300.0).as_deref(), Some("1")); // stale, returned once
  assert_eq!(get(&s, "a", 300.0), None);
}

#[test]
fn delete_pop_clear_report_their_reasons_and_stats_count() {
  let s = Store::new(cfg(Some(10), None)).unwrap();
  for k in ["a", "b", "c"] {
    s.set(k.as_bytes(), v(k), None, Now::At(0.0), None).unwrap();
  }
  let mut sink = vec![];
  assert!(s.delete(b"b", Some(&mut sink)));
  assert!(!s.delete(b"b", Some(&mut sink)));
  assert_eq!(s.pop(Some(&mut sink), |b| b.to_vec()), Some(b"a".to_vec()));
  s.set(b"d", v("d"), None, Now::At(0.0), None).unwrap();
  s.clear(Some(&mut sink));
  let got: Vec<_> = sink
    .iter()
    .map(|d| {
      (
        String::from_utf8(d.key.to_vec()).unwrap(),
        d.reason.as_str(),
      )
    })
    .collect();
  assert_eq!(
    got,
    [
      ("b".into(), "delete"),
      ("a".into(), "evict"),
      ("c".into(), "delete"),
      ("d".into(), "delete")
    ]
  );
  assert_eq!(get(&s, "zz", 0.0), None);
  let st = s.stats();
  assert_eq!(
    (st.sets, st.misses, st.deletes, st.size, st.calculated_size),
    (4, 1, 2, 0, 0)
  );
}

/// Counts live values, like lru-rs's DropCounter test: whatever path an
/// entry leaves by (eviction, replacement, delete, clear, drop of the
/// store), its memory is released.
static LIVE: AtomicUsize = AtomicUsize::new(0);
struct Counted;
impl Counted {
  fn new() -> Counted {
    LIVE.fetch_add(1, Ordering::SeqCst);
    Counted
  }
}
impl Drop for Counted {
  fn drop(&mut self) {
    LIVE.fetch_sub(1, Ordering::SeqCst);
  }
}

#[test]
fn every_removed_entry_is_freed() {
  // The store holds bytes, so count the Disposed values the sink hands back
  // and the allocations that stay: after drop, nothing stays.
  {
    let s = Store::new(cfg(Some(100), None)).unwrap();
    let mut sink = vec![];
    let mut held = vec![];
    for i in 0..10_000u32 {
      s.set(
        &i.to_le_bytes(),
        v("x"),
        None,
        Now::At(0.0),
        Some(&mut sink),
      )
      .unwrap();
      if i % 7 == 0 {
        s.delete(&(i / 2).to_le_bytes(), Some(&mut sink));
      }
      held.extend(sink.drain(..).map(|_| Counted::new()));
      held.clear();
    }
    assert_eq!(s.len(), 100);
    s.clear(Some(&mut sink));
    assert_eq!(sink.len(), 100);
    assert_eq!(s.calculated_size(), 0);
  }
  assert_eq!(LIVE.load(Ordering::SeqCst), 0);
}

#[test]
fn threads_hammering_one_store_keep_the_invariants() {
  let s = Arc::new(Store::new(cfg(Some(500), Some(8_000))).unwrap());
  let threads: Vec<_> = (0..8u64)
    .map(|t| {
      let s = s.clone();
      std::thread::spawn(move || {
        let mut x = t.wrapping_mul(0x9E3779B97F4A7C15) | 1;
        for _ in 0..20_000 {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          let k = (x % 2000).to_le_bytes();
          match x % 10 {
            0..=5 => drop(s.get(&k, Now::Native, None, |b| b.len())),
            6..=8 => drop(
              s.set(
                &k,
                vec![0u8; (x % 40) as usize].into_boxed_slice(),
                None,
                Now::Native,
                None,
              )
              .unwrap(),
            ),
            _ => drop(s.delete(&k, None)),
          }
          let st = s.stats();
          assert!(st.size <= 500 && st.calculated_size <= 8_000);
        }
      })
    })
    .collect();
  for t in threads {
    t.join().unwrap();
  }
  let mut total = 0;
  s.for_each(Now::Native, true, |e| {
    total += (e.key.len() + e.value.len()) as u64
  });
  assert_eq!(total, s.calculated_size());
}

#[test]
fn named_stores_are_shared_and_mismatches_are_named() {
  let a = registry::open("test-shared", cfg(Some(5), None)).unwrap();
  let b = registry::open("test-shared", cfg(Some(5), None)).unwrap();
  assert!(Arc::ptr_eq(&a, &b));
  let e = registry::open("test-shared", cfg(Some(6), None))
    .err()
    .unwrap();
  assert_eq!(e.code, ErrorCode::OptionsMismatch);
  assert!(
    e.message.contains("options.max differs") && e.message.contains("max: 5"),
    "{}",
    e.message
  );
  assert!(registry::names().contains(&"test-shared".to_string()));
  assert!(registry::drop_named("test-shared"));
  assert!(!registry::drop_named("test-shared"));
  let c = registry::open("test-shared", cfg(Some(6), None)).unwrap();
  assert!(!Arc::ptr_eq(&a, &c));
  registry::drop_named("test-shared");
}

#[test]
fn setting_the_same_bytes_again_disposes_nothing_and_refreshes_recency() {
  let s = Store::new(Config {
    ttl: 10.0,
    ..cfg(Some(2), None)
  })
  .unwrap();
  let mut sink = vec![];
  s.set(b"a", v("1"), None, Now::At(0.0), Some(&mut sink))
    .unwrap();
  s.set(b"b", v("2"), None, Now::At(0.0), Some(&mut sink))
    .unwrap();
  s.set(b"a", v("1"), None, Now::At(5.0), Some(&mut sink))
    .unwrap();
  assert!(sink.is_empty());
  assert_eq!(keys(&s), ["a", "b"]);
  assert_eq!(s.remaining_ttl(b"a", Now::At(5.0)), 10.0);
  s.set(b"a", v("9"), None, Now::At(5.0), Some(&mut sink))
    .unwrap();
  assert_eq!(sink[0].reason, Reason::Set);
  assert_eq!(s.stats().sets, 4);
}

/// The single-thread store (what unnamed caches open) and the shared one
/// are one implementation behind two locks: the same operations give the
/// same results, checked on a pseudo-random sequence.
#[test]
fn local_store_behaves_exactly_like_the_shared_one() {
  let config = Config {
    ttl: 50.0,
    ..cfg(Some(40), Some(600))
  };
  let shared = Store::new(config.clone()).unwrap();
  let local = LocalStore::new_local(config).unwrap();
  let mut x = 7u64;
  let mut rand = move |n: u64| {
    x = x
      .wrapping_mul(6364136223846793005)
      .wrapping_add(1442695040888963407);
    (x >> 33) % n
  };
  for step in 0..20_000u64 {
    let now = Now::At(step as f64 / 10.0);
    let key = format!("k{}", rand(80));
    let (mut a, mut b) = (vec![], vec![]);
    match rand(6) {
      0 | 1 => {
        let value = "v".repeat(rand(30) as usize);
        let ra = shared.set(key.as_bytes(), value.as_bytes(), None, now, Some(&mut a));
        let rb = local.set(key.as_bytes(), value.as_bytes(), None, now, Some(&mut b));
        assert_eq!(ra.is_ok(), rb.is_ok());
      }
      2 => assert_eq!(
        shared.get(key.as_bytes(), now, Some(&mut a), |v| v.to_vec()),
        local.get(key.as_bytes(), now, Some(&mut b), |v| v.to_vec())
      ),
      3 => assert_eq!(
        shared.delete(key.as_bytes(), Some(&mut a)),
        local.delete(key.as_bytes(), Some(&mut b))
      ),
      4 => assert_eq!(
        shared.has(key.as_bytes(), now),
        local.has(key.as_bytes(), now)
      ),
      _ => assert_eq!(
        shared.purge_stale(now, Some(&mut a)),
        local.purge_stale(now, Some(&mut b))
      ),
    }
    let removed = |d: &[Disposed]| -> Vec<(Box<[u8]>, Reason)> {
      d.iter().map(|e| (e.key.clone(), e.reason)).collect()
    };
    assert_eq!(removed(&a), removed(&b), "step {step}");
    assert_eq!(shared.stats(), local.stats(), "step {step}");
  }
}

#[test]
fn a_nested_lock_of_a_local_store_panics_instead_of_deadlocking() {
  let s = LocalStore::new_local(cfg(Some(2), None)).unwrap();
  s.set(b"a", v("1"), None, Now::At(0.0), None).unwrap();
  let nested = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
    s.get(b"a", Now::At(0.0), None, |_| s.len())
  }));
  assert!(nested.is_err());
  // The panic left the lock released: the store still works.
  assert_eq!(s.len(), 1);
}

#[test]
fn tags_follow_their_entry_through_replacement_and_come_back_on_eviction() {
  let s = LocalStore::new_local(cfg(Some(2), None)).unwrap();
  s.set(b"a", v("1"), None, Now::At(0.0), None).unwrap();
  s.set(b"b", v("2"), None, Now::At(0.0), None).unwrap();
  assert_eq!(
    s.get_tagging(b"a", Now::At(0.0), None, Some(7), |v| v.to_vec()),
    Some(b"1".to_vec())
  );
  // A new value keeps the tag (its holder may still have the key).
  s.set(b"a", v("3"), None, Now::At(0.0), None).unwrap();
  let mut reported = vec![];
  let evicted = s
    .set_reporting(b"c", v("4"), None, Now::At(0.0), None, |t, k| {
      reported.push((t, k.to_vec()))
    })
    .unwrap();
  assert!(evicted); // "b", untagged: not reported
  assert!(reported.is_empty());
  s.set_reporting(b"d", v("5"), None, Now::At(0.0), None, |t, k| {
    reported.push((t, k.to_vec()))
  })
  .unwrap();
  assert_eq!(reported, vec![(7, b"a".to_vec())]);
  // touch replays hits and recency without reading values.
  s.touch([&b"c"[..], b"missing"], 0);
  assert_eq!(s.stats().hits, 2); // the tagging get + the replayed one
  assert_eq!(keys_of(&s), vec!["c", "d"]);
}

fn keys_of<L: RawRwLock>(s: &Store<L>) -> Vec<String> {
  let mut out = vec![];
  s.for_each(Now::At(0.0), true, |e| {
    out.push(String::from_utf8(e.key.to_vec()).unwrap())
  });
  out
}

#[test]
fn given_sizes_count_against_max_size_instead_of_bytes() {
  let s = Store::new(Config {
    custom_sizes: true,
    ..cfg(None, Some(10))
  })
  .unwrap();
  let sized = |n: u32| SetOpts {
    size: Some(n),
    ..SetOpts::default()
  };
  let r = s
    .set_with(
      b"a",
      v("a long value"),
      sized(4),
      Now::At(0.0),
      None,
      |_, _| (),
    )
    .unwrap();
  assert_eq!((r.kind, r.entry_size, r.total), (SetKind::Add, 4, 4));
  s.set_with(b"b", v("x"), sized(5), Now::At(0.0), None, |_, _| ())
    .unwrap();
  assert_eq!(s.calculated_size(), 9);
  // 9 + 3 > 10: the least recently used goes.
  let r = s
    .set_with(b"c", v("y"), sized(3), Now::At(0.0), None, |_, _| ())
    .unwrap();
  assert!(r.evicted);
  assert_eq!(
    (keys(&s), s.calculated_size()),
    (vec!["c".into(), "b".into()], 8)
  );
  // Too large by its given size is refused, whatever its bytes.
  let e = s
    .set_with(b"d", v("z"), sized(11), Now::At(0.0), None, |_, _| ())
    .unwrap_err();
  assert_eq!(e.code, ErrorCode::EntryTooLarge);
  // Replacing reports the kind; the same value is an update.
  let r = s
    .set_with(b"c", v("y2"), sized(2), Now::At(0.0), None, |_, _| ())
    .unwrap();
  assert_eq!((r.kind, r.total), (SetKind::Replace, 7));
  let r = s
    .set_with(b"c", v("y2"), sized(2), Now::At(0.0), None, |_, _| ())
    .unwrap();
  assert_eq!(r.kind, SetKind::Update);
}

#[test]
fn no_update_ttl_keeps_the_old_clock_and_start_can_be_given() {
  let s = Store::new(cfg(Some(10), None)).unwrap();
  let opts = |ttl: f64, start: Option<f64>, keep: bool| SetOpts {
    ttl: Some(ttl),
    start,
    no_update_ttl: keep,
    ..SetOpts::default()
  };
  s.set_with(
    b"a",
    v("1"),
    opts(100.0, Some(50.0), false),
    Now::At(60.0),
    None,
    |_, _| (),
  )
  .unwrap();
  assert_eq!(s.remaining_ttl(b"a", Now::At(60.0)), 90.0);
  let r = s
    .set_with(
      b"a",
      v("2"),
      opts(500.0, None, true),
      Now::At(70.0),
      None,
      |_, _| (),
    )
    .unwrap();
  assert_eq!((r.ttl, r.start), (100.0, 50.0));
  assert_eq!(s.remaining_ttl(b"a", Now::At(70.0)), 80.0);
}

#[test]
fn read_options_choose_between_get_peek_and_keeping_stale_entries() {
  let s = Store::new(Config {
    ttl: 10.0,
    ..cfg(Some(10), None)
  })
  .unwrap();
  s.set(b"a", v("1"), None, Now::At(0.0), None).unwrap();
  s.set(b"b", v("2"), None, Now::At(0.0), None).unwrap();
  let opts = |allow_stale, touch, delete_stale| ReadOpts {
    allow_stale,
    update_age: false,
    touch,
    delete_stale,
  };
  // A peek-like read leaves order and stats alone.
  let (got, seen) = s.read(
    b"a",
    Now::At(5.0),
    None,
    opts(false, false, false),
    None,
    |b| b.to_vec(),
  );
  assert_eq!((got.is_some(), seen.found), (true, Found::Hit));
  assert_eq!(keys(&s), ["b", "a"]);
  assert_eq!(s.stats().hits, 0);
  // Stale, kept (noDeleteOnStaleGet), value given (allowStale).
  let mut sink = vec![];
  let (got, seen) = s.read(
    b"a",
    Now::At(20.0),
    Some(&mut sink),
    opts(true, true, false),
    None,
    |b| b.to_vec(),
  );
  assert_eq!(
    (got.as_deref(), seen.found),
    (Some(&b"\x31"[..]), Found::Stale)
  );
  assert!(sink.is_empty());
  assert_eq!(s.len(), 2);
  // Stale, removed with reason expire.
  let (got, _) = s.read(
    b"a",
    Now::At(20.0),
    Some(&mut sink),
    opts(false, true, true),
    None,
    |b| b.to_vec(),
  );
  assert_eq!((got, sink[0].reason), (None, Reason::Expire));
  // expire() removes only what has expired.
  s.set(b"c", v("3"), None, Now::At(20.0), None).unwrap();
  assert!(!s.expire(b"c", Now::At(25.0), None));
  assert!(s.expire(b"b", Now::At(25.0), None));
  assert_eq!(keys(&s), ["c"]);
}

#[test]
fn shared_reads_leave_recency_and_hits_to_the_caller_and_send_expired_entries_the_slow_way() {
  let s = Store::new(Config {
    ttl: 10.0,
    ..cfg(Some(3), None)
  })
  .unwrap();
  for k in ["a", "b", "c"] {
    s.set(k.as_bytes(), v(k), None, Now::At(0.0), None).unwrap();
  }
  assert!(
    matches!(s.get_shared(b"a", Now::At(5.0), |b| b.to_vec()), Quick::Hit(ref v) if v == b"a")
  );
  assert!(matches!(
    s.get_shared(b"zz", Now::At(5.0), |b| b.to_vec()),
    Quick::Miss
  ));
  assert_eq!(keys(&s), ["c", "b", "a"], "a shared read moves nothing");
  assert_eq!((s.stats().hits, s.stats().misses), (0, 0));
  s.touch([&b"a"[..]], 1);
  assert_eq!(keys(&s), ["a", "c", "b"]);
  assert_eq!((s.stats().hits, s.stats().misses), (1, 1));
  assert!(matches!(
    s.get_shared(b"a", Now::At(50.0), |b| b.to_vec()),
    Quick::Slow
  ));
}

#[test]
fn a_set_of_the_same_value_can_be_served_shared_and_replayed_as_a_set() {
  let s = Store::new(cfg(Some(3), None)).unwrap();
  for k in ["a", "b", "c"] {
    s.set(k.as_bytes(), v(k), None, Now::At(0.0), None).unwrap();
  }
  assert!(s.set_same_shared(b"a", &v("a"), None));
  assert!(
    !s.set_same_shared(b"a", &v("other"), None),
    "another value takes the exclusive path"
  );
  assert!(
    !s.set_same_shared(b"zz", &v("a"), None),
    "so does a new key"
  );
  assert!(
    !s.set_same_shared(b"a", &v("a"), Some(5.0)),
    "and a set with a ttl"
  );
  let sets = s.stats().sets;
  s.replay([(&b"a"[..], false), (&b"b"[..], true)], 0);
  assert_eq!(keys(&s), ["b", "a", "c"]);
  assert_eq!((s.stats().sets, s.stats().hits), (sets + 1, 1));
}
