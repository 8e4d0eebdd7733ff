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

/** The longest rendering of a received value in a message, in characters (clip's default). */
const MAX_SHOWN_VALUE = 120
/** The longest path shown whole in a message (longer ones keep their start and end). */
const MAX_SHOWN_PATH = 200

/** `text` cut to `max` characters, marked with an ellipsis where it was cut. */
function clip(text, max = MAX_SHOWN_VALUE) {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/**
 * A path (or other long name) for a message: whole up to MAX_SHOWN_PATH
 * characters, else its start and its end around an ellipsis: the end names
 * the file, the start where it lives. A 16 MB path must not make a 16 MB
 * message.
 */
function describePath(text) {
  text = String(text)
  if (text.length <= MAX_SHOWN_PATH) return text
  const head = Math.floor(MAX_SHOWN_PATH / 3)
  return `${text.slice(0, head)}…${text.slice(text.length - (MAX_SHOWN_PATH - head - 1))}`
}

module.exports = {
  clip,
  describePath,
  formatBytes,
  formatP
}
