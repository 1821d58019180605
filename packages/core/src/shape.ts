/**
 * Shape arithmetic: sizes, strides, broadcasting, axis normalisation.
 * @module
 */
import { ArgumentError, ShapeError, fmtShape } from './errors.ts'

/** A tensor's shape. */
export type Shape = readonly number[]

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: Shape): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** Row-major strides, in elements. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length)
  let s = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s
    s *= shape[i]
  }
  return strides
}

/**
 * The most elements a tensor may have, and so the largest size of any one dimension (even
 * beside a zero). 2^31 - 1: every kernel indexes with 32-bit integers (the WASM ones must), and
 * a float64 tensor of this size is already 16 GiB. A larger shape is a mistake, refused by
 * name instead of failing as an engine `RangeError`, an abort or an out-of-memory kill.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1

/**
 * Throws unless every entry is a non-negative integer no larger than {@link MAX_ELEMENTS} and
 * the shape holds at most {@link MAX_ELEMENTS} elements; `where` names the op (or the file).
 */
export function checkShape(shape: readonly unknown[], where: string): number[] {
  if (!Array.isArray(shape)) throw new ArgumentError(`${where}: shape must be an array of sizes, got ${String(shape)}`)
  let size = 1
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw new ArgumentError(`${where}: shape ${fmtShape(shape as number[])} has an invalid size ${String(d)} (sizes are non-negative integers)`)
    }
    if (d > MAX_ELEMENTS)
      throw new ShapeError(`${where}: shape ${fmtShape(shape as number[])} has a dimension of ${d}, more than the ${MAX_ELEMENTS} elements a tensor may hold`)
    size *= d
  }
  if (size > MAX_ELEMENTS)
    throw new ShapeError(`${where}: shape ${fmtShape(shape as number[])} has ${size} elements, more than the ${MAX_ELEMENTS} a tensor may hold`)
  return shape as number[]
}

/** The NumPy broadcast of two shapes, or a ShapeError naming the op. */
export function broadcastShapes(op: string, a: Shape, b: Shape): Shape {
  // When one operand's shape is the result (equal shapes, a scalar or a bias row against a
  // matrix: most elementwise ops), give that shape back: it is already a tensor's frozen
  // shape, so the result tensor need not copy and freeze a new array.
  if (a === b || broadcastsInto(b, a)) return a
  if (broadcastsInto(a, b)) return b
  const n = Math.max(a.length, b.length)
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1
    const db = b[b.length - n + i] ?? 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: cannot broadcast ${fmtShape(a)} with ${fmtShape(b)}: dimension ${i - n} is ${da} vs ${db}`)
    }
    out[i] = da === 1 ? db : da
  }
  // Two small operands can broadcast to a huge result ([1e5,1] with [1,1e5]): refuse it here.
  // The message is built only then: formatting it on every op measured a few percent per op.
  if (sizeOf(out) > MAX_ELEMENTS) checkShape(out, `${op}: broadcasting ${fmtShape(a)} with ${fmtShape(b)}`)
  return out
}

/**
 * Normalises a possibly negative axis into [0, rank). A scalar (rank 0) accepts 0 and -1,
 * as PyTorch does, and both give 0.
 */
export function normAxis(op: string, axis: number, rank: number): number {
  const span = Math.max(rank, 1)
  if (!Number.isInteger(axis) || axis < -span || axis >= span) {
    throw new ArgumentError(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`)
  }
  return axis < 0 ? axis + span : axis
}

/** Normalises an axis list (undefined means all axes), sorted and without repeats. */
export function normAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i)
  const list = typeof axes === 'number' ? [axes] : axes
  const out = list.map((a) => normAxis(op, a, rank))
  if (new Set(out).size !== out.length) throw new ArgumentError(`${op}: axis ${JSON.stringify(list)} repeats an axis`)
  // A scalar has no axis to reduce: axis 0 (or -1) of a scalar reduces nothing, as in PyTorch.
  return rank === 0 ? [] : out.sort((x, y) => x - y)
}

/** True when broadcasting `small` against `big` gives `big` back unchanged. */
function broadcastsInto(small: Shape, big: Shape): boolean {
  const lead = big.length - small.length
  if (lead < 0) return false
  for (let i = 0; i < small.length; i++) {
    const d = small[i]
    if (d !== 1 && d !== big[lead + i]) return false
  }
  return true
}

/** True when two shapes are equal. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** @internal Strides of `shape` as seen from the broadcast `outShape` (0 along broadcast dims). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const strides = stridesOf(shape)
  const lead = outShape.length - shape.length
  return outShape.map((d, i) => (i < lead || (shape[i - lead] === 1 && d !== 1) ? 0 : strides[i - lead]))
}
