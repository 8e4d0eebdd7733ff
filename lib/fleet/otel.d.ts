// Types of leakguard/otel. @opentelemetry/api is an optional peer dependency:
// these types need it installed, like the subpath itself.
import type { Meter } from '@opentelemetry/api'
import type { CacheLike, MonitorLike } from './prometheus.js'

export type { CacheLike, MonitorLike }

export interface OtelOptions {
  /** The meter to create the instruments on. Default: `metrics.getMeter('leakguard', <version>)` of the global MeterProvider. */
  meter?: Meter
  /** Prepended to every instrument name. Must match `[a-zA-Z][a-zA-Z0-9_.-/]*` or be ''. Default `'leakguard.'`. */
  prefix?: string
  /** A monitor whose trend() gives the `trend.*` gauges. Without it, those instruments are not created. */
  monitor?: MonitorLike
  /** Caches whose stats() give the `cache.*` instruments, with attribute `cache` (their name, or the object key). */
  caches?: CacheLike[] | Record<string, CacheLike>
}

export interface OtelMetrics {
  meter: Meter
  /** Stops observing and counting (OpenTelemetry cannot delete instruments). Idempotent. */
  unregister(): void
}

/**
 * Creates leakguard's instruments on an OpenTelemetry Meter: `memory` (By, attribute `type`),
 * `trend.slope` (By/s), `trend.slope_per_job`, `trend.growing` (with `monitor`), counters
 * `warnings`, `limits`, `jobs`, `scope.left_open`, `scope.disposed`, `scope.cleanup_errors`,
 * and with `caches` `cache.{hits,misses,sets,evictions,expirations}`, `cache.entries`, `cache.size`.
 * @throws {TypeError|RangeError} ERR_LEAKGUARD_INVALID_OPTION for bad options.
 */
export declare function registerMetrics(options?: OtelOptions): OtelMetrics
