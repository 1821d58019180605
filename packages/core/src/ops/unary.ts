/**
 * Elementwise unary ops: their kernel expression, VJP rule and gradient-check spec, one
 * table row each. VJP rules are written with ops, so they can be differentiated again.
 * @module
 */
import { allocate } from '../dtype.ts'
import { makeOutput } from '../autodiff/recording.ts'
import { type NoGradient, isNoGradient, noGradient } from '../autodiff/no-gradient.ts'
import { unaryMap } from '../kernels/elementwise.ts'
import { erf as erfScalar } from '../kernels/special.ts'
import type { Tensor } from '../tensor.ts'
import { add, div, greater, greaterEqual, lessEqual, mul, sub, where } from './binary.ts'
import { type GradSpec, registerOps } from './registry.ts'
import { type Domain, type CaseSampler, shapesLabel } from './sampler.ts'
import { checkTensor } from './util.ts'

interface UnaryRule {
  /** Kernel expression over `x` and the op's parameters `p`, `q` (and `f`, a scalar helper). */
  readonly expr: string
  /**
   * Cotangent of x, from the output's cotangent `g`, the input `x`, the output `y` and the
   * parameters; or {@link noGradient} with the reason (which is then also the registry spec).
   */
  readonly vjp: ((g: Tensor, x: Tensor, y: Tensor, p: number, q: number) => Tensor) | NoGradient
  /** Whether int32 inputs keep their dtype (otherwise they are computed in float32). */
  readonly keepsInt?: boolean
  /** The gradient-check domain (ops without a gradient have none). */
  readonly check?: Domain
  /** A scalar function the expression calls as `f(x)`. */
  readonly helper?: (x: number) => number
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI)

// The op names are the table's keys (no separate name union to keep in step with it).
const RULES = {
  neg: { expr: '-x', vjp: (g) => neg(g), keepsInt: true, check: {} },
  abs: { expr: 'Math.abs(x)', vjp: (g, x) => mul(g, sign(x)), keepsInt: true, check: { avoid: [0] } },
  sign: { expr: 'x > 0 ? 1 : x < 0 ? -1 : x', vjp: noGradient('piecewise constant: the gradient is zero almost everywhere'), keepsInt: true },
  exp: { expr: 'Math.exp(x)', vjp: (g, _x, y) => mul(g, y), check: {} },
  log: { expr: 'Math.log(x)', vjp: (g, x) => div(g, x), check: { min: 0.2, max: 3 } },
  log1p: { expr: 'Math.log1p(x)', vjp: (g, x) => div(g, add(x, 1)), check: { min: -0.8, max: 3 } },
  expm1: { expr: 'Math.expm1(x)', vjp: (g, _x, y) => mul(g, add(y, 1)), check: {} },
  sqrt: { expr: 'Math.sqrt(x)', vjp: (g, _x, y) => div(g, mul(y, 2)), check: { min: 0.2, max: 3 } },
  rsqrt: { expr: '1 / Math.sqrt(x)', vjp: (g, x, y) => mul(g, mul(div(y, x), -0.5)), check: { min: 0.2, max: 3 } },
  square: { expr: 'x * x', vjp: (g, x) => mul(g, mul(x, 2)), keepsInt: true, check: {} },
  reciprocal: { expr: '1 / x', vjp: (g, _x, y) => neg(mul(g, square(y))), check: { min: -3, max: 3, avoid: [0], margin: 0.3 } },
  sin: { expr: 'Math.sin(x)', vjp: (g, x) => mul(g, cos(x)), check: {} },
  cos: { expr: 'Math.cos(x)', vjp: (g, x) => neg(mul(g, sin(x))), check: {} },
  tanh: { expr: 'Math.tanh(x)', vjp: (g, _x, y) => mul(g, sub(1, square(y))), check: {} },
  // Written so exp never overflows: for x < 0 use e^x / (1 + e^x).
  sigmoid: { expr: 'x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))', vjp: (g, _x, y) => mul(g, mul(y, sub(1, y))), check: {} },
  relu: { expr: 'x > 0 ? x : (x === x ? 0 : x)', vjp: (g, x) => mul(g, greater(x, 0)), check: { avoid: [0] } },
  leakyRelu: { expr: 'x > 0 ? x : x * p', vjp: (g, x, _y, p) => where(greater(x, 0), g, mul(g, p)), check: { avoid: [0] } },
  // PyTorch's softplus: linear above the threshold, log(1 + e^(beta x)) / beta below it.
  softplus: {
    expr: 'x * p > q ? x : Math.log1p(Math.exp(p * x)) / p',
    vjp: (g, x, _y, p, q) => mul(g, where(greater(mul(x, p), q), 1, sigmoid(mul(x, p)))),
    check: { min: -4, max: 4 },
  },
  // min(max(x, lo), hi) as PyTorch (lo > hi gives hi); Math.max and Math.min pass NaN through.
  clamp: {
    expr: 'Math.min(Math.max(x, p), q)',
    vjp: (g, x, _y, p, q) => mul(g, mul(greaterEqual(x, p), lessEqual(x, q))),
    check: { min: -2, max: 2, avoid: [-1, 1] },
  },
  erf: { expr: 'f(x)', helper: erfScalar, vjp: (g, x) => mul(g, mul(exp(neg(square(x))), TWO_OVER_SQRT_PI)), check: {} },
} satisfies { readonly [name: string]: UnaryRule }

type UnaryName = keyof typeof RULES

/**
 * @internal Each unary op's kernel expression, and whether int32 inputs keep their dtype:
 * what the kernel generator (`pnpm gen:kernels`) emits a loop for, per expression and dtype.
 */
export const UNARY_KERNEL_RULES: { readonly [K in UnaryName]: Pick<UnaryRule, 'expr' | 'keepsInt'> } = RULES

function unary(name: UnaryName, input: Tensor, p = 0, q = 0): Tensor {
  const x = checkTensor(input, name)
  const rule: UnaryRule = RULES[name]
  const dtype = x.dtype === 'int32' && rule.keepsInt !== true ? 'float32' : x.dtype
  const out = allocate(dtype, x.size)
  unaryMap(rule.expr, x._data, out, p, q, rule.helper)
  const vjp = rule.vjp
  const attributes = name === 'leakyRelu' || name === 'softplus' || name === 'clamp' ? { p, q } : undefined
  const y: Tensor = makeOutput(name, [x], out, x.shape, isNoGradient(vjp) ? vjp : (g) => [vjp(g, x, y, p, q)], attributes)
  return y
}

/** `-x`. */
export function neg(x: Tensor): Tensor {
  return unary('neg', x)
}
/** `|x|`. */
export function abs(x: Tensor): Tensor {
  return unary('abs', x)
}
/** -1, 0 or 1 by the sign of x (NaN stays NaN). No gradient. */
export function sign(x: Tensor): Tensor {
  return unary('sign', x)
}
/** `e^x`. */
export function exp(x: Tensor): Tensor {
  return unary('exp', x)
}
/** Natural logarithm. */
export function log(x: Tensor): Tensor {
  return unary('log', x)
}
/** `log(1 + x)`, accurate for small x. */
export function log1p(x: Tensor): Tensor {
  return unary('log1p', x)
}
/** `e^x - 1`, accurate for small x. */
export function expm1(x: Tensor): Tensor {
  return unary('expm1', x)
}
/** Square root. */
export function sqrt(x: Tensor): Tensor {
  return unary('sqrt', x)
}
/** `1 / sqrt(x)`. */
export function rsqrt(x: Tensor): Tensor {
  return unary('rsqrt', x)
}
/** `x * x`. */
export function square(x: Tensor): Tensor {
  return unary('square', x)
}
/** `1 / x`. */
export function reciprocal(x: Tensor): Tensor {
  return unary('reciprocal', x)
}
/** Sine. */
export function sin(x: Tensor): Tensor {
  return unary('sin', x)
}
/** Cosine. */
export function cos(x: Tensor): Tensor {
  return unary('cos', x)
}
/** Hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return unary('tanh', x)
}
/** The logistic function `1 / (1 + e^-x)`, computed without overflow. */
export function sigmoid(x: Tensor): Tensor {
  return unary('sigmoid', x)
}
/** `max(x, 0)`. */
export function relu(x: Tensor): Tensor {
  return unary('relu', x)
}
/** `x` for x > 0, `negativeSlope * x` otherwise (PyTorch's default slope 0.01). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return unary('leakyRelu', x, negativeSlope)
}
/** The Gauss error function. */
export function erf(x: Tensor): Tensor {
  return unary('erf', x)
}

/** Options of {@link softplus}, as PyTorch's. */
export interface SoftplusOptions {
  /** Sharpness (default 1). */
  beta?: number
  /** Above `beta * x > threshold` the function is linear (default 20). */
  threshold?: number
}

/** `log(1 + e^(beta x)) / beta`, linear above the threshold (PyTorch's softplus). */
export function softplus(x: Tensor, options: SoftplusOptions = {}): Tensor {
  return unary('softplus', x, options.beta ?? 1, options.threshold ?? 20)
}

/** Limits values to `[min, max]`; either bound may be omitted. The gradient is zero outside. */
export function clamp(x: Tensor, min = -Infinity, max = Infinity): Tensor {
  return unary('clamp', x, min, max)
}

function specOf(name: UnaryName): GradSpec | NoGradient {
  const { vjp, check = {} }: UnaryRule = RULES[name]
  if (isNoGradient(vjp)) return vjp
  const fn = name === 'leakyRelu' ? (x: Tensor) => leakyRelu(x, 0.2) : name === 'clamp' ? (x: Tensor) => clamp(x, -1, 1) : (x: Tensor) => unary(name, x, 1, 20)
  return {
    sample: (s: CaseSampler) => {
      const x = s.values(s.shape(), check)
      return { inputs: [x], fn, label: shapesLabel(x) }
    },
  }
}

registerOps(
  'unary',
  'primitive',
  Object.fromEntries((Object.keys(RULES) as UnaryName[]).map((n) => [n, specOf(n)])) as Record<UnaryName, GradSpec | NoGradient>,
)
