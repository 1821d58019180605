/**
 * PyTorch-like printing of tensors.
 * @module
 */
import type { DType, TensorData } from './dtype.ts'

const EDGE = 3
const SUMMARIZE_ABOVE = 1000

function formatter(data: TensorData, dtype: DType): (v: number) => string {
  if (dtype === 'int32') return (v) => String(v)
  let maxAbs = 0
  let minAbs = Infinity
  let allInt = true
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
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
  const fmt = formatter(data, dtype)
  const summarize = data.length > SUMMARIZE_ABOVE
  const strides: number[] = []
  let s = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s
    s *= shape[i]
  }
  const cells: string[] = []
  for (let i = 0; i < data.length; i++) cells.push(fmt(data[i]))
  const width = Math.max(0, ...cells.map((c) => c.length))
  const pad = (c: string): string => c.padStart(width)
  const indent = 'tensor('.length
  const render = (dim: number, offset: number): string => {
    if (shape.length === 0) return cells[offset]
    const n = shape[dim]
    const idx: (number | null)[] = []
    if (summarize && n > 2 * EDGE) {
      for (let i = 0; i < EDGE; i++) idx.push(i)
      idx.push(null)
      for (let i = n - EDGE; i < n; i++) idx.push(i)
    } else for (let i = 0; i < n; i++) idx.push(i)
    if (dim === shape.length - 1) {
      return '[' + idx.map((i) => (i === null ? '...' : pad(cells[offset + i]))).join(', ') + ']'
    }
    const sep = ',' + '\n'.repeat(shape.length - dim - 1) + ' '.repeat(indent + dim + 1)
    return '[' + idx.map((i) => (i === null ? '...' : render(dim + 1, offset + i * strides[dim]))).join(sep) + ']'
  }
  const body = render(0, 0)
  const suffix = dtype === 'float32' ? '' : `, dtype=${dtype}`
  return `tensor(${body}${suffix})`
}
