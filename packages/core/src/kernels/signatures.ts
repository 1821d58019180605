/**
 * The signatures of the generated kernels (see `specialize.ts`), shared by the generated
 * files and the dispatchers that pick a kernel.
 *
 * Each is declared as a method's type, `{ k(...): void }['k']`, so its parameters compare
 * bivariantly: a table of kernels can then hold the copies written for concrete array
 * classes (`(x: Float32Array, ...)`) next to the generic TensorData ones. The dispatchers
 * hand each copy exactly the classes its key names.
 * @module
 */
import type { TensorData } from '../dtype.ts'

type Strides = readonly number[]

/** @internal A scalar helper a unary expression calls as `f(x)`. */
export type ScalarFn = (x: number) => number

/** @internal `out[i] = expr(x[i])` for i < n, with the op's parameters `p`, `q` and helper `f`. */
export type UnaryKernel = { k(x: TensorData, out: TensorData, n: number, p: number, q: number, f: ScalarFn): void }['k']

/** @internal `out = expr(a, b)` over `shape`, with `s_0`, `s_1` the operands' broadcast strides. */
export type BinaryKernel = { k(a: TensorData, b: TensorData, out: TensorData, shape: Strides, s_0: Strides, s_1: Strides): void }['k']

/** @internal `out = c != 0 ? a : b` over `shape`, broadcasting all three. */
export type WhereKernel = {
  k(c: TensorData, a: TensorData, b: TensorData, out: TensorData, shape: Strides, s_0: Strides, s_1: Strides, s_2: Strides): void
}['k']

/** @internal A copy between a strided view (from `start`, strides `s_0` over `shape`) and a contiguous array. */
export type StridedKernel = { k(src: TensorData, out: TensorData, start: number, s_0: Strides, shape: Strides): void }['k']

/** @internal A reduction of `x` (of `shape`) into the float64 accumulators `acc` at the output strides `s_0`. */
export type ReduceKernel = { k(x: TensorData, acc: Float64Array, shape: Strides, s_0: Strides): void }['k']

/** @internal A reduction of each of `rows` contiguous runs of `len` elements of `x` into `out[row]`. */
export type RowsKernel = { k(x: TensorData, out: TensorData, rows: number, len: number): void }['k']

/** @internal A gather or scatter-add along one axis over the positions of the index (of `shape`). */
export type AxisKernel = {
  k(x: TensorData, index: Int32Array, out: TensorData, shape: Strides, s_0: Strides, s_1: Strides, axisStride: number): void
}['k']

/** @internal A row selection or accumulation along the middle axis of an [outer, n, inner] view. */
export type RowKernel = { k(x: TensorData, index: Int32Array, out: TensorData, outer: number, n: number, inner: number): void }['k']

/** @internal Writes 1 at `out[i * numClasses + index[i]]`. */
export type OneHotKernel = { k(index: Int32Array, numClasses: number, out: TensorData): void }['k']

/** @internal Copies `n` lines (rows of A or columns of B) by `kc` into `r`-wide interleaved slivers, zero-padded. */
export type PackKernel = {
  k(src: TensorData, off: number, lineStride: number, depthStride: number, n: number, kc: number, r: number, dst: Float64Array): void
}['k']

/** @internal The GEMM micro-kernel of one `mr` x `nr` register tile (see `matmul.ts`). */
export type MicroKernel = {
  k(
    kc: number,
    A: Float64Array,
    pa: number,
    B: Float64Array,
    pb: number,
    C: Float64Array,
    pc: number,
    ldc: number,
    mr: number,
    nr: number,
    first: boolean,
    tile: Float64Array,
  ): void
}['k']
