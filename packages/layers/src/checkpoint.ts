/**
 * PyTorch checkpoints: a model's parameters as a flat state_dict (dotted names, as
 * `module.state_dict()`), and loading one back into the nested parameters of a layer,
 * checked name by name against a template (`layer.init(seed)`).
 * @module
 */
import { GraphgradError, Tensor, astype, fmtShape, flattenParams, loadSafetensors, saveSafetensors } from '@graphgrad/core'
import type { TensorTree } from '@graphgrad/core'
import { describeValue, nearestName } from '@graphgrad/core/internal'
import { type Map as IMap, type OrderedMap, isMap } from 'immutable'
import type { Params } from './layer.ts'

/** Options of {@link loadStateDict}. */
export interface LoadStateDictOptions {
  /**
   * When true (default), as PyTorch's `strict=True`: every parameter of the template must be
   * in the state_dict and nothing else may be. When false, missing parameters keep the
   * template's values and unexpected names are ignored. Wrong shapes are an error either way.
   */
  strict?: boolean
}

/** A parameter whose shape or dtype in the checkpoint differs from the model's. */
export interface Mismatch {
  /** Dotted parameter name. */
  readonly name: string
  /** The model's (template's) shape. */
  readonly expected: readonly number[]
  /** The checkpoint's shape. */
  readonly found: readonly number[]
  /** What differs. */
  readonly reason: 'shape' | 'dtype'
}

/** Thrown by {@link loadStateDict}; lists every problem at once, like PyTorch's load_state_dict. */
export class StateDictError extends GraphgradError {
  constructor(
    message: string,
    /** Parameters of the model missing from the checkpoint. */
    readonly missing: readonly string[],
    /** Names in the checkpoint the model does not have. */
    readonly unexpected: readonly string[],
    /** Parameters present in both with a different shape (or an int/float dtype clash). */
    readonly mismatched: readonly Mismatch[],
  ) {
    super(message)
  }
}

/**
 * The flat state_dict of nested parameters: dotted names in the parameters' order, as
 * PyTorch's `module.state_dict()` (`{ head: { bias } }` gives `head.bias`).
 */
export function stateDict(params: Params): OrderedMap<string, Tensor> {
  return flattenParams(params)
}

/**
 * What {@link loadStateDict} takes: tensors by dotted name, as an Immutable.js map (flat, from
 * `loadSafetensors` or {@link stateDict}; or nested, as `layer.init` returns), a JS `Map`, or a
 * plain object (`{ 'head.weight': w, 'head.bias': b }`, the shape of a PyTorch state_dict).
 */
export type StateDictSource = IMap<string, TensorTree> | ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>

/**
 * Loads a state_dict ({@link StateDictSource}: an Immutable.js map, a JS Map or a plain
 * object of tensors by dotted name, e.g. from `loadSafetensors` of a PyTorch checkpoint or
 * from {@link stateDict}) into parameters shaped like `template`, matching by dotted name.
 * Values are cast to the template's float dtype (as PyTorch's `copy_`), so a float16 or
 * bfloat16 checkpoint (read as float32) loads into a float32 or float64 model; a missing,
 * unexpected or wrongly shaped parameter is a {@link StateDictError} naming it with the
 * expected and found shapes, and a missing one with the nearest name the checkpoint has.
 * Returns new parameters with the template's structure and order.
 */
export function loadStateDict(template: Params, source: StateDictSource, options: LoadStateDictOptions = {}): Params {
  const strict = options.strict ?? true
  const flat = toFlat(source)
  const expected = flattenParams(template)
  const missing: string[] = []
  const mismatched: Mismatch[] = []
  const loaded = new Map<string, Tensor>()
  for (const [name, want] of expected.entries()) {
    const got = flat.get(name)
    if (got === undefined) {
      missing.push(name)
      continue
    }
    if (!(got instanceof Tensor)) throw new StateDictError(`loadStateDict: '${name}' is ${describeValue(got)}, not a Tensor`, [], [], [])
    if (got.rank !== want.rank || got.shape.some((d, i) => d !== want.shape[i])) {
      mismatched.push({ name, expected: want.shape, found: got.shape, reason: 'shape' })
    } else if ((got.dtype === 'int32') !== (want.dtype === 'int32')) {
      mismatched.push({ name, expected: want.shape, found: got.shape, reason: 'dtype' })
    } else {
      loaded.set(name, got.dtype === want.dtype ? got : astype(got, want.dtype))
    }
  }
  const unexpected = strict ? [...flat.keys()].filter((k) => !expected.has(k)) : []
  const problems: string[] = []
  for (const m of mismatched) {
    const want = expected.get(m.name) as Tensor
    const got = flat.get(m.name) as Tensor
    problems.push(m.reason === 'shape'
      ? `size mismatch for '${m.name}': the model expects shape ${fmtShape(m.expected)}, the checkpoint has ${fmtShape(m.found)}`
      : `dtype mismatch for '${m.name}': the model expects ${want.dtype} ${fmtShape(m.expected)}, the checkpoint has ${got.dtype} ${fmtShape(m.found)}`)
  }
  if (strict && missing.length > 0) {
    const near = (n: string): string => {
      const m = nearestName(n, unexpected)
      return m === null ? '' : `; the checkpoint has '${m}'`
    }
    problems.push(`missing key(s): ${missing.map((n) => `'${n}' (expected shape ${fmtShape((expected.get(n) as Tensor).shape)}${near(n)})`).join(', ')}`)
  }
  if (unexpected.length > 0) {
    const found = (v: unknown): string => (v instanceof Tensor ? `shape ${fmtShape(v.shape)}` : describeValue(v))
    problems.push(`unexpected key(s): ${unexpected.map((n) => `'${n}' (${found(flat.get(n))})`).join(', ')}`)
  }
  if (problems.length > 0) {
    throw new StateDictError(`loadStateDict: error(s) loading the state_dict: ${problems.join('; ')}`, strict ? missing : [], unexpected, mismatched)
  }
  return rebuild(template, '', loaded)
}

/** The source as a flat JS Map by dotted name; nested Immutable.js maps are flattened as {@link stateDict} would. */
function toFlat(source: unknown): ReadonlyMap<string, unknown> {
  if (isMap(source)) {
    const map = source as IMap<unknown, unknown>
    return map.some((v) => isMap(v)) ? flattenParams(map as IMap<string, TensorTree>) : new Map([...map.entries()].map(([k, v]) => [String(k), v]))
  }
  if (source instanceof Map) return source as ReadonlyMap<string, unknown>
  if (typeof source === 'object' && source !== null && !Array.isArray(source) && !ArrayBuffer.isView(source) && !(source instanceof Tensor)) {
    const proto = Object.getPrototypeOf(source) as unknown
    if (proto === Object.prototype || proto === null) return new Map(Object.entries(source))
  }
  throw new StateDictError(`loadStateDict: the state_dict must be a Map, an Immutable.js Map or a plain object of tensors by name, found ${describeValue(source)}`, [], [], [])
}

function rebuild(node: Params, prefix: string, loaded: Map<string, Tensor>): Params {
  return node.map((v, k) => {
    const name = prefix === '' ? k : `${prefix}.${k}`
    return v instanceof Tensor ? (loaded.get(name) ?? v) : rebuild(v, name, loaded)
  }) as Params
}

/** Saves parameters as a safetensors file with state_dict names, which `safetensors.torch.load_file` + `load_state_dict` accept. */
export function saveStateDict(params: Params, metadata?: Record<string, string>): Uint8Array {
  return saveSafetensors(stateDict(params), metadata)
}

/** Loads a safetensors checkpoint (a PyTorch state_dict) into parameters shaped like `template`; see {@link loadStateDict}. */
export function loadStateDictFromSafetensors(template: Params, bytes: Uint8Array, options: LoadStateDictOptions = {}): Params {
  return loadStateDict(template, loadSafetensors(bytes), options)
}
