/**
 * Summary statistics of timed runs, and the rounding used in the JSON lines.
 * @module
 */

/** Median, min and max of the counted runs, in ms. */
export interface RunStats {
  /** Median of the counted runs (the mean of the middle two for an even count). */
  readonly median_ms: number
  /** Fastest counted run. */
  readonly min_ms: number
  /** Slowest counted run. */
  readonly max_ms: number
  /** How many runs were counted (warm-ups excluded). */
  readonly runs: number
}

/** The statistics of `samples` (ms per run); throws on an empty or non-finite list. */
export function summarize(samples: readonly number[]): RunStats {
  if (samples.length === 0) throw new Error('summarize: no runs were counted')
  if (!samples.every(Number.isFinite)) throw new Error(`summarize: a run time is not finite (${samples.join(', ')})`)
  const sorted = [...samples].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median_ms: round3(median), min_ms: round3(sorted[0]), max_ms: round3(sorted[sorted.length - 1]), runs: sorted.length }
}

/** Rounds to 3 significant digits, for readable JSON and tables. */
export function round3(x: number): number {
  return Number(x.toPrecision(3))
}

/**
 * How many runs to count: `requested` when given (`--runs N`), else as many as fit in
 * `budgetMs` at the warm-up's pace, at least `min` and at most `max`.
 */
export function plannedRuns(warmupMs: number, budgetMs: number, requested: number | undefined, min = 3, max = 30): number {
  if (requested !== undefined) return requested
  if (!(warmupMs > 0)) return max
  return Math.max(min, Math.min(max, Math.floor(budgetMs / warmupMs)))
}
