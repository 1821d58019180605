/**
 * How each recorded graphgrad op becomes ONNX nodes (opset 17), and the ops refused by name.
 * Composite ops (softmax, mean, layerNorm's pieces) are recorded as the primitives they are
 * built from, so only primitives (and the fused recurrent scans, see `recurrent.ts`) need a row.
 * @module
 */
import type { Tensor } from '@graphgrad/core'
import type { OpAttribute, OpAttributes } from '@graphgrad/core/internal'
import { type Dim, type GraphBuilder, isDynamic, onnxType } from './builder.ts'
import { ONNX_TYPE } from './proto.ts'

/** One recorded op, as its mapping sees it. */
export interface OpCall {
  /** The graphgrad op name. */
  readonly op: string
  /** The ONNX value names of the node's tensor inputs, in order. */
  readonly inputs: readonly string[]
  /** Those inputs as graphgrad tensors (shapes, dtypes). */
  readonly inputTensors: readonly Tensor[]
  /** The op's results. */
  readonly outputs: readonly Tensor[]
  /** Its recorded attributes (empty when it records none). */
  readonly attributes: OpAttributes
  /** The same op's attributes and first input's shape in every trace (the first is this one): how they change with the dynamic axes. */
  readonly across: readonly { readonly attributes: OpAttributes; readonly inputShape: readonly number[] }[]
  /** The ONNX value of a tensor the op read through an attribute (an index, a condition). */
  value(t: Tensor): string
  /** A tensor's shape, with dynamic dimensions symbolic. */
  dims(t: Tensor): readonly Dim[]
  /** Whether `t` is a constant (no input or parameter reaches it) whose elements are all zero. */
  isZeroConstant(t: Tensor): boolean
}

/** A mapping: emits the op's nodes and returns one ONNX value name per result. */
export type OpMapping = (g: GraphBuilder, c: OpCall) => string[]

const INT64_MAX = Number.MAX_SAFE_INTEGER
const INT64_MIN = -Number.MAX_SAFE_INTEGER

function attr<T extends OpAttribute>(c: OpCall, name: string): T {
  const v = c.attributes[name]
  if (v === undefined) throw new Error(`${c.op}: the graph node has no '${name}' attribute (recorded by an older @graphgrad/core?)`)
  return v as T
}

const one =
  (opType: string): OpMapping =>
  (g, c) => [g.op(opType, c.inputs)]
const compare =
  (opType: string, negate = false): OpMapping =>
  (g, c) => {
    const b = g.op(opType, c.inputs)
    return [g.op('Cast', [negate ? g.op('Not', [b]) : b], { to: { int: ONNX_TYPE.INT32 } })]
  }
const dtypeOf = (c: OpCall): Tensor['dtype'] => c.outputs[0].dtype

/** `ReduceSum` takes its axes as an input in opset 13+, the other reductions as an attribute until opset 18. */
const reduction =
  (opType: string): OpMapping =>
  (g, c) => {
    const axes = attr<readonly number[]>(c, 'axes')
    const keepdims = attr<boolean>(c, 'keepdims') ? 1 : 0
    if (axes.length === 0) return [g.op('Identity', c.inputs)]
    if (opType === 'ReduceSum') return [g.op(opType, [c.inputs[0], g.int64s(axes)], { keepdims: { int: keepdims } })]
    return [g.op(opType, c.inputs, { axes: { ints: axes }, keepdims: { int: keepdims } })]
  }

const argReduction =
  (opType: string): OpMapping =>
  (g, c) => {
    const axis = attr<number | null>(c, 'axis')
    const keepdims = attr<boolean>(c, 'keepdims')
    let x = c.inputs[0]
    if (axis === null) x = g.op('Reshape', [x, g.int64s([-1])])
    let y = g.op(opType, [x], { axis: { int: axis ?? 0 }, keepdims: { int: keepdims && axis !== null ? 1 : 0 } })
    if (axis === null && keepdims) y = g.op('Reshape', [y, g.int64s(c.inputTensors[0].shape.map(() => 1))])
    return [g.op('Cast', [y], { to: { int: ONNX_TYPE.INT32 } })]
  }

/** The ONNX start/end of one axis of a slice across the traces: fixed, or counted from the axis' end when it moves with its size. */
function fitBound(values: readonly number[], sizes: readonly number[], op: string, what: string): number {
  if (values.every((v) => v === values[0])) return values[0]
  const fromEnd = values[0] - sizes[0]
  if (values.every((v, k) => v - sizes[k] === fromEnd)) return fromEnd === 0 ? INT64_MAX : fromEnd
  throw new Error(`${op}: the ${what} of a slice along a dynamic axis moves with it in a way ONNX's Slice cannot express`)
}

const sliceMapping: OpMapping = (g, c) => {
  const x = c.inputTensors[0]
  const dims = c.dims(x)
  const starts: number[] = []
  const ends: number[] = []
  const axes: number[] = []
  const steps: number[] = []
  const removed: number[] = []
  for (let axis = 0; axis < x.rank; axis++) {
    const per = c.across.map((t) => (t.attributes.ranges as readonly number[]).slice(3 * axis, 3 * axis + 3))
    const sizes = c.across.map((t) => t.inputShape[axis])
    const [start, step, count] = per[0]
    if (step === 0) removed.push(axis)
    const full = step === 1 && per.every(([s, , n], k) => s === 0 && n === sizes[k])
    if (full) continue
    const effStep = step === 0 ? 1 : step
    const end = (s: number, st: number, n: number): number => s + (st === 0 ? 1 : st) * n
    if (!isDynamic(dims[axis])) {
      const e = end(start, step, count)
      starts.push(start)
      ends.push(e < 0 ? INT64_MIN : e)
    } else {
      if (effStep < 0) throw new Error(`${c.op}: a negative step along the dynamic axis ${axis} is not exported`)
      starts.push(
        fitBound(
          per.map(([s]) => s),
          sizes,
          c.op,
          'start',
        ),
      )
      ends.push(
        fitBound(
          per.map(([s, st, n]) => end(s, st, n)),
          sizes,
          c.op,
          'end',
        ),
      )
    }
    axes.push(axis)
    steps.push(effStep)
  }
  let y = c.inputs[0]
  if (axes.length > 0) y = g.op('Slice', [y, g.int64s(starts), g.int64s(ends), g.int64s(axes), g.int64s(steps)])
  if (removed.length > 0) y = g.op('Squeeze', [y, g.int64s(removed)])
  if (axes.length === 0 && removed.length === 0) y = g.op('Identity', [y])
  return [y]
}

const reshapeMapping: OpMapping = (g, c) => {
  const from = c.inputTensors[0].shape
  const to = c.outputs[0].shape
  // Only size-1 axes inserted or removed: Squeeze/Unsqueeze, which hold for any size of the others.
  const a = from.filter((d) => d !== 1)
  const b = to.filter((d) => d !== 1)
  if (a.length === b.length && a.every((d, i) => d === b[i]) && from.length + to.length > 0) {
    let y = c.inputs[0]
    const ones = from.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)
    if (ones.length > 0) y = g.op('Squeeze', [y, g.int64s(ones)])
    const add = to.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0)
    if (add.length > 0) y = g.op('Unsqueeze', [y, g.int64s(add)])
    if (y === c.inputs[0]) y = g.op('Identity', [y])
    return [y]
  }
  return [g.op('Reshape', [c.inputs[0], g.shape(c.dims(c.outputs[0]), true)])]
}

const unaryParams = (c: OpCall): [number, number] => [attr<number>(c, 'p'), attr<number>(c, 'q')]

/** Mapped ops: graphgrad op name to its ONNX nodes. */
export const MAPPINGS: Readonly<Record<string, OpMapping>> = {
  input: one('Identity'),
  stopGradient: one('Identity'),
  add: one('Add'),
  sub: one('Sub'),
  mul: one('Mul'),
  div: one('Div'),
  pow: one('Pow'),
  maximum: one('Max'),
  minimum: one('Min'),
  equal: compare('Equal'),
  notEqual: compare('Equal', true),
  less: compare('Less'),
  lessEqual: compare('LessOrEqual'),
  greater: compare('Greater'),
  greaterEqual: compare('GreaterOrEqual'),
  where: (g, c) => [g.op('Where', [g.op('Cast', [c.value(attr<Tensor>(c, 'condition'))], { to: { int: ONNX_TYPE.BOOL } }), ...c.inputs])],
  neg: one('Neg'),
  abs: one('Abs'),
  sign: one('Sign'),
  exp: one('Exp'),
  log: one('Log'),
  log1p: (g, c) => [g.op('Log', [g.op('Add', [c.inputs[0], g.scalar(1, dtypeOf(c))])])],
  expm1: (g, c) => [g.op('Sub', [g.op('Exp', c.inputs), g.scalar(1, dtypeOf(c))])],
  sqrt: one('Sqrt'),
  rsqrt: (g, c) => [g.op('Reciprocal', [g.op('Sqrt', c.inputs)])],
  square: (g, c) => [g.op('Mul', [c.inputs[0], c.inputs[0]])],
  reciprocal: one('Reciprocal'),
  sin: one('Sin'),
  cos: one('Cos'),
  tanh: one('Tanh'),
  sigmoid: one('Sigmoid'),
  logSoftmax: (g, c) => [g.op('LogSoftmax', c.inputs, { axis: { int: attr<number>(c, 'axis') } })],
  relu: one('Relu'),
  erf: one('Erf'),
  leakyRelu: (g, c) => [g.op('LeakyRelu', c.inputs, { alpha: { float: unaryParams(c)[0] } })],
  softplus: (g, c) => {
    const [beta, threshold] = unaryParams(c)
    const dt = dtypeOf(c)
    const bx = g.op('Mul', [c.inputs[0], g.scalar(beta, dt)])
    const soft = g.op('Div', [g.op('Softplus', [bx]), g.scalar(beta, dt)])
    return [g.op('Where', [g.op('Greater', [bx, g.scalar(threshold, dt)]), c.inputs[0], soft])]
  },
  clamp: (g, c) => {
    const [lo, hi] = unaryParams(c)
    const dt = dtypeOf(c)
    // min(max(x, lo), hi), as graphgrad (lo > hi gives hi); infinite bounds are left out.
    let y = c.inputs[0]
    if (lo !== -Infinity) y = g.op('Max', [y, g.scalar(lo, dt)])
    if (hi !== Infinity) y = g.op('Min', [y, g.scalar(hi, dt)])
    return [y === c.inputs[0] ? g.op('Identity', [y]) : y]
  },
  astype: (g, c) => [g.op('Cast', c.inputs, { to: { int: onnxType(dtypeOf(c)) } })],
  reshape: reshapeMapping,
  permute: (g, c) => [g.op('Transpose', c.inputs, { perm: { ints: attr<readonly number[]>(c, 'perm') } })],
  broadcastTo: (g, c) => [g.op('Expand', [c.inputs[0], g.shape(c.dims(c.outputs[0]))])],
  sum: reduction('ReduceSum'),
  prod: reduction('ReduceProd'),
  max: reduction('ReduceMax'),
  min: reduction('ReduceMin'),
  argmax: argReduction('ArgMax'),
  argmin: argReduction('ArgMin'),
  slice: sliceMapping,
  select: sliceMapping,
  pad: (g, c) => {
    const widths = attr<readonly number[]>(c, 'widths')
    const rank = c.inputTensors[0].rank
    const begins = Array.from({ length: rank }, (_, i) => widths[2 * i] ?? 0)
    const ends = Array.from({ length: rank }, (_, i) => widths[2 * i + 1] ?? 0)
    return [g.op('Pad', [c.inputs[0], g.int64s([...begins, ...ends]), g.scalar(attr<number>(c, 'value'), dtypeOf(c))], { mode: { string: 'constant' } })]
  },
  concat: (g, c) => [g.op('Concat', c.inputs, { axis: { int: attr<number>(c, 'axis') } })],
  split: (g, c) => {
    const axis = attr<number>(c, 'axis')
    if (isDynamic(c.dims(c.inputTensors[0])[axis])) throw new Error('split: splitting along a dynamic axis is not exported')
    return g.node('Split', [c.inputs[0], g.int64s(c.outputs.map((o) => o.shape[axis]))], { axis: { int: axis } }, c.outputs.length)
  },
  gather: (g, c) => [g.op('GatherElements', [c.inputs[0], c.value(attr<Tensor>(c, 'index'))], { axis: { int: attr<number>(c, 'axis') } })],
  indexSelect: (g, c) => [g.op('Gather', [c.inputs[0], c.value(attr<Tensor>(c, 'index'))], { axis: { int: attr<number>(c, 'axis') } })],
  scatterAdd: (g, c) => {
    const index = attr<Tensor>(c, 'index')
    const src = c.inputTensors[1]
    // graphgrad lets src be larger than the index (its front corner is used); ONNX wants them alike.
    const same = src.shape.every((d, i) => d === index.shape[i])
    const part = same
      ? c.inputs[1]
      : g.op('Slice', [c.inputs[1], g.int64s(index.shape.map(() => 0)), g.int64s(index.shape), g.int64s(index.shape.map((_, i) => i))])
    return [g.op('ScatterElements', [c.inputs[0], c.value(index), part], { axis: { int: attr<number>(c, 'axis') }, reduction: { string: 'add' } })]
  },
  oneHot: (g, c) => {
    const depth = c.outputs[0].shape[c.outputs[0].rank - 1]
    const index = g.op('Cast', c.inputs, { to: { int: ONNX_TYPE.INT64 } })
    const values = g.op('Cast', [g.int64s([0, 1])], { to: { int: onnxType(dtypeOf(c)) } })
    return [g.op('OneHot', [index, g.int64s([depth]), values], { axis: { int: -1 } })]
  },
  matmul: one('MatMul'),
}

/**
 * ONNX ops that ONNX Runtime's CPU provider (1.30) has no float64 (double) kernel for, found by
 * running every mapped op's float64 export in onnxruntime-node: a float64 graph that needs one
 * is refused rather than written as a model ONNX Runtime cannot load or run.
 */
const NO_DOUBLE_KERNEL: ReadonlySet<string> = new Set(['Conv', 'AveragePool', 'Softplus', 'Erf', 'LSTM', 'GRU', 'RNN'])

/** Throws when the float64 op `c` was written with an ONNX op in {@link NO_DOUBLE_KERNEL}. */
export function refuseMissingDouble(c: OpCall, opTypes: readonly string[]): void {
  const double = [...c.inputTensors, ...c.outputs].some((t) => t.dtype === 'float64')
  const missing = opTypes.find((t) => NO_DOUBLE_KERNEL.has(t))
  if (double && missing !== undefined)
    throw new Error(
      `${c.op} is float64 here, and ONNX Runtime has no float64 kernel for ONNX's ${missing}; export a float32 model (astype(t, 'float32') on the parameters and inputs)`,
    )
}

/** Ops refused by name, with the reason the error gives. */
export const UNSUPPORTED: Readonly<Record<string, string>> = {
  indexAdd: "the embedding gradient (indexSelect's VJP): a backward op, not part of a forward model; ONNX has no index_add",
  conv2dInputGrad: 'a backward op of conv2d, not part of a forward model',
  conv2dWeightGrad: 'a backward op of conv2d, not part of a forward model',
  sliceScatter: 'a backward op of slice, not part of a forward model',
}
