/**
 * The solve plot, `solve.svg`: training sequences to solve against the lag, one panel per
 * task, log scales on both axes. Each seed is a small dot, the median over the seeds a line
 * with a marker per lag; a run that did not solve (or was not run) sits on the dashed "not solved"
 * line at the top (the budget), drawn hollow. The paper's LSTM figures are black diamonds. The Reber
 * grammar has no lag: its panel puts the models side by side. Hand-written SVG.
 * @module
 */
import type { RunRecord } from './results.ts'
import { paperFigure } from './results.ts'
import { COLOURS, escapeXml, num, svgDocument } from './svg.ts'
import { medianToSolve, tableRows } from './table.ts'

const W = 340
const H = 260
const M = { left: 58, right: 14, top: 30, bottom: 40 }

/** Powers of ten from below `lo` to above `hi`. */
function decades(lo: number, hi: number): number[] {
  const out: number[] = []
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e)
  return out
}

const label = (v: number): string => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v))

/** One task's panel at (x0, y0). */
function panelSvg(task: string, runs: readonly RunRecord[], budget: number, x0: number, y0: number): string {
  const rows = tableRows(runs)
  const lagless = rows.every((r) => r.lag === null)
  const solved = runs.flatMap((r) => (r.solvedAt === null ? [] : [Math.max(r.solvedAt, 1)]))
  const paper = rows.flatMap((r) => {
    const p = r.model === 'lstm' ? paperFigure(r.task, r.lag) : undefined
    return p === undefined ? [] : [p]
  })
  const yTicks = decades(Math.min(budget, ...solved, ...paper), Math.max(budget, ...paper))
  const [yLo, yHi] = [yTicks[0], yTicks[yTicks.length - 1]]
  const w = W - M.left - M.right
  const h = H - M.top - M.bottom
  const py = (v: number): number => y0 + M.top + h - ((Math.log10(v) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * h
  const models: string[] = [...new Set(rows.map((r) => r.model))]
  const lags = [...new Set(rows.flatMap((r) => (r.lag === null ? [] : [r.lag])))]
  const xTicks = lagless ? [] : decades(Math.min(...lags), Math.max(...lags))
  const px = (lag: number | null, model: string): number => {
    if (lagless || lag === null) return x0 + M.left + ((models.indexOf(model) + 0.5) / models.length) * w
    const [lo, hi] = [Math.log10(xTicks[0]), Math.log10(xTicks[xTicks.length - 1])]
    return x0 + M.left + ((Math.log10(lag) - lo) / (hi - lo || 1)) * w
  }
  const parts = [
    `<text x="${num(x0 + M.left + w / 2)}" y="${num(y0 + 18)}" text-anchor="middle" font-size="13">${escapeXml(task)}</text>`,
    `<rect x="${num(x0 + M.left)}" y="${num(y0 + M.top)}" width="${num(w)}" height="${num(h)}" fill="none" stroke="#999"/>`,
    `<text x="${num(x0 + M.left + w / 2)}" y="${num(y0 + H - 6)}" text-anchor="middle" font-size="11">${lagless ? 'model' : 'lag (log scale)'}</text>`,
  ]
  for (const t of yTicks) {
    const y = num(py(t))
    parts.push(`<line x1="${num(x0 + M.left)}" y1="${y}" x2="${num(x0 + M.left + w)}" y2="${y}" stroke="#eee"/>`)
    parts.push(`<text x="${num(x0 + M.left - 4)}" y="${y}" text-anchor="end" font-size="10">${label(t)}</text>`)
  }
  for (const t of lagless ? models : xTicks) {
    const x = num(typeof t === 'number' ? px(t, '') : px(null, t))
    parts.push(`<text x="${x}" y="${num(y0 + M.top + h + 14)}" text-anchor="middle" font-size="10">${typeof t === 'number' ? label(t) : t}</text>`)
  }
  const top = num(py(budget))
  parts.push(
    `<line x1="${num(x0 + M.left)}" y1="${top}" x2="${num(x0 + M.left + w)}" y2="${top}" stroke="#777" stroke-dasharray="4 3"><title>not solved within ${budget} sequences</title></line>`,
  )
  for (const model of models) {
    const colour = COLOURS[model] ?? '#000'
    const mine = rows.filter((r) => r.model === model)
    const medians = mine.map((r) => ({ lag: r.lag, value: medianToSolve(r) }))
    const path = medians.map((m, i) => `${i === 0 ? 'M' : 'L'}${num(px(m.lag, model))},${num(py(Number.isFinite(m.value) ? m.value : budget))}`).join(' ')
    if (!lagless) parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="1.5"><title>${escapeXml(model)}, median</title></path>`)
    for (const m of medians) {
      const fill = Number.isFinite(m.value) ? colour : '#fff'
      const cy = py(Number.isFinite(m.value) ? Math.max(m.value, 1) : budget)
      parts.push(`<circle cx="${num(px(m.lag, model))}" cy="${num(cy)}" r="4" fill="${fill}" stroke="${colour}" stroke-width="1.5"/>`)
    }
    for (const r of mine.flatMap((row) => row.runs)) {
      const cy = py(r.solvedAt === null ? budget : Math.max(r.solvedAt, 1))
      parts.push(`<circle cx="${num(px(r.lag, model) + 7)}" cy="${num(cy)}" r="1.8" fill="${r.solvedAt === null ? '#fff' : colour}" stroke="${colour}"/>`)
    }
  }
  for (const r of rows.filter((row) => row.model === 'lstm')) {
    const p = paperFigure(r.task, r.lag)
    if (p === undefined) continue
    const [cx, cy] = [px(r.lag, 'lstm'), py(p)]
    parts.push(
      `<path d="M${num(cx)},${num(cy - 5)} L${num(cx + 5)},${num(cy)} L${num(cx)},${num(cy + 5)} L${num(cx - 5)},${num(cy)} Z" fill="#000"><title>paper LSTM ${p}</title></path>`,
    )
  }
  return parts.join('\n')
}

/** The whole figure: one panel per task in a row, a title and a legend; `budget` is the runs' budget of training sequences. */
export function solveSvg(title: string, runs: readonly RunRecord[], budget: number): string {
  const tasks = [...new Set(runs.map((r) => r.task))]
  const models = [...new Set(runs.map((r) => r.model))]
  const width = Math.max(1, tasks.length) * W
  const height = 56 + H
  const legend = models.map(
    (m, i) => `<circle cx="${20 + i * 80}" cy="40" r="4" fill="${COLOURS[m] ?? '#000'}"/><text x="${30 + i * 80}" y="44" font-size="12">${escapeXml(m)}</text>`,
  )
  const x = 20 + models.length * 80
  legend.push(`<path d="M${x},35 L${x + 5},40 L${x},45 L${x - 5},40 Z" fill="#000"/><text x="${x + 10}" y="44" font-size="12">paper LSTM (1997)</text>`)
  legend.push(`<text x="${x + 140}" y="44" font-size="12">hollow: not solved (dashed line: the budget); small dots: seeds</text>`)
  const body = tasks.map((t, i) =>
    panelSvg(
      t,
      runs.filter((r) => r.task === t),
      budget,
      i * W,
      56,
    ),
  )
  return svgDocument(Math.max(width, 900), height, title, [...legend, ...body])
}
