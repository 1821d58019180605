/**
 * Elementwise binary ops with NumPy broadcasting, comparisons, and `where`.
 * Each VJP sums the cotangent back to its operand's shape, so broadcasting is differentiable.
 * The ops of higher families that the VJPs need (neg, log, sumToShape) come through
 * {@link late}, so this module imports none of them (no import cycle).
 * @module
 */
import { type DType, allocate, promote } from '../dtype.ts'
import { makeOutput } from '../autodiff/recording.ts'
import { noGradient } from '../autodiff/no-gradient.ts'
import { binaryMap, whereMap } from '../kernels/elementwise.ts'
import { type Shape, broadcastShapes, broadcastStrides, sizeOf } from '../shape.ts'
import { Tensor } from '../tensor.ts'
import { astype } from './cast.ts'
import { late } from '../late-ops.ts'
import { type GradSpec, registerOps } from './registry.ts'
import { type CaseSampler, type Domain, shapesLabel } from './sampler.ts'
import { type TensorLike, checkTensor, toTensor } from './util.ts'

type BinaryVjp = (g: Tensor, a: Tensor, b: Tensor, y: Tensor, needs: readonly boolean[]) => [Tensor | null, Tensor | null]

interface ArithRule {
  readonly expr: string
  readonly vjp: BinaryVjp
  /** Domains of a and b for the gradient check. */
  readonly check: readonly [Domain, Domain]
  /** int32 operands are computed in float32 (true division). */
  readonly floatOnly?: boolean
}

/** Half the cotangent goes to each side where `a == b`, as PyTorch does for maximum/minimum. */
function tieSplit(g: Tensor, aWins: Tensor, tie: Tensor): [Tensor, Tensor] {
  const wa = add(aWins, mul(tie, 0.5))
  return [mul(g, wa), mul(g, sub(1, wa))]
}

// The op names are the tables' keys (no separate name unions to keep in step with them).
const ARITH = {
  add: { expr: 'a + b', vjp: (g) => [g, g], check: [{}, {}] },
  sub: { expr: 'a - b', vjp: (g, _a, _b, _y, needs) => [g, needs[1] ? late.neg(g) : null], check: [{}, {}] },
  mul: { expr: 'a * b', vjp: (g, a, b, _y, needs) => [needs[0] ? mul(g, b) : null, needs[1] ? mul(g, a) : null], check: [{}, {}] },
  div: {
    expr: 'a / b',
    vjp: (g, _a, b, y, needs) => [needs[0] ? div(g, b) : null, needs[1] ? late.neg(div(mul(g, y), b)) : null],
    check: [{}, { min: 0.5, max: 2 }],
    floatOnly: true,
  },
  pow: {
    expr: 'Math.pow(a, b)',
    vjp: (g, a, b, y, needs) => [
      // b = 0 gives 0 (not 0 * a^-1, which is NaN at a = 0), as PyTorch.
      needs[0] ? mul(g, where(equal(b, 0), 0, mul(b, pow(a, sub(b, 1))))) : null,
      // d/db a^b = a^b log a; PyTorch takes it as 0 where a == 0 (and the power is 0 or 1 there).
      needs[1] ? mul(g, where(equal(a, 0), 0, mul(y, late.log(a)))) : null,
    ],
    check: [
      { min: 0.5, max: 2 },
      { min: -2, max: 2 },
    ],
    floatOnly: true,
  },
  maximum: {
    expr: 'a > b ? a : (a === a ? b : a)',
    vjp: (g, a, b) => tieSplit(g, greater(a, b), equal(a, b)),
    check: [{}, {}],
  },
  minimum: {
    expr: 'a < b ? a : (a === a ? b : a)',
    vjp: (g, a, b) => tieSplit(g, less(a, b), equal(a, b)),
    check: [{}, {}],
  },
} satisfies { readonly [name: string]: ArithRule }

type ArithName = keyof typeof ARITH

const COMPARE = {
  equal: 'a === b ? 1 : 0',
  notEqual: 'a !== b ? 1 : 0',
  less: 'a < b ? 1 : 0',
  lessEqual: 'a <= b ? 1 : 0',
  greater: 'a > b ? 1 : 0',
  greaterEqual: 'a >= b ? 1 : 0',
} satisfies { readonly [name: string]: string }

type CompareName = keyof typeof COMPARE

/**
 * @internal The binary ops' kernel expressions: what the kernel generator (`pnpm gen:kernels`)
 * emits a loop for, per expression and dtype (int32 operands only without `floatOnly`;
 * comparisons write int32).
 */
export const BINARY_KERNEL_RULES: {
  readonly arith: { readonly [K in ArithName]: Pick<ArithRule, 'expr' | 'floatOnly'> }
  readonly compare: { readonly [K in CompareName]: string }
} = { arith: ARITH, compare: COMPARE }

function operands(op: string, a: TensorLike, b: TensorLike, floatOnly: boolean): [Tensor, Tensor, DType] {
  const ta = toTensor(a, b, op, 'a')
  const tb = toTensor(b, ta, op, 'b')
  let dtype = promote(ta.dtype, tb.dtype)
  if (floatOnly && dtype === 'int32') dtype = 'float32'
  return [astype(ta, dtype), astype(tb, dtype), dtype]
}

function run(op: string, expr: string, a: Tensor, b: Tensor, outDType: DType): { data: ReturnType<typeof allocate>; shape: Shape } {
  const shape = broadcastShapes(op, a.shape, b.shape)
  const data = allocate(outDType, sizeOf(shape))
  binaryMap(expr, a._data, broadcastStrides(a.shape, shape), b._data, broadcastStrides(b.shape, shape), data, shape)
  return { data, shape }
}

function arith(name: ArithName, x: TensorLike, z: TensorLike): Tensor {
  const rule: ArithRule = ARITH[name]
  const [a, b, dtype] = operands(name, x, z, rule.floatOnly === true)
  const { data, shape } = run(name, rule.expr, a, b, dtype)
  const y: Tensor = makeOutput(name, [a, b], data, shape, (g, needs) => {
    const [ga, gb] = rule.vjp(g, a, b, y, needs)
    return [ga === null ? null : late.sumToShape(ga, a.shape), gb === null ? null : late.sumToShape(gb, b.shape)]
  })
  return y
}

const noGrad = noGradient('comparisons are piecewise constant')

function compare(name: CompareName, x: TensorLike, z: TensorLike): Tensor {
  const [a, b] = operands(name, x, z, false)
  const { data, shape } = run(name, COMPARE[name], a, b, 'int32')
  return makeOutput(name, [a, b], data, shape, noGrad)
}

/** `a + b`, broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return arith('add', a, b)
}
/** `a - b`, broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return arith('sub', a, b)
}
/** `a * b`, broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return arith('mul', a, b)
}
/** `a / b` (true division: int32 operands give float32), broadcasting. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return arith('div', a, b)
}
/** `a ** b`, broadcasting. The gradient with respect to b needs a > 0. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return arith('pow', a, b)
}
/** The larger of a and b elementwise (ties split the gradient in half; NaN propagates). */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return arith('maximum', a, b)
}
/** The smaller of a and b elementwise (ties split the gradient in half; NaN propagates). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return arith('minimum', a, b)
}

/** `a == b` as int32 0/1 (no gradient). */
export function equal(a: TensorLike, b: TensorLike): Tensor {
  return compare('equal', a, b)
}
/** `a != b` as int32 0/1 (no gradient). */
export function notEqual(a: TensorLike, b: TensorLike): Tensor {
  return compare('notEqual', a, b)
}
/** `a < b` as int32 0/1 (no gradient). */
export function less(a: TensorLike, b: TensorLike): Tensor {
  return compare('less', a, b)
}
/** `a <= b` as int32 0/1 (no gradient). */
export function lessEqual(a: TensorLike, b: TensorLike): Tensor {
  return compare('lessEqual', a, b)
}
/** `a > b` as int32 0/1 (no gradient). */
export function greater(a: TensorLike, b: TensorLike): Tensor {
  return compare('greater', a, b)
}
/** `a >= b` as int32 0/1 (no gradient). */
export function greaterEqual(a: TensorLike, b: TensorLike): Tensor {
  return compare('greaterEqual', a, b)
}

/** Picks `a` where `condition` is non-zero and `b` elsewhere, broadcasting all three. */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const c = checkTensor(condition, 'where', 'condition')
  const [ta, tb, dtype] = operands('where', a, b, false)
  const shape = broadcastShapes('where', broadcastShapes('where', c.shape, ta.shape), tb.shape)
  const data = allocate(dtype, sizeOf(shape))
  whereMap(c._data, broadcastStrides(c.shape, shape), ta._data, broadcastStrides(ta.shape, shape), tb._data, broadcastStrides(tb.shape, shape), data, shape)
  return makeOutput(
    'where',
    [ta, tb],
    data,
    shape,
    (g, needs) => [needs[0] ? late.sumToShape(where(c, g, 0), ta.shape) : null, needs[1] ? late.sumToShape(where(c, 0, g), tb.shape) : null],
    { condition: c },
  )
}

function arithSpec(name: ArithName): GradSpec {
  const rule: ArithRule = ARITH[name]
  const [da, db] = rule.check
  return {
    sample: (s: CaseSampler) => {
      const [sa, sb] = s.broadcastPair()
      const a = s.values(sa, da)
      // maximum/minimum: keep the operands apart so no tie sits inside a finite-difference step.
      const b = name === 'maximum' || name === 'minimum' ? apart(s, a, sb) : s.values(sb, db)
      return { inputs: [a, b], fn: (x: Tensor, z: Tensor) => arith(name, x, z), label: shapesLabel(a, b) }
    },
  }
}

/** Values of `shape` at least 0.05 away from every value of `a`, so broadcasting never pairs a tie. */
function apart(s: CaseSampler, a: Tensor, shape: number[]): Tensor {
  const taken = Array.from(a._data)
  const out = Float64Array.from({ length: shape.reduce((x, y) => x * y, 1) }, () => {
    let v = s.float(-2, 2)
    for (let tries = 0; tries < 100 && taken.some((u) => Math.abs(u - v) < 0.05); tries++) v = s.float(-2, 2)
    return v
  })
  return new Tensor(out, shape)
}

registerOps('binary', 'primitive', {
  add: arithSpec('add'),
  sub: arithSpec('sub'),
  mul: arithSpec('mul'),
  div: arithSpec('div'),
  pow: arithSpec('pow'),
  maximum: arithSpec('maximum'),
  minimum: arithSpec('minimum'),
  equal: noGrad,
  notEqual: noGrad,
  less: noGrad,
  lessEqual: noGrad,
  greater: noGrad,
  greaterEqual: noGrad,
  where: {
    sample: (s: CaseSampler) => {
      const [sa, sb] = s.broadcastPair()
      const a = s.values(sa)
      const b = s.values(sb)
      const c = s.indices(s.coin() ? sa : sb, 0, 2)
      return { inputs: [a, b], fn: (x: Tensor, z: Tensor) => where(c, x, z), label: shapesLabel(c, a, b) }
    },
  },
})
