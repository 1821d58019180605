/**
 * Elementwise kernels: unary maps, broadcasting binary maps, select, and strided copies.
 * Scalar expressions are JavaScript source over `x` (unary) or `a`, `b` (binary) and the
 * parameters `p`, `q`, kept in the ops' rule tables; each runs as a loop generated per
 * expression and dtype combination (see `specialize.ts`).
 * @module
 */
import type { DType, TensorData } from '../dtype.ts'
import { BINARY, BINARY_GENERIC, STRIDED, STRIDED_GENERIC, UNARY, UNARY_GENERIC, WHERE, WHERE_GENERIC } from './generated/elementwise.ts'
import type { ScalarFn } from './signatures.ts'
import { dtypeKey, genericKernel } from './specialize.ts'

const identity: ScalarFn = (x) => x

/**
 * Applies `expr` (over `x`, the parameters `p`, `q`, and an optional scalar function `f`)
 * to every element of `x` into `out`.
 */
export function unaryMap(expr: string, x: TensorData, out: TensorData, p = 0, q = 0, f: ScalarFn = identity): void {
  const kernel = UNARY.get(dtypeKey(expr, kindOf(x), kindOf(out))) ?? genericKernel(UNARY_GENERIC, 'unary', expr)
  kernel(x, out, x.length, p, q, f)
}

/**
 * Applies `expr` (over `a` and `b`) to broadcast pairs. `sa`, `sb` are the operands'
 * strides over the output's shape, 0 along broadcast dimensions.
 */
export function binaryMap(
  expr: string,
  a: TensorData,
  sa: readonly number[],
  b: TensorData,
  sb: readonly number[],
  out: TensorData,
  shape: readonly number[],
): void {
  const kernel = BINARY.get(dtypeKey(expr, kindOf(a), kindOf(b), kindOf(out))) ?? genericKernel(BINARY_GENERIC, 'binary', expr)
  kernel(a, b, out, shape, sa, sb)
}

/** Three-operand select: `out = c != 0 ? a : b`, broadcasting all three. */
export function whereMap(
  c: TensorData,
  sc: readonly number[],
  a: TensorData,
  sa: readonly number[],
  b: TensorData,
  sb: readonly number[],
  out: TensorData,
  shape: readonly number[],
): void {
  const kernel = WHERE.get(dtypeKey('where', kindOf(c), kindOf(a), kindOf(b), kindOf(out))) ?? genericKernel(WHERE_GENERIC, 'select', 'where')
  kernel(c, a, b, out, shape, sc, sa, sb)
}

/** The strided copies, and what each does per element (`o`: contiguous position, `p_0`: position in the view). */
export const STRIDED_BODIES = {
  stridedCopy: 'out[o] = src[p_0]',
  stridedAddInto: 'out[p_0] += src[o]',
  stridedWriteInto: 'out[p_0] = src[o]',
} as const

function strided(op: keyof typeof STRIDED_BODIES, src: TensorData, out: TensorData, start: number, strides: readonly number[], shape: readonly number[]): void {
  const kernel = STRIDED.get(dtypeKey(op, kindOf(src), kindOf(out))) ?? genericKernel(STRIDED_GENERIC, 'strided copy', op)
  kernel(src, out, start, strides, shape)
}

/** Copies a strided view (`offset`, `strides` over `shape`) of `src` into contiguous `out`. */
export function stridedCopy(src: TensorData, offset: number, strides: readonly number[], shape: readonly number[], out: TensorData): void {
  strided('stridedCopy', src, out, offset, strides, shape)
}

/** Adds contiguous `src` into a strided view of `out` (the transpose of {@link stridedCopy}). */
export function stridedAddInto(src: TensorData, out: TensorData, offset: number, strides: readonly number[], shape: readonly number[]): void {
  strided('stridedAddInto', src, out, offset, strides, shape)
}

/**
 * Writes contiguous `src` into a strided view of `out`, overwriting it (padding and
 * concatenation need assignment: adding into a pre-filled buffer would not be exact).
 */
export function stridedWriteInto(src: TensorData, out: TensorData, offset: number, strides: readonly number[], shape: readonly number[]): void {
  strided('stridedWriteInto', src, out, offset, strides, shape)
}

/** @internal The dtype of a typed array, for kernel lookup keys. */
export function kindOf(x: TensorData): DType {
  return x instanceof Float64Array ? 'float64' : x instanceof Float32Array ? 'float32' : 'int32'
}
