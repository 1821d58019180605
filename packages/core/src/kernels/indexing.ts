/**
 * Indexing kernels: gather / scatter-add along one axis (torch.gather, torch.scatter_add)
 * and row selection / row accumulation (index_select, index_add, the embedding lookup and
 * its gradient). Index arrays are int32 and already range-checked by the caller
 * ({@link firstOutOfRange}); a kernel never checks bounds in its hot loop.
 * Each kernel is generated per dtype (see `specialize.ts`) from the bodies below.
 * @module
 */
import type { TensorData } from '../dtype.ts'
import { kindOf } from './elementwise.ts'
import { AXIS, AXIS_GENERIC, ONE_HOT, ONE_HOT_GENERIC, ROW, ROW_GENERIC } from './generated/indexing.ts'
import { dtypeKey, genericKernel } from './specialize.ts'

/** Position of the first entry of `index` outside [0, n), or -1 when all are in range. */
export function firstOutOfRange(index: Int32Array, n: number): number {
  for (let i = 0; i < index.length; i++) {
    const k = index[i]
    if (k < 0 || k >= n) return i
  }
  return -1
}

/**
 * Both walk the index's shape in row-major order (`o` is the index position). Operand 0 is
 * the tensor indexed along the axis, with stride 0 on that axis (the index supplies it);
 * operand 1 is the other side (gather's output, scatter's src), possibly a larger tensor.
 */
export const AXIS_BODIES = {
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
  op: keyof typeof AXIS_BODIES,
  x: TensorData,
  index: Int32Array,
  out: TensorData,
  shape: readonly number[],
  baseStrides: readonly number[],
  posStrides: readonly number[],
  axisStride: number,
): void {
  const kernel = AXIS.get(dtypeKey(`axisIndex(${op})`, kindOf(x), kindOf(out))) ?? genericKernel(AXIS_GENERIC, 'indexing', `axisIndex(${op})`)
  kernel(x, index, out, shape, baseStrides, posStrides, axisStride)
}

/**
 * `x` viewed as [outer, n, inner] and the selection as [outer, m, inner]: whole rows of
 * `inner` elements move in the innermost loop (rows of D floats for an embedding).
 * `a` is the position of row `index[j]`, `b` that of row `j`.
 */
export const ROW_BODIES = {
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
  const kernel = ROW.get(dtypeKey(`rowIndex(${op})`, kindOf(x), kindOf(out))) ?? genericKernel(ROW_GENERIC, 'indexing', `rowIndex(${op})`)
  kernel(x, index, out, outer, n, inner)
}

/** Writes 1 at `out[i * numClasses + index[i]]` for every i (`out` starts zeroed). */
export function oneHotInto(index: Int32Array, numClasses: number, out: TensorData): void {
  const kernel = ONE_HOT.get(dtypeKey('oneHot', kindOf(out))) ?? genericKernel(ONE_HOT_GENERIC, 'indexing', 'oneHot')
  kernel(index, numClasses, out)
}
