/**
 * Elementwise kernels: unary maps, broadcasting binary maps, select, and strided copies.
 * Scalar expressions are JavaScript source over `x` (unary) or `a`, `b` (binary) and the
 * parameters `p`, `q`; see `specialize.ts` for why they are compiled per dtype.
 * @module
 */
import type { DType, TensorData } from '../dtype.ts'
import { compileKernel, dtypeKey } from './specialize.ts'

/**
 * Source of a loop over `shape` in row-major order that walks one pointer per operand.
 * Operand `k` has the pointer `p_k` and the strides array `s_k` (0 along broadcast
 * dimensions); `body` runs once per element with the output position in `o`.
 * The innermost dimension is a plain counted loop; the outer ones advance like an odometer.
 * @internal
 */
export function stridedLoop(operands: number, body: string, start = '0'): string {
  const ks = Array.from({ length: operands }, (_, k) => k)
  const list = (f: (k: number) => string, sep = ' '): string => ks.map(f).join(sep)
  return `
    const n = shape.reduce((x, y) => x * y, 1);
    if (n === 0) return;
    const rank = shape.length;
    if (rank === 0) { const o = 0; ${list((k) => `const p_${k} = ${k === 0 ? start : '0'};`)} ${body}; return; }
    const inner = shape[rank - 1];
    ${list((k) => `const i_${k} = s_${k}[rank - 1]; let q_${k} = ${k === 0 ? start : '0'};`)}
    const idx = new Int32Array(rank);
    let o = 0;
    for (let r = n / inner; r > 0; r--) {
      ${list((k) => `let p_${k} = q_${k};`)}
      for (let j = 0; j < inner; j++, o++) { ${body}; ${list((k) => `p_${k} += i_${k};`)} }
      for (let d = rank - 2; d >= 0; d--) {
        idx[d]++; ${list((k) => `q_${k} += s_${k}[d];`)}
        if (idx[d] < shape[d]) break;
        ${list((k) => `q_${k} -= s_${k}[d] * shape[d];`)} idx[d] = 0;
      }
    }`
}

type ScalarFn = (x: number) => number
type UnaryKernel = (x: TensorData, out: TensorData, n: number, p: number, q: number, f: ScalarFn) => void

const identity: ScalarFn = (x) => x

/**
 * Applies `expr` (over `x`, the parameters `p`, `q`, and an optional scalar function `f`)
 * to every element of `x` into `out`.
 */
export function unaryMap(expr: string, x: TensorData, out: TensorData, p = 0, q = 0, f: ScalarFn = identity): void {
  const kernel = compileKernel<UnaryKernel>(
    dtypeKey(expr, kindOf(x), kindOf(out)),
    ['x', 'out', 'n', 'p', 'q', 'f'],
    () => `for (let i = 0; i < n; i++) { const v = x[i]; out[i] = ${expr.replace(/\bx\b/g, 'v')}; }`,
  )
  kernel(x, out, x.length, p, q, f)
}

type BinaryKernel = (
  a: TensorData, b: TensorData, out: TensorData,
  shape: readonly number[], s_0: readonly number[], s_1: readonly number[],
) => void

/**
 * Applies `expr` (over `a` and `b`) to broadcast pairs. `sa`, `sb` are the operands'
 * strides over the output's shape, 0 along broadcast dimensions.
 */
export function binaryMap(
  expr: string, a: TensorData, sa: readonly number[], b: TensorData, sb: readonly number[],
  out: TensorData, shape: readonly number[],
): void {
  const kernel = compileKernel<BinaryKernel>(
    dtypeKey(expr, kindOf(a), kindOf(b), kindOf(out)),
    ['a', 'b', 'out', 'shape', 's_0', 's_1'],
    () => binarySource(expr.replace(/\ba\b/g, 'x').replace(/\bb\b/g, 'y')),
  )
  kernel(a, b, out, shape, sa, sb)
}

// Same-shape and scalar operands are the common cases: they get straight loops.
function binarySource(e: string): string {
  return `const m = out.length;
    if (a.length === m && b.length === m) { for (let i = 0; i < m; i++) { const x = a[i], y = b[i]; out[i] = ${e}; } return; }
    if (b.length === 1 && a.length === m) { const y = b[0]; for (let i = 0; i < m; i++) { const x = a[i]; out[i] = ${e}; } return; }
    if (a.length === 1 && b.length === m) { const x = a[0]; for (let i = 0; i < m; i++) { const y = b[i]; out[i] = ${e}; } return; }
    ${stridedLoop(2, `const x = a[p_0], y = b[p_1]; out[o] = ${e}`)}`
}

/** Three-operand select: `out = c != 0 ? a : b`, broadcasting all three. */
export function whereMap(
  c: TensorData, sc: readonly number[], a: TensorData, sa: readonly number[], b: TensorData, sb: readonly number[],
  out: TensorData, shape: readonly number[],
): void {
  type WhereKernel = (c: TensorData, a: TensorData, b: TensorData, out: TensorData, shape: readonly number[], s_0: readonly number[], s_1: readonly number[], s_2: readonly number[]) => void
  const kernel = compileKernel<WhereKernel>(
    dtypeKey('where', kindOf(c), kindOf(a), kindOf(b), kindOf(out)),
    ['c', 'a', 'b', 'out', 'shape', 's_0', 's_1', 's_2'],
    () => stridedLoop(3, 'out[o] = c[p_0] !== 0 ? a[p_1] : b[p_2]'),
  )
  kernel(c, a, b, out, shape, sc, sa, sb)
}

type StridedKernel = (src: TensorData, out: TensorData, start: number, s_0: readonly number[], shape: readonly number[]) => void

/** Copies a strided view (`offset`, `strides` over `shape`) of `src` into contiguous `out`. */
export function stridedCopy(src: TensorData, offset: number, strides: readonly number[], shape: readonly number[], out: TensorData): void {
  const kernel = compileKernel<StridedKernel>(
    dtypeKey('stridedCopy', kindOf(src), kindOf(out)),
    ['src', 'out', 'start', 's_0', 'shape'],
    () => stridedLoop(1, 'out[o] = src[p_0]', 'start'),
  )
  kernel(src, out, offset, strides, shape)
}

/** Adds contiguous `src` into a strided view of `out` (the transpose of {@link stridedCopy}). */
export function stridedAddInto(src: TensorData, out: TensorData, offset: number, strides: readonly number[], shape: readonly number[]): void {
  const kernel = compileKernel<StridedKernel>(
    dtypeKey('stridedAddInto', kindOf(src), kindOf(out)),
    ['src', 'out', 'start', 's_0', 'shape'],
    () => stridedLoop(1, 'out[p_0] += src[o]', 'start'),
  )
  kernel(src, out, offset, strides, shape)
}

/**
 * Writes contiguous `src` into a strided view of `out`, overwriting it (padding and
 * concatenation need assignment: adding into a pre-filled buffer would not be exact).
 */
export function stridedWriteInto(src: TensorData, out: TensorData, offset: number, strides: readonly number[], shape: readonly number[]): void {
  const kernel = compileKernel<StridedKernel>(
    dtypeKey('stridedWriteInto', kindOf(src), kindOf(out)),
    ['src', 'out', 'start', 's_0', 'shape'],
    () => stridedLoop(1, 'out[p_0] = src[o]', 'start'),
  )
  kernel(src, out, offset, strides, shape)
}

/** @internal The dtype of a typed array, for kernel cache keys. */
export function kindOf(x: TensorData): DType {
  return x instanceof Float64Array ? 'float64' : x instanceof Float32Array ? 'float32' : 'int32'
}
