/**
 * The results table printed at the end of a sweep: one row per task, lag and model, over its
 * seeds: how many solved the task, the median of the training sequences they needed (the
 * paper's measure), the paper's LSTM figure beside it, and the held-out score at the end.
 * @module
 */
import type { ModelName, TaskName } from './names.ts'
import { type RunRecord, paperFigure } from './results.ts'

/** The runs of one task, lag and model (every seed). */
export interface TableRow {
  /** The task. */
  readonly task: TaskName
  /** The lag, null for the Reber grammar. */
  readonly lag: number | null
  /** The model. */
  readonly model: ModelName
  /** Its runs, one per seed. */
  readonly runs: readonly RunRecord[]
}

/** The runs grouped by task, lag and model, in the order they first appear. */
export function tableRows(runs: readonly RunRecord[]): TableRow[] {
  const rows = new Map<string, TableRow & { runs: RunRecord[] }>()
  for (const r of runs) {
    const id = `${r.task}/${r.lag}/${r.model}`
    const row = rows.get(id) ?? { task: r.task, lag: r.lag, model: r.model, runs: [] }
    row.runs.push(r)
    rows.set(id, row)
  }
  return [...rows.values()]
}

/** The median of numbers (the mean of the middle two for an even count); Infinity counts as a number. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : s[m - 1] === s[m] ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * The row's median training sequences to solve, a run that did not solve counting as
 * Infinity (so the median is finite only when more than half of the seeds solved).
 */
export function medianToSolve(row: TableRow): number {
  return median(row.runs.map((r) => r.solvedAt ?? Infinity))
}

const thousands = (n: number): string => Math.round(n).toLocaleString('en-US')

/**
 * The sequences-to-solve cell: the median, or "not solved within N sequences", or, when no
 * seed ran, "not run: not solved at lag L" (L: the longest lag at which a seed failed).
 */
function toSolveCell(row: TableRow, budget: number): string {
  const m = medianToSolve(row)
  if (Number.isFinite(m)) return thousands(m)
  const ran = row.runs.filter((r) => r.notRunAfter === null)
  if (ran.length === 0) return `not run: not solved at lag ${Math.max(...row.runs.map((r) => r.notRunAfter ?? 0))}`
  return `not solved within ${thousands(budget)}`
}

/** The held-out cell: the median fraction right over the seeds that ran, and for the adding problem the median mean squared error. */
function heldOutCell(row: TableRow): string {
  const held = row.runs.flatMap((r) => (r.heldOut === null ? [] : [r.heldOut]))
  if (held.length === 0) return '-'
  const right = `${(100 * median(held.map((e) => e.right))).toFixed(1)}%`
  return row.task === 'adding' ? `${right}, mse ${median(held.map((e) => e.loss)).toFixed(4)}` : right
}

const COLUMNS = ['task', 'lag', 'model', 'hidden', 'params', 'solved', 'sequences to solve (median)', 'paper LSTM', 'held-out right', 'seconds'] as const
const NUMERIC = new Set([1, 3, 4, 6, 7, 9])

/** The table as aligned text lines (a header, a rule, one row per task, lag and model, a blank line between tasks). */
export function formatTable(runs: readonly RunRecord[], budget: number): string[] {
  const rows = tableRows(runs)
  const cells = rows.map((row) => {
    const first = row.runs[0]
    const paper = paperFigure(row.task, row.lag)
    return [
      row.task,
      row.lag === null ? '-' : String(row.lag),
      row.model,
      String(first.hidden),
      String(first.parameters),
      `${row.runs.filter((r) => r.solvedAt !== null).length}/${row.runs.length}`,
      toSolveCell(row, budget),
      paper === undefined ? '' : thousands(paper),
      heldOutCell(row),
      row.runs.reduce((s, r) => s + r.seconds, 0).toFixed(0),
    ]
  })
  const header = [...COLUMNS]
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)))
  const line = (row: readonly string[]): string =>
    row
      .map((cell, c) => (NUMERIC.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd()
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')]
  cells.forEach((row, i) => {
    if (i > 0 && rows[i - 1].task !== rows[i].task) out.push('')
    out.push(line(row))
  })
  return out
}

/** The line printed as a run ends: its place, what it ran, and how it went. */
export function runLine(r: RunRecord, index: number, total: number): string {
  const place = `[${String(index + 1).padStart(String(total).length)}/${total}]`
  const what = `${r.task}${r.lag === null ? '' : ` lag ${r.lag}`} ${r.model} seed ${r.seed}`
  if (r.heldOut === null) return `${place} ${what}: not run (not solved at lag ${r.notRunAfter})`
  const how = r.solvedAt === null ? `not solved within ${thousands(r.sequences)} sequences` : `solved after ${thousands(r.solvedAt)} sequences`
  return `${place} ${what}: ${how}, held-out ${(100 * r.heldOut.right).toFixed(1)}% right (${r.seconds.toFixed(1)} s)`
}
