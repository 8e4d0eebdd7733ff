'use strict'
// Human renderings of figures shared by every message leakguard writes
// (assertion errors, monitor warnings, recycle events, CLI output, report),
// so that one figure reads the same everywhere.

/**
 * Bytes in B/KB/MB/GB (powers of 1024), e.g. 1126 → "1.10 KB".
 * @param {number} n
 * @param {{ signed?: boolean }} [options] signed: prefix positive values with "+"
 */
function formatBytes(n, { signed = false } = {}) {
  if (n === undefined || n === null || Number.isNaN(n)) return '-'
  const sign = n < 0 ? '-' : signed && n > 0 ? '+' : ''
  const a = Math.abs(n)
  if (a < 1024) return `${sign}${a < 10 && a !== Math.trunc(a) ? a.toFixed(1) : Math.round(a)} B`
  if (a < 1024 ** 2) return `${sign}${(a / 1024).toFixed(a < 10240 ? 2 : 1)} KB`
  if (a < 1024 ** 3) return `${sign}${(a / 1024 ** 2).toFixed(a < 10 * 1024 ** 2 ? 2 : 1)} MB`
  return `${sign}${(a / 1024 ** 3).toFixed(2)} GB`
}

/**
 * A p-value as every message prints it: `p<0.001`, `p=0.004`, `p=0.12`, or
 * `p=n/a` when there is none.
 * @param {number | null | undefined} p
 */
function formatP(p) {
  if (p === undefined || p === null || Number.isNaN(p)) return 'p=n/a'
  if (p < 0.001) return 'p<0.001'
  return `p=${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`
}

module.exports = { formatBytes, formatP }
