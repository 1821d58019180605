/**
 * The log-softmax kernel: one pass per line along the axis for the maximum, one for the sum of
 * exponentials, one to write `x - logsumexp(x)`, in float64 whatever the storage. Written once,
 * generic over the float array classes; `pnpm gen:kernels` writes the per-class copies
 * (`generated/softmax.ts`) so that V8 sees one array class per loop.
 * @module
 */
import type { TensorData } from '../dtype.ts'
import { kindOf } from './elementwise.ts'
import { PER_CLASS } from './generated/softmax.ts'

/** The float arrays the kernel is specialised for. */
type Floats = Float32Array | Float64Array

/**
 * `out = x - logsumexp(x)` along the middle axis of `x` viewed as `[outer, n, inner]`. As the
 * composed form did (and PyTorch does): a line holding NaN is NaN; a line whose maximum is
 * infinite is shifted by 0 instead, so that all -Infinity gives NaN (log of an empty sum minus
 * itself) and +Infinity gives NaN there and -Infinity elsewhere. With `probs`, also writes
 * the softmax there (the exponentials it sums anyway, divided by their sum), for the backward.
 */
function logSoftmaxKernel<A extends Floats>(x: A, out: A, probs: A | null, outer: number, n: number, inner: number): void {
  const stride = inner
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i
      let m = -Infinity
      for (let k = 0, at = base; k < n; k++, at += stride) {
        const v = x[at]
        if (v > m || v !== v) m = v
      }
      const shift = m === Infinity || m === -Infinity ? 0 : m
      let s = 0
      if (probs === null) {
        for (let k = 0, at = base; k < n; k++, at += stride) s += Math.exp(x[at] - shift)
      } else {
        for (let k = 0, at = base; k < n; k++, at += stride) {
          const e = Math.exp(x[at] - shift)
          probs[at] = e
          s += e
        }
        const r = 1 / s
        for (let k = 0, at = base; k < n; k++, at += stride) probs[at] *= r
      }
      const lse = Math.log(s) + shift
      for (let k = 0, at = base; k < n; k++, at += stride) out[at] = x[at] - lse
    }
  }
}

/** Runs {@link logSoftmaxKernel}'s copy for `x`'s array class (`x`, `out` and `probs` share it; the generic copy for any other). */
export function logSoftmaxInto(x: TensorData, out: TensorData, probs: TensorData | null, outer: number, n: number, inner: number): void {
  const kind = kindOf(x)
  const copy = kind === 'float32' ? PER_CLASS.logSoftmaxKernel.float32 : kind === 'float64' ? PER_CLASS.logSoftmaxKernel.float64 : logSoftmaxKernel
  ;(copy as (x: TensorData, out: TensorData, probs: TensorData | null, outer: number, n: number, inner: number) => void)(x, out, probs, outer, n, inner)
}
