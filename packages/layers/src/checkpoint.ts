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
  /**
   * The prefix the checkpoint's names carry, stripped before matching: `'module.'` for a
   * model saved wrapped in `nn.DataParallel`, `'encoder.'` to load the encoder of a bigger
   * model's checkpoint (as `model.encoder.load_state_dict` in PyTorch). Names without it are
   * not this model's and are ignored, even when strict. `'model'` means `'model.'`.
   */
  prefix?: string
  /**
   * The prefix the model's names carry and the checkpoint's lack: `addPrefix: 'encoder.'`
   * loads a checkpoint of the encoder alone into the `encoder` of a bigger model. Only the
   * model's parameters under the prefix are loaded (and, when strict, must all be there);
   * the others keep the template's values. Applied after `prefix`, so both together rename
   * `module.x` to `encoder.x`.
   */
  addPrefix?: string
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
 * expected and found shapes, and a missing one with the nearest name the checkpoint has (or
 * the `prefix` / `addPrefix` that would match). Returns new parameters with the template's
 * structure, order and type (a model's typed parameters stay typed).
 */
export function loadStateDict<P extends Params>(template: P, source: StateDictSource, options: LoadStateDictOptions = {}): P {
  const strict = options.strict ?? true
  const strip = prefixOption(options.prefix, 'prefix')
  const add = prefixOption(options.addPrefix, 'addPrefix')
  const all = toFlat(source)
  // The checkpoint's names in scope, renamed to the model's, and what each was called in the checkpoint.
  const flat = new Map<string, unknown>()
  const original = new Map<string, string>()
  for (const [k, v] of all) {
    if (!k.startsWith(strip)) continue
    const name = add + k.slice(strip.length)
    flat.set(name, v)
    original.set(name, k)
  }
  const everything = flattenParams(template)
  const expected = new Map([...everything].filter(([name]) => name.startsWith(add)))
  if (strip !== '' && flat.size === 0) {
    throw new StateDictError(`loadStateDict: no name in the checkpoint starts with the prefix '${strip}' (its names: ${sample([...all.keys()])})`, [], [], [])
  }
  if (add !== '' && expected.size === 0) {
    throw new StateDictError(
      `loadStateDict: no parameter of the model starts with addPrefix '${add}' (its names: ${sample([...everything.keys()])})`,
      [],
      [],
      [],
    )
  }
  const missing: string[] = []
  const mismatched: Mismatch[] = []
  const loaded = new Map<string, Tensor>()
  for (const [name, want] of expected.entries()) {
    const got = flat.get(name)
    if (got === undefined) {
      missing.push(name)
      continue
    }
    if (!(got instanceof Tensor)) throw new StateDictError(`loadStateDict: '${original.get(name) ?? name}' is ${describeValue(got)}, not a Tensor`, [], [], [])
    if (got.rank !== want.rank || got.shape.some((d, i) => d !== want.shape[i])) {
      mismatched.push({ name, expected: want.shape, found: got.shape, reason: 'shape' })
    } else if ((got.dtype === 'int32') !== (want.dtype === 'int32')) {
      mismatched.push({ name, expected: want.shape, found: got.shape, reason: 'dtype' })
    } else {
      loaded.set(name, got.dtype === want.dtype ? got : astype(got, want.dtype))
    }
  }
  const unexpected = strict ? [...flat.keys()].filter((k) => !expected.has(k)).map((k) => original.get(k) ?? k) : []
  const renamed = strip !== '' || add !== ''
  const lookedUp = (name: string): string => (renamed ? `, looked up as '${strip}${name.slice(add.length)}'` : '')
  const problems: string[] = []
  for (const m of mismatched) {
    const want = expected.get(m.name) as Tensor
    const got = flat.get(m.name) as Tensor
    problems.push(
      m.reason === 'shape'
        ? `size mismatch for '${m.name}': the model expects shape ${fmtShape(m.expected)}, the checkpoint has ${fmtShape(m.found)}`
        : `dtype mismatch for '${m.name}': the model expects ${want.dtype} ${fmtShape(m.expected)}, the checkpoint has ${got.dtype} ${fmtShape(m.found)}`,
    )
  }
  if (strict && missing.length > 0) {
    const near = (n: string): string => {
      const m = nearestName(strip + n.slice(add.length), unexpected)
      return m === null ? '' : `; the checkpoint has '${m}'`
    }
    problems.push(
      `missing key(s): ${missing.map((n) => `'${n}' (expected shape ${fmtShape((expected.get(n) as Tensor).shape)}${lookedUp(n)}${near(n)})`).join(', ')}`,
    )
  }
  if (unexpected.length > 0) {
    const found = (v: unknown): string => (v instanceof Tensor ? `shape ${fmtShape(v.shape)}` : describeValue(v))
    problems.push(`unexpected key(s): ${unexpected.map((n) => `'${n}' (${found(all.get(n))})`).join(', ')}`)
  }
  if (problems.length > 0) {
    const hint = strict && !renamed ? prefixHint(missing, unexpected) : ''
    throw new StateDictError(`loadStateDict: error(s) loading the state_dict: ${problems.join('; ')}${hint}`, strict ? missing : [], unexpected, mismatched)
  }
  return rebuild(template, '', loaded) as P
}

/** A prefix option as a whole leading name component: `'model'` and `'model.'` both mean `'model.'`; absent means `''`. */
function prefixOption(value: unknown, what: string): string {
  if (value === undefined || value === '') return ''
  if (typeof value !== 'string' || value.startsWith('.') || value.includes('..')) {
    throw new StateDictError(
      `loadStateDict: ${what} must be a dotted name prefix such as 'model.', found ${typeof value === 'string' ? `'${value}'` : describeValue(value)}`,
      [],
      [],
      [],
    )
  }
  return value.endsWith('.') ? value : `${value}.`
}

/** The first few of `names`, quoted, for an error message. */
function sample(names: readonly string[]): string {
  if (names.length === 0) return 'none'
  const shown = names
    .slice(0, 4)
    .map((n) => `'${n}'`)
    .join(', ')
  return names.length > 4 ? `${shown}, ... (${names.length} in all)` : shown
}

/**
 * The option that would load the checkpoint when its names and the model's differ by a
 * leading component: every unexpected name is `<c>.` + a missing one (the `module.` of
 * `nn.DataParallel`: `prefix`), or every unexpected name with `<c>.` before it is a missing
 * one (a checkpoint of one sub-layer: `addPrefix`). `''` when neither holds.
 */
function prefixHint(missing: readonly string[], unexpected: readonly string[]): string {
  if (missing.length === 0 || unexpected.length === 0) return ''
  const inMissing = new Set(missing)
  const first = unexpected[0].split('.')[0]
  if (first !== unexpected[0] && unexpected.every((n) => n.startsWith(`${first}.`) && inMissing.has(n.slice(first.length + 1)))) {
    return ` (every unexpected name is a missing one behind '${first}.': pass { prefix: '${first}.' } to strip it)`
  }
  const owner = missing.find((m) => m.endsWith(`.${unexpected[0]}`))
  const lead = owner?.slice(0, owner.length - unexpected[0].length)
  if (lead !== undefined && unexpected.every((n) => inMissing.has(lead + n))) {
    return ` (every unexpected name is a missing one without '${lead}': pass { addPrefix: '${lead}' } to load the checkpoint into that part of the model)`
  }
  return ''
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
  throw new StateDictError(
    `loadStateDict: the state_dict must be a Map, an Immutable.js Map or a plain object of tensors by name, found ${describeValue(source)}`,
    [],
    [],
    [],
  )
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
export function loadStateDictFromSafetensors<P extends Params>(template: P, bytes: Uint8Array, options: LoadStateDictOptions = {}): P {
  return loadStateDict(template, loadSafetensors(bytes), options)
}
