/**
 * Composing layers into models. A composed model's parameters nest its sub-layers'
 * parameters under their names, so the flattened dotted names (`lstm.weight_ih_l0`,
 * `head.bias`) are the state_dict names of the equivalent PyTorch module.
 * @module
 */
import { ArgumentError, Tensor, foldIn } from '@graphgrad/core'
import { checkOptionKeys, describeValue, nearestName } from '@graphgrad/core/internal'
import { type Map as IMap, OrderedMap, isMap } from 'immutable'
import type { ApplyOptions, Layer, Params } from './layer.ts'

/**
 * Any layer, whatever its input, output and options (method parameters are bivariant, so
 * every `Layer<In, Out, Opts>` fits; {@link Bound} recovers the precise types).
 */
export type AnyLayer = Layer<unknown, unknown, ApplyOptions>

/** A sub-layer bound to its parameters: call it with an input (and options) to run it. */
export type Bound<L> = L extends Layer<infer In, infer Out, infer Opts> ? (x: In, options?: Opts) => Out : never

/** The bound sub-layers a {@link compose} forward function receives, by name. */
export type BoundLayers<L extends Record<string, AnyLayer>> = { readonly [K in keyof L]: Bound<L[K]> }

/** @internal Throws unless `n` is a positive integer (or zero when `allowZero`). */
export function checkSize(n: unknown, name: string, where: string, allowZero = false): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new ArgumentError(`${where}: ${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(n)}`)
  }
  return n
}

/**
 * @internal Throws for an option key of a layer's constructor that the layer does not know,
 * suggesting the intended one (`in_features` -> `inFeatures`). `known` lists every key of
 * the options type, so the compiler keeps it in step with the interface.
 */
export function checkOptions<T extends object>(options: T, known: Readonly<Record<keyof T, true>>, where: string): T {
  checkOptionKeys(options, Object.keys(known), where)
  return options
}

/**
 * @internal Throws unless the input `x` of a layer's `apply` is a Tensor: a nested array or
 * a typed array would otherwise fail deep inside an op with an engine TypeError.
 */
export function checkInput(x: unknown, where: string, what = 'the input'): asserts x is Tensor {
  if (x instanceof Tensor) return
  const wrap = ArrayBuffer.isView(x) ? 'tensor(data, { shape })' : 'tensor(...)'
  throw new ArgumentError(`${where}: ${what} must be a Tensor, found ${describeValue(x)}; wrap it with ${wrap} from @graphgrad/core, e.g. tensor([[1, 2, 3]])`)
}

/** The entry `name` of a layer's parameter map, refusing what is not an Immutable.js map. */
function entry(params: unknown, name: string, where: string, what: string): { value: unknown; keys: string[] } {
  if (!isMap(params)) {
    const found = params === undefined ? 'undefined (a mistyped key when taking them out of a bigger map gives undefined)' : describeValue(params)
    throw new ArgumentError(`${where}: cannot look up ${what} '${name}': the parameters must be the Immutable.js map layer.init(seed) returns, found ${found}`)
  }
  const map = params as IMap<unknown, unknown>
  return { value: map.get(name), keys: [...map.keys()].map(String) }
}

/** `(parameters: a, b; did you mean 'a'?)`: what is there, and the nearest to `name`. */
function present(name: string, keys: readonly string[], label: string): string {
  const near = nearestName(name, keys)
  return `(${label}: ${keys.join(', ') || 'none'}${near === null ? '' : `; did you mean '${near}'?`})`
}

/** @internal A tensor parameter by name, with an error naming the layer, the names there are, and the nearest one. */
export function param(params: Params, name: string, where: string): Tensor {
  const { value, keys } = entry(params, name, where, 'parameter')
  if (value instanceof Tensor) return value
  if (value !== undefined) throw new ArgumentError(`${where}: parameter '${name}' must be a Tensor, found ${describeValue(value)}`)
  throw new ArgumentError(`${where}: parameter '${name}' is missing ${present(name, keys, 'parameters')}`)
}

/** @internal The nested parameter map of a sub-layer. */
function subParams(params: Params, name: string, where: string): Params {
  const { value, keys } = entry(params, name, where, 'sub-layer')
  if (isMap(value)) return value as Params
  const found = value === undefined ? 'no parameters' : `${describeValue(value)} instead of its parameter map`
  throw new ArgumentError(`${where}: ${found} for sub-layer '${name}' ${present(name, keys, 'found')}`)
}

/**
 * @internal The options a sub-layer gets by default: the parent's `train` flag and its own
 * key, derived from the parent's key and the sub-layer's position, so dropout masks differ
 * per sub-layer but stay reproducible.
 */
export function childOptions(parent: ApplyOptions | undefined, index: number): ApplyOptions {
  const out: ApplyOptions = {}
  if (parent?.train !== undefined) out.train = parent.train
  if (parent?.key !== undefined) out.key = foldIn(parent.key, index)
  return out
}

/** @internal Options given explicitly to a sub-layer override the inherited ones; `undefined` values do not. */
export function mergeOptions(inherited: ApplyOptions, given: ApplyOptions | undefined): ApplyOptions {
  const out: Record<string, unknown> = { ...inherited }
  for (const [k, v] of Object.entries(given ?? {})) if (v !== undefined) out[k] = v
  return out as ApplyOptions
}

function initAll(layers: readonly [string, AnyLayer][], seed: Parameters<AnyLayer['init']>[0]): Params {
  return OrderedMap(layers.map(([name, layer], i) => [name, layer.init(foldIn(seed, i))] as [string, Params])) as Params
}

/**
 * A model made of named sub-layers and a forward function that wires them. The forward
 * function receives the sub-layers bound to their parameters; a sub-layer called without
 * options inherits the model's `train` flag and a key derived from the model's key.
 *
 * @example
 * const model = compose(
 *   { embed: embedding({ numEmbeddings: 100, embeddingDim: 16 }), head: linear({ inFeatures: 16, outFeatures: 100 }) },
 *   (m, ids: Tensor) => m.head(m.embed(ids)),
 * )
 * const params = model.init(0) // { embed: { weight }, head: { weight, bias } }
 */
export function compose<L extends Record<string, AnyLayer>, In = Tensor, Out = Tensor, Opts extends ApplyOptions = ApplyOptions>(
  layers: L,
  forward: (m: BoundLayers<L>, x: In, options?: Opts) => Out,
): Layer<In, Out, Opts> {
  const entries = Object.entries(layers)
  for (const [name] of entries) {
    if (name === '' || name.includes('.')) throw new ArgumentError(`compose: sub-layer name '${name}' must be non-empty and contain no '.'`)
  }
  return {
    init: (seed) => initAll(entries, seed),
    apply(params, x, options) {
      const bound: Record<string, (input: unknown, o?: ApplyOptions) => unknown> = {}
      entries.forEach(([name, layer], i) => {
        bound[name] = (input, o) => layer.apply(subParams(params, name, 'compose'), input, mergeOptions(childOptions(options, i), o))
      })
      return forward(bound as BoundLayers<L>, x, options)
    },
  }
}

/**
 * Layers applied one after another, as `nn.Sequential`. Given an array, sub-layers are
 * named `0`, `1`, ... (PyTorch's names, so `0.weight`); given an object, by its keys.
 * Parameterless layers (dropout, {@link lambda}) keep their index, as in PyTorch.
 */
export function sequential(layers: readonly AnyLayer[] | Record<string, AnyLayer>): Layer<Tensor, Tensor> {
  const entries: [string, AnyLayer][] = Array.isArray(layers)
    ? layers.map((l, i) => [String(i), l] as [string, AnyLayer])
    : Object.entries(layers as Record<string, AnyLayer>)
  if (entries.length === 0) throw new ArgumentError('sequential: needs at least one layer')
  return {
    init: (seed) => initAll(entries, seed),
    apply(params, x, options) {
      let y: unknown = x
      entries.forEach(([name, layer], i) => {
        y = layer.apply(subParams(params, name, 'sequential'), y, childOptions(options, i))
      })
      return y as Tensor
    },
  }
}

/** A parameterless layer from a function, for activations in a {@link sequential}: `lambda(relu)`. */
export function lambda(fn: (x: Tensor) => Tensor): Layer {
  return {
    init: () => OrderedMap() as Params,
    apply: (_params, x) => fn(x),
  }
}
