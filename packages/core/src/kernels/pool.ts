/**
 * Pooling kernels over planes of `[H, W]` (a batch of channels is a stack of planes; a 1-d
 * pooling has H = 1). Every pooling here is separable: a window is the product of one range
 * per axis, so each axis is described once ({@link PoolAxis}) and the kernels loop over the
 * rectangles. The loops read and write Float64Array only (the ops convert other float data
 * with the built-in typed-array copies), so each sees one array class.
 * @module
 */

/** The windows of one axis: for output position `o`, input positions `lo[o], lo[o] + step, ... < hi[o]`. */
export interface PoolAxis {
  /** Input size along the axis. */
  readonly size: number
  /** First input position of each window inside the input (padding skipped). */
  readonly lo: Int32Array
  /** End (exclusive) of each window inside the input. */
  readonly hi: Int32Array
  /** Distance between taps (a max pool's dilation; 1 for the averages). */
  readonly step: number
  /** What an average divides by along this axis (the window's count, padding included or not). */
  readonly divisor: Int32Array
}

/** Output positions of an axis. */
function outputs(a: PoolAxis): number {
  return a.lo.length
}

/**
 * A sliding window's axis: window `o` starts at `o * stride - padBefore` and has `kernel`
 * taps `dilation` apart; `countPadding` makes an average divide by the taps inside the padded
 * input (PyTorch's `count_include_pad=True`; the padded input ends `padAfter` past the last
 * element) rather than by the taps inside the input.
 */
export function slidingAxis(
  size: number,
  count: number,
  kernel: number,
  stride: number,
  padBefore: number,
  padAfter: number,
  dilation: number,
  countPadding: boolean,
): PoolAxis {
  const lo = new Int32Array(count)
  const hi = new Int32Array(count)
  const divisor = new Int32Array(count)
  for (let o = 0; o < count; o++) {
    const start = o * stride - padBefore
    let first = start
    while (first < 0) first += dilation
    const end = Math.min(start + dilation * (kernel - 1) + 1, size)
    lo[o] = first
    hi[o] = Math.max(first, end)
    const inside = first < end ? Math.floor((end - 1 - first) / dilation) + 1 : 0
    divisor[o] = countPadding ? Math.min(start + kernel, size + padAfter) - start : inside
  }
  return { size, lo, hi, step: dilation, divisor }
}

/** An adaptive axis, as PyTorch's: window `o` is `[floor(o size / count), ceil((o + 1) size / count))`. */
export function adaptiveAxis(size: number, count: number): PoolAxis {
  const lo = new Int32Array(count)
  const hi = new Int32Array(count)
  const divisor = new Int32Array(count)
  for (let o = 0; o < count; o++) {
    lo[o] = Math.floor((o * size) / count)
    hi[o] = Math.ceil(((o + 1) * size) / count)
    divisor[o] = hi[o] - lo[o]
  }
  return { size, lo, hi, step: 1, divisor }
}

/**
 * The position (inside its plane, `h * W + w`) of each window's maximum, as PyTorch's max
 * pooling picks it: the first maximum in row-major order, or the last NaN. Windows must not
 * be empty.
 */
export function maxPoolIndices(x: Float64Array, planes: number, rows: PoolAxis, cols: PoolAxis, out: Int32Array): void {
  const W = cols.size
  const plane = rows.size * W
  const oh = outputs(rows)
  const ow = outputs(cols)
  let o = 0
  for (let p = 0; p < planes; p++) {
    const base = p * plane
    for (let i = 0; i < oh; i++) {
      const h0 = rows.lo[i]
      const h1 = rows.hi[i]
      for (let j = 0; j < ow; j++) {
        const w0 = cols.lo[j]
        const w1 = cols.hi[j]
        let best = -Infinity
        let at = h0 * W + w0
        for (let h = h0; h < h1; h += rows.step) {
          for (let w = w0; w < w1; w += cols.step) {
            const v = x[base + h * W + w]
            if (v > best || v !== v) {
              best = v
              at = h * W + w
            }
          }
        }
        out[o++] = at
      }
    }
  }
}

/** `out[p, i, j]` = the sum of `x[p]` over window (i, j), divided by both axes' divisors. */
export function windowMean(x: Float64Array, planes: number, rows: PoolAxis, cols: PoolAxis, out: Float64Array): void {
  const W = cols.size
  const plane = rows.size * W
  const oh = outputs(rows)
  const ow = outputs(cols)
  let o = 0
  for (let p = 0; p < planes; p++) {
    const base = p * plane
    for (let i = 0; i < oh; i++) {
      const h0 = rows.lo[i]
      const h1 = rows.hi[i]
      for (let j = 0; j < ow; j++) {
        const w0 = cols.lo[j]
        const w1 = cols.hi[j]
        let sum = 0
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) sum += x[base + h * W + w]
        }
        out[o++] = sum / (rows.divisor[i] * cols.divisor[j])
      }
    }
  }
}

/** The transpose of {@link windowMean}: adds `g[p, i, j]` / divisors over window (i, j) of `dx[p]` (zeroed). */
export function windowMeanTranspose(g: Float64Array, planes: number, rows: PoolAxis, cols: PoolAxis, dx: Float64Array): void {
  const W = cols.size
  const plane = rows.size * W
  const oh = outputs(rows)
  const ow = outputs(cols)
  let o = 0
  for (let p = 0; p < planes; p++) {
    const base = p * plane
    for (let i = 0; i < oh; i++) {
      const h0 = rows.lo[i]
      const h1 = rows.hi[i]
      for (let j = 0; j < ow; j++) {
        const w0 = cols.lo[j]
        const w1 = cols.hi[j]
        const v = g[o++] / (rows.divisor[i] * cols.divisor[j])
        for (let h = h0; h < h1; h++) {
          for (let w = w0; w < w1; w++) dx[base + h * W + w] += v
        }
      }
    }
  }
}
