//! A bounded ring of samples addressed by a monotonically increasing sequence
//! number, so that several readers can each keep their own cursor; a reader
//! that reads too rarely gets the newest `cap` samples. Pure, no napi.

/// One RSS reading taken by the sampling thread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
  /// Wall-clock time of the reading, milliseconds since the Unix epoch
  /// (comparable with JS `Date.now()`).
  pub time_ms: f64,
  /// Resident set size in bytes.
  pub rss: u64,
}

/// Fixed-capacity ring; the oldest sample is overwritten when full.
#[derive(Debug)]
pub struct Ring {
  buf: Vec<Sample>,
  cap: usize,
  /// Sequence number the next pushed sample will get.
  next_seq: u64,
}

impl Ring {
  /// A ring holding at most `cap` samples (at least 1).
  pub fn new(cap: usize) -> Self {
    let cap = cap.max(1);
    Ring {
      buf: Vec::with_capacity(cap),
      cap,
      next_seq: 0,
    }
  }

  pub fn capacity(&self) -> usize {
    self.cap
  }

  pub fn len(&self) -> usize {
    self.buf.len()
  }

  pub fn is_empty(&self) -> bool {
    self.buf.is_empty()
  }

  /// Sequence number of the next sample to be pushed.
  pub fn next_seq(&self) -> u64 {
    self.next_seq
  }

  /// Sequence number of the oldest sample still held.
  pub fn oldest_seq(&self) -> u64 {
    self.next_seq - self.buf.len() as u64
  }

  pub fn push(&mut self, s: Sample) {
    let slot = (self.next_seq % self.cap as u64) as usize;
    if self.buf.len() < self.cap {
      self.buf.push(s);
    } else {
      self.buf[slot] = s;
    }
    self.next_seq += 1;
  }

  /// The sample with sequence number `seq`, if still held.
  pub fn get(&self, seq: u64) -> Option<Sample> {
    if seq < self.oldest_seq() || seq >= self.next_seq {
      return None;
    }
    Some(self.buf[(seq % self.cap as u64) as usize])
  }

  /// Calls `f` for every held sample with sequence ≥ `from`, oldest first
  /// (those already overwritten are skipped).
  pub fn read_from(&self, from: u64, mut f: impl FnMut(Sample)) {
    for seq in from.max(self.oldest_seq())..self.next_seq {
      f(self.buf[(seq % self.cap as u64) as usize]);
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn s(i: u64) -> Sample {
    Sample {
      time_ms: i as f64,
      rss: i * 10,
    }
  }

  #[test]
  fn keeps_the_newest_for_a_slow_reader() {
    let mut r = Ring::new(4);
    assert!(r.is_empty());
    for i in 0..10 {
      r.push(s(i));
    }
    assert_eq!(r.len(), 4);
    assert_eq!(r.oldest_seq(), 6);
    assert_eq!(r.next_seq(), 10);
    let mut got = Vec::new();
    r.read_from(2, |x| got.push(x.rss));
    assert_eq!(got, vec![60, 70, 80, 90]);
    let mut got = Vec::new();
    r.read_from(8, |x| got.push(x.rss));
    assert_eq!(got, vec![80, 90]);
    r.read_from(10, |_| panic!("nothing new"));
    assert_eq!(r.get(5), None);
    assert_eq!(r.get(9), Some(s(9)));
    assert_eq!(r.get(10), None);
  }

  #[test]
  fn capacity_zero_is_one() {
    let mut r = Ring::new(0);
    r.push(s(1));
    r.push(s(2));
    assert_eq!(r.capacity(), 1);
    assert_eq!(r.get(1), Some(s(2)));
  }
}
