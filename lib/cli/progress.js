'use strict'
// The progress bar of `check` and `demo`, on stderr.

const PHASE_LABEL = {
  warmup: 'warm-up',
  measure: 'measuring',
  confirm: 'confirming growth',
  snapshot: 'heap snapshots',
  diff: 'diffing snapshots'
}

/**
 * Progress on stderr: a \r-redrawn bar sized to the terminal on a TTY, plain
 * lines at quarter marks otherwise (CI logs, pipes, --json).
 */
class Progress {
  constructor(stream, { tty = Boolean(stream.isTTY), label = '' } = {}) {
    this.stream = stream
    this.tty = tty
    this.label = label
    this.drawn = false
    this.lastPhase = null
    this.lastQuarter = -1
  }

  update({ phase, done, total }) {
    const name = PHASE_LABEL[phase] || phase
    if (this.tty) {
      const columns = this.stream.columns || 80
      const ratio = total > 0 ? Math.min(1, done / total) : 0
      const head = `${this.label}${name}`
      const tail = ` ${done}/${total}`
      const width = Math.max(10, Math.min(40, columns - head.length - tail.length - 4))
      const fill = Math.round(ratio * width)
      const line = `${head} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}]${tail}`
      this.stream.write(`\r${line.slice(0, columns - 1)}\x1b[K`)
      this.drawn = true
      return
    }
    const quarter = total > 0 ? Math.floor((4 * done) / total) : 4
    // warm-up and measuring share one count (they are one run of jobs)
    const group = phase === 'warmup' || phase === 'measure' ? 'jobs' : phase
    if (group !== this.lastPhase) {
      this.lastPhase = group
      this.lastQuarter = -1
    }
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter
      this.stream.write(`${this.label}${name} ${done}/${total}\n`)
    }
  }

  /** Writes text (the child's own output) without tearing the bar. */
  log(text) {
    this.clear()
    this.stream.write(text)
  }

  clear() {
    if (this.tty && this.drawn) {
      this.stream.write('\r\x1b[K')
      this.drawn = false
    }
  }
}

module.exports = { Progress }
