/**
 * Argument checks shared by the convolution and pooling ops: sizes given as one number or
 * one per spatial dimension, the input's rank (batched or not), float dtypes, and the
 * output size of a sliding window with PyTorch's rule.
 * @module
 */
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.ts'
import type { Tensor } from '../tensor.ts'
import { checkTensor } from './util.ts'

/** A size per spatial dimension: one number for all of them, or one each (`[h, w]` in 2-d). */
export type SizeArg<D extends 1 | 2> = number | (D extends 1 ? readonly [number] : readonly [number, number])

/**
 * `value` as one integer per spatial dimension (`dims` of them), each at least `min`; a number
 * stands for all. `undefined` gives `fallback`.
 */
export function sizesOf(op: string, name: string, value: unknown, dims: 1 | 2, min: number, fallback?: readonly number[]): number[] {
  if (value === undefined && fallback !== undefined) return fallback.slice()
  const kind = min > 0 ? 'positive' : 'non-negative'
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min
  if (ok(value)) return new Array<number>(dims).fill(value)
  if (Array.isArray(value) && value.length === dims && value.every(ok)) return (value as number[]).slice()
  const form = dims === 1 ? `a ${kind} integer` : `a ${kind} integer or a pair of them`
  throw new ArgumentError(`${op}: ${name} must be ${form}, got ${JSON.stringify(value) ?? String(value)}`)
}

/**
 * The input as a batched tensor with `dims` spatial dimensions: `[N, C, ...spatial]`. An
 * unbatched input (`[C, ...spatial]`, as PyTorch accepts) comes back with a batch of 1 and
 * `batched` false. Refuses other ranks and int32, naming the op and the shape.
 */
export function batchedInput(op: string, x: unknown, dims: 1 | 2): { x: Tensor; batched: boolean } {
  const t = checkTensor(x, op)
  const layout = dims === 1 ? ['C, L', 'N, C, L'] : ['C, H, W', 'N, C, H, W']
  if (t.rank !== dims + 1 && t.rank !== dims + 2) {
    throw new ShapeError(
      `${op}: expected a ${dims + 1}-d (unbatched [${layout[0]}]) or ${dims + 2}-d (batched [${layout[1]}]) input, got shape ${fmtShape(t.shape)}`,
    )
  }
  requireFloat(op, 'input', t)
  return t.rank === dims + 2 ? { x: t, batched: true } : { x: t, batched: false }
}

/** Throws a DTypeError unless `t` is float32 or float64. */
export function requireFloat(op: string, what: string, t: Tensor): void {
  if (t.dtype === 'int32') throw new DTypeError(`${op}: expects float tensors, got an int32 ${what} of shape ${fmtShape(t.shape)} (cast it with astype first)`)
}

/**
 * Positions a window of `span` elements (the dilated kernel) takes over `size` elements
 * padded by `before` + `after`, moving by `stride`: PyTorch's floor rule, or with `ceil` its
 * ceil_mode rule (an extra, partial window at the end, as long as it starts inside the input
 * or the padding before it). Can be 0 or negative: the caller refuses that.
 */
export function windowCount(size: number, before: number, after: number, span: number, stride: number, ceil = false): number {
  const room = size + before + after - span
  if (!ceil) return Math.floor(room / stride) + 1
  let out = Math.floor((room + stride - 1) / stride) + 1
  if ((out - 1) * stride >= size + before) out--
  return out
}

/** `2x3` for sizes per dimension, `3` for one. */
export function fmtSizes(sizes: readonly number[]): string {
  return sizes.join('x')
}
