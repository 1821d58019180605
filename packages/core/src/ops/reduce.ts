/**
 * Reductions over any set of axes, with keepdims. sum, prod, max and min are primitives;
 * mean, var, std, logsumexp and norm are compositions and get their gradients for free.
 * @module
 */
import { type TensorData, allocate, fitsInt32 } from '../dtype.ts'
import { makeOutput, stopGradient } from '../autodiff/recording.ts'
import { noGradient } from '../autodiff/no-gradient.ts'
import { argReduce, reduceInto, reduceRows, type ReduceOp } from '../kernels/reduce.ts'
import { ArgumentError, DTypeError, fmtShape } from '../errors.ts'
import { normAxes, normAxis, sizeOf, stridesOf } from '../shape.ts'
import { Tensor } from '../tensor.ts'
import { add, div, equal, mul, pow, sub, where } from './binary.ts'
import { broadcastTo } from './broadcast.ts'
import { permute, reshape } from './reshape.ts'
import { eye } from '../creation.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { type GradSpec, registerOps } from './registry.ts'
import { abs, exp, log, sqrt, square } from './unary.ts'
import { checkTensor } from './util.ts'

/** Axes to reduce over: one axis, a list, or undefined for all of them. */
export type Axes = number | readonly number[] | undefined

interface Plan {
  axes: number[]
  keptShape: number[]
  outShape: number[]
  count: number
}

function plan(op: string, x: Tensor, axis: Axes, keepdims: boolean): Plan {
  const axes = normAxes(op, axis, x.rank)
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
  const outShape = keepdims ? keptShape : x.shape.filter((_, i) => !axes.includes(i))
  let count = 1
  for (const a of axes) count *= x.shape[a]
  return { axes, keptShape, outShape, count }
}

/**
 * An int32 sum or product, computed in float64, back in int32: refused when it does not fit
 * (an int32 output would wrap it modulo 2^32; PyTorch sums int32 into int64 instead).
 */
function narrowToInt32(op: ReduceOp, wide: TensorData, shape: readonly number[]): Int32Array {
  for (let i = 0; i < wide.length; i++) {
    // Integers give NaN only as Infinity * 0: a product that overflowed float64, then met a zero.
    if (op === 'prod' && Number.isNaN(wide[i])) wide[i] = 0
    if (!fitsInt32(wide[i])) {
      throw new DTypeError(
        `${op}: the result ${wide[i]} of reducing the int32 tensor of shape ${fmtShape(shape)} does not fit int32; cast it to float64 first (astype)`,
      )
    }
  }
  return Int32Array.from(wide)
}

function reduce(op: ReduceOp, input: Tensor, axis: Axes, keepdims: boolean): Tensor {
  const x = checkTensor(input, op)
  const p = plan(op, x, axis, keepdims)
  if ((op === 'max' || op === 'min') && p.count === 0) {
    throw new ArgumentError(`${op}: cannot reduce an empty dimension of ${fmtShape(x.shape)} (no identity for ${op})`)
  }
  const wide = x.dtype === 'int32' && (op === 'sum' || op === 'prod')
  const out = allocate(wide ? 'float64' : x.dtype, sizeOf(p.outShape))
  const trailing = p.axes.every((a, i) => a === x.rank - p.axes.length + i)
  if (trailing && out.length > 0) {
    reduceRows(op, x._data, out.length, p.count, out)
  } else {
    const keptStrides = stridesOf(p.keptShape).map((s, i) => (p.axes.includes(i) ? 0 : s))
    reduceInto(op, x._data, x.shape, keptStrides, out)
  }
  const data = wide ? narrowToInt32(op, out, x.shape) : out
  const y: Tensor = makeOutput(
    op,
    [x],
    data,
    p.outShape,
    (g) => {
      const gk = reshape(g, p.keptShape)
      if (op === 'sum') return [broadcastTo(gk, x.shape)]
      const yk = reshape(y, p.keptShape)
      if (op === 'prod') return [mul(gk, prodGradient(x, yk, p.axes))]
      // max/min share the cotangent equally among tied extrema (PyTorch's amax/amin).
      const mask = equal(x, yk)
      return [div(mul(gk, mask), sum(mask, p.axes, true))]
    },
    { axes: p.axes, keepdims },
  )
  return y
}

/**
 * d prod(x) / d x_i: the product of the other elements of x_i's group, as an expression
 * that is exact for derivatives of every order.
 * - No zeros: prod / x_i.
 * - At most one zero per group: with Z the product of the group's zeros (the zero itself, or
 *   1) and P the product of its other elements, the derivative is P for the zero and
 *   Z * P / x_i for the rest: polynomials equal to the product of the others. O(n).
 * - Two or more zeros in a group (rare): the product of the others is taken directly, each
 *   group laid out as an n x n matrix with ones on the diagonal. O(n^2).
 */
function prodGradient(x: Tensor, y: Tensor, axes: number[]): Tensor {
  if (!x._data.includes(0)) return div(y, x)
  const isZero = equal(x, 0)
  const zerosPerGroup = sum(isZero, axes, true)
  if (max(zerosPerGroup).item() <= 1) {
    const safe = where(isZero, 1, x)
    const others = prod(safe, axes, true)
    const zeroPart = prod(where(isZero, x, 1), axes, true)
    return where(isZero, others, div(mul(zeroPart, others), safe))
  }
  const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i))
  const order = [...kept, ...axes]
  const moved = permute(x, order)
  const n = axes.reduce((acc, a) => acc * x.shape[a], 1)
  const rows = reshape(moved, [...kept.map((i) => x.shape[i]), 1, n])
  const others = prod(where(eye(n, n, { dtype: 'int32' }), 1, rows), -1)
  const inverse = order.map((_, i) => order.indexOf(i))
  return permute(reshape(others, moved.shape), inverse)
}

/** Sum over `axis` (all axes when omitted). */
export function sum(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  return reduce('sum', x, axis, keepdims)
}
/** Product over `axis`. Its gradient is exact also where inputs are zero (as PyTorch's). */
export function prod(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  return reduce('prod', x, axis, keepdims)
}
/** Largest value over `axis`; tied maxima share the gradient equally. */
export function max(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  return reduce('max', x, axis, keepdims)
}
/** Smallest value over `axis`; tied minima share the gradient equally. */
export function min(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  return reduce('min', x, axis, keepdims)
}

const argNoGrad = noGradient('returns integer indices')

function argExtreme(op: string, x: Tensor, axis: number | undefined, keepdims: boolean, sign: 1 | -1): Tensor {
  checkTensor(x, op)
  if (axis === undefined) {
    if (x.size === 0) throw new ArgumentError(`${op}: cannot take the ${op} of an empty tensor ${fmtShape(x.shape)}`)
    const out = new Int32Array(1)
    argReduce(x._data, 1, x.size, 1, sign, out)
    return makeOutput(op, [x], out, keepdims ? x.shape.map(() => 1) : [], argNoGrad, { axis: null, keepdims })
  }
  const a = normAxis(op, axis, x.rank)
  if (x.rank > 0 && x.shape[a] === 0) throw new ArgumentError(`${op}: cannot take the ${op} along axis ${a} of size 0 in ${fmtShape(x.shape)}`)
  const outer = sizeOf(x.shape.slice(0, a))
  const inner = sizeOf(x.shape.slice(a + 1))
  const out = new Int32Array(outer * inner)
  argReduce(x._data, outer, x.shape[a], inner, sign, out)
  const shape = keepdims ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a)
  return makeOutput(op, [x], out, shape, argNoGrad, { axis: a, keepdims })
}

/** Index (int32) of the largest value along `axis`, or in the flattened tensor. First wins ties. */
export function argmax(x: Tensor, axis?: number, keepdims = false): Tensor {
  return argExtreme('argmax', x, axis, keepdims, 1)
}
/** Index (int32) of the smallest value along `axis`, or in the flattened tensor. First wins ties. */
export function argmin(x: Tensor, axis?: number, keepdims = false): Tensor {
  return argExtreme('argmin', x, axis, keepdims, -1)
}

/** Mean over `axis`. */
export function mean(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  checkTensor(x, 'mean')
  if (x.dtype === 'int32') throw new DTypeError('mean: expected a float tensor, got int32 (cast with astype first)')
  const p = plan('mean', x, axis, keepdims)
  return div(sum(x, p.axes, keepdims), p.count)
}

/** Options of {@link variance} and {@link std}. */
export interface VarianceOptions {
  /** Subtracted from the count in the divisor: 1 (default) is the unbiased estimate, 0 the biased one. */
  correction?: number
  /** Keep reduced dimensions as size 1. */
  keepdims?: boolean
}

/** Throws a DTypeError naming `op` unless `x` is a float tensor (as PyTorch's var, std and norm). */
function requireFloat(op: string, x: Tensor): void {
  if (x.dtype === 'int32') throw new DTypeError(`${op}: expected a float tensor, got int32 of shape ${fmtShape(x.shape)} (cast with astype first)`)
}

/** The variance behind {@link variance} and {@link std}; `op` is the one the user called. */
function varianceOf(op: string, x: Tensor, axis: Axes, options: VarianceOptions): Tensor {
  checkTensor(x, op)
  requireFloat(op, x)
  const p = plan(op, x, axis, options.keepdims ?? false)
  const centered = sub(x, mean(x, p.axes, true))
  return div(sum(square(centered), p.axes, options.keepdims ?? false), Math.max(0, p.count - (options.correction ?? 1)))
}

/** Variance over `axis`, dividing by `n - correction` (default 1, as PyTorch's `unbiased=True`). */
export function variance(x: Tensor, axis?: Axes, options: VarianceOptions = {}): Tensor {
  return varianceOf('var', x, axis, options)
}

/**
 * Standard deviation over `axis`: the square root of {@link variance}. Where the variance is
 * 0 (a constant group) the gradient is 0, as PyTorch's, rather than the NaN of 0 times the
 * root's infinite slope.
 */
export function std(x: Tensor, axis?: Axes, options: VarianceOptions = {}): Tensor {
  const v = varianceOf('std', x, axis, options)
  // Masked on both sides of the root, so no infinite slope reaches the chain rule (at any order).
  const isZero = equal(v, 0)
  return where(isZero, 0, sqrt(where(isZero, 1, v)))
}

/**
 * `log(sum(exp(x)))` over `axis`, computed stably: the maximum is subtracted first
 * (as a constant, so the gradient is exactly the softmax).
 */
export function logsumexp(x: Tensor, axis?: Axes, keepdims = false): Tensor {
  checkTensor(x, 'logsumexp')
  const p = plan('logsumexp', x, axis, keepdims)
  // Over an empty axis there is no maximum to subtract: shift by 0 (a sum of nothing), and the
  // log of the empty sum gives -Infinity, as PyTorch's.
  const m = p.count === 0 ? sum(stopGradient(x), p.axes, true) : stopGradient(max(x, p.axes, true))
  // Rows that are all -Infinity (or hold Infinity) would give NaN from x - m; shift by 0 there.
  const shift = where(equal(abs(m), Infinity), 0, m)
  const lse = add(log(sum(exp(sub(x, shift)), p.axes, true)), shift)
  return keepdims ? lse : reshape(lse, p.outShape)
}

/**
 * The p-norm over `axis` (default 2; `Infinity` gives the largest absolute value), as
 * `torch.linalg.vector_norm`: of a float tensor; over an empty axis the norm is 0, except
 * for `-Infinity`, which has no value there and is refused.
 */
export function norm(x: Tensor, ord = 2, axis?: Axes, keepdims = false): Tensor {
  checkTensor(x, 'norm')
  requireFloat('norm', x)
  const axes = normAxes('norm', axis, x.rank)
  const empty = axes.some((a) => x.shape[a] === 0)
  if (ord === Infinity) return empty ? sum(abs(x), axes, keepdims) : max(abs(x), axes, keepdims)
  if (ord === -Infinity) {
    if (empty) throw new ArgumentError(`norm: the -Infinity norm of an empty dimension of ${fmtShape(x.shape)} has no value (its minimum has no identity)`)
    return min(abs(x), axes, keepdims)
  }
  if (ord === 1) return sum(abs(x), axes, keepdims)
  if (!(ord > 0) || !Number.isFinite(ord)) throw new ArgumentError(`norm: ord must be positive or +-Infinity, got ${ord}`)
  const total = ord === 2 ? sum(square(x), axes, keepdims) : sum(powAbs(x, ord), axes, keepdims)
  // The root's derivative is infinite at 0; PyTorch's gradient of the norm of a zero vector is 0.
  const isZero = equal(total, 0)
  const root = ord === 2 ? sqrt(where(isZero, 1, total)) : pow(where(isZero, 1, total), 1 / ord)
  return where(isZero, 0, root)
}

/**
 * `|x|^p`. For p < 1 its slope at 0 is infinite, and times abs's zero slope there it would give
 * NaN; PyTorch's norm takes the gradient of a zero entry as 0, so zeros are masked on both
 * sides of the power (the gradient through the mask is 0 at every order).
 */
function powAbs(x: Tensor, p: number): Tensor {
  if (p >= 1) return pow(abs(x), p)
  const isZero = equal(x, 0)
  return where(isZero, 0, pow(where(isZero, 1, abs(x)), p))
}

function reductionSpec(fn: (x: Tensor, axes: number[], keep: boolean) => Tensor, domain = {}, minDim = 1): GradSpec {
  return {
    sample: (s: CaseSampler) => {
      const x = s.values(s.shape({ minRank: 1, minDim }), domain)
      const axes = x.shape.map((_, i) => i).filter(() => s.coin())
      const keep = s.coin()
      const chosen = axes.length === 0 ? [s.int(0, x.rank - 1)] : axes
      return { inputs: [x], fn: (t: Tensor) => fn(t, chosen, keep), label: `${shapesLabel(x)} axes ${fmtShape(chosen)}${keep ? ' keepdims' : ''}` }
    },
  }
}

function extremumSpec(fn: (x: Tensor, axes: number[], keep: boolean) => Tensor): GradSpec {
  return {
    sample: (s: CaseSampler) => {
      const x = s.distinct(s.shape({ minRank: 1 }), 0.3, 0.1)
      const axes = x.shape.map((_, i) => i).filter(() => s.coin())
      const keep = s.coin()
      return { inputs: [x], fn: (t: Tensor) => fn(t, axes, keep), label: `${shapesLabel(x)} axes ${fmtShape(axes)}` }
    },
  }
}

registerOps('reduce', 'primitive', {
  sum: reductionSpec(sum),
  // Some cases hold zeros (one or several per group): the gradient must not divide by them.
  prod: {
    sample: (s: CaseSampler) => {
      const base = reductionSpec(prod, { min: 0.5, max: 1.5 }).sample(s)
      const data = Float64Array.from(base.inputs[0]._data, (v) => (s.coin(0.2) ? 0 : v))
      return { ...base, inputs: [new Tensor(data, base.inputs[0].shape)] }
    },
  },
  max: extremumSpec(max),
  min: extremumSpec(min),
  argmax: argNoGrad,
  argmin: argNoGrad,
})
registerOps('reduce', 'composite', {
  mean: reductionSpec(mean),
  var: reductionSpec((x, a, k) => variance(x, a, { keepdims: k, correction: 0 })),
  std: reductionSpec((x, a, k) => std(x, a, { keepdims: k }), {}, 2),
  logsumexp: reductionSpec(logsumexp),
  norm: reductionSpec((x, a, k) => norm(x, 2, a, k), { avoid: [0] }),
})
