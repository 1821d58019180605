/**
 * Composing layers into models. A composed model's parameters nest its sub-layers'
 * parameters under their names, so the flattened dotted names (`lstm.weight_ih_l0`,
 * `head.bias`) are the state_dict names of the equivalent PyTorch module.
 * @module
 */
import { ArgumentError, Tensor, foldIn } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
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

/** @internal A tensor parameter by name, with an error naming the layer and the available names. */
export function param(params: Params, name: string, where: string): Tensor {
  const p = OrderedMap.isOrderedMap(params) ? params.get(name) : undefined
  if (p instanceof Tensor) return p
  const have = OrderedMap.isOrderedMap(params) ? [...params.keys()].join(', ') : String(params)
  throw new ArgumentError(`${where}: parameter '${name}' is missing or not a tensor (parameters: ${have || 'none'})`)
}

/** @internal The nested parameter map of a sub-layer. */
function subParams(params: Params, name: string, where: string): Params {
  const p = OrderedMap.isOrderedMap(params) ? params.get(name) : undefined
  if (p !== undefined && OrderedMap.isOrderedMap(p)) return p as Params
  throw new ArgumentError(`${where}: no parameters for sub-layer '${name}' (found: ${OrderedMap.isOrderedMap(params) ? [...params.keys()].join(', ') || 'none' : String(params)})`)
}

/**
 * The options a sub-layer gets by default: the parent's `train` flag and its own key,
 * derived from the parent's key and the sub-layer's position, so dropout masks differ per
 * sub-layer but stay reproducible.
 */
function childOptions(parent: ApplyOptions | undefined, index: number): ApplyOptions {
  const out: ApplyOptions = {}
  if (parent?.train !== undefined) out.train = parent.train
  if (parent?.key !== undefined) out.key = foldIn(parent.key, index)
  return out
}

/** Options given explicitly to a sub-layer override the inherited ones; `undefined` values do not. */
function merge(inherited: ApplyOptions, given: ApplyOptions | undefined): ApplyOptions {
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
        bound[name] = (input, o) => layer.apply(subParams(params, name, 'compose'), input, merge(childOptions(options, i), o))
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
