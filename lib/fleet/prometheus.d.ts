// Types of leakguard/prometheus. prom-client is an optional peer dependency:
// these types need it installed, like the subpath itself.
import type { Registry } from 'prom-client'
import type { Monitor } from '../monitor/monitor.js'

/** What the exporters read cache figures from: a BoundedCache (or anything with the same stats()). */
export interface CacheLike {
  readonly name?: string
  stats(): {
    hits: number
    misses: number
    sets: number
    evictions: number
    expirations: number
    size: number
    calculatedSize: number
  }
}

/** What the exporters read trend slopes and count warnings from: a monitor() instance. */
export type MonitorLike = Pick<Monitor, 'trend' | 'on' | 'off'>

export interface PrometheusOptions {
  /** The registry to register on. Default: prom-client's global `register`. */
  registry?: Registry
  /** Prepended to every metric name. Must match `[a-zA-Z_:][a-zA-Z0-9_:]*` or be ''. Default `'leakguard_'`. */
  prefix?: string
  /**
   * A monitor whose trend() gives the `trend_*` gauges, and whose 'warning'/'limit' events
   * (worker-thread warnings included) are counted. Without it, the trend gauges are not
   * registered and warnings are counted from this thread's diagnostics channels.
   */
  monitor?: MonitorLike
  /**
   * Caches whose stats() give the `cache_*` metrics, labelled `cache` by their `name`
   * (array; unnamed ones as `cache<i>`) or by key (object). Names must be distinct.
   */
  caches?: CacheLike[] | Record<string, CacheLike>
}

export interface PrometheusMetrics {
  registry: Registry
  /** The names of the metrics registered. */
  metricNames: string[]
  /** Removes the metrics from the registry and stops listening. Idempotent. */
  unregister(): void
}

/**
 * Registers leakguard's metrics on a prom-client registry: `memory_bytes{type}` (read at
 * scrape), `trend_slope_bytes_per_second{metric}`, `trend_slope_bytes_per_job{metric}`,
 * `trend_growing{metric}` (with `monitor`), `warnings_total{metric}`, `limits_total{metric}`,
 * `jobs_total{job}`, `left_open_total{job,kind}`, `disposed_total{job,kind}`,
 * `cleanup_errors_total{job}`, and with `caches` `cache_{hits,misses,sets,evictions,expirations}_total{cache}`,
 * `cache_entries{cache}`, `cache_size_bytes{cache}`. Job and metric labels are capped at
 * 200 distinct values (then `_other`).
 * @throws {TypeError|RangeError} ERR_LEAKGUARD_INVALID_OPTION for bad options; prom-client's
 * own error if the names are already registered on the registry.
 */
export declare function registerMetrics(options?: PrometheusOptions): PrometheusMetrics
