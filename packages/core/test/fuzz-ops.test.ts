// Fuzz (issue 17): every op of the registry, every creation function and printing, on random
// shapes (zero, large beside a zero, past the element cap, invalid), random dtypes and values
// (NaN, +-Infinity, int32 extremes) and random arguments. Each case either throws a graphgrad
// error (never a TypeError or an engine RangeError) or returns a well-formed, correctly shaped
// result, finite where its inputs make that expected, within a time bound; nothing allocates
// past the cap. Seeded, so a failure reproduces; the report shows the shrunk case.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as core from '@graphgrad/core'
import { type DType, DTypeError, GraphgradError, type Tensor, hasGradient, registeredOps } from '@graphgrad/core'
import {
  type Case,
  type Draw,
  allTame,
  argDim,
  argShape,
  axesOf,
  axisOf,
  broadcast,
  coin,
  drawFrom,
  dtypeOf,
  elements,
  fate,
  indices,
  inputShape,
  int,
  partnerShape,
  pick,
  runCase,
  values,
} from './fuzz-helpers.ts'

// Fixed so CI is reproducible; FUZZ_SEED and FUZZ_RUNS explore further locally.
const SEED = Number(process.env.FUZZ_SEED ?? 1717)
const RUNS = Number(process.env.FUZZ_RUNS ?? 40)

type Op = (...args: never[]) => unknown
const ops = core as unknown as Record<string, Op>
/** Calls the core export `name` with loosely typed arguments (the fuzz passes bad ones on purpose). */
const call = (name: string, ...args: unknown[]): Tensor => (ops[name] as (...a: unknown[]) => Tensor)(...args)

const numberArg = (d: Draw): number => pick(d, [0, 1, -1, 0.5, 2, 20, NaN, Infinity, -Infinity, 3e9])

const UNARY = [
  'neg',
  'abs',
  'sign',
  'exp',
  'log',
  'log1p',
  'expm1',
  'sqrt',
  'rsqrt',
  'square',
  'reciprocal',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'relu',
  'leakyRelu',
  'softplus',
  'clamp',
  'erf',
]
/** Unary ops whose result is finite for any input in [-3, 3]. */
const UNARY_FINITE = new Set(['neg', 'abs', 'sign', 'exp', 'expm1', 'square', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'erf'])
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual']
const BINARY_FINITE = new Set(['add', 'sub', 'mul', 'maximum', 'minimum', 'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual'])

function unaryCase(name: string, d: Draw): Case {
  const x = values(d, inputShape(d))
  const params = name === 'leakyRelu' || name === 'clamp' ? [numberArg(d), numberArg(d)] : []
  const run =
    name === 'softplus' ? (t: Tensor) => call(name, t, { beta: pick(d, [1, 2, 0.5]), threshold: pick(d, [20, 1]) }) : (t: Tensor) => call(name, t, ...params)
  const tameParams = params.every(Number.isFinite)
  return {
    inputs: [x],
    run,
    shape: x.shape,
    finite: allTame(x) && tameParams && (UNARY_FINITE.has(name) || name === 'leakyRelu' || name === 'clamp' || name === 'softplus'),
    label: `params ${JSON.stringify(params)}`,
  }
}

function binaryCase(name: string, d: Draw): Case {
  const a = values(d, inputShape(d))
  const b = values(d, partnerShape(d, a.shape))
  const shape = broadcast(a.shape, b.shape)
  const expected = shape === null ? 'error' : undefined
  if (coin(d, 0.2)) {
    // A plain number for one side (including ones an int32 cannot hold).
    const n = numberArg(d)
    return { inputs: [a], run: (t: Tensor) => call(name, t, n), shape: a.shape, label: `with ${n}` }
  }
  return {
    inputs: [a, b],
    run: (s: Tensor, t: Tensor) => call(name, s, t),
    expect: expected,
    shape: shape ?? undefined,
    finite: allTame(a, b) && BINARY_FINITE.has(name),
    label: '',
  }
}

/** The shape a reduction over `axes` gives, or null when the axes are invalid. */
function reducedShape(shape: readonly number[], axes: number | number[] | undefined, keep: boolean): number[] | null {
  const rank = shape.length
  const list = axes === undefined ? shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : axes
  const span = Math.max(rank, 1)
  if (list.some((a) => !Number.isInteger(a) || a < -span || a >= span)) return null
  const norm = list.map((a) => (a < 0 ? a + span : a))
  if (new Set(norm).size !== norm.length) return null
  if (rank === 0) return []
  return keep ? shape.map((n, i) => (norm.includes(i) ? 1 : n)) : shape.filter((_, i) => !norm.includes(i))
}

/** Elements per group of a reduction over `axes` (valid ones). */
function groupSize(shape: readonly number[], axes: number | number[] | undefined): number {
  if (axes === undefined) return elements(shape)
  const list = typeof axes === 'number' ? [axes] : axes
  return shape.length === 0 ? 1 : list.reduce((acc, a) => acc * shape[a < 0 ? a + shape.length : a], 1)
}

/** Checks an int32 sum or product against float64: equal, or refused because it does not fit. */
const intReductionCheck =
  (name: string, x: Tensor, axes: number | number[] | undefined, keep: boolean) =>
  (out: Tensor | Tensor[] | GraphgradError): void => {
    // Only the int32 range is checked here; refused axes are the case's `expect`.
    if (x.dtype !== 'int32' || Array.isArray(out) || (out instanceof GraphgradError && !(out instanceof DTypeError))) return
    const wide = call(name, core.astype(x, 'float64'), axes, keep)
    const fits = Array.from(wide._data).every((v) => v >= -(2 ** 31) && v < 2 ** 31)
    if (out instanceof GraphgradError) expect(out instanceof DTypeError && !fits, `${name} refused ${out.message}`).toBe(true)
    else expect(Array.from(out._data)).toEqual(Array.from(wide._data, (v) => v + 0)) // + 0: an int has no -0
  }

/** Checks an int32 matrix product against float64, as {@link intReductionCheck}. */
const intProductCheck =
  (name: string, a: Tensor, b: Tensor) =>
  (out: Tensor | Tensor[] | GraphgradError): void => {
    if (a.dtype !== 'int32' || b.dtype !== 'int32' || Array.isArray(out) || (out instanceof GraphgradError && !(out instanceof DTypeError))) return
    const wide = call(name, core.astype(a, 'float64'), core.astype(b, 'float64'))
    const fits = Array.from(wide._data).every((v) => v >= -(2 ** 31) && v < 2 ** 31)
    if (out instanceof GraphgradError) expect(!fits, `${name} refused ${out.message}`).toBe(true)
    else expect(Array.from(out._data)).toEqual(Array.from(wide._data, (v) => v + 0))
  }

function reduceCase(name: string, d: Draw): Case {
  const x = values(d, inputShape(d, 0, 3))
  const axes = axesOf(d, x.rank)
  const keep = coin(d)
  const shape = reducedShape(x.shape, axes, keep)
  const n = shape === null ? 0 : groupSize(x.shape, axes)
  const label = `axes ${JSON.stringify(axes)} keepdims ${keep}`
  const floatOnly = ['mean', 'var', 'std', 'norm'].includes(name)
  const refused = shape === null || (floatOnly && x.dtype === 'int32') || ((name === 'max' || name === 'min') && n === 0 && x.rank > 0)
  if (name === 'var' || name === 'std') {
    const correction = pick(d, [0, 1, 2])
    const fn = name === 'var' ? core.variance : core.std
    return {
      inputs: [x],
      run: (t) => fn(t, axes, { correction, keepdims: keep }),
      expect: refused ? 'error' : undefined,
      shape: shape ?? undefined,
      finite: allTame(x) && n > correction,
      label: `${label} correction ${correction}`,
    }
  }
  if (name === 'norm') {
    const ord = pick(d, [2, 1, 0.5, 3, Infinity, -Infinity, 0, -1, NaN])
    const bad = !(ord > 0 || ord === -Infinity) || (ord === -Infinity && n === 0 && x.rank > 0)
    return {
      inputs: [x],
      run: (t) => core.norm(t, ord, axes, keep),
      expect: refused || bad ? 'error' : undefined,
      shape: shape ?? undefined,
      finite: allTame(x) && !bad,
      label: `${label} ord ${ord}`,
    }
  }
  const check = name === 'sum' || name === 'prod' ? intReductionCheck(name, x, axes, keep) : undefined
  const finite = allTame(x) && (name !== 'mean' || n > 0) && (name !== 'logsumexp' || n > 0)
  // An int32 sum or product may be refused (past int32): the check compares it with float64.
  const expected = refused ? 'error' : check !== undefined && x.dtype === 'int32' ? undefined : 'ok'
  return { inputs: [x], run: (t) => call(name, t, axes, keep), expect: expected, shape: shape ?? undefined, finite, check, label }
}

function argCase(name: string, d: Draw): Case {
  const x = values(d, inputShape(d))
  const axis = coin(d) ? undefined : axisOf(d, x.rank)
  return { inputs: [x], run: (t) => call(name, t, axis, coin(d)), label: `axis ${axis}` }
}

function alongAxisCase(name: string, d: Draw): Case {
  const x = values(d, inputShape(d))
  const axis = axisOf(d, x.rank)
  const run =
    name === 'gelu' || name === 'geluTanh'
      ? (t: Tensor) => core.gelu(t, { approximate: name === 'geluTanh' ? 'tanh' : 'none' })
      : (t: Tensor) => call(name, t, axis)
  const valid = Number.isInteger(axis) && axis >= -Math.max(x.rank, 1) && axis < Math.max(x.rank, 1)
  return { inputs: [x], run, shape: valid || name.startsWith('gelu') ? x.shape : undefined, finite: allTame(x), label: `axis ${axis}` }
}

/** Any index spec entry for an axis of size n: null, an index, or a range with odd bounds and steps. */
function sliceArg(d: Draw, n: number): core.SliceArg {
  const bound = (): number | null => (coin(d, 0.2) ? null : pick(d, [int(d, -n - 2, n + 2), 1e20, -1e20, 0.5]))
  switch (int(d, 0, 2)) {
    case 0:
      return null
    case 1:
      return pick(d, [int(d, -n - 1, n), 2 ** 53, 0.5])
    default:
      return { start: bound(), stop: bound(), step: pick(d, [1, 2, -1, -3, 0, 1e9, 0.5]) }
  }
}

/** Width pairs for pad: small, large, past the cap, or invalid. */
function padWidths(d: Draw, rank: number): [number, number][] {
  return Array.from({ length: int(d, 0, rank + 1) }, () => [coin(d, 0.7) ? int(d, 0, 2) : argDim(d), coin(d, 0.7) ? int(d, 0, 2) : argDim(d)])
}

function padCase(d: Draw): Case | null {
  const x = values(d, inputShape(d))
  const widths = padWidths(d, x.rank)
  const value = numberArg(d)
  const shape = x.shape.map((n, i) => n + (widths[i] === undefined ? 0 : widths[i][0] + widths[i][1]))
  const validWidths = widths.length <= x.rank && widths.every((w) => w.every((v) => Number.isInteger(v) && v >= 0))
  const f = validWidths ? fate(shape) : 'refused'
  if (f === 'huge') return null
  return {
    inputs: [x],
    run: (t) => core.pad(t, widths, value),
    expect: f === 'refused' ? 'error' : undefined,
    shape: f === 'ok' ? shape : undefined,
    label: `widths ${JSON.stringify(widths)} value ${value}`,
  }
}

function reshapeCase(d: Draw): Case | null {
  const x = values(d, inputShape(d))
  const target = coin(d) ? [...x.shape].reverse() : coin(d) ? [-1] : argShape(d)
  if (target.length > 0 && coin(d, 0.2)) target[int(d, 0, target.length - 1)] = -1
  return { inputs: [x], run: (t) => core.reshape(t, target), label: `to [${target.join(',')}]` }
}

function broadcastToCase(d: Draw): Case | null {
  const x = values(d, inputShape(d))
  const target = coin(d, 0.6) ? [...(coin(d) ? [argDim(d)] : []), ...x.shape.map((n) => (n === 1 && coin(d) ? argDim(d) : n))] : argShape(d)
  const f = fate(target)
  if (f === 'huge') return null
  return {
    inputs: [x],
    run: (t) => core.broadcastTo(t, target),
    expect: f === 'refused' ? 'error' : undefined,
    shape: f === 'ok' ? target : undefined,
    label: `to [${target.join(',')}]`,
  }
}

function listCase(name: 'concat' | 'stack', d: Draw): Case {
  const base = inputShape(d, name === 'concat' ? 1 : 0)
  const axis = axisOf(d, base.length + (name === 'stack' ? 1 : 0))
  const xs = Array.from({ length: int(d, 1, 3) }, () => {
    const shape = coin(d, 0.8) ? base.slice() : inputShape(d)
    if (name === 'concat' && shape.length > 0 && Number.isInteger(axis) && coin(d)) shape[((axis % shape.length) + shape.length) % shape.length] = int(d, 0, 3)
    return values(d, shape, coin(d, 0.8) ? 'float64' : dtypeOf(d))
  })
  return { inputs: xs, run: (...ts) => call(name, ts, axis), label: `axis ${axis}` }
}

function splitCase(d: Draw): Case | null {
  const x = values(d, inputShape(d))
  const sizes = coin(d) ? pick(d, [1, 2, 3, 0, -1, 0.5, 1e20]) : Array.from({ length: int(d, 0, 3) }, () => int(d, 0, 3))
  const axis = axisOf(d, x.rank)
  // Pieces of 1 along a large axis are a million tensors: legal, and too slow to check here.
  const along = x.shape[Number.isInteger(axis) ? (axis + x.rank) % Math.max(x.rank, 1) : 0] ?? 0
  if (typeof sizes === 'number' && sizes > 0 && along / sizes > 1000) return null
  return { inputs: [x], run: (t) => core.split(t, sizes, axis), label: `sizes ${JSON.stringify(sizes)} axis ${axis}` }
}

function indexingCase(name: string, d: Draw): Case {
  const x = values(d, inputShape(d, 1))
  const axis = axisOf(d, x.rank)
  const a = Number.isInteger(axis) ? ((axis % x.rank) + x.rank) % x.rank : 0
  const n = x.shape[a] ?? 1
  const shape = name === 'gather' || name === 'scatterAdd' ? x.shape.map((m, i) => (i === a ? int(d, 0, 3) : int(d, 0, Math.min(m, 4)))) : inputShape(d, 0, 2)
  const index = coin(d, 0.9) ? indices(d, shape, Math.max(n, 1)) : values(d, shape)
  if (name === 'gather' || name === 'indexSelect')
    return { inputs: [x], run: (t) => call(name, t, axis, index), label: `axis ${axis} index ${index.dtype}[${index.shape.join(',')}]` }
  const srcShape = name === 'scatterAdd' ? index.shape.slice() : [...x.shape.slice(0, a), ...index.shape, ...x.shape.slice(a + 1)]
  const src = values(d, coin(d, 0.9) ? srcShape : inputShape(d), coin(d, 0.8) ? x.dtype : dtypeOf(d))
  return { inputs: [x, src], run: (t, u) => call(name, t, axis, index, u), label: `axis ${axis} index ${index.dtype}[${index.shape.join(',')}]` }
}

function oneHotCase(d: Draw): Case | null {
  const classes = argDim(d)
  const shape = inputShape(d)
  const index = coin(d, 0.9) ? indices(d, shape, Number.isInteger(classes) && classes > 0 && classes < 2 ** 31 ? classes : 3) : values(d, shape)
  const out = [...shape, classes]
  const f = fate(out)
  if (f === 'huge') return null
  const dtype: DType = dtypeOf(d)
  return {
    inputs: [],
    run: () => core.oneHot(index, classes, { dtype }),
    expect: f === 'refused' ? 'error' : undefined,
    shape: f === 'ok' ? out : undefined,
    label: `index [${shape.join(',')}] classes ${classes}`,
  }
}

function matmulCase(name: string, d: Draw): Case {
  const dim = (): number => (coin(d, 0.1) ? pick(d, [2 ** 16, 2 ** 17]) : int(d, 0, 4))
  const [m, k, n] = [dim(), coin(d, 0.3) ? 0 : int(d, 0, 4), dim()]
  const batch = coin(d, 0.3) ? [int(d, 0, 3)] : []
  const shapeA = name === 'matmul' ? pick(d, [[k], [...batch, m, k], inputShape(d)]) : [k]
  const shapeB = name === 'matmul' ? pick(d, [[k], [k, n], [...batch, k, n], inputShape(d)]) : name === 'dot' ? pick(d, [[k], [n]]) : [n]
  // A large m or n is only drawn beside k = 0 with a batch of at most 3: its data is then empty.
  if (k !== 0) for (const s of [shapeA, shapeB]) for (let i = 0; i < s.length; i++) if (s[i] >= 2 ** 16) s[i] = 2
  const a = values(d, shapeA)
  const b = values(d, shapeB)
  return {
    inputs: [a, b],
    run: (s, t) => call(name, s, t),
    finite: allTame(a, b),
    check: name === 'outer' ? undefined : intProductCheck(name, a, b),
    label: '',
  }
}

/** A window option: small, zero, negative, fractional, or large enough that any output past it exceeds the cap. */
const windowArg = (d: Draw, dims: 1 | 2): unknown => {
  const one = (): number => pick(d, [1, 1, 2, 3, 0, -1, 1.5, 3e9])
  return dims === 2 && coin(d, 0.3) ? [one(), one()] : one()
}

/** An input for a 1-d or 2-d window op: [N, C, ...spatial] or unbatched, sizes small or 0, sometimes any shape. */
function windowInput(d: Draw, dims: 1 | 2, channels: number): Tensor {
  if (coin(d, 0.1)) return values(d, inputShape(d, 0, 4))
  const spatial = Array.from({ length: dims }, () => int(d, 0, 5))
  const lead = coin(d, 0.8) ? [int(d, 0, 2), channels] : [channels]
  return values(d, [...lead, ...spatial], coin(d, 0.8) ? 'float64' : dtypeOf(d))
}

function convCase(name: string, d: Draw): Case {
  const dims = name === 'conv1d' ? 1 : 2
  const groups = pick(d, [1, 1, 2, 0, 1.5])
  const g = Number.isInteger(groups) && groups > 0 ? groups : 1
  const [cg, og] = [int(d, 1, 2), int(d, 1, 2)]
  const x = windowInput(d, dims, cg * g)
  const w = values(
    d,
    coin(d, 0.9) ? [og * g, cg, ...Array.from({ length: dims }, () => int(d, 0, 3))] : inputShape(d, 0, 4),
    coin(d, 0.8) ? 'float64' : dtypeOf(d),
  )
  const padding = coin(d, 0.2) ? pick(d, ['same', 'valid', 'full']) : windowArg(d, dims)
  const options = { stride: windowArg(d, dims), padding, dilation: windowArg(d, dims), groups }
  const bias = coin(d) ? values(d, [coin(d, 0.9) ? og * g : int(d, 0, 3)], w.dtype) : null
  const inputs = bias === null ? [x, w] : [x, w, bias]
  return { inputs, run: (a, b, c) => call(name, a, b, c ?? null, options), finite: allTame(...inputs), label: JSON.stringify(options) }
}

function poolCase(name: string, d: Draw): Case {
  const dims = name.endsWith('1d') ? 1 : 2
  const x = windowInput(d, dims, int(d, 0, 2))
  if (name.startsWith('adaptive')) {
    // A size of 2^30 is tried beside an empty input only (elsewhere it is a legal, gigabyte-sized result).
    const one = (): number | null => pick(d, [1, 2, 3, 0, -1, 0.5, 3e9, ...(x.size === 0 ? [2 ** 30] : []), ...(dims === 2 ? [null] : [])])
    const size = dims === 2 && coin(d) ? [one(), one()] : one()
    return { inputs: [x], run: (t) => call(name, t, size), finite: allTame(x), label: `outputSize ${JSON.stringify(size)}` }
  }
  const options: Record<string, unknown> = {
    kernelSize: windowArg(d, dims),
    stride: coin(d) ? undefined : windowArg(d, dims),
    padding: coin(d) ? undefined : pick(d, [0, 1, -1, 3e9]),
    ceilMode: coin(d),
  }
  if (name.startsWith('max')) options.dilation = coin(d) ? undefined : windowArg(d, dims)
  else options.countIncludePad = coin(d)
  return { inputs: [x], run: (t) => call(name, t, options), finite: allTame(x), label: JSON.stringify(options) }
}

/** How each registered op is fuzzed (by registry name); null from a driver skips a case too large to try. */
const DRIVERS: Record<string, (d: Draw) => Case | null> = {
  ...Object.fromEntries(UNARY.map((n) => [n, (d: Draw) => unaryCase(n, d)])),
  ...Object.fromEntries(BINARY.map((n) => [n, (d: Draw) => binaryCase(n, d)])),
  ...Object.fromEntries(['sum', 'prod', 'max', 'min', 'mean', 'var', 'std', 'logsumexp', 'norm'].map((n) => [n, (d: Draw) => reduceCase(n, d)])),
  ...Object.fromEntries(['argmax', 'argmin'].map((n) => [n, (d: Draw) => argCase(n, d)])),
  ...Object.fromEntries(['gelu', 'geluTanh', 'softmax', 'logSoftmax'].map((n) => [n, (d: Draw) => alongAxisCase(n, d)])),
  ...Object.fromEntries(['gather', 'scatterAdd', 'indexSelect', 'indexAdd'].map((n) => [n, (d: Draw) => indexingCase(n, d)])),
  ...Object.fromEntries(['matmul', 'dot', 'outer'].map((n) => [n, (d: Draw) => matmulCase(n, d)])),
  ...Object.fromEntries(['conv1d', 'conv2d'].map((n) => [n, (d: Draw) => convCase(n, d)])),
  ...Object.fromEntries(
    ['maxPool1d', 'maxPool2d', 'avgPool1d', 'avgPool2d', 'adaptiveAvgPool1d', 'adaptiveAvgPool2d'].map((n) => [n, (d: Draw) => poolCase(n, d)]),
  ),
  where: (d) => {
    const c = values(d, inputShape(d), pick(d, ['int32', 'float32'] as const))
    const a = values(d, partnerShape(d, c.shape))
    const b = values(d, partnerShape(d, c.shape))
    const ab = broadcast(a.shape, b.shape)
    const shape = ab === null ? null : broadcast(c.shape, ab)
    return {
      inputs: [a, b],
      run: (s, t) => core.where(c, s, t),
      expect: shape === null ? 'error' : 'ok',
      shape: shape ?? undefined,
      label: `condition [${c.shape.join(',')}]`,
    }
  },
  astype: (d) => {
    const x = values(d, inputShape(d))
    const to = dtypeOf(d)
    const fits = Array.from(x._data).every((v) => Number.isFinite(v) && Math.abs(Math.trunc(v) + 0.5) < 2 ** 31)
    return {
      inputs: [x],
      run: (t) => core.astype(t, to),
      expect: to === 'int32' && x.dtype !== 'int32' && !fits ? 'error' : 'ok',
      shape: x.shape,
      label: `to ${to}`,
    }
  },
  reshape: reshapeCase,
  permute: (d) => {
    const x = values(d, inputShape(d))
    const dims = coin(d, 0.8) ? x.shape.map((_, i) => i).sort(() => d.next() - 0.5) : Array.from({ length: int(d, 0, 3) }, () => axisOf(d, x.rank))
    return { inputs: [x], run: (t) => core.permute(t, dims), label: `dims [${dims.join(',')}]` }
  },
  flatten: (d) => {
    const x = values(d, inputShape(d))
    const [s, e] = [axisOf(d, x.rank), axisOf(d, x.rank)]
    return { inputs: [x], run: (t) => core.flatten(t, s, e), label: `${s}..${e}` }
  },
  squeeze: (d) => {
    const x = values(d, inputShape(d))
    const a = coin(d) ? undefined : axisOf(d, x.rank)
    return { inputs: [x], run: (t) => core.squeeze(t, a), label: `axis ${a}` }
  },
  unsqueeze: (d) => {
    const x = values(d, inputShape(d))
    const a = axisOf(d, x.rank + 1)
    return { inputs: [x], run: (t) => core.unsqueeze(t, a), label: `axis ${a}` }
  },
  transpose: (d) => {
    const x = values(d, inputShape(d))
    const [a, b] = [axisOf(d, x.rank), axisOf(d, x.rank)]
    return { inputs: [x], run: (t) => core.transpose(t, a, b), label: `${a}, ${b}` }
  },
  broadcastTo: broadcastToCase,
  slice: (d) => {
    const x = values(d, inputShape(d))
    const spec = Array.from({ length: int(d, 0, x.rank + 1) }, (_, i) => sliceArg(d, x.shape[i] ?? 1))
    return { inputs: [x], run: (t) => core.slice(t, spec), label: JSON.stringify(spec) }
  },
  pad: padCase,
  select: (d) => {
    const x = values(d, inputShape(d))
    const [a, i] = [axisOf(d, x.rank), int(d, -4, 4)]
    return { inputs: [x], run: (t) => core.select(t, a, i), label: `axis ${a} index ${i}` }
  },
  concat: (d) => listCase('concat', d),
  stack: (d) => listCase('stack', d),
  split: splitCase,
  oneHot: oneHotCase,
}

const registry = registeredOps()

describe('fuzz: every registered op', () => {
  it('has a fuzz driver, and every driver is a registered op', () => {
    expect(registry.map((e) => e.name).filter((n) => !(n in DRIVERS))).toEqual([])
    expect(Object.keys(DRIVERS).filter((n) => !registry.some((e) => e.name === n))).toEqual([])
  })
  for (const entry of registry) {
    it(`${entry.name}: a graphgrad error or a well-formed result, in bounded time`, () => {
      const driver = DRIVERS[entry.name]
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const c = driver(drawFrom(g))
          if (c !== null) runCase(entry.name, c, hasGradient(entry.spec))
        }),
        { seed: SEED, numRuns: RUNS },
      )
    })
  }
})

/** A creation call for a drawn shape: the call, the shape it must make, and whether it must refuse. */
interface Made {
  readonly make: () => Tensor
  readonly shape: number[]
  readonly refuse: boolean
  /** What the values must satisfy, when it succeeds. */
  readonly valid?: (v: number) => boolean
  readonly label: string
}

/** The value `v` reads back as from storage of `dtype` (NaN stays NaN). */
const stored = (v: number, dtype: DType): number => (dtype === 'int32' ? Math.trunc(v) : dtype === 'float32' ? Math.fround(v) : v)
const fitsInt = (v: number): boolean => Number.isFinite(v) && Math.trunc(v) >= -(2 ** 31) && Math.trunc(v) < 2 ** 31

function creation(d: Draw): Made | null {
  const dtype = dtypeOf(d)
  const shape = argShape(d)
  const f = fate(shape)
  const refuse = f === 'refused'
  const kind = pick(d, ['zeros', 'ones', 'full', 'rand', 'randn', 'uniform', 'randint', 'eye', 'arange', 'linspace', 'tensor'] as const)
  // Legal but gigabytes: not tried (eye, arange and linspace size themselves below).
  if (f === 'huge' && !['eye', 'arange', 'linspace'].includes(kind)) return null
  const label = `${kind} [${shape.join(',')}] ${dtype}`
  switch (kind) {
    case 'zeros':
    case 'ones': {
      const one = kind === 'ones' ? 1 : 0
      return { make: () => call(kind, shape, { dtype }), shape, refuse, valid: (v) => v === one, label }
    }
    case 'full': {
      const value = numberArg(d)
      const want = stored(value, dtype)
      return {
        make: () => core.full(shape, value, { dtype }),
        shape,
        refuse: refuse || (dtype === 'int32' && !fitsInt(value)),
        valid: (v) => Object.is(v, want) || v === want,
        label: `${label} value ${value}`,
      }
    }
    case 'rand':
      return { make: () => core.rand(shape, 1, { dtype }), shape, refuse, valid: (v) => v >= 0 && v < 1, label }
    case 'randn':
      return { make: () => core.randn(shape, 1, { dtype }), shape, refuse, valid: Number.isFinite, label }
    case 'uniform': {
      const [low, high] = [pick(d, [-2, 0, 1e9]), pick(d, [2, 3e9, NaN])]
      const bad = !(high >= low) || !Number.isFinite(high) || (dtype === 'int32' && !(fitsInt(low) && fitsInt(high)))
      return {
        make: () => core.uniform(shape, low, high, 1, { dtype }),
        shape,
        refuse: refuse || bad,
        valid: (v) => v >= stored(low, dtype) && v < high,
        label: `${label} [${low}, ${high})`,
      }
    }
    case 'randint': {
      const [low, high] = [pick(d, [0, -5, -(2 ** 31)]), pick(d, [1, 7, 2 ** 31, 2 ** 32])]
      const bad = dtype === 'int32' && high > 2 ** 31
      return {
        make: () => core.randint(low, high, shape, 1, { dtype }),
        shape,
        refuse: refuse || bad,
        valid: (v) => Number.isInteger(v) && v >= low && v < high,
        label: `${label} [${low}, ${high})`,
      }
    }
    case 'eye': {
      const [n, m] = [argDim(d), argDim(d)]
      const ef = fate([n, m])
      return ef === 'huge'
        ? null
        : { make: () => core.eye(n, m, { dtype }), shape: [n, m], refuse: ef === 'refused', valid: (v) => v === 0 || v === 1, label: `eye ${n} x ${m}` }
    }
    case 'arange': {
      const [start, stop, step] = [numberArg(d), pick(d, [5, 3e9, 1e20, -4, NaN]), pick(d, [1, 0.5, -1, 1e-12, 0, 3])]
      const finite = [start, stop, step].every(Number.isFinite) && step !== 0
      const n = finite ? Math.max(0, Math.ceil((stop - start) / step)) : 0
      const af = fate([n])
      if (af === 'huge') return null
      const ends = n > 0 ? [start, start + (n - 1) * step] : []
      return {
        make: () => core.arange(start, stop, step, { dtype }),
        shape: [n],
        refuse: !finite || af === 'refused' || (dtype === 'int32' && !ends.every(fitsInt)),
        label: `arange(${start}, ${stop}, ${step}) ${dtype}`,
      }
    }
    case 'linspace': {
      const [start, stop, num] = [numberArg(d), numberArg(d), argDim(d)]
      const lf = fate([num])
      if (lf === 'huge') return null
      const bad = lf === 'refused' || (dtype === 'int32' && num > 0 && !(fitsInt(start) && fitsInt(stop)))
      return { make: () => core.linspace(start, stop, num, { dtype }), shape: [num], refuse: bad, label: `linspace(${start}, ${stop}, ${num}) ${dtype}` }
    }
    case 'tensor': {
      const source = values(d, f === 'ok' ? shape : [3])
      const data = source._data
      const bad = refuse || (dtype === 'int32' && source.dtype !== 'int32' && !Array.from(data).every(fitsInt))
      return { make: () => core.tensor(data, { shape, dtype }), shape, refuse: bad, label: `tensor(${source.dtype} data) ${label}` }
    }
  }
}

describe('fuzz: creation functions', () => {
  it('make exactly the shape asked (with values in range), or refuse it by name before allocating', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const m = creation(drawFrom(g))
        if (m === null) return
        const start = performance.now()
        let made: Tensor | undefined
        try {
          made = m.make()
        } catch (e) {
          if (!(e instanceof GraphgradError)) throw new Error(`${m.label}: threw ${String(e)} (not a graphgrad error)`, { cause: e })
          if (!m.refuse) throw new Error(`${m.label}: refused: ${e.message}`)
        }
        if (made !== undefined) {
          if (m.refuse) throw new Error(`${m.label}: expected a refusal, made ${String(made)}`)
          expect(made.shape).toEqual(m.shape)
          expect(made._data.length).toBe(elements(m.shape))
          const valid = m.valid
          if (valid !== undefined) for (const v of made._data) if (!valid(v)) throw new Error(`${m.label}: made the value ${v}`)
          expect(String(made).length).toBeLessThan(100_000)
        }
        expect(performance.now() - start, `${m.label}: milliseconds`).toBeLessThan(3000)
      }),
      { seed: SEED, numRuns: 10 * RUNS },
    )
  })
})

describe('fuzz: printing', () => {
  it('prints any tensor briefly and at once: empty ones as tensor([], size=...), large ones summarised', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const d = drawFrom(g)
        const big = coin(d, 0.3)
        // Big ones up to about 100k elements, past the summarising threshold of 1000.
        const shape = big ? [...(coin(d) ? [int(d, 1, 7)] : []), int(d, 1, 8), int(d, 100, 2000)] : inputShape(d, 0, 4)
        const t = values(d, shape)
        const start = performance.now()
        const s = String(t)
        expect(performance.now() - start).toBeLessThan(1000)
        expect(s).toMatch(/^tensor\([\s\S]*\)$/)
        expect(s.length).toBeLessThan(50_000)
        if (t.size === 0)
          expect(s).toBe(`tensor([]${t.rank === 1 ? '' : `, size=(${t.shape.join(', ')})`}${t.dtype === 'float32' ? '' : `, dtype=${t.dtype}`})`)
        if (t.size > 1000 && t.shape.some((n) => n > 6)) expect(s).toContain('...')
      }),
      { seed: SEED, numRuns: 5 * RUNS },
    )
  })
})
