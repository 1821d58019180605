/**
 * The results table printed at the end of a sweep: one row per run, with the held-out
 * score next to the chance level, so a reader sees at a glance which model learned what.
 * @module
 */
import type { RunRecord } from './results.ts'

/** Column headings of the table, in order. */
const TABLE_COLUMNS = ['task', 'lag', 'model', 'hidden', 'params', 'metric', 'held-out', 'chance', 'result', 'steps', 'seconds'] as const

/** A score as printed: accuracy as a percentage, mean squared error with four decimals. */
function formatScore(metric: 'accuracy' | 'mse', score: number): string {
  return metric === 'accuracy' ? `${(100 * score).toFixed(1)}%` : score.toFixed(4)
}

/** The verdict of a run: learned (solved), above chance, or at chance. */
function verdict(run: RunRecord): string {
  if (run.solved) return 'learned'
  // Accuracy 1.5 times chance, or an error three quarters of the chance error: both far
  // outside the sampling noise of a held-out batch of a few hundred sequences.
  const better = run.metric === 'accuracy' ? run.score >= 1.5 * run.chance : run.score <= 0.75 * run.chance
  return better ? 'partly' : 'at chance'
}

/** The table as aligned text lines (a header, a rule, one row per run, a blank line between tasks). */
export function formatTable(runs: readonly RunRecord[]): string[] {
  const rows = runs.map((r) => [
    r.task,
    String(r.lag),
    r.model,
    String(r.hidden),
    String(r.parameters),
    r.metric === 'accuracy' ? 'accuracy' : 'mse',
    formatScore(r.metric, r.score),
    formatScore(r.metric, r.chance),
    verdict(r),
    String(r.steps),
    r.seconds.toFixed(1),
  ])
  const header = [...TABLE_COLUMNS]
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)))
  // Text columns align left, numbers right.
  const numeric = new Set([1, 3, 4, 6, 7, 9, 10])
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd()
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')]
  rows.forEach((row, i) => {
    if (i > 0 && runs[i - 1].task !== runs[i].task) out.push('')
    out.push(line(row))
  })
  return out
}
