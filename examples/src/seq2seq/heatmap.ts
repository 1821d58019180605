/**
 * The attention of one decoded example as an SVG heat map: a row per output character (the
 * end token included), a column per input token, each cell as dark as the weight the decoder
 * gave that input token when it wrote that character. Hand-written SVG, no dependencies.
 * @module
 */

/** What the heat map shows. */
export interface HeatMap {
  /** The title line (e.g. the input, the target and the output). */
  readonly title: string
  /** Column labels: the input tokens. */
  readonly columns: readonly string[]
  /** Row labels: the output characters. */
  readonly rows: readonly string[]
  /** `weights[row][column]`, each in [0, 1]. */
  readonly weights: readonly (readonly number[])[]
}

const CELL = 30
const LEFT = 56
const TOP = 110

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** White (0) to dark blue (1). */
function colour(w: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(w) ? w : 0))
  const mix = (from: number, to: number): number => Math.round(from + (to - from) * x)
  return `rgb(${mix(255, 8)},${mix(255, 48)},${mix(255, 107)})`
}

/** The heat map as an SVG document. */
export function heatMapSvg(map: HeatMap): string {
  const width = Math.max(LEFT + map.columns.length * CELL + 80, 12 + map.title.length * 7.5)
  const height = TOP + map.rows.length * CELL + 40
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="12" y="22" font-size="14" font-weight="bold">${escapeXml(map.title)}</text>`,
  ]
  map.columns.forEach((label, j) => {
    const x = LEFT + j * CELL + CELL / 2
    parts.push(`<text transform="translate(${x + 4},${TOP - 6}) rotate(-60)" font-size="12">${escapeXml(label)}</text>`)
  })
  map.rows.forEach((label, i) => {
    const y = TOP + i * CELL
    parts.push(`<text x="${LEFT - 8}" y="${y + CELL / 2 + 4}" text-anchor="end" font-size="13" font-family="monospace">${escapeXml(label)}</text>`)
    map.columns.forEach((column, j) => {
      const w = map.weights[i]?.[j] ?? 0
      const tip = `${label} / ${column}: ${w.toFixed(3)}`
      parts.push(
        `<rect x="${LEFT + j * CELL}" y="${y}" width="${CELL}" height="${CELL}" fill="${colour(w)}" stroke="#eee"><title>${escapeXml(tip)}</title></rect>`,
      )
    })
  })
  const bottom = TOP + map.rows.length * CELL
  parts.push(
    `<rect x="${LEFT}" y="${TOP}" width="${map.columns.length * CELL}" height="${map.rows.length * CELL}" fill="none" stroke="#999"/>`,
    `<text x="${LEFT}" y="${bottom + 24}" font-size="11" fill="#555">rows: output characters; columns: input tokens; darker: more attention (each row sums to 1)</text>`,
    '</svg>',
    '',
  )
  return parts.join('\n')
}
