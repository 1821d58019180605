/**
 * The little plotting the demos need, as SVG path strings: linear and log scales, tick
 * values, and polylines. No chart library: each plot is a few `<path>`s.
 * @module
 */

/** Maps a data value to a pixel coordinate. */
export type Scale = (v: number) => number

/** A linear map from `domain` to `range`. */
export function linearScale([d0, d1]: readonly [number, number], [r0, r1]: readonly [number, number]): Scale {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0)
  return (v) => r0 + (v - d0) * k
}

/** A log10 map from `domain` (both > 0) to `range`; values <= 0 land below the range's start. */
export function logScale([d0, d1]: readonly [number, number], range: readonly [number, number]): Scale {
  const lin = linearScale([Math.log10(d0), Math.log10(d1)], range)
  return (v) => lin(Math.log10(Math.max(v, d0 * 1e-3)))
}

/** Powers of ten from below `min` to above `max`, at most about `count` of them. */
export function logTicks(min: number, max: number, count = 6): number[] {
  const lo = Math.floor(Math.log10(min))
  const hi = Math.ceil(Math.log10(max))
  const stride = Math.max(1, Math.ceil((hi - lo) / count))
  const ticks: number[] = []
  for (let e = lo; e <= hi; e += stride) ticks.push(10 ** e)
  return ticks
}

/** Round tick values (1, 2, 5 times a power of ten apart) covering [min, max]. */
export function linearTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min]
  const raw = (max - min) / count
  const mag = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag
  const ticks: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(+v.toPrecision(12))
  return ticks
}

/** Beyond this many pixels a point is off any plot: drawing it only strains the renderer. */
const FAR = 1e5

/** An SVG path through the points; non-finite and far-off points break the line. */
export function polyline(points: readonly (readonly [number, number])[], x: Scale, y: Scale): string {
  let d = ''
  let pen = false
  for (const [px, py] of points) {
    const sx = x(px)
    const sy = y(py)
    if (!(Math.abs(sx) < FAR) || !(Math.abs(sy) < FAR)) {
      pen = false
      continue
    }
    d += `${pen ? 'L' : 'M'}${sx.toFixed(1)},${sy.toFixed(1)}`
    pen = true
  }
  return d
}

/** Short tick labels: `1e-8`, `0.01`, `100`. */
export function formatTick(v: number): string {
  if (v === 0) return '0'
  const e = Math.log10(Math.abs(v))
  return Math.abs(e) >= 4 && Number.isInteger(Math.round(e * 1e9) / 1e9) ? `1e${Math.round(e)}` : String(+v.toPrecision(3))
}

/** One line of a {@link polyline} chart: its legend label, colour and (x, y) points. */
export interface Series {
  /** Legend text. */
  readonly label: string
  /** Any CSS colour. */
  readonly color: string
  /** The data. */
  readonly points: readonly (readonly [number, number])[]
  /** Dashed (for reference lines). */
  readonly dashed?: boolean
}
