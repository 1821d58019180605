/**
 * Learning curves drawn with characters, for the terminal: one letter per model (its first
 * letter, upper case) on a grid of loss against step (or another count); where curves overlap the later model
 * in the list wins the cell.
 * @module
 */

/** One curve of the chart. */
export interface ChartSeries {
  /** Legend name; its first letter marks the curve. */
  readonly name: string
  /** Points as [step, value]. */
  readonly points: readonly (readonly [number, number])[]
}

/** Size and scale of the chart. */
export interface ChartOptions {
  /** Columns of the plot (default 60). */
  readonly width?: number
  /** Rows of the plot (default 12). */
  readonly height?: number
  /** A level drawn as a row of dots (the loss of guessing), labelled on the axis. */
  readonly reference?: number
  /** Top of the y axis; higher values are drawn on the top row (default: the largest value). */
  readonly yMax?: number
  /** What the x axis counts (default `step`). */
  readonly xLabel?: string
}

/** Renders the series as lines of text: a y axis with labels, the plot, an x axis, a legend. */
export function asciiChart(title: string, series: readonly ChartSeries[], options: ChartOptions = {}): string[] {
  const width = options.width ?? 60
  const height = options.height ?? 12
  const all = series.flatMap((s) => s.points)
  if (all.length === 0) return [title, '  (no points)']
  const xMax = Math.max(...all.map(([x]) => x))
  const xMin = Math.min(...all.map(([x]) => x))
  const yMax = options.yMax ?? Math.max(...all.map(([, y]) => y).filter(Number.isFinite), options.reference ?? -Infinity)
  const yMin = Math.min(0, ...all.map(([, y]) => y).filter(Number.isFinite))
  const grid = Array.from({ length: height }, () => new Array<string>(width).fill(' '))
  const col = (x: number): number => (xMax === xMin ? 0 : Math.round(((x - xMin) / (xMax - xMin)) * (width - 1)))
  const row = (y: number): number => (yMax === yMin ? height - 1 : height - 1 - Math.round(((Math.min(y, yMax) - yMin) / (yMax - yMin)) * (height - 1)))
  const referenceRow = options.reference === undefined ? -1 : row(options.reference)
  if (referenceRow >= 0) grid[referenceRow].fill('.')
  for (const s of series) {
    const mark = s.name.charAt(0).toUpperCase()
    // Fill every column between consecutive points so a curve reads as a line, not dots.
    for (let i = 0; i < s.points.length; i++) {
      const [x1, y1] = s.points[i]
      if (!Number.isFinite(y1)) continue
      const [x0, y0] = i > 0 ? s.points[i - 1] : s.points[i]
      const c0 = col(x0)
      const c1 = col(x1)
      for (let c = c0; c <= c1; c++) {
        const t = c1 === c0 ? 1 : (c - c0) / (c1 - c0)
        grid[row(y0 + t * (y1 - y0))][c] = mark
      }
    }
  }
  const labels = Array.from({ length: height }, (_, r) =>
    r === 0 ? yMax : r === height - 1 ? yMin : r === referenceRow ? (options.reference as number) : null,
  )
  const labelWidth = Math.max(...labels.map((l) => (l === null ? 0 : l.toPrecision(3).length)))
  const lines = [title]
  grid.forEach((cells, r) => {
    const label = labels[r] === null ? '' : (labels[r] as number).toPrecision(3)
    lines.push(`${label.padStart(labelWidth)} |${cells.join('').trimEnd()}`)
  })
  lines.push(`${' '.repeat(labelWidth)} +${'-'.repeat(width)}`)
  const left = `${options.xLabel ?? 'step'} ${xMin}`
  const right = String(xMax)
  lines.push(`${' '.repeat(labelWidth + 2)}${left}${right.padStart(width - left.length)}`)
  const legend = series.map((s) => `${s.name.charAt(0).toUpperCase()} = ${s.name}`)
  if (referenceRow >= 0) legend.push('. = chance')
  lines.push(`${' '.repeat(labelWidth + 2)}${legend.join('   ')}`)
  return lines
}
