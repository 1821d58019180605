/**
 * Indexing kernels: gather / scatter-add along one axis (torch.gather, torch.scatter_add)
 * and row selection / row accumulation (index_select, index_add, the embedding lookup and
 * its gradient). Index arrays are int32 and already range-checked by the caller
 * ({@link firstOutOfRange}); a kernel never checks bounds in its hot loop.
 * Copies are compiled per dtype (see `specialize.ts`).
 * @module
 */
import type { TensorData } from '../dtype.ts'
import { kindOf, stridedLoop } from './elementwise.ts'
import { compileKernel, dtypeKey } from './specialize.ts'

/** Position of the first entry of `index` outside [0, n), or -1 when all are in range. */
export function firstOutOfRange(index: Int32Array, n: number): number {
  for (let i = 0; i < index.length; i++) {
    const k = index[i]
    if (k < 0 || k >= n) return i
  }
  return -1
}

type AxisKernel = (
  x: TensorData, index: Int32Array, out: TensorData,
  shape: readonly number[], s_0: readonly number[], s_1: readonly number[], axisStride: number,
) => void

// Both walk the index's shape in row-major order (`o` is the index position). Operand 0 is
// the tensor indexed along the axis, with stride 0 on that axis (the index supplies it);
// operand 1 is the other side (gather's output, scatter's src), possibly a larger tensor.
const AXIS_BODIES = {
  gather: 'out[p_1] = x[p_0 + index[o] * axisStride]',
  scatterAdd: 'out[p_0 + index[o] * axisStride] += x[p_1]',
} as const

/**
 * Gathers or scatter-adds along one axis over the positions of `index` (of `shape`).
 * `gather`: `out[pos(o)] = x[base(o) + index[o] * axisStride]`;
 * `scatterAdd`: `out[base(o) + index[o] * axisStride] += x[pos(o)]` (repeats accumulate).
 * `baseStrides` are the indexed tensor's strides with 0 on the axis; `posStrides` the other
 * operand's strides, both laid over `shape`.
 */
export function axisIndex(
  op: keyof typeof AXIS_BODIES, x: TensorData, index: Int32Array, out: TensorData, shape: readonly number[],
  baseStrides: readonly number[], posStrides: readonly number[], axisStride: number,
): void {
  const kernel = compileKernel<AxisKernel>(
    dtypeKey(`axisIndex(${op})`, kindOf(x), kindOf(out)),
    ['x', 'index', 'out', 'shape', 's_0', 's_1', 'axisStride'],
    () => stridedLoop(2, AXIS_BODIES[op]),
  )
  kernel(x, index, out, shape, baseStrides, posStrides, axisStride)
}

type RowKernel = (x: TensorData, index: Int32Array, out: TensorData, outer: number, n: number, inner: number) => void

// `x` viewed as [outer, n, inner] and the selection as [outer, m, inner]: whole rows of
// `inner` elements move in the innermost loop (rows of D floats for an embedding).
const ROW_BODIES = {
  select: 'out[b + i] = x[a + i]',
  add: 'out[a + i] += x[b + i]',
} as const

/**
 * Row selection and accumulation along the middle axis of an [outer, n, inner] view.
 * `select`: `out[o, j, :] = x[o, index[j], :]` (out is [outer, m, inner]);
 * `add`: `out[o, index[j], :] += x[o, j, :]` (out is [outer, n, inner], x is [outer, m, inner];
 * repeated indices accumulate).
 */
export function rowIndex(op: keyof typeof ROW_BODIES, x: TensorData, index: Int32Array, out: TensorData, outer: number, n: number, inner: number): void {
  const kernel = compileKernel<RowKernel>(
    dtypeKey(`rowIndex(${op})`, kindOf(x), kindOf(out)),
    ['x', 'index', 'out', 'outer', 'n', 'inner'],
    () => `const m = index.length;
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < m; j++) {
        const a = (o * n + index[j]) * inner, b = (o * m + j) * inner;
        for (let i = 0; i < inner; i++) ${ROW_BODIES[op]};
      }
    }`,
  )
  kernel(x, index, out, outer, n, inner)
}

type OneHotKernel = (index: Int32Array, numClasses: number, out: TensorData) => void

/** Writes 1 at `out[i * numClasses + index[i]]` for every i (`out` starts zeroed). */
export function oneHotInto(index: Int32Array, numClasses: number, out: TensorData): void {
  const kernel = compileKernel<OneHotKernel>(
    dtypeKey('oneHot', kindOf(out)),
    ['index', 'numClasses', 'out'],
    () => 'for (let i = 0; i < index.length; i++) out[i * numClasses + index[i]] = 1;',
  )
  kernel(index, numClasses, out)
}
