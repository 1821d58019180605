/**
 * PyTorch-like printing of tensors.
 * @module
 */
import type { DType, TensorData } from './dtype.ts'

/** Elements shown at each end of a summarised dimension (PyTorch's `edgeitems`). */
const EDGE = 3
/** Tensors with more elements than this are summarised (PyTorch's `threshold`). */
const SUMMARIZE_ABOVE = 1000

/** The indices of a dimension of size `n` that are printed, `null` standing for the `...`. */
function shownIndices(n: number, summarize: boolean): (number | null)[] {
  const idx: (number | null)[] = []
  if (summarize && n > 2 * EDGE) {
    for (let i = 0; i < EDGE; i++) idx.push(i)
    idx.push(null)
    for (let i = n - EDGE; i < n; i++) idx.push(i)
  } else for (let i = 0; i < n; i++) idx.push(i)
  return idx
}

/**
 * The flat positions of the elements that are printed. PyTorch chooses the number format and
 * the column width from these only (a hidden outlier does not switch the shown ones to
 * scientific notation), and collecting them first keeps the work proportional to the output.
 */
function shownPositions(shape: readonly number[], strides: readonly number[], summarize: boolean): number[] {
  const out: number[] = []
  const walk = (dim: number, offset: number): void => {
    if (dim === shape.length) {
      out.push(offset)
      return
    }
    for (const i of shownIndices(shape[dim], summarize)) if (i !== null) walk(dim + 1, offset + i * strides[dim])
  }
  walk(0, 0)
  return out
}

function formatter(data: TensorData, positions: readonly number[], dtype: DType): (v: number) => string {
  if (dtype === 'int32') return (v) => String(v)
  let maxAbs = 0
  let minAbs = Infinity
  let allInt = true
  for (const p of positions) {
    const v = data[p]
    if (!Number.isFinite(v)) continue
    const a = Math.abs(v)
    if (a > maxAbs) maxAbs = a
    if (a !== 0 && a < minAbs) minAbs = a
    if (!Number.isInteger(v)) allInt = false
  }
  const special = (v: number): string | null => (Number.isNaN(v) ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : null)
  if (allInt && maxAbs < 1e8) return (v) => special(v) ?? `${v}.`
  if (maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Infinity) || maxAbs / minAbs > 1e3 * 1e4) {
    return (v) => special(v) ?? v.toExponential(4).replace(/e([+-])(\d)$/, 'e$10$2')
  }
  return (v) => special(v) ?? v.toFixed(4)
}

/** Formats data of the given shape the way PyTorch prints a tensor. */
export function formatTensor(data: TensorData, shape: readonly number[], dtype: DType): string {
  const suffix = dtype === 'float32' ? '' : `, dtype=${dtype}`
  // No data to show: PyTorch prints `tensor([], size=(2, 0))`. Walking the dimensions instead
  // would loop over every one of them (a [1e8, 0] tensor took a minute and the whole heap).
  if (data.length === 0) return `tensor([]${shape.length === 1 ? '' : `, size=(${shape.join(', ')})`}${suffix})`
  const summarize = data.length > SUMMARIZE_ABOVE
  const strides: number[] = []
  let s = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s
    s *= shape[i]
  }
  const positions = shownPositions(shape, strides, summarize)
  const fmt = formatter(data, positions, dtype)
  const cells = new Map<number, string>()
  let width = 0
  for (const p of positions) {
    const c = fmt(data[p])
    cells.set(p, c)
    if (c.length > width) width = c.length
  }
  const cell = (p: number): string => (cells.get(p) ?? '').padStart(width)
  const indent = 'tensor('.length
  const render = (dim: number, offset: number): string => {
    if (shape.length === 0) return cell(offset)
    const idx = shownIndices(shape[dim], summarize)
    if (dim === shape.length - 1) {
      // PyTorch's ' ...' (with its space) in a row, a bare '...' for a row or block of rows.
      return '[' + idx.map((i) => (i === null ? ' ...' : cell(offset + i))).join(', ') + ']'
    }
    const sep = ',' + '\n'.repeat(shape.length - dim - 1) + ' '.repeat(indent + dim + 1)
    return '[' + idx.map((i) => (i === null ? '...' : render(dim + 1, offset + i * strides[dim]))).join(sep) + ']'
  }
  return `tensor(${render(0, 0)}${suffix})`
}
