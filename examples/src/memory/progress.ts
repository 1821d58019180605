/**
 * A progress bar per training run: step, loss, score, steps per second and time left.
 * On a terminal it redraws one line in place (with \r, at most ten times a second); on
 * anything else (a pipe, a log file, a test) it prints a plain line at every quarter of
 * the run, so logs stay short and readable.
 * @module
 */

/** Where progress goes: a stream with `write`, and `isTTY` when it is a terminal. */
export interface ProgressSink {
  /** Writes text as is. */
  write(text: string): unknown
  /** True on an interactive terminal. */
  readonly isTTY?: boolean
}

/** What the bar shows at a step. */
export interface ProgressState {
  /** Steps done. */
  readonly step: number
  /** The latest training loss. */
  readonly loss: number
  /** The latest training score. */
  readonly score: number
}

const BAR_WIDTH = 24
const REDRAW_MS = 100

/** Seconds as `42s`, `3m05s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.max(0, Math.round(seconds))
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/** A progress bar for one run of `total` steps, labelled e.g. `[3/24] recall lag 20 lstm`. */
export class ProgressBar {
  private readonly started = performance.now()
  private lastDraw = -Infinity
  private nextQuarter = 1

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
    /** How the score is labelled: `acc` or `mse`. */
    private readonly scoreLabel: string,
  ) {}

  /** Shows the state after a step (redrawn on a terminal, or a plain line at each quarter). */
  update(state: ProgressState): void {
    const now = performance.now()
    if (this.sink.isTTY === true) {
      if (now - this.lastDraw < REDRAW_MS && state.step < this.total) return
      this.lastDraw = now
      this.sink.write(`\r${this.line(state, now)}\x1b[K`)
      if (state.step >= this.total) this.sink.write('\n')
      return
    }
    if (state.step * 4 >= this.nextQuarter * this.total) {
      while (state.step * 4 >= this.nextQuarter * this.total) this.nextQuarter++
      this.sink.write(`${this.line(state, now)}\n`)
    }
  }

  private line(state: ProgressState, now: number): string {
    const fraction = Math.min(1, state.step / this.total)
    const filled = Math.round(fraction * BAR_WIDTH)
    const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled)
    const seconds = (now - this.started) / 1000
    const rate = state.step / Math.max(seconds, 1e-9)
    const left = (this.total - state.step) / rate
    const width = String(this.total).length
    return `${this.label} [${bar}] ${String(state.step).padStart(width)}/${this.total}  loss ${state.loss.toFixed(4)}  ` +
      `${this.scoreLabel} ${state.score.toFixed(3)}  ${rate.toFixed(1).padStart(5)} steps/s  ` +
      (state.step >= this.total ? `took ${formatDuration(seconds)}` : `${formatDuration(left)} left`)
  }
}
