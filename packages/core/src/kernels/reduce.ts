/**
 * Reduction kernels. Accumulation is always in float64 (a float32 sum of many terms drifts),
 * and the result is written in the output's dtype.
 * @module
 */
import type { TensorData } from '../dtype.ts'
import { kindOf } from './elementwise.ts'
import { REDUCE, REDUCE_GENERIC, REDUCE_ROWS, REDUCE_ROWS_GENERIC } from './generated/reduce.ts'
import { dtypeKey, genericKernel } from './specialize.ts'

/** The reductions with a kernel of their own. */
export type ReduceOp = 'sum' | 'prod' | 'max' | 'min'

/**
 * Each reduction's identity and its step, which folds `v` into the accumulator `ACC`
 * (the kernel generator inlines the steps into the loops of `generated/reduce.ts`).
 */
export const COMBINE: Record<ReduceOp, { init: number; step: string }> = {
  sum: { init: 0, step: 'ACC += v' },
  prod: { init: 1, step: 'ACC *= v' },
  // `v !== v` lets NaN win, and a NaN already stored is never replaced (v > NaN is false).
  max: { init: -Infinity, step: 'if (v > ACC || v !== v) ACC = v' },
  min: { init: Infinity, step: 'if (v < ACC || v !== v) ACC = v' },
}

/**
 * Reduces `x` (of `shape`) over the dimensions where `outStrides` is 0, writing into `out`
 * (row-major over the kept dimensions). `outStrides` are the output's strides laid over
 * the input's dimensions.
 */
export function reduceInto(op: ReduceOp, x: TensorData, shape: readonly number[], outStrides: readonly number[], out: TensorData): void {
  const acc = new Float64Array(out.length).fill(COMBINE[op].init)
  const kernel = REDUCE.get(dtypeKey(op, kindOf(x))) ?? genericKernel(REDUCE_GENERIC, 'reduction', op)
  kernel(x, acc, shape, outStrides)
  out.set(acc)
}

/**
 * Reduces each of `rows` contiguous runs of `len` elements of `x` into `out[row]`: the
 * common case of reducing trailing axes (softmax, logsumexp, losses, full reductions),
 * with the accumulator in a local instead of memory.
 */
export function reduceRows(op: ReduceOp, x: TensorData, rows: number, len: number, out: TensorData): void {
  const kernel = REDUCE_ROWS.get(dtypeKey(`rows:${op}`, kindOf(x), kindOf(out))) ?? genericKernel(REDUCE_ROWS_GENERIC, 'reduction', `rows:${op}`)
  kernel(x, out, rows, len)
}

/**
 * Index of the largest (`sign` = 1) or smallest (`sign` = -1) element along the middle
 * dimension of `x` viewed as [outer, n, inner]; the first one wins ties, NaN wins over numbers.
 */
export function argReduce(x: TensorData, outer: number, n: number, inner: number, sign: 1 | -1, out: Int32Array): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i
      let best = 0
      let bestV = x[base] * sign
      for (let k = 1; k < n && bestV === bestV; k++) {
        const v = x[base + k * inner] * sign
        if (v > bestV || v !== v) {
          best = k
          bestV = v
        }
      }
      out[o * inner + i] = best
    }
  }
}
