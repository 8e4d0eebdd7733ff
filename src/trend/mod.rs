//! Trend statistics for memory series: a robust slope (Theil–Sen), a rank test
//! for monotonic growth (Mann–Kendall), and the post-GC floor that both run on.
//!
//! Why these: a leak is a slow monotonic rise buried under GC sawtooth, lazy
//! collection and one-off spikes. Rank statistics ignore the size of a spike,
//! the median of pairwise slopes ignores outliers (29% breakdown point), and
//! taking the minimum of each block of samples follows the floor that survives
//! collection instead of the garbage on top of it. "N growths in a row"
//! (memwatch) fails on all three counts. Pure functions, no napi: `cargo test`.

pub mod binding;

/// A fitted trend over (x, y) points: `y ≈ intercept + slope·x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
  /// Theil–Sen slope, y-units per x-unit (e.g. bytes per job or per ms).
  pub slope: f64,
  /// Intercept such that the median residual is zero.
  pub intercept: f64,
  /// One-sided p-value of the Mann–Kendall test for an increasing trend.
  pub p_value: f64,
  /// Kendall's tau between x order and y, in [-1, 1].
  pub tau: f64,
  /// Number of points used.
  pub n: usize,
  /// slope × (x_last − x_first): how much the trend line rose over the series.
  pub growth: f64,
}

/// Median of a slice (sorts it in place). `None` when empty or all NaN.
pub fn median_in_place(values: &mut [f64]) -> Option<f64> {
  if values.is_empty() {
    return None;
  }
  values.sort_unstable_by(|a, b| a.total_cmp(b));
  let m = values.len() / 2;
  Some(if values.len() % 2 == 1 {
    values[m]
  } else {
    (values[m - 1] + values[m]) / 2.0
  })
}

/// Theil–Sen estimator: the median of the slopes between all pairs of points
/// with distinct x. O(n²) memory and time, so callers keep n to a few hundred
/// (the floor below reduces thousands of samples to its blocks).
pub fn theil_sen(xs: &[f64], ys: &[f64]) -> Option<(f64, f64)> {
  let n = xs.len().min(ys.len());
  if n < 2 {
    return None;
  }
  let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
  for i in 0..n {
    for j in (i + 1)..n {
      let dx = xs[j] - xs[i];
      if dx != 0.0 && dx.is_finite() {
        let s = (ys[j] - ys[i]) / dx;
        if s.is_finite() {
          slopes.push(s);
        }
      }
    }
  }
  let slope = median_in_place(&mut slopes)?;
  let mut residuals: Vec<f64> = (0..n).map(|i| ys[i] - slope * xs[i]).collect();
  let intercept = median_in_place(&mut residuals)?;
  Some((slope, intercept))
}

/// Mann–Kendall S statistic with its tie-corrected variance, over y in x order.
fn mann_kendall_s(ys: &[f64]) -> (f64, f64) {
  let n = ys.len();
  let mut s: i64 = 0;
  for i in 0..n {
    for j in (i + 1)..n {
      s += match ys[j].partial_cmp(&ys[i]) {
        Some(std::cmp::Ordering::Greater) => 1,
        Some(std::cmp::Ordering::Less) => -1,
        _ => 0,
      };
    }
  }
  // Tie correction: groups of equal values reduce the variance of S.
  let mut sorted: Vec<f64> = ys.to_vec();
  sorted.sort_unstable_by(|a, b| a.total_cmp(b));
  let mut tie_term = 0.0;
  let mut k = 0;
  while k < sorted.len() {
    let mut t = 1;
    while k + t < sorted.len() && sorted[k + t] == sorted[k] {
      t += 1;
    }
    if t > 1 {
      let t = t as f64;
      tie_term += t * (t - 1.0) * (2.0 * t + 5.0);
    }
    k += t;
  }
  let nf = n as f64;
  let var = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - tie_term) / 18.0;
  (s as f64, var)
}

/// Complementary error function, |relative error| < 1.2e-7 (Numerical Recipes'
/// erfcc, Chebyshev fit): ample for p-values compared against 1e-2..1e-4.
pub fn erfc(x: f64) -> f64 {
  let z = x.abs();
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t
    * (-z * z - 1.265_512_23
      + t
        * (1.000_023_68
          + t
            * (0.374_091_96
              + t
                * (0.096_784_18
                  + t
                    * (-0.186_288_06
                      + t
                        * (0.278_868_07
                          + t
                            * (-1.135_203_98
                              + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
      .exp();
  if x >= 0.0 {
    r
  } else {
    2.0 - r
  }
}

/// P(Z > z) for a standard normal Z.
pub fn normal_upper_tail(z: f64) -> f64 {
  0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Fits a trend to the points (which must be in increasing x order).
/// `None` for fewer than 3 usable points.
pub fn fit(xs: &[f64], ys: &[f64]) -> Option<Trend> {
  let n = xs.len().min(ys.len());
  if n < 3 {
    return None;
  }
  let (xs, ys) = (&xs[..n], &ys[..n]);
  if xs.iter().chain(ys.iter()).any(|v| !v.is_finite()) {
    return None;
  }
  let (slope, intercept) = theil_sen(xs, ys)?;
  let (s, var) = mann_kendall_s(ys);
  let p_value = if var <= 0.0 {
    // Every value tied: no evidence of any trend.
    1.0
  } else {
    // Continuity-corrected normal approximation, one-sided (growth only).
    let z = if s > 0.0 {
      (s - 1.0) / var.sqrt()
    } else {
      (s + 1.0) / var.sqrt()
    };
    normal_upper_tail(z)
  };
  let pairs = (n * (n - 1) / 2) as f64;
  Some(Trend {
    slope,
    intercept,
    p_value,
    tau: s / pairs,
    n,
    growth: slope * (xs[n - 1] - xs[0]),
  })
}

/// The post-GC floor: splits the series into `blocks` consecutive blocks of
/// equal point count and keeps each block's minimum (with the x of that
/// minimum). Garbage sits on top of the live set and a spike is one high
/// point, so neither survives the minimum; a leak raises every minimum.
pub fn floor_of(xs: &[f64], ys: &[f64], blocks: usize) -> (Vec<f64>, Vec<f64>) {
  let n = xs.len().min(ys.len());
  if blocks == 0 || n == 0 {
    return (Vec::new(), Vec::new());
  }
  if n <= blocks {
    return (xs[..n].to_vec(), ys[..n].to_vec());
  }
  let mut fx = Vec::with_capacity(blocks);
  let mut fy = Vec::with_capacity(blocks);
  for b in 0..blocks {
    let start = b * n / blocks;
    let end = ((b + 1) * n / blocks).max(start + 1);
    let mut best = start;
    for i in start..end {
      if ys[i] < ys[best] {
        best = i;
      }
    }
    fx.push(xs[best]);
    fy.push(ys[best]);
  }
  (fx, fy)
}

/// Thresholds of the leak verdict. Defaults suit post-GC heap samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AssessOptions {
  /// Significance level of the Mann–Kendall test (one-sided). Default 0.01.
  pub alpha: f64,
  /// Minimum slope (y-units per x-unit) to call growth a leak. Default 0.
  pub min_slope: f64,
  /// Minimum total growth of the floor over the series (y-units). Default 0.
  pub min_growth: f64,
  /// Number of blocks for the post-GC floor; 0 = use the points as they are.
  pub floor_blocks: usize,
  /// Share of the series (its most recent part) that must show the growth
  /// too, so that a warm-up that has stopped is not a leak. Default 0.5.
  pub recent_fraction: f64,
}

impl Default for AssessOptions {
  fn default() -> Self {
    AssessOptions {
      alpha: 0.01,
      min_slope: 0.0,
      min_growth: 0.0,
      floor_blocks: 0,
      recent_fraction: 0.5,
    }
  }
}

/// The verdict on one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
  /// Trend over the whole (floored) series.
  pub overall: Trend,
  /// Trend over its most recent `recent_fraction`.
  pub recent: Option<Trend>,
  /// True when the series grows significantly, by enough, and still grows recently.
  pub growing: bool,
  /// Why `growing` is what it is, in one sentence.
  pub reason: String,
}

/// Decides whether a series grows: significant overall growth (Mann–Kendall
/// p < alpha, Theil–Sen slope ≥ min_slope, growth ≥ min_growth) that also
/// continues in the recent part of the series (p < 0.05 there and a recent
/// slope of at least a quarter of the overall one). The second condition is
/// what tells a leak from a warm-up that has ended (a cache filling to its
/// bound, lazy initialisation): the former keeps rising, the latter is flat
/// at the end.
pub fn assess(xs: &[f64], ys: &[f64], opts: &AssessOptions) -> Option<Assessment> {
  let (fx, fy) = if opts.floor_blocks > 0 {
    floor_of(xs, ys, opts.floor_blocks)
  } else {
    let n = xs.len().min(ys.len());
    (xs[..n].to_vec(), ys[..n].to_vec())
  };
  let overall = fit(&fx, &fy)?;
  let recent_len = ((fx.len() as f64) * opts.recent_fraction.clamp(0.0, 1.0)).round() as usize;
  let recent = if recent_len >= 3 {
    let start = fx.len() - recent_len;
    fit(&fx[start..], &fy[start..])
  } else {
    None
  };
  let (growing, reason) = if overall.p_value >= opts.alpha {
    (
      false,
      format!(
        "no significant growth (p = {:.3} ≥ {})",
        overall.p_value, opts.alpha
      ),
    )
  } else if overall.slope < opts.min_slope || overall.slope <= 0.0 {
    (
      false,
      format!(
        "slope {:.3} is below the minimum {}",
        overall.slope, opts.min_slope
      ),
    )
  } else if overall.growth < opts.min_growth {
    (
      false,
      format!(
        "growth {:.0} is below the minimum {}",
        overall.growth, opts.min_growth
      ),
    )
  } else {
    match recent {
      Some(r) if r.p_value >= 0.05 || r.slope < overall.slope * 0.25 => (
        false,
        format!(
          "growth stopped: the recent part has slope {:.3} (p = {:.3}) against {:.3} overall (a warm-up, not a leak)",
          r.slope, r.p_value, overall.slope
        ),
      ),
      _ => (
        true,
        format!(
          "grows {:.3} per unit (p = {:.2e}, tau = {:.2}) and still grows recently",
          overall.slope, overall.p_value, overall.tau
        ),
      ),
    }
  };
  Some(Assessment {
    overall,
    recent,
    growing,
    reason,
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  /// Deterministic pseudo-random noise in [-1, 1) (xorshift), so tests are stable.
  fn noise(seed: &mut u64) -> f64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed % 2_000_000) as f64 / 1_000_000.0 - 1.0
  }

  /// `assess` with default options but `floor_blocks`.
  fn assess_in_blocks(xs: &[f64], ys: &[f64], floor_blocks: usize) -> Assessment {
    let opts = AssessOptions {
      floor_blocks,
      ..Default::default()
    };
    assess(xs, ys, &opts).unwrap()
  }

  fn series(n: usize, f: impl Fn(f64, f64) -> f64) -> (Vec<f64>, Vec<f64>) {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let ys = xs.iter().map(|&x| f(x, noise(&mut seed))).collect();
    (xs, ys)
  }

  #[test]
  fn theil_sen_recovers_a_line_despite_outliers() {
    let (xs, mut ys) = series(50, |x, _| 3.0 + 2.0 * x);
    ys[10] = 1e9; // a spike
    ys[40] = -1e9;
    let (slope, intercept) = theil_sen(&xs, &ys).unwrap();
    assert!((slope - 2.0).abs() < 1e-9, "slope {slope}");
    assert!((intercept - 3.0).abs() < 1e-9, "intercept {intercept}");
  }

  #[test]
  fn mann_kendall_matches_textbook_values() {
    // Strictly increasing n = 10: S = 45, Var = 125, z = 44/sqrt(125) = 3.935, p ≈ 4.16e-5.
    let xs: Vec<f64> = (0..10).map(f64::from).collect();
    let t = fit(&xs, &xs).unwrap();
    assert!((t.tau - 1.0).abs() < 1e-12);
    assert!((t.p_value - 4.16e-5).abs() < 2e-6, "p {}", t.p_value);
    // Strictly decreasing: no evidence of growth.
    let ys: Vec<f64> = xs.iter().map(|x| -x).collect();
    assert!(fit(&xs, &ys).unwrap().p_value > 0.99);
  }

  #[test]
  fn ties_reduce_variance_and_flat_is_not_growth() {
    let xs: Vec<f64> = (0..20).map(f64::from).collect();
    let flat = vec![7.0; 20];
    let t = fit(&xs, &flat).unwrap();
    assert_eq!(t.p_value, 1.0);
    assert_eq!(t.slope, 0.0);
  }

  #[test]
  fn erfc_is_accurate() {
    for (x, want) in [
      (0.0, 1.0),
      (0.5, 0.479_500_122),
      (1.0, 0.157_299_207),
      (2.0, 0.004_677_735),
      (-1.0, 1.842_700_793),
    ] {
      assert!(
        (erfc(x) - want).abs() < 1e-6,
        "erfc({x}) = {} want {want}",
        erfc(x)
      );
    }
    assert!((normal_upper_tail(1.959_964) - 0.025).abs() < 1e-6);
  }

  #[test]
  fn floor_ignores_sawtooth_garbage() {
    // A flat live set of 100 with garbage accumulating to +50 between collections.
    let (xs, ys) = series(400, |x, _| 100.0 + (x % 37.0) * 1.5);
    let (fx, fy) = floor_of(&xs, &ys, 10);
    assert_eq!(fx.len(), 10);
    assert!(fy.iter().all(|&y| y == 100.0), "{fy:?}");
    let a = assess_in_blocks(&xs, &ys, 10);
    assert!(!a.growing, "{}", a.reason);
  }

  #[test]
  fn detects_a_slow_leak_under_noise() {
    // 64 units per step under ±2000 of noise and a sawtooth: clearly a leak over 400 steps.
    let (xs, ys) = series(400, |x, e| 1e6 + 64.0 * x + 2000.0 * e + (x % 13.0) * 300.0);
    let a = assess_in_blocks(&xs, &ys, 20);
    assert!(a.growing, "{}", a.reason);
    assert!(
      (a.overall.slope - 64.0).abs() < 16.0,
      "slope {}",
      a.overall.slope
    );
  }

  #[test]
  fn a_warm_up_that_ends_is_not_a_leak() {
    // Rises for the first third (a cache filling to its bound), then flat with noise.
    let (xs, ys) = series(300, |x, e| 1e6 + 5000.0 * x.min(100.0) + 3000.0 * e);
    let a = assess_in_blocks(&xs, &ys, 20);
    assert!(!a.growing, "{}", a.reason);
    assert!(a.reason.contains("stopped"), "{}", a.reason);
  }

  #[test]
  fn a_single_spike_is_not_a_leak() {
    let (xs, mut ys) = series(200, |_, e| 5e6 + 10_000.0 * e);
    for y in ys.iter_mut().skip(150).take(3) {
      *y += 450_000.0; // a 0.45 MB spike surviving a couple of GCs
    }
    let a = assess_in_blocks(&xs, &ys, 20);
    assert!(!a.growing, "{}", a.reason);
  }

  #[test]
  fn thresholds_suppress_tiny_growth() {
    let (xs, ys) = series(200, |x, _| 1000.0 + 0.5 * x);
    let strict = assess(&xs, &ys, &AssessOptions::default()).unwrap();
    assert!(strict.growing);
    let opts = AssessOptions {
      min_slope: 1.0,
      ..Default::default()
    };
    assert!(!assess(&xs, &ys, &opts).unwrap().growing);
    let opts = AssessOptions {
      min_growth: 1000.0,
      ..Default::default()
    };
    assert!(!assess(&xs, &ys, &opts).unwrap().growing);
  }

  #[test]
  fn degenerate_input_is_none_not_a_panic() {
    assert!(fit(&[], &[]).is_none());
    assert!(fit(&[1.0, 2.0], &[1.0, 2.0]).is_none());
    assert!(fit(&[1.0, 2.0, 3.0], &[1.0, f64::NAN, 3.0]).is_none());
    assert!(theil_sen(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_none());
    assert!(assess(&[1.0], &[2.0], &AssessOptions::default()).is_none());
    assert_eq!(floor_of(&[1.0], &[1.0], 0).0.len(), 0);
  }
}
