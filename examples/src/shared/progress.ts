/**
 * The progress bar of a training run (used by `pnpm start` and `pnpm lm train`): step,
 * loss, a score (accuracy, error, bits per character), steps per second and time left.
 * On a terminal it redraws one line in place (at most ten times a second, cut to the
 * terminal's width so that it never wraps), with log lines printed above it; on anything
 * else (a pipe, a log file, a test) it prints a plain line every few steps, so logs stay
 * short and readable.
 * @module
 */

/** Where progress goes: a stream with `write`, and `isTTY` when it is a terminal. */
export interface ProgressSink {
  /** Writes text as is. */
  write(text: string): unknown
  /** True on an interactive terminal (the bar is redrawn only there). */
  readonly isTTY?: boolean
  /** Its width in characters, when a terminal; a pseudo-terminal may report 0, which means unknown. */
  readonly columns?: number
}

/** What the bar shows after a step. */
export interface ProgressState {
  /** Steps done (counted from the start of the whole run, also after a resume). */
  readonly step: number
  /** The latest training loss. */
  readonly loss: number
  /** The latest training score, shown after the loss when the bar has a `scoreLabel`. */
  readonly score?: number
}

/** How a bar is labelled and how often it prints without a terminal. */
export interface ProgressOptions {
  /** Text before the bar, e.g. `[3/24] recall lag 20 lstm` (default none). */
  readonly label?: string
  /** Step the run ends at. */
  readonly total: number
  /** Step the run starts from: 0, or after a resume the checkpoint's (default 0). */
  readonly start?: number
  /** Name of the score, e.g. `acc`, `mse`, `bpc` (default: no score shown). */
  readonly scoreLabel?: string
  /** Without a terminal, print a line every this many steps and at the last (default: every quarter of the run). */
  readonly every?: number
}

const BAR_WIDTH = 24
const MIN_BAR_WIDTH = 8
const REDRAW_MS = 100

/** Seconds as `42s`, `3m05s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.max(0, Math.round(seconds))
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}

/** A training run's progress display. */
export class ProgressBar {
  private readonly started = performance.now()
  private readonly start: number
  private readonly every: number
  /** The latest state, drawn again under each log line on a terminal; undefined once the line is ended. */
  private latest: ProgressState | undefined
  private lastDraw = -Infinity

  constructor(
    private readonly sink: ProgressSink,
    private readonly options: ProgressOptions,
  ) {
    this.start = options.start ?? 0
    this.every = options.every ?? Math.max(1, Math.ceil((options.total - this.start) / 4))
  }

  /** Shows the state after a step (redrawn on a terminal, or a plain line every few steps). */
  update(state: ProgressState): void {
    const now = performance.now()
    const last = state.step >= this.options.total
    if (this.sink.isTTY === true) {
      this.latest = state
      // Redrawing costs terminal output; ten times a second is as fast as anyone reads.
      if (now - this.lastDraw < REDRAW_MS && !last) return
      this.sink.write(`\r\x1b[K${this.ttyLine(state, now)}`)
      if (last) this.finish()
    } else if (state.step % this.every === 0 || last) {
      this.sink.write(`${this.line(state, now)}\n`)
    }
  }

  /** Prints a line (validation, a sample, a checkpoint) above the bar. */
  log(text: string): void {
    if (this.sink.isTTY === true && this.latest !== undefined) this.sink.write(`\r\x1b[K${text}\n${this.ttyLine(this.latest, performance.now())}`)
    else this.sink.write(`${text}\n`)
  }

  /** Ends the bar's line on a terminal (done by the last step's update; needed only if a run stops early). */
  finish(): void {
    if (this.sink.isTTY === true && this.latest !== undefined) this.sink.write('\n')
    this.latest = undefined
  }

  /** The line for a terminal: the bar narrows so the figures fit the width, and what still does not fit is cut (a wrapped line cannot be redrawn). */
  private ttyLine(state: ProgressState, now: number): string {
    this.lastDraw = now
    const columns = (this.sink.columns ?? 0) >= 20 ? (this.sink.columns as number) : 100
    const spare = columns - 1 - this.line(state, now, 0).length
    return this.line(state, now, Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, spare))).slice(0, columns - 1)
  }

  private line(state: ProgressState, now: number, barWidth = BAR_WIDTH): string {
    const { label, total, scoreLabel } = this.options
    const filled = Math.round(Math.min(1, Math.max(0, state.step / total)) * barWidth)
    const bar = '#'.repeat(filled) + '-'.repeat(barWidth - filled)
    const seconds = (now - this.started) / 1000
    const rate = (state.step - this.start) / Math.max(seconds, 1e-9)
    const score = scoreLabel === undefined || state.score === undefined ? '' : `${scoreLabel} ${state.score.toFixed(3)}  `
    const time = state.step >= total ? `took ${formatDuration(seconds)}` : `${formatDuration((total - state.step) / rate)} left`
    return (
      `${label === undefined ? '' : `${label} `}[${bar}] ${String(state.step).padStart(String(total).length)}/${total}  ` +
      `loss ${state.loss.toFixed(4)}  ${score}${rate.toFixed(1).padStart(5)} steps/s  ${time}`
    )
  }
}
