/**
 * Reports for people: a check's failures with hints at the likely cause, and the command's
 * summary table.
 * @module
 */
import type { GradcheckFailure, GradcheckResult } from './gradcheck.ts'
import { leafLabel } from './inputs.ts'

/** Formats an error measure for tables and reports: `3.1e-11`, `0`, `inf`. */
export function formatError(x: number): string {
  if (x === 0) return '0'
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : 'inf'
  return x.toExponential(1)
}

/** A setting as written by hand: `1e-6`, `0.01`. */
function short(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x)
}

/** Options of {@link formatResult}. */
export interface FormatOptions {
  /** What was checked, for the first line (e.g. an op name and case label). */
  name?: string
  /** At most this many failure lines (default 10). */
  maxLines?: number
}

/** Groups failures by the tensor they belong to, keeping first-seen order. */
function byTensor(failures: readonly GradcheckFailure[]): GradcheckFailure[][] {
  const groups = new Map<string, GradcheckFailure[]>()
  for (const f of failures) {
    const k = `${f.input}\u0000${f.param ?? ''}`
    const g = groups.get(k)
    if (g === undefined) groups.set(k, [f])
    else g.push(f)
  }
  return [...groups.values()]
}

/** Whether every mismatch of a matrix is explained by reading element [j,i] for [i,j]. */
function looksTransposed(mism: readonly GradcheckFailure[], atol: number, rtol: number): boolean {
  if (mism.length === 0 || mism.some((f) => f.element.length !== 2 || f.output === null)) return false
  const at = new Map(mism.map((f) => [`${f.element.join()}|${(f.output as number[]).join()}`, f]))
  return mism.every((f) => {
    const other = at.get(`${f.element[1]},${f.element[0]}|${(f.output as number[]).join()}`)
    return other !== undefined && Math.abs(f.analytic - other.numeric) <= atol + rtol * Math.abs(other.numeric)
  })
}

/**
 * A guess at the cause of one tensor's mismatches, from their pattern: a constant factor
 * (a forgotten 2, a flipped sign), a transposed gradient, or an analytic gradient that is
 * zero (the input does not reach the output through the VJP rules).
 */
function hint(group: readonly GradcheckFailure[], result: GradcheckResult): string | null {
  const { atol, rtol, order } = result.settings
  const mism = group.filter((f) => f.kind === 'mismatch')
  if (mism.length === 0) return null
  if (mism.every((f) => f.analytic === 0)) {
    return order === 2
      ? 'the analytic second derivative is zero: does a VJP rule use its input as a constant (a detached copy, data read directly) instead of through ops?'
      : 'the analytic gradient is zero where the numeric one is not: is this input cut from the graph (stopGradient, a cast to int32, a VJP returning null)?'
  }
  const ratios = mism.filter((f) => Math.abs(f.numeric) > atol).map((f) => f.analytic / f.numeric)
  if (ratios.length >= 1 && ratios.length === mism.length) {
    const r = ratios[0]
    if (ratios.every((q) => Math.abs(q - r) <= 1e-4 * Math.abs(r))) {
      return Math.abs(r + 1) < 1e-4
        ? 'analytic = -numeric on every failing entry: a sign is flipped'
        : `analytic = ${Number(r.toPrecision(4))} x numeric on every failing entry: a constant factor is wrong`
    }
  }
  // Only with every failure at hand: a truncated list would hide the partner entries.
  if (result.failures.length === result.failureCount && looksTransposed(mism, atol, rtol)) {
    return 'the analytic gradient of element [i,j] is the numeric one of [j,i]: the gradient is transposed'
  }
  return null
}

/** The distinct elements of a tensor's failures, compactly: `[3,0] [3,1] [4,0]` (at most 12). */
function elementsOf(group: readonly GradcheckFailure[]): string {
  const distinct = [...new Set(group.map((f) => `[${f.element.join(',')}]`))]
  const shown = distinct.slice(0, 12).join(' ')
  return `${distinct.length} element${distinct.length === 1 ? '' : 's'} wrong: ${shown}${distinct.length > 12 ? ' ...' : ''}`
}

/**
 * A readable report of a check: a headline; per tensor, which elements are wrong and a hint
 * where the failures show a pattern; one line per failure (which input, which element, which
 * output, analytic versus numeric); and the settings to reproduce it.
 */
export function formatResult(result: GradcheckResult, options: FormatOptions = {}): string {
  const what = options.name === undefined ? '' : `${options.name}: `
  const order = result.settings.order === 2 ? 'second derivatives' : 'gradients'
  const errs = `max abs error ${formatError(result.maxAbsError)}, max rel error ${formatError(result.maxRelError)}`
  if (result.ok) return `${what}${order} match (${result.checked} entries, ${errs})`
  const lines = [`${what}${order} are wrong: ${result.failureCount} failing entr${result.failureCount === 1 ? 'y' : 'ies'} of ${result.checked} (${errs})`]
  const groups = byTensor(result.failures)
  for (const group of groups) {
    lines.push(`  ${leafLabel(group[0])}: ${elementsOf(group)}`)
    const h = hint(group, result)
    if (h !== null) lines.push(`    ${h}`)
  }
  // Spread the detail lines over the tensors, so each wrong tensor shows an example.
  const maxLines = options.maxLines ?? 10
  const per = Math.max(1, Math.floor(maxLines / groups.length))
  let shown = 0
  for (const group of groups) {
    for (const f of group.slice(0, per)) {
      if (shown >= maxLines) break
      lines.push(`    ${f.message}`)
      shown++
    }
  }
  if (result.failureCount > shown) lines.push(`    ... and ${result.failureCount - shown} more`)
  const s = result.settings
  lines.push(
    `  (eps ${short(s.eps)}, atol ${short(s.atol)}, rtol ${short(s.rtol)}, seed ${s.seed}${s.fastMode ? ', fast mode' : ''}; an entry passes when |analytic - numeric| <= atol + rtol * |numeric|)`,
  )
  return lines.join('\n')
}

/** One row of the command's table. */
export interface SummaryRow {
  /** Op, layer or check name. */
  readonly name: string
  /** Whether every case passed (true for skipped rows). */
  readonly ok: boolean
  /** Number of cases checked. */
  readonly cases: number
  /** Largest absolute error over the cases. */
  readonly maxAbsError: number
  /** Largest relative error over the cases. */
  readonly maxRelError: number
  /** Why the row was not checked (an op without gradient, no second order), if it was not. */
  readonly skipped?: string
}

/** The summary table: name, cases, max abs error, max rel error, status, and a total line. */
export function formatTable(rows: readonly SummaryRow[], title = 'name'): string {
  const cells = rows.map((r) => [
    r.name,
    String(r.cases),
    r.skipped === undefined ? formatError(r.maxAbsError) : '-',
    r.skipped === undefined ? formatError(r.maxRelError) : '-',
    r.skipped !== undefined ? `skip (${r.skipped})` : r.ok ? 'pass' : 'FAIL',
  ])
  const header = [title, 'cases', 'max abs err', 'max rel err', 'status']
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (i === 4 ? 0 : c[i].length))))
  const line = (c: readonly string[]): string =>
    c
      .map((x, i) => (i === 0 ? x.padEnd(widths[i]) : i === 4 ? x : x.padStart(widths[i])))
      .join('  ')
      .trimEnd()
  const checked = rows.filter((r) => r.skipped === undefined)
  const failed = checked.filter((r) => !r.ok).length
  const skipped = rows.length - checked.length
  const cases = checked.reduce((a, r) => a + r.cases, 0)
  const maxAbs = checked.reduce((a, r) => Math.max(a, r.maxAbsError), 0)
  const maxRel = checked.reduce((a, r) => Math.max(a, r.maxRelError), 0)
  const total = `total: ${checked.length} checked (${cases} cases), ${checked.length - failed} passed, ${failed} failed, ${skipped} skipped; max abs err ${formatError(maxAbs)}, max rel err ${formatError(maxRel)}: ${failed === 0 ? 'PASS' : 'FAIL'}`
  return [line(header), line(header.map((_, i) => '-'.repeat(i === 4 ? 6 : widths[i]))), ...cells.map(line), total].join('\n')
}
