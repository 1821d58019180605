/**
 * An evaluator of the PyTorch expression subset the reference fixtures write in `config.expr`
 * (`(a - a.mean(dim=-1, keepdim=True)) / torch.sqrt(...)`, `torch.cat([a, b], dim=1)[:, 0:9:2]`),
 * mapped onto graphgrad ops, so the fixture tests need no hand-written table per expression.
 * A tokenizer and a precedence-climbing parser build an AST once; evaluating it against the
 * input tensors runs graphgrad ops, so it can be differentiated like any function. No
 * `eval`/`new Function`. Unknown names, functions, methods or arguments throw a TorchExprError.
 */
import {
  type SliceArg, Tensor, abs, add, argmax, argmin, astype, broadcastTo, clamp, concat, cos, div, dot, equal, erf, exp,
  expm1, flatten, gather, gelu, greater, greaterEqual, indexAdd, indexSelect, leakyRelu, less, lessEqual, log, log1p, logSoftmax,
  logsumexp, matmul, max, maximum, mean, min, minimum, mul, neg, norm, notEqual, onesLike, outer, permute, pow, prod,
  reciprocal, relu, reshape, rsqrt, scatterAdd, sigmoid, sign, sin, slice, softmax, softplus, split, sqrt, square, squeeze, stack, std,
  stopGradient, sub, sum, tanh, tensor, transpose, unsqueeze, variance, where, zerosLike,
} from '@graphgrad/core'

// ---------------------------------------------------------------- values and the op tables

/** A reference to a module (`torch`, `F`, `math`, `torch.linalg`) or a dtype such as `torch.float64`. */
export interface NamespaceRef { kind: 'namespace'; name: string }
/** The `(values, indices)` pair of `torch.max(a, dim)` / `torch.min(a, dim)`. */
export interface MaxResult { values: Tensor; indices: Tensor }
/** A value of the expression language. */
export type Value = Tensor | number | boolean | string | null | Value[] | NamespaceRef | MaxResult

/** A name, function, argument or form the evaluator does not handle, or a malformed expression. */
export class TorchExprError extends Error {
  override name = 'TorchExprError'
}

const isNamespace = (v: Value): v is NamespaceRef => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor) && 'kind' in v
const isMaxResult = (v: Value): v is MaxResult => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor) && 'values' in v

/** The arguments of one call, bound to parameter names, with typed readers that name the function in errors. */
class Args {
  constructor(readonly fn: string, private readonly values: Map<string, Value>) {}
  has(p: string): boolean { return this.values.has(p) && this.values.get(p) !== null }
  raw(p: string): Value | undefined { return this.values.get(p) }
  private fail(p: string, want: string): never {
    throw new TorchExprError(`${this.fn}: argument '${p}' must be ${want}, got ${this.has(p) ? describeValue(this.values.get(p) as Value) : 'nothing'}`)
  }
  tensor(p: string): Tensor {
    const v = this.values.get(p)
    return v instanceof Tensor ? v : this.fail(p, 'a tensor')
  }
  tensorLike(p: string): Tensor | number {
    const v = this.values.get(p)
    if (v instanceof Tensor || typeof v === 'number') return v
    return typeof v === 'boolean' ? Number(v) : this.fail(p, 'a tensor or a number')
  }
  num(p: string, dflt?: number): number {
    const v = this.values.get(p)
    if (typeof v === 'number') return v
    if (typeof v === 'boolean') return Number(v)
    return (v === undefined || v === null) && dflt !== undefined ? dflt : this.fail(p, 'a number')
  }
  int(p: string, dflt?: number): number {
    const n = this.num(p, dflt)
    return Number.isInteger(n) ? n : this.fail(p, 'an integer')
  }
  bool(p: string, dflt: boolean): boolean {
    const v = this.values.get(p)
    if (v === undefined || v === null) return dflt
    return typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : this.fail(p, 'a bool')
  }
  ints(p: string): number[] {
    const v = this.values.get(p)
    if (typeof v === 'number' && Number.isInteger(v)) return [v]
    if (Array.isArray(v) && v.every((d) => typeof d === 'number' && Number.isInteger(d))) return v as number[]
    return this.fail(p, 'an integer or a sequence of integers')
  }
  /** A `dim` argument: absent, None or `()` reduce over everything, as PyTorch's sum/mean. */
  dims(p = 'dim'): number | number[] | undefined {
    if (!this.has(p)) return undefined
    const v = this.values.get(p)
    if (typeof v === 'number') return this.int(p)
    const list = this.ints(p)
    return list.length === 0 ? undefined : list
  }
  tensors(p: string): Tensor[] {
    const v = this.values.get(p)
    return Array.isArray(v) && v.every((t) => t instanceof Tensor) ? (v as Tensor[]) : this.fail(p, 'a list of tensors')
  }
  str(p: string, dflt: string): string {
    const v = this.values.get(p)
    if (v === undefined || v === null) return dflt
    return typeof v === 'string' ? v : this.fail(p, 'a string')
  }
}

interface Signature { params: string[]; required?: number; run: (a: Args) => Value }

// Keyword spellings PyTorch accepts besides the canonical ones (NumPy-style aliases).
const ALIASES: Record<string, string> = { axis: 'dim', keepdims: 'keepdim', x: 'input', self: 'input' }

function bind(fn: string, sig: Signature, args: Value[], kwargs: Record<string, Value>): Args {
  if (args.length > sig.params.length) throw new TorchExprError(`${fn}: takes at most ${sig.params.length} positional arguments, got ${args.length}`)
  const values = new Map<string, Value>()
  args.forEach((v, i) => values.set(sig.params[i], v))
  for (const [k, v] of Object.entries(kwargs)) {
    const name = sig.params.includes(k) ? k : ALIASES[k]
    if (name === undefined || !sig.params.includes(name)) throw new TorchExprError(`${fn}: unsupported argument '${k}'`)
    if (values.has(name)) throw new TorchExprError(`${fn}: got multiple values for argument '${name}'`)
    values.set(name, v)
  }
  const required = sig.required ?? 1
  for (const p of sig.params.slice(0, required)) if (!values.has(p)) throw new TorchExprError(`${fn}: missing argument '${p}'`)
  return new Args(fn, values)
}

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

/** `torch.*` functions; Tensor methods are the same functions with the tensor as `input`. */
const TORCH: Record<string, Signature> = {
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
  transpose: { params: ['input', 'dim0', 'dim1'], required: 3, run: (a) => transpose(a.tensor('input'), a.int('dim0'), a.int('dim1')) },
  swapaxes: { params: ['input', 'axis0', 'axis1'], required: 3, run: (a) => transpose(a.tensor('input'), a.int('axis0'), a.int('axis1')) },
  t: { params: ['input'], run: (a) => (a.tensor('input').rank < 2 ? a.tensor('input') : transpose(a.tensor('input'), 0, 1)) },
  permute: { params: ['input', 'dims'], required: 2, run: (a) => permute(a.tensor('input'), a.ints('dims')) },
  reshape: { params: ['input', 'shape'], required: 2, run: (a) => reshape(a.tensor('input'), a.ints('shape')) },
  flatten: { params: ['input', 'start_dim', 'end_dim'], run: (a) => flatten(a.tensor('input'), a.int('start_dim', 0), a.int('end_dim', -1)) },
  squeeze: { params: ['input', 'dim'], run: (a) => squeeze(a.tensor('input'), a.has('dim') ? a.ints('dim') : undefined) },
  unsqueeze: { params: ['input', 'dim'], required: 2, run: (a) => unsqueeze(a.tensor('input'), a.int('dim')) },
  broadcast_to: { params: ['input', 'size'], required: 2, run: (a) => broadcastTo(a.tensor('input'), a.ints('size')) },
  cat: { params: ['tensors', 'dim'], run: (a) => concat(a.tensors('tensors'), a.int('dim', 0)) },
  stack: { params: ['tensors', 'dim'], run: (a) => stack(a.tensors('tensors'), a.int('dim', 0)) },
  split: {
    params: ['tensor', 'split_size_or_sections', 'dim'], required: 2,
    run: (a) => {
      const s = a.raw('split_size_or_sections')
      return split(a.tensor('tensor'), typeof s === 'number' ? a.int('split_size_or_sections') : a.ints('split_size_or_sections'), a.int('dim', 0))
    },
  },
  gather: { params: ['input', 'dim', 'index'], required: 3, run: (a) => gather(a.tensor('input'), a.int('dim'), a.tensor('index')) },
  scatter_add: { params: ['input', 'dim', 'index', 'src'], required: 4, run: (a) => scatterAdd(a.tensor('input'), a.int('dim'), a.tensor('index'), a.tensor('src')) },
  index_add: {
    params: ['input', 'dim', 'index', 'source', 'alpha'], required: 4,
    run: (a) => indexAdd(a.tensor('input'), a.int('dim'), a.tensor('index'), mul(a.tensor('source'), a.num('alpha', 1))),
  },
  narrow: {
    params: ['input', 'dim', 'start', 'length'], required: 4,
    run: (a) => {
      const x = a.tensor('input')
      const d = a.int('dim') < 0 ? a.int('dim') + x.rank : a.int('dim')
      const start = a.int('start') < 0 ? a.int('start') + x.shape[d] : a.int('start')
      return slice(x, [...new Array<SliceArg>(d).fill(null), { start, stop: start + a.int('length') }])
    },
  },
  select: {
    params: ['input', 'dim', 'index'], required: 3,
    run: (a) => {
      const x = a.tensor('input')
      const d = a.int('dim') < 0 ? a.int('dim') + x.rank : a.int('dim')
      return slice(x, [...new Array<SliceArg>(d).fill(null), a.int('index')])
    },
  },
  chunk: {
    params: ['input', 'chunks', 'dim'], required: 2,
    run: (a) => {
      const x = a.tensor('input')
      const d = a.int('dim', 0)
      return split(x, Math.ceil(x.shape[d < 0 ? d + x.rank : d] / a.int('chunks')), d)
    },
  },
  index_select: { params: ['input', 'dim', 'index'], required: 3, run: (a) => indexSelect(a.tensor('input'), a.int('dim'), a.tensor('index')) },
}
TORCH.clip = TORCH.clamp
TORCH.concat = TORCH.cat
TORCH.concatenate = TORCH.cat
TORCH.mm = TORCH.matmul
TORCH.bmm = TORCH.matmul
TORCH.negative = TORCH.neg

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
const FUNCTIONAL: Record<string, Signature> = {
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

const MATH: Record<string, (x: number) => number> = { sqrt: Math.sqrt, exp: Math.exp, log: Math.log, tanh: Math.tanh }
const DTYPES: Record<string, 'float32' | 'float64' | 'int32'> = {
  'torch.float32': 'float32', 'torch.float': 'float32', 'torch.float64': 'float64', 'torch.double': 'float64', 'torch.int32': 'int32', 'torch.int64': 'int32', 'torch.long': 'int32',
}

function callFunction(fn: string, args: Value[], kwargs: Record<string, Value>): Value {
  const [ns, name] = [fn.slice(0, fn.lastIndexOf('.')), fn.slice(fn.lastIndexOf('.') + 1)]
  if (ns === 'math' && Object.hasOwn(MATH, name) && args.length === 1 && typeof args[0] === 'number') return MATH[name](args[0])
  const table = ns === 'torch' ? TORCH : ns === 'F' || ns === 'torch.nn.functional' ? FUNCTIONAL : undefined
  if (table === undefined || !Object.hasOwn(table, name)) throw new TorchExprError(`unknown function ${fn}`)
  return table[name].run(bind(fn, table[name], args, kwargs))
}

// Methods whose argument lists differ from the torch function's: varargs shapes and dims, size queries, casts.
const SHAPE_METHODS = new Set(['reshape', 'view', 'permute', 'expand'])

function callMethod(self: Tensor, name: string, args: Value[], kwargs: Record<string, Value>): Value {
  const fn = `Tensor.${name}`
  if (SHAPE_METHODS.has(name)) {
    const dims = (args.length === 1 && Array.isArray(args[0]) ? args[0] : args) as Value[]
    const known = Object.keys(kwargs).filter((k) => !['shape', 'size', 'dims'].includes(k))
    if (known.length > 0) throw new TorchExprError(`${fn}: unsupported argument '${known[0]}'`)
    const list = dims.length > 0 ? dims : (Object.values(kwargs)[0] as Value[] | undefined) ?? []
    if (!list.every((d) => typeof d === 'number' && Number.isInteger(d))) throw new TorchExprError(`${fn}: sizes must be integers`)
    const ints = list as number[]
    if (name === 'permute') return permute(self, ints)
    if (name === 'expand') return broadcastTo(self, ints.map((d, i) => (d === -1 ? self.shape[self.rank - ints.length + i] : d)))
    return reshape(self, ints)
  }
  if (name === 'size' || name === 'dim') {
    if (name === 'dim') return self.rank
    if (args.length === 0) return [...self.shape]
    const d = args[0] as number
    return self.shape[d < 0 ? d + self.rank : d]
  }
  if (name === 'float' || name === 'double' || name === 'long' || name === 'int') {
    return astype(self, name === 'float' ? 'float32' : name === 'double' ? 'float64' : 'int32')
  }
  if (name === 'to') {
    const target = args[0] ?? kwargs.dtype
    if (!isNamespace(target) || !Object.hasOwn(DTYPES, target.name)) throw new TorchExprError(`${fn}: only a dtype target is supported`)
    return astype(self, DTYPES[target.name])
  }
  if (name === 'item') return self.item()
  if (!Object.hasOwn(TORCH, name)) throw new TorchExprError(`unknown method ${fn}`)
  const sig = TORCH[name]
  if (args.length >= sig.params.length) throw new TorchExprError(`${fn}: takes at most ${sig.params.length - 1} positional arguments, got ${args.length}`)
  return sig.run(bind(fn, sig, [self, ...args], kwargs))
}

function readAttribute(obj: Value, name: string): Value {
  if (isNamespace(obj)) {
    if (obj.name === 'math' && (name === 'pi' || name === 'e' || name === 'inf')) return name === 'pi' ? Math.PI : name === 'e' ? Math.E : Infinity
    return { kind: 'namespace', name: `${obj.name}.${name}` }
  }
  if (isMaxResult(obj) && (name === 'values' || name === 'indices')) return obj[name]
  if (obj instanceof Tensor) {
    if (name === 'T') return permute(obj, obj.shape.map((_, i) => obj.rank - 1 - i))
    if (name === 'mT') return transpose(obj, -2, -1)
    if (name === 'shape') return [...obj.shape]
    if (name === 'ndim') return obj.rank
  }
  throw new TorchExprError(`unknown attribute '${name}' of ${describeValue(obj)}`)
}

// ---------------------------------------------------------------- tokenizer

type Token =
  | { kind: 'num'; value: number; at: number }
  | { kind: 'name'; value: string; at: number }
  | { kind: 'str'; value: string; at: number }
  | { kind: 'op'; value: string; at: number }
  | { kind: 'end'; value: ''; at: number }

const OPERATORS = ['...', '**', '//', '<=', '>=', '==', '!=', '+', '-', '*', '/', '@', '%', '(', ')', '[', ']', ',', ':', '.', '=', '<', '>']

/** Splits a Python expression into numbers, names, strings and operators. */
export function tokenize(src: string): Token[] {
  const out: Token[] = []
  let i = 0
  while (i < src.length) {
    const c = src[i]
    if (/\s/.test(c)) { i++; continue }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i))
    if (num && !(c === '.' && src.startsWith('...', i))) {
      out.push({ kind: 'num', value: Number(num[0]), at: i })
      i += num[0].length
      continue
    }
    const name = /^[A-Za-z_][A-Za-z_0-9]*/.exec(src.slice(i))
    if (name) {
      out.push({ kind: 'name', value: name[0], at: i })
      i += name[0].length
      continue
    }
    if (c === '"' || c === "'") {
      const end = src.indexOf(c, i + 1)
      if (end < 0) throw new TorchExprError(`unterminated string at ${i} in '${src}'`)
      out.push({ kind: 'str', value: src.slice(i + 1, end), at: i })
      i = end + 1
      continue
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i))
    if (op === undefined) throw new TorchExprError(`unexpected character '${c}' at ${i} in '${src}'`)
    out.push({ kind: 'op', value: op, at: i })
    i += op.length
  }
  out.push({ kind: 'end', value: '', at: src.length })
  return out
}

// ---------------------------------------------------------------- parser

/** A parsed expression. */
export type Node =
  | { type: 'num'; value: number }
  | { type: 'str'; value: string }
  | { type: 'name'; id: string }
  | { type: 'unary'; op: string; arg: Node }
  | { type: 'binary'; op: string; left: Node; right: Node }
  | { type: 'call'; fn: Node; args: Node[]; kwargs: [string, Node][] }
  | { type: 'attr'; obj: Node; name: string }
  | { type: 'index'; obj: Node; items: Node[] }
  | { type: 'tuple' | 'list'; items: Node[] }
  | { type: 'slice'; start: Node | null; stop: Node | null; step: Node | null }
  | { type: 'ellipsis' }

// Python's binary precedence (higher binds tighter); `**` is handled apart (right-associative,
// tighter than a unary minus on its left, looser than one on its right).
const BINARY: Record<string, number> = {
  '<': 1, '<=': 1, '>': 1, '>=': 1, '==': 1, '!=': 1,
  '+': 2, '-': 2,
  '*': 3, '/': 3, '@': 3, '//': 3, '%': 3,
}

/** Parses one Python expression into an AST. */
export function parse(src: string): Node {
  const toks = tokenize(src)
  let p = 0
  const peek = (): Token => toks[p]
  const isOp = (v: string): boolean => toks[p].kind === 'op' && toks[p].value === v
  const fail = (msg: string): never => { throw new TorchExprError(`${msg} at ${toks[p].at} in '${src}'`) }
  const expect = (v: string): void => { if (!isOp(v)) fail(`expected '${v}'`); p++ }

  // Precedence climbing over BINARY: parse operands at a level tighter than minLevel.
  function expr(minLevel = 1): Node {
    let left = unary()
    for (;;) {
      const t = peek()
      const level = t.kind === 'op' ? BINARY[t.value] : undefined
      if (level === undefined || level < minLevel) return left
      p++
      const right = expr(level + 1)
      if (level === 1 && left.type === 'binary' && BINARY[left.op] === 1) fail('chained comparisons are not supported')
      left = { type: 'binary', op: String(t.value), left, right }
    }
  }
  function unary(): Node {
    if (isOp('-') || isOp('+')) {
      const op = String(peek().value)
      p++
      return { type: 'unary', op, arg: unary() }
    }
    return power()
  }
  function power(): Node {
    const base = postfix(atom())
    if (!isOp('**')) return base
    p++
    return { type: 'binary', op: '**', left: base, right: unary() }
  }
  function postfix(node: Node): Node {
    for (;;) {
      if (isOp('.')) {
        p++
        const t = peek()
        if (t.kind !== 'name') fail('expected an attribute name')
        p++
        node = { type: 'attr', obj: node, name: t.value as string }
      } else if (isOp('(')) {
        p++
        const args: Node[] = []
        const kwargs: [string, Node][] = []
        while (!isOp(')')) {
          const t = peek()
          if (t.kind === 'name' && toks[p + 1].kind === 'op' && toks[p + 1].value === '=') {
            p += 2
            kwargs.push([t.value, expr()])
          } else {
            if (kwargs.length > 0) fail('positional argument after keyword argument')
            args.push(expr())
          }
          if (!isOp(')')) expect(',')
        }
        p++
        node = { type: 'call', fn: node, args, kwargs }
      } else if (isOp('[')) {
        p++
        const items: Node[] = []
        while (!isOp(']')) {
          items.push(subscriptItem())
          if (!isOp(']')) expect(',')
        }
        p++
        node = { type: 'index', obj: node, items }
      } else {
        return node
      }
    }
  }
  function subscriptItem(): Node {
    if (isOp('...')) { p++; return { type: 'ellipsis' } }
    const bound = (): Node | null => (isOp(':') || isOp(',') || isOp(']') ? null : expr())
    const start = bound()
    if (!isOp(':')) {
      if (start === null) fail('empty subscript')
      return start as Node
    }
    p++
    const stop = bound()
    let step: Node | null = null
    if (isOp(':')) { p++; step = bound() }
    return { type: 'slice', start, stop, step }
  }
  function atom(): Node {
    const t = peek()
    p++
    if (t.kind === 'num') return { type: 'num', value: t.value }
    if (t.kind === 'str') return { type: 'str', value: t.value }
    if (t.kind === 'name') return { type: 'name', id: t.value }
    if (t.kind === 'op' && (t.value === '(' || t.value === '[')) {
      const close = t.value === '(' ? ')' : ']'
      const items: Node[] = []
      let comma = false
      while (!isOp(close)) {
        items.push(expr())
        if (isOp(close)) break
        expect(',')
        comma = true
      }
      p++
      if (close === ']') return { type: 'list', items }
      if (items.length === 1 && !comma) return items[0]
      return { type: 'tuple', items }
    }
    p--
    return fail(t.kind === 'end' ? 'unexpected end of expression' : `unexpected '${t.value}'`)
  }

  const root = expr()
  if (peek().kind !== 'end') fail(`unexpected '${peek().value}'`)
  return root
}

// ---------------------------------------------------------------- evaluation

type Env = Readonly<Record<string, Tensor>>

const CONSTANTS: Record<string, Value> = { True: true, False: false, None: null }

function binary(op: string, a: Value, b: Value): Value {
  if (typeof a === 'number' && typeof b === 'number') {
    switch (op) {
      case '+': return a + b
      case '-': return a - b
      case '*': return a * b
      case '/': return a / b
      case '**': return a ** b
      case '//': return Math.floor(a / b)
      case '%': return a - b * Math.floor(a / b)
    }
  }
  const x = operand(op, a)
  const y = operand(op, b)
  switch (op) {
    case '+': return add(x, y)
    case '-': return sub(x, y)
    case '*': return mul(x, y)
    case '/': return div(x, y)
    case '**': return pow(x, y)
    case '@': return callFunction('torch.matmul', [x, y], {})
    case '<': return less(x, y)
    case '<=': return lessEqual(x, y)
    case '>': return greater(x, y)
    case '>=': return greaterEqual(x, y)
    case '==': return equal(x, y)
    case '!=': return notEqual(x, y)
  }
  throw new TorchExprError(`operator '${op}' is not supported on tensors`)
}

function operand(op: string, v: Value): Tensor | number {
  if (v instanceof Tensor || typeof v === 'number') return v
  if (typeof v === 'boolean') return v ? 1 : 0
  throw new TorchExprError(`operator '${op}': operand must be a tensor or a number, got ${describeValue(v)}`)
}

/** A short description of a value for error messages. */
export function describeValue(v: Value): string {
  if (v instanceof Tensor) return `tensor [${v.shape.join(',')}]`
  if (Array.isArray(v)) return `sequence of ${v.length}`
  if (isNamespace(v)) return v.name
  if (isMaxResult(v)) return '(values, indices)'
  return JSON.stringify(v)
}

function evaluate(node: Node, env: Env): Value {
  switch (node.type) {
    case 'num': return node.value
    case 'str': return node.value
    case 'name': {
      if (Object.hasOwn(env, node.id)) return env[node.id]
      if (Object.hasOwn(CONSTANTS, node.id)) return CONSTANTS[node.id]
      if (node.id === 'torch' || node.id === 'F' || node.id === 'math') return { kind: 'namespace', name: node.id }
      throw new TorchExprError(`unknown name '${node.id}'`)
    }
    case 'unary': {
      const v = evaluate(node.arg, env)
      if (node.op === '+') return v
      return typeof v === 'number' ? -v : neg(operand('-', v) as Tensor)
    }
    case 'binary': return binary(node.op, evaluate(node.left, env), evaluate(node.right, env))
    case 'tuple':
    case 'list': return node.items.map((n) => evaluate(n, env))
    case 'attr': return readAttribute(evaluate(node.obj, env), node.name)
    case 'call': {
      const args = node.args.map((n) => evaluate(n, env))
      const kwargs = Object.fromEntries(node.kwargs.map(([k, n]) => [k, evaluate(n, env)]))
      if (node.fn.type === 'attr') {
        const self = evaluate(node.fn.obj, env)
        if (self instanceof Tensor) return callMethod(self, node.fn.name, args, kwargs)
        if (isNamespace(self)) {
          return callFunction(`${self.name}.${node.fn.name}`, args, kwargs)
        }
      }
      const fn = evaluate(node.fn, env)
      throw new TorchExprError(`${describeValue(fn)} is not callable`)
    }
    case 'index': return subscript(evaluate(node.obj, env), node.items, env)
    case 'slice':
    case 'ellipsis': throw new TorchExprError('a slice is only allowed inside []')
  }
}

function intOf(v: Value, what: string): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'boolean') return v ? 1 : 0
  throw new TorchExprError(`${what} must be an integer, got ${describeValue(v)}`)
}

function subscript(obj: Value, items: Node[], env: Env): Value {
  if (Array.isArray(obj) || isMaxResult(obj)) {
    const seq: Value[] = Array.isArray(obj) ? obj : [obj.values, obj.indices]
    if (items.length !== 1) throw new TorchExprError('a sequence takes a single index')
    const i = intOf(evaluate(items[0], env), 'sequence index')
    const k = i < 0 ? i + seq.length : i
    if (k < 0 || k >= seq.length) throw new TorchExprError(`index ${i} out of range for a sequence of ${seq.length}`)
    return seq[k]
  }
  if (!(obj instanceof Tensor)) throw new TorchExprError(`cannot subscript ${describeValue(obj)}`)
  // Evaluate the items; None inserts an axis, `...` stands for as many whole axes as needed.
  type Item = SliceArg | 'none' | 'ellipsis' | Tensor
  const parts: Item[] = items.map((n): Item => {
    if (n.type === 'ellipsis') return 'ellipsis'
    if (n.type === 'slice') {
      const b = (m: Node | null): number | null => (m === null ? null : evalBound(m, env))
      const step = b(n.step)
      if (step !== null && step <= 0) throw new TorchExprError('slice step must be positive (as in PyTorch)')
      const range = { start: b(n.start), stop: b(n.stop), step: step ?? 1 }
      return range.start === null && range.stop === null && range.step === 1 ? null : range
    }
    const v = evaluate(n, env)
    if (v === null) return 'none'
    if (Array.isArray(v) && v.length > 0 && v.every((k) => typeof k === 'number' && Number.isInteger(k))) {
      return tensor(Int32Array.from(v as number[]), { shape: [v.length] })
    }
    if (v instanceof Tensor) {
      if (v.dtype !== 'int32') throw new TorchExprError('only integer tensors can index (no masks)')
      return v
    }
    return intOf(v, 'index')
  })
  if (parts.filter((q) => q === 'ellipsis').length > 1) throw new TorchExprError("an index can only have a single ellipsis ('...')")
  const consuming = parts.filter((q) => q !== 'none' && q !== 'ellipsis').length
  if (consuming > obj.rank) throw new TorchExprError(`too many indices for a tensor of rank ${obj.rank}`)
  const expanded: Item[] = parts.flatMap((q) => (q === 'ellipsis' ? new Array<Item>(obj.rank - consuming).fill(null) : [q]))
  const tensors = expanded.filter((q): q is Tensor => q instanceof Tensor)
  // One integer tensor among slices is a slice then index_select at its axis. With integers or a
  // second tensor, PyTorch moves the indexed dimensions around: out of scope here.
  if (tensors.length > 1 || (tensors.length === 1 && expanded.some((q) => typeof q === 'number'))) {
    throw new TorchExprError('advanced indexing is only supported as one integer tensor (or list) among slices')
  }
  const spec: SliceArg[] = []
  const inserted: number[] = []
  let selectAxis = -1
  let outAxis = 0
  for (const q of expanded) {
    if (q === 'none') { inserted.push(outAxis++); continue }
    if (q instanceof Tensor) selectAxis = outAxis
    spec.push(q instanceof Tensor ? null : (q as SliceArg))
    if (typeof q !== 'number') outAxis++
  }
  let out = slice(obj, spec)
  for (const a of inserted) out = unsqueeze(out, a)
  return selectAxis < 0 ? out : indexSelect(out, selectAxis, tensors[0])
}

function evalBound(n: Node, env: Env): number | null {
  const v = evaluate(n, env)
  return v === null ? null : intOf(v, 'slice bound')
}

/** Parses `src` once; the returned function evaluates it with the names bound to `env`. */
export function compileTorchExpr(src: string): (env: Env) => Tensor {
  const ast = parse(src)
  return (env) => {
    const v = evaluate(ast, env)
    if (!(v instanceof Tensor)) throw new TorchExprError(`'${src}' gave ${describeValue(v)}, not a tensor`)
    return v
  }
}

/** Evaluates `src` with the names bound to `env`; the result may be any value (a number, a list). */
export function evalTorchExpr(src: string, env: Env): Value {
  return evaluate(parse(src), env)
}

