/**
 * The back half of the PyTorch expression evaluator: evaluating a parsed AST against the input
 * tensors with graphgrad ops (so the result can be differentiated like any function), the
 * dispatch of `torch.*` / `F.*` calls and Tensor methods through the op tables, attributes.
 */
import { Tensor, add, astype, broadcastTo, div, equal, greater, greaterEqual, less, lessEqual, mul, neg, notEqual, permute, pow, reshape, sub, transpose } from '@graphgrad/core'
import { FUNCTIONAL, TORCH_MATH } from './math-ops.ts'
import { type Node, TorchExprError, parse } from './parse.ts'
import { TORCH_SHAPE, subscript } from './shape-ops.ts'
import { type Signature, type Value, bind, describeValue, isMaxResult, isNamespace } from './values.ts'

/** The input tensors by name. */
export type Env = Readonly<Record<string, Tensor>>

/** `torch.*` functions; Tensor methods are the same functions with the tensor as `input`. */
const TORCH: Record<string, Signature> = { ...TORCH_MATH, ...TORCH_SHAPE }

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
    case 'index': return subscript(evaluate(node.obj, env), node.items, (n) => evaluate(n, env))
    case 'slice':
    case 'ellipsis': throw new TorchExprError('a slice is only allowed inside []')
  }
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

