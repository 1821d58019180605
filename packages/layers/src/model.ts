/**
 * Models with several methods and typed parameters: `model({ encoder, decoder, head }, define)`
 * is PyTorch's `nn.Module` with `encode`, `decode` and `generate` methods, as pure functions.
 * The sub-layers' parameters nest under their names (`encoder.weight_ih_l0`), `init(seed)`
 * returns them as a {@link TypedParams} (so `params.get('encoder')` has the encoder's type and
 * a misspelt name does not compile), and each method is called with the parameters first, as
 * a layer's `apply`. With an `apply` method, the model is itself a layer.
 * @module
 */
import { ArgumentError, type Seed, foldIn } from '@graphgrad/core'
import { describeValue, nearestName } from '@graphgrad/core/internal'
import { type Map as IMap, OrderedMap, isMap } from 'immutable'
import type { ApplyOptions, Params, ParamsOf, TypedParams } from './layer.ts'
import { childOptions, mergeOptions } from './compose.ts'

/** What a model's sub-layer must be: anything with an `init(seed)` (a layer, a `model`, `compose(...)`, `sequential(...)`). */
export interface SubLayer {
  /** Creates the sub-layer's parameters from a seed. */
  init(seed: Seed): Params
}

/** A model's sub-layers by name; the names become the first part of the parameters' dotted names. */
export type SubLayers = Readonly<Record<string, SubLayer>>

/** The parameters of a model with sub-layers `L`: `get(name)` gives the sub-layer's own parameter type. */
export type ModelParams<L extends SubLayers> = TypedParams<{ readonly [K in keyof L & string]: ParamsOf<L[K]> }>

/** A method of a model, as its definition returns it (without the parameters). */
type MethodFn = (...args: never[]) => unknown

/** The methods a model's definition returns, by name. */
export type ModelMethods = Readonly<Record<string, MethodFn>>

/** Names a method may not have: they are the model's own members. */
interface Reserved {
  /** The model's `init`. */
  readonly init?: never
  /** The model's `bind`. */
  readonly bind?: never
  /** The model's sub-layers. */
  readonly layers?: never
}

/**
 * A sub-layer as a model's methods see it: bound to its parameters, so it is called with an
 * input and options (`m.encoder(x, { h0 })`); a sub-model's methods are there too
 * (`m.encoder.encode(x)`). When called without `train` or `key`, a sub-layer inherits the
 * model's `train` flag and a key derived from the model's key and the sub-layer's position.
 */
export type BoundSubLayer<S> = (S extends { apply(params: never, ...rest: infer A): infer Out } ? (...args: A) => Out : unknown) &
  (S extends { bind(params: never, options?: ApplyOptions): infer B } ? Omit<B, 'apply'> : unknown)

/** The sub-layers a model's definition receives, bound to their parameters, by name. */
export type ModelScope<L extends SubLayers> = { readonly [K in keyof L]: BoundSubLayer<L[K]> }

/** The second argument of a model's definition: the parameters it is bound to, and the options. */
export interface ModelContext<P extends Params> {
  /** The model's parameters (typed: `params.get('head')` is the head's parameters). */
  readonly params: P
  /** The options the model was bound or applied with (`train`, `key`, and an `apply`'s own options). */
  readonly options: ApplyOptions
}

/** The methods of a model bound to parameters (and options): `model.bind(params).generate(src, 10)`. */
export type BoundModel<M> = Readonly<M>

/** Each method of `M` taking the parameters first: `encode(src)` becomes `encode(params, src)`. */
type ModelCalls<P, M> = { readonly [K in Exclude<keyof M, 'apply'>]: M[K] extends (...args: infer A) => infer R ? (params: P, ...args: A) => R : never }

/** The options type of an `apply(x, options?)` method (ApplyOptions when it takes none). */
type OptionsOf<R extends unknown[]> = R extends [] ? ApplyOptions : NonNullable<R[0]>

/** The layer's `apply(params, x, options?)` of a model whose definition has an `apply(x, options?)`. */
type ModelApply<P, M> = M extends { readonly apply: (x: infer In, ...rest: infer R) => infer Out }
  ? { apply(params: P, x: In, options?: OptionsOf<R>): Out }
  : unknown

/** What every model has, whatever its methods. */
export interface ModelCore<L extends SubLayers, M> {
  /** The sub-layers, by name, as given to `model`. */
  readonly layers: L
  /** Creates the parameters: each sub-layer's `init`, from a key derived from `seed` and the sub-layer's position, nested under its name. */
  init(seed: Seed): ModelParams<L>
  /** The methods bound to `params`, running with `options` (`{ train: true, key }` for dropout). */
  bind(params: ModelParams<L>, options?: ApplyOptions): BoundModel<M>
}

/**
 * A model: {@link ModelCore} (`layers`, `init`, `bind`), every method of `M` with the parameters
 * as first argument, and, when `M` has an `apply(x, options?)`, the layer contract's
 * `apply(params, x, options?)` (then the model is a `Layer` and nests in `compose`,
 * `sequential` or another model).
 */
export type Model<L extends SubLayers, M extends ModelMethods = Record<never, never>> = ModelCore<L, M> &
  ModelCalls<ModelParams<L>, M> &
  ModelApply<ModelParams<L>, M>

/** The sub-layers and method names of each model, so a parent model can bind a sub-model's methods. */
const modelMethods = new WeakMap<object, readonly string[]>()

const RESERVED = new Set(['init', 'bind', 'layers'])

type AnyFn = (...args: unknown[]) => unknown
type SubEntry = readonly [string, SubLayer]

/** @internal Throws unless `params` is a map with a map of parameters for every sub-layer. */
export function checkParams(params: unknown, entries: readonly SubEntry[], where: string): asserts params is Params {
  if (!isMap(params)) {
    const found = params === undefined ? 'undefined' : describeValue(params)
    throw new ArgumentError(`${where}: the parameters must be the Immutable.js map model.init(seed) returns, found ${found}`)
  }
  const map = params as IMap<unknown, unknown>
  for (const [name] of entries) {
    const value = map.get(name)
    if (isMap(value)) continue
    const keys = [...map.keys()].map(String)
    const near = nearestName(name, keys)
    const found = value === undefined ? 'no entry' : `${describeValue(value)} instead of a map of parameters`
    throw new ArgumentError(
      `${where}: the parameters have ${found} for sub-layer '${name}' (found: ${keys.join(', ') || 'none'}${near === null ? '' : `; did you mean '${near}'?`})`,
    )
  }
}

/**
 * A model of named sub-layers and methods. `define(m, { params, options })` returns the
 * methods as plain functions; `m` holds the sub-layers bound to the parameters, so
 * `m.encoder(x)` runs the encoder. Methods call each other as the closures they are:
 *
 * @example
 * const net = model(
 *   { embed: embedding({ numEmbeddings: 10, embeddingDim: 8 }), encoder: lstm({ inputSize: 8, hiddenSize: 16 }), head: linear({ inFeatures: 16, outFeatures: 10 }) },
 *   (m) => {
 *     const encode = (ids: Tensor) => m.encoder(m.embed(ids))
 *     return { encode, apply: (ids: Tensor) => m.head(encode(ids).output) }
 *   },
 * )
 * const params = net.init(0)               // { embed: { weight }, encoder: { weight_ih_l0, ... }, head: { weight, bias } }
 * params.get('encoder')                    // the encoder's Params, no cast
 * net.encode(params, ids).hN               // a method, parameters first
 * net.apply(params, ids, { train: true, key: 1 }) // the layer contract
 *
 * `define` runs each time the model is bound (every method call binds), and once when the
 * model is made, to learn the method names; then its `params` and sub-layers stand for
 * `init(0)`'s, made only if it uses them.
 */
export function model<L extends SubLayers, M extends ModelMethods & Reserved = Record<never, never>>(
  layers: L,
  define?: (m: ModelScope<L>, context: ModelContext<ModelParams<L>>) => M,
): Model<L, M> {
  const where = 'model'
  if (typeof layers !== 'object' || layers === null || Array.isArray(layers) || isMap(layers)) {
    throw new ArgumentError(
      `${where}: the sub-layers must be a plain object of layers by name, e.g. model({ encoder: lstm(...), head: linear(...) }), found ${describeValue(layers)}`,
    )
  }
  const entries: SubEntry[] = Object.entries(layers)
  for (const [name, layer] of entries) {
    if (name === '' || name.includes('.'))
      throw new ArgumentError(`${where}: sub-layer name '${name}' must be non-empty and contain no '.' (it becomes part of the parameters' dotted names)`)
    if (typeof (layer as Partial<SubLayer> | null)?.init !== 'function') {
      throw new ArgumentError(`${where}: sub-layer '${name}' must be a layer (an object with init(seed)), found ${describeValue(layer)}`)
    }
  }
  if (define !== undefined && typeof define !== 'function') {
    throw new ArgumentError(`${where}: the second argument must be a function (m, { params, options }) => ({ ...methods }), found ${describeValue(define)}`)
  }

  const init = (seed: Seed): Params => OrderedMap(entries.map(([name, layer], i) => [name, layer.init(foldIn(seed, i))] as [string, Params])) as Params

  /** The bound sub-layers, reading the parameters only when a sub-layer runs. */
  const scope = (getParams: () => Params, options: ApplyOptions): Record<string, unknown> => {
    const m: Record<string, unknown> = {}
    entries.forEach(([name, layer], i) => {
      const inherited = childOptions(options, i)
      const sub = (): Params => getParams().get(name) as Params
      const apply = (layer as { apply?: unknown }).apply
      const bound: object =
        typeof apply === 'function' ? (x: unknown, o?: ApplyOptions): unknown => (apply as AnyFn).call(layer, sub(), x, mergeOptions(inherited, o)) : {}
      const names = modelMethods.get(layer)
      if (names !== undefined) {
        let cached: Record<string, AnyFn> | undefined
        const subModel = (): Record<string, AnyFn> =>
          (cached ??= (layer as unknown as ModelCore<SubLayers, Record<string, AnyFn>>).bind(sub() as never, inherited))
        for (const method of names) {
          if (method === 'apply' && typeof bound === 'function') continue
          Object.defineProperty(bound, method, { value: (...args: unknown[]) => subModel()[method](...args), enumerable: true })
        }
      }
      m[name] = Object.freeze(bound)
    })
    return Object.freeze(m)
  }

  /** Runs `define` on a scope and checks that it returned an object of functions. */
  const run = (getParams: () => Params, options: ApplyOptions): Record<string, AnyFn> => {
    if (define === undefined) return {}
    const context = Object.freeze({
      get params() {
        return getParams()
      },
      options,
    })
    const methods = (define as unknown as (m: unknown, c: unknown) => unknown)(scope(getParams, options), context)
    if (typeof methods !== 'object' || methods === null || Array.isArray(methods)) {
      throw new ArgumentError(
        `${where}: the definition must return an object of methods by name, e.g. (m) => ({ apply: (x) => m.head(x) }), found ${describeValue(methods)}`,
      )
    }
    for (const [name, fn] of Object.entries(methods)) {
      if (typeof fn !== 'function') throw new ArgumentError(`${where}: method '${name}' must be a function, found ${describeValue(fn)}`)
    }
    return methods as Record<string, AnyFn>
  }

  // The method names, from a run whose parameters (made only if the definition reads them) are init(0)'s.
  let dry: Params | undefined
  const names = Object.keys(run(() => (dry ??= init(0)), {}))
  for (const name of names) {
    if (RESERVED.has(name)) throw new ArgumentError(`${where}: a method may not be called '${name}' (the model's own ${name}); rename it`)
  }

  const bind = (params: Params, options: ApplyOptions = {}): Record<string, AnyFn> => {
    checkParams(params, entries, `${where}.bind`)
    if (typeof options !== 'object' || options === null)
      throw new ArgumentError(`${where}.bind: options must be an object such as { train: true, key }, found ${describeValue(options)}`)
    const methods = run(() => params, options)
    const got = Object.keys(methods)
    if (got.length !== names.length || got.some((n, i) => n !== names[i])) {
      throw new ArgumentError(
        `${where}.bind: the definition returned the methods ${got.join(', ') || 'none'}, but returned ${names.join(', ') || 'none'} when the model was made; return the same methods every time`,
      )
    }
    return Object.freeze({ ...methods })
  }

  const out: Record<string, unknown> = { layers, init, bind }
  for (const name of names) {
    out[name] =
      name === 'apply'
        ? (params: Params, x: unknown, options?: ApplyOptions) => bind(params, options ?? {}).apply(x, options)
        : (params: Params, ...args: unknown[]) => bind(params)[name](...args)
  }
  modelMethods.set(out, names)
  return Object.freeze(out) as unknown as Model<L, M>
}
