/**
 * The elementwise, reduction and `torch.nn.functional` entries of the op tables the evaluator
 * dispatches `torch.*` / `F.*` calls and Tensor methods through.
 */
import {
  Tensor, abs, add, argmax, argmin, clamp, cos, div, dot, equal, erf, exp, expm1, gelu, greater, greaterEqual, indexSelect,
  leakyRelu, less, lessEqual, log, log1p, logSoftmax, logsumexp, matmul, max, maximum, mean, min, minimum, mul, neg, norm,
  notEqual, onesLike, outer, pow, prod, reciprocal, relu, rsqrt, sigmoid, sign, sin, softmax, softplus, sqrt, square, std,
  stopGradient, sub, sum, tanh, transpose, variance, where, zerosLike,
} from '@graphgrad/core'
import { TorchExprError } from './parse.ts'
import type { Signature } from './values.ts'

const unaryOp = (f: (x: Tensor) => Tensor): Signature => ({ params: ['input'], run: (a) => f(a.tensor('input')) })
const binaryOp = (f: (x: Tensor | number, y: Tensor | number) => Tensor): Signature =>
  ({ params: ['input', 'other'], required: 2, run: (a) => f(a.tensorLike('input'), a.tensorLike('other')) })
const reduction = (f: (x: Tensor, axis: number | number[] | undefined, keepdims: boolean) => Tensor): Signature =>
  ({ params: ['input', 'dim', 'keepdim'], run: (a) => f(a.tensor('input'), a.dims(), a.bool('keepdim', false)) })

/** `var`/`std`: torch 1.13 takes `unbiased` (default True) or the keyword `correction`; `var(a, False)` is the unbiased overload. */
const spread = (f: typeof variance): Signature => ({
  params: ['input', 'dim', 'unbiased', 'keepdim', 'correction'],
  run: (a) => {
    const positionalBool = typeof a.raw('dim') === 'boolean'
    const unbiased = positionalBool ? a.bool('dim', true) : a.bool('unbiased', true)
    const correction = a.has('correction') ? a.num('correction') : unbiased ? 1 : 0
    return f(a.tensor('input'), positionalBool ? undefined : a.dims(), { correction, keepdims: a.bool('keepdim', false) })
  },
})

/** `torch.max(a)`, `torch.max(a, dim, keepdim)` (values and indices), `torch.max(a, b)` (elementwise). */
const extreme = (reduce: typeof max, arg: typeof argmax, pairwise: typeof maximum): Signature => ({
  params: ['input', 'dim', 'keepdim'],
  run: (a) => {
    const x = a.tensor('input')
    const d = a.raw('dim')
    if (d instanceof Tensor) return pairwise(x, d)
    if (!a.has('dim')) return reduce(x)
    const keep = a.bool('keepdim', false)
    return { values: reduce(x, a.int('dim'), keep), indices: arg(x, a.int('dim'), keep) }
  },
})

const softmaxLike = (f: (x: Tensor, axis: number) => Tensor): Signature => ({ params: ['input', 'dim'], required: 2, run: (a) => f(a.tensor('input'), a.int('dim')) })

const UNARY: Record<string, (x: Tensor) => Tensor> = {
  exp, log, sqrt, rsqrt, tanh, sigmoid, relu, abs, neg, negative: neg, sin, cos, square, reciprocal, log1p, expm1, erf, sign,
  detach: stopGradient, zeros_like: zerosLike, ones_like: onesLike,
}

/** Elementwise, linear-algebra and reduction `torch.*` functions (Tensor methods take the tensor as `input`). */
export const TORCH_MATH: Record<string, Signature> = {
  ...Object.fromEntries(Object.entries(UNARY).map(([k, f]) => [k, unaryOp(f)])),
  add: { params: ['input', 'other', 'alpha'], required: 2, run: (a) => add(a.tensorLike('input'), mul(a.tensorLike('other'), a.num('alpha', 1))) },
  sub: { params: ['input', 'other', 'alpha'], required: 2, run: (a) => sub(a.tensorLike('input'), mul(a.tensorLike('other'), a.num('alpha', 1))) },
  mul: binaryOp(mul), multiply: binaryOp(mul), div: binaryOp(div), divide: binaryOp(div), true_divide: binaryOp(div),
  maximum: binaryOp(maximum), minimum: binaryOp(minimum),
  pow: { params: ['input', 'exponent'], required: 2, run: (a) => pow(a.tensorLike('input'), a.tensorLike('exponent')) },
  eq: binaryOp(equal), ne: binaryOp(notEqual), lt: binaryOp(less), le: binaryOp(lessEqual), gt: binaryOp(greater), ge: binaryOp(greaterEqual),
  matmul: { params: ['input', 'other'], required: 2, run: (a) => matmul(a.tensor('input'), a.tensor('other')) },
  dot: { params: ['input', 'other'], required: 2, run: (a) => dot(a.tensor('input'), a.tensor('other')) },
  outer: { params: ['input', 'vec2'], required: 2, run: (a) => outer(a.tensor('input'), a.tensor('vec2')) },
  where: { params: ['condition', 'input', 'other'], required: 3, run: (a) => where(a.tensor('condition'), a.tensorLike('input'), a.tensorLike('other')) },
  clamp: { params: ['input', 'min', 'max'], run: (a) => clamp(a.tensor('input'), a.num('min', -Infinity), a.num('max', Infinity)) },
  sum: reduction(sum), mean: reduction(mean), amax: reduction(max), amin: reduction(min),
  prod: { params: ['input', 'dim', 'keepdim'], run: (a) => prod(a.tensor('input'), a.has('dim') ? a.int('dim') : undefined, a.bool('keepdim', false)) },
  logsumexp: { ...reduction(logsumexp), required: 2 },
  var: spread(variance), std: spread(std),
  max: extreme(max, argmax, maximum), min: extreme(min, argmin, minimum),
  argmax: { params: ['input', 'dim', 'keepdim'], run: (a) => argmax(a.tensor('input'), a.has('dim') ? a.int('dim') : undefined, a.bool('keepdim', false)) },
  argmin: { params: ['input', 'dim', 'keepdim'], run: (a) => argmin(a.tensor('input'), a.has('dim') ? a.int('dim') : undefined, a.bool('keepdim', false)) },
  norm: {
    params: ['input', 'p', 'dim', 'keepdim'],
    run: (a) => {
      const p = a.raw('p') === 'fro' ? 2 : a.num('p', 2)
      return norm(a.tensor('input'), p, a.dims(), a.bool('keepdim', false))
    },
  },
  softmax: softmaxLike(softmax), log_softmax: softmaxLike(logSoftmax),
}
TORCH_MATH.clip = TORCH_MATH.clamp
TORCH_MATH.mm = TORCH_MATH.matmul
TORCH_MATH.bmm = TORCH_MATH.matmul
TORCH_MATH.negative = TORCH_MATH.neg

/** An elementwise loss of `input - target`, reduced as PyTorch's `reduction` says (default mean). */
const loss = (f: (d: Tensor) => Tensor): Signature => ({
  params: ['input', 'target', 'reduction'], required: 2,
  run: (a) => {
    const e = f(sub(a.tensor('input'), a.tensor('target')))
    const reduction = a.str('reduction', 'mean')
    if (reduction === 'none') return e
    if (reduction === 'sum') return sum(e)
    if (reduction === 'mean') return mean(e)
    throw new TorchExprError(`${a.fn}: unknown reduction '${reduction}'`)
  },
})

/** `F = torch.nn.functional`. */
export const FUNCTIONAL: Record<string, Signature> = {
  relu: unaryOp(relu), sigmoid: unaryOp(sigmoid), tanh: unaryOp(tanh),
  silu: unaryOp((x) => mul(x, sigmoid(x))),
  gelu: {
    params: ['input', 'approximate'],
    run: (a) => {
      const approximate = a.str('approximate', 'none')
      if (approximate !== 'none' && approximate !== 'tanh') throw new TorchExprError(`F.gelu: unknown approximate '${approximate}'`)
      return gelu(a.tensor('input'), { approximate })
    },
  },
  softplus: { params: ['input', 'beta', 'threshold'], run: (a) => softplus(a.tensor('input'), { beta: a.num('beta', 1), threshold: a.num('threshold', 20) }) },
  leaky_relu: { params: ['input', 'negative_slope'], run: (a) => leakyRelu(a.tensor('input'), a.num('negative_slope', 0.01)) },
  softmax: softmaxLike(softmax), log_softmax: softmaxLike(logSoftmax),
  embedding: { params: ['input', 'weight'], required: 2, run: (a) => indexSelect(a.tensor('weight'), 0, a.tensor('input')) },
  linear: {
    params: ['input', 'weight', 'bias'], required: 2,
    run: (a) => {
      const y = matmul(a.tensor('input'), transpose(a.tensor('weight'), 0, 1))
      return a.has('bias') ? add(y, a.tensor('bias')) : y
    },
  },
  mse_loss: loss((d) => square(d)),
  l1_loss: loss((d) => abs(d)),
  layer_norm: {
    params: ['input', 'normalized_shape', 'weight', 'bias', 'eps'], required: 2,
    run: (a) => {
      const x = a.tensor('input')
      const k = a.ints('normalized_shape').length
      const axes = Array.from({ length: k }, (_, i) => x.rank - k + i)
      const centered = sub(x, mean(x, axes, true))
      let y = div(centered, sqrt(add(variance(x, axes, { correction: 0, keepdims: true }), a.num('eps', 1e-5))))
      if (a.has('weight')) y = mul(y, a.tensor('weight'))
      return a.has('bias') ? add(y, a.tensor('bias')) : y
    },
  },
}
