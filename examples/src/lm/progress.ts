/**
 * Training progress on the terminal: on an interactive terminal a bar redrawn in place
 * (steps done, loss, speed, time left), with log lines (validation, samples, checkpoints)
 * printed above it; when the output is a file or a pipe, a plain line every few steps.
 * @module
 */

/** Where progress goes; `process.stdout` by default. */
export interface ProgressSink {
  /** Writes text as is. */
  write(text: string): void
  /** Whether it is an interactive terminal (the bar is redrawn only there). */
  readonly isTTY?: boolean
  /** Its width in characters, when a terminal. */
  readonly columns?: number
}

const BAR_WIDTH = 24

/** A training run's progress display. */
export class ProgressBar {
  private line = ''
  private readonly started = performance.now()
  private readonly startStep: number

  constructor(
    private readonly sink: ProgressSink,
    /** Step the run starts from (after a resume, the checkpoint's). */
    startStep: number,
    /** Step the run ends at. */
    private readonly total: number,
    /** Without a terminal, print one line every this many steps. */
    private readonly every: number,
  ) {
    this.startStep = startStep
  }

  /** Reports that `step` steps are done, the last with loss `loss`. */
  update(step: number, loss: number): void {
    const done = step - this.startStep
    const seconds = (performance.now() - this.started) / 1000
    const perStep = done > 0 ? seconds / done : 0
    const figures = `step ${String(step).padStart(String(this.total).length)}/${this.total}  loss ${loss.toFixed(4)}  ${perStep.toFixed(2)} s/step  ${clock(perStep * (this.total - step))} left`
    if (this.sink.isTTY === true) {
      const filled = Math.round((BAR_WIDTH * step) / this.total)
      this.line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${figures}`.slice(0, width(this.sink) - 1)
      this.sink.write(`\r\x1b[K${this.line}`)
    } else if (step % this.every === 0 || step === this.total || done === 1) {
      this.sink.write(`${figures}\n`)
    }
  }

  /** Prints a line above the bar. */
  log(text: string): void {
    if (this.sink.isTTY === true && this.line !== '') this.sink.write(`\r\x1b[K${text}\n${this.line}`)
    else this.sink.write(`${text}\n`)
  }

  /** Ends the bar's line. */
  finish(): void {
    if (this.sink.isTTY === true && this.line !== '') this.sink.write('\n')
    this.line = ''
  }
}

/** The terminal's width; a pseudo-terminal may report 0, which means unknown. */
function width(sink: ProgressSink): number {
  return sink.columns !== undefined && sink.columns >= 20 ? sink.columns : 100
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}
