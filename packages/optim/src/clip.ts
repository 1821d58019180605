/**
 * Gradient clipping, torch.nn.utils.clip_grad_norm_ and clip_grad_value_, as pure functions.
 * @module
 */
import { ArgumentError, Tensor, type TensorTree, flattenTree } from '@graphgrad/core'
import { clampKernel, maxAbs, scaleKernel, sumAbsPow } from './kernels.ts'

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite (torch's `error_if_nonfinite`). Default false. */
  readonly errorIfNonfinite?: boolean
}

/** What {@link clipGradNorm} returns. */
export interface ClipGradNormResult<T> {
  /** The scaled gradients, in the same structure as the input. */
  readonly grads: T
  /** The total norm of the gradients before clipping (what torch's function returns). */
  readonly totalNorm: number
}

function floatData(t: Tensor, where: string): Float64Array {
  if (t.dtype === 'int32') throw new ArgumentError(`${where}: gradients must be float32 or float64, got an int32 tensor`)
  return t._data instanceof Float64Array ? t._data : new Float64Array(t._data)
}

function wrap(data: Float64Array, like: Tensor): Tensor {
  return new Tensor(like.dtype === 'float64' ? data : new Float32Array(data), like.shape)
}

/**
 * The `normType`-norm of several arrays together, as torch's `clip_grad_norm_` computes it:
 * for a finite q the q-norm of the per-array q-norms, for `Infinity` the largest |x| (NaN wins).
 * Shared with the `clipByGlobalNorm` transform (transforms.ts) so that both clip with the same bits.
 */
export function globalNorm(data: readonly Float64Array[], normType: number): number {
  if (normType === Infinity) {
    return data.reduce((m, d) => {
      const a = maxAbs(d)
      return a > m || a !== a ? a : m
    }, 0)
  }
  const q = normType
  const root = (s: number): number => (q === 2 ? Math.sqrt(s) : q === 1 ? s : s ** (1 / q))
  const norms = data.map((d) => root(sumAbsPow(d, q)))
  return root(sumAbsPow(Float64Array.from(norms), q))
}

/** torch's clipping factor `min(maxNorm / (totalNorm + 1e-6), 1)`. */
export function clipCoefficient(maxNorm: number, totalNorm: number): number {
  return Math.min(maxNorm / (totalNorm + 1e-6), 1)
}

/**
 * Scales gradients so that their total norm is at most `maxNorm`, as torch's
 * `clip_grad_norm_`: `totalNorm` is the `normType`-norm of all gradients together (for a
 * finite q, `(sum over tensors of ||g||_q^q)^(1/q)`; for `Infinity`, the largest |g|), and
 * every gradient is multiplied by `min(maxNorm / (totalNorm + 1e-6), 1)`.
 * `grads` is any tensor tree (a map of tensors, nested maps, arrays); the result has the
 * same structure and dtypes, and the input is not changed.
 * @param normType q > 0, or `Infinity`. Default 2.
 * @example const { grads: clipped, totalNorm } = clipGradNorm(grads, 1.0)
 */
export function clipGradNorm<T extends TensorTree>(grads: T, maxNorm: number, normType = 2, options: ClipGradNormOptions = {}): ClipGradNormResult<T> {
  const where = 'clipGradNorm'
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) throw new ArgumentError(`${where}: maxNorm must be a number >= 0, got ${String(maxNorm)}`)
  if (typeof normType !== 'number' || !(normType > 0))
    throw new ArgumentError(`${where}: normType must be a positive number or Infinity, got ${String(normType)}`)
  const flat = flattenTree(grads, where)
  const data = flat.leaves.map((t) => floatData(t, where))
  const totalNorm = globalNorm(data, normType)
  if (options.errorIfNonfinite === true && !Number.isFinite(totalNorm)) {
    throw new ArgumentError(
      `${where}: the total norm of order ${normType} of the gradients is ${totalNorm}, so they cannot be clipped (errorIfNonfinite is set)`,
    )
  }
  const coef = clipCoefficient(maxNorm, totalNorm)
  const clipped = flat.leaves.map((t, i) => {
    const out = new Float64Array(t.size)
    scaleKernel(data[i], coef, out)
    return wrap(out, t)
  })
  return { grads: flat.rebuild(clipped) as T, totalNorm }
}

/**
 * Clamps every gradient element to `[-clipValue, clipValue]`, as torch's `clip_grad_value_`;
 * returns the same structure and dtypes, leaving the input unchanged.
 */
export function clipGradValue<T extends TensorTree>(grads: T, clipValue: number): T {
  const where = 'clipGradValue'
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) throw new ArgumentError(`${where}: clipValue must be a number >= 0, got ${String(clipValue)}`)
  const flat = flattenTree(grads, where)
  const clipped = flat.leaves.map((t) => {
    const out = new Float64Array(t.size)
    clampKernel(floatData(t, where), -clipValue, clipValue, out)
    return wrap(out, t)
  })
  return flat.rebuild(clipped) as T
}
