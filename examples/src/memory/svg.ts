/**
 * The learning curves as an SVG file: one panel per task and lag (tasks in rows, lags in
 * columns), each with the training loss of every model against the training sequences seen and the loss of
 * guessing as a dashed line (the y axis ends at 1.5 times it). Hand-written SVG, no dependencies.
 * @module
 */

/** One curve of a panel. */
interface SvgCurve {
  /** Model name (picks the colour, and labels the legend). */
  readonly model: string
  /** Points as [step, loss]. */
  readonly points: readonly (readonly [number, number])[]
}

/** One panel: a task at one lag. */
export interface SvgPanel {
  /** Row key (the task). */
  readonly row: string
  /** Panel title, e.g. `recall, lag 20`. */
  readonly title: string
  /** The loss of guessing, drawn dashed (omitted when not finite). */
  readonly chanceLoss: number
  /** Curves of the panel. */
  readonly curves: readonly SvgCurve[]
}

/** The colour of each model's curves and points. */
export const COLOURS: Readonly<Record<string, string>> = { rnn: '#d62728', lstm: '#1f77b4', gru: '#2ca02c' }
const PANEL_W = 260
const PANEL_H = 180
const MARGIN = { left: 48, right: 12, top: 28, bottom: 30 }

/** Text made safe inside an SVG element or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** A coordinate as written: whole numbers as they are, others to one decimal. */
export function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1)
}

function panelSvg(panel: SvgPanel, x0: number, y0: number): string {
  const points = panel.curves.flatMap((c) => c.points).filter(([, y]) => Number.isFinite(y))
  const xMax = Math.max(1, ...points.map(([x]) => x))
  // Up to 1.5 times the loss of guessing: early spikes above it are clipped to the top edge,
  // so the interesting part (below chance) keeps the height of the panel.
  const yMax = Number.isFinite(panel.chanceLoss) && panel.chanceLoss > 0 ? 1.5 * panel.chanceLoss : Math.max(...points.map(([, y]) => y), 1e-9)
  const w = PANEL_W - MARGIN.left - MARGIN.right
  const h = PANEL_H - MARGIN.top - MARGIN.bottom
  const px = (x: number): number => x0 + MARGIN.left + (x / xMax) * w
  const py = (y: number): number => y0 + MARGIN.top + h - (Math.min(y, yMax) / yMax) * h
  const parts = [
    `<text x="${num(x0 + MARGIN.left + w / 2)}" y="${num(y0 + 18)}" text-anchor="middle" font-size="13">${escapeXml(panel.title)}</text>`,
    `<rect x="${num(x0 + MARGIN.left)}" y="${num(y0 + MARGIN.top)}" width="${num(w)}" height="${num(h)}" fill="none" stroke="#999"/>`,
    `<text x="${num(x0 + MARGIN.left - 4)}" y="${num(y0 + MARGIN.top + 4)}" text-anchor="end" font-size="10">${yMax.toPrecision(2)}</text>`,
    `<text x="${num(x0 + MARGIN.left - 4)}" y="${num(y0 + MARGIN.top + h)}" text-anchor="end" font-size="10">0</text>`,
    `<text x="${num(x0 + MARGIN.left + w)}" y="${num(y0 + MARGIN.top + h + 14)}" text-anchor="end" font-size="10">${xMax}</text>`,
    `<text x="${num(x0 + MARGIN.left)}" y="${num(y0 + MARGIN.top + h + 14)}" font-size="10">sequences</text>`,
  ]
  if (Number.isFinite(panel.chanceLoss)) {
    const y = num(py(panel.chanceLoss))
    parts.push(`<line x1="${num(px(0))}" y1="${y}" x2="${num(px(xMax))}" y2="${y}" stroke="#777" stroke-dasharray="4 3"><title>chance</title></line>`)
  }
  for (const c of panel.curves) {
    const d = c.points
      .filter(([, y]) => Number.isFinite(y))
      .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${num(px(x))},${num(py(y))}`)
      .join(' ')
    parts.push(`<path d="${d}" fill="none" stroke="${COLOURS[c.model] ?? '#000'}" stroke-width="1.5"><title>${escapeXml(c.model)}</title></path>`)
  }
  return parts.join('\n')
}

/** The whole figure as an SVG document: panels in a grid, a title and a legend. */
export function learningCurvesSvg(title: string, panels: readonly SvgPanel[]): string {
  const rows = [...new Set(panels.map((p) => p.row))]
  const columns = Math.max(1, ...rows.map((r) => panels.filter((p) => p.row === r).length))
  const width = columns * PANEL_W
  const height = 56 + rows.length * PANEL_H
  const body = rows.flatMap((r, i) => panels.filter((p) => p.row === r).map((p, j) => panelSvg(p, j * PANEL_W, 56 + i * PANEL_H)))
  const models = [...new Set(panels.flatMap((p) => p.curves.map((c) => c.model)))]
  const legend = models.map(
    (m, i) =>
      `<line x1="${12 + i * 90}" y1="40" x2="${36 + i * 90}" y2="40" stroke="${COLOURS[m] ?? '#000'}" stroke-width="2"/>` +
      `<text x="${40 + i * 90}" y="44" font-size="12">${escapeXml(m)}</text>`,
  )
  legend.push(
    `<line x1="${12 + models.length * 90}" y1="40" x2="${36 + models.length * 90}" y2="40" stroke="#777" stroke-dasharray="4 3"/>` +
      `<text x="${40 + models.length * 90}" y="44" font-size="12">chance</text>`,
  )
  return svgDocument(width, height, title, [...legend, ...body])
}

/** A whole SVG file: a white page of `width` x `height` with `title` at the top and `parts` below it. */
export function svgDocument(width: number, height: number, title: string, parts: readonly string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}
