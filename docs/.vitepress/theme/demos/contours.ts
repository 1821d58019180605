/**
 * Contour lines by marching squares over a row-major grid: each cell contributes the
 * segment(s) where the level crosses its edges, interpolated linearly along the edge.
 * @module
 */

/** The contour of `values` (n x n, `values[j * n + i]`) at `level`, as an SVG path in pixels. */
export function contourPath(values: Float64Array, n: number, level: number, px: (i: number) => number, py: (j: number) => number): string {
  let d = ''
  const at = (i: number, j: number): number => values[j * n + i] - level
  // Where the level crosses the edge from corner a to corner b, in grid coordinates.
  const cross = (ia: number, ja: number, ib: number, jb: number): [number, number] | null => {
    const va = at(ia, ja)
    const vb = at(ib, jb)
    if (va < 0 === vb < 0) return null
    const t = va / (va - vb)
    return [ia + (ib - ia) * t, ja + (jb - ja) * t]
  }
  for (let j = 0; j + 1 < n; j++) {
    for (let i = 0; i + 1 < n; i++) {
      const hits = [cross(i, j, i + 1, j), cross(i + 1, j, i + 1, j + 1), cross(i + 1, j + 1, i, j + 1), cross(i, j + 1, i, j)].filter(
        (p): p is [number, number] => p !== null,
      )
      // 2 hits: one segment; 4 (a saddle): pair them around the cell, which is one of its two readings.
      for (let k = 0; k + 1 < hits.length; k += 2) {
        const [a, b] = [hits[k], hits[k + 1]]
        d += `M${px(a[0]).toFixed(1)},${py(a[1]).toFixed(1)}L${px(b[0]).toFixed(1)},${py(b[1]).toFixed(1)}`
      }
    }
  }
  return d
}

/** Geometric levels from `min` up to `max`, `ratio` apart. */
export function geometricLevels(min: number, max: number, ratio: number): number[] {
  const levels: number[] = []
  for (let v = min; v <= max; v *= ratio) levels.push(v)
  return levels
}
