//! napi glue for the trend statistics. Called a few times per monitor window
//! or per assertion, never per job, so plain arrays are cheap enough.

use napi::bindgen_prelude::Float64Array;
use napi_derive::napi;

use crate::errors::{catch_panic, ErrorCode, LeakguardError, Result};
use crate::trend::{assess, AssessOptions, Trend};

/// Thresholds of a trend assessment (all optional).
#[napi(object)]
pub struct TrendOptions {
  /// One-sided Mann–Kendall significance level, in (0, 1). Default 0.01.
  pub alpha: Option<f64>,
  /// Minimum Theil–Sen slope, y-units per x-unit. Default 0.
  pub min_slope: Option<f64>,
  /// Minimum growth of the trend line over the series, y-units. Default 0.
  pub min_growth: Option<f64>,
  /// Blocks of the post-GC floor (minimum per block); 0 = raw points. Default 0.
  pub floor_blocks: Option<u32>,
  /// Recent share of the series that must keep growing, in (0, 1]. Default 0.5.
  pub recent_fraction: Option<f64>,
}

/// A fitted trend (see `src/trend/mod.rs`).
#[napi(object)]
pub struct TrendFit {
  pub slope: f64,
  pub intercept: f64,
  pub p_value: f64,
  pub tau: f64,
  pub n: u32,
  pub growth: f64,
}

/// The verdict on one series.
#[napi(object)]
pub struct TrendAssessment {
  pub overall: TrendFit,
  pub recent: Option<TrendFit>,
  pub growing: bool,
  pub reason: String,
}

impl From<Trend> for TrendFit {
  fn from(t: Trend) -> Self {
    TrendFit {
      slope: t.slope,
      intercept: t.intercept,
      p_value: t.p_value,
      tau: t.tau,
      n: t.n as u32,
      growth: t.growth,
    }
  }
}

fn invalid(message: String) -> LeakguardError {
  LeakguardError::new(ErrorCode::InvalidArgument, message)
}

/// Assesses whether the series (xs ascending) grows. Returns `null` when there
/// are too few finite points (fewer than 3) to say anything.
#[napi(js_name = "trendAssess")]
pub fn trend_assess(
  xs: Vec<f64>,
  ys: Vec<f64>,
  options: Option<TrendOptions>,
) -> Result<Option<TrendAssessment>> {
  trend_assess_slices(&xs, &ys, options)
}

fn trend_assess_slices(
  xs: &[f64],
  ys: &[f64],
  options: Option<TrendOptions>,
) -> Result<Option<TrendAssessment>> {
  catch_panic(|| {
    if xs.len() != ys.len() {
      return Err(invalid(format!(
        "xs and ys must have the same length (received {} and {})",
        xs.len(),
        ys.len()
      )));
    }
    // O(n²) pairwise slopes: keep a hostile input from taking minutes.
    if xs.len() > 20_000 {
      return Err(invalid(format!(
        "at most 20000 points (received {})",
        xs.len()
      )));
    }
    let d = AssessOptions::default();
    let o = options.unwrap_or(TrendOptions {
      alpha: None,
      min_slope: None,
      min_growth: None,
      floor_blocks: None,
      recent_fraction: None,
    });
    let opts = AssessOptions {
      alpha: o.alpha.unwrap_or(d.alpha),
      min_slope: o.min_slope.unwrap_or(d.min_slope),
      min_growth: o.min_growth.unwrap_or(d.min_growth),
      floor_blocks: o.floor_blocks.map(|b| b as usize).unwrap_or(d.floor_blocks),
      recent_fraction: o.recent_fraction.unwrap_or(d.recent_fraction),
    };
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
      return Err(invalid(format!(
        "options.alpha must be in (0, 1) (received {})",
        opts.alpha
      )));
    }
    if !(opts.recent_fraction > 0.0 && opts.recent_fraction <= 1.0) {
      return Err(invalid(format!(
        "options.recentFraction must be in (0, 1] (received {})",
        opts.recent_fraction
      )));
    }
    Ok(assess(xs, ys, &opts).map(|a| TrendAssessment {
      overall: a.overall.into(),
      recent: a.recent.map(Into::into),
      growing: a.growing,
      reason: a.reason,
    }))
  })
}

/// Typed-array twin of `trendAssess` for the monitor, which keeps its series
/// in `Float64Array`s: the data is borrowed in place instead of being read
/// element by element from a JS array (one napi call per number). Same
/// options, same verdict.
#[napi(js_name = "trendAssessF64")]
pub fn trend_assess_f64(
  xs: Float64Array,
  ys: Float64Array,
  options: Option<TrendOptions>,
) -> Result<Option<TrendAssessment>> {
  let (xs, ys): (&[f64], &[f64]) = (&xs, &ys);
  trend_assess_slices(xs, ys, options)
}
