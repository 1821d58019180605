/**
 * The values of the expression language and the binding of call arguments to parameter
 * names, shared by the op tables (math-ops.ts, shape-ops.ts) and the evaluator.
 */
import { Tensor } from '@graphgrad/core'
import { TorchExprError } from './parse.ts'

/** A reference to a module (`torch`, `F`, `math`, `torch.linalg`) or a dtype such as `torch.float64`. */
export interface NamespaceRef { kind: 'namespace'; name: string }
/** The `(values, indices)` pair of `torch.max(a, dim)` / `torch.min(a, dim)`. */
export interface MaxResult { values: Tensor; indices: Tensor }
/** A value of the expression language. */
export type Value = Tensor | number | boolean | string | null | Value[] | NamespaceRef | MaxResult

/** Whether `v` is a module or dtype reference. */
export const isNamespace = (v: Value): v is NamespaceRef => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor) && 'kind' in v
/** Whether `v` is the `(values, indices)` pair of a max/min over a dimension. */
export const isMaxResult = (v: Value): v is MaxResult => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tensor) && 'values' in v

/** A short description of a value for error messages. */
export function describeValue(v: Value): string {
  if (v instanceof Tensor) return `tensor [${v.shape.join(',')}]`
  if (Array.isArray(v)) return `sequence of ${v.length}`
  if (isNamespace(v)) return v.name
  if (isMaxResult(v)) return '(values, indices)'
  return JSON.stringify(v)
}

/** The arguments of one call, bound to parameter names, with typed readers that name the function in errors. */
export class Args {
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

/** A function's parameters (the first `required`, default 1, must be given) and its implementation. */
export interface Signature { params: string[]; required?: number; run: (a: Args) => Value }

// Keyword spellings PyTorch accepts besides the canonical ones (NumPy-style aliases).
const ALIASES: Record<string, string> = { axis: 'dim', keepdims: 'keepdim', x: 'input', self: 'input' }

/** Binds positional and keyword arguments to `sig`'s parameters; unknown or repeated ones throw. */
export function bind(fn: string, sig: Signature, args: Value[], kwargs: Record<string, Value>): Args {
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
