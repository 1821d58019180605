/**
 * What a layer is: a pure pair `init(seed) -> params` and `apply(params, x, options) -> y`.
 * Parameters are Immutable.js ordered maps keyed by PyTorch's state_dict names, nested for
 * sub-layers, so a PyTorch checkpoint loads by name.
 * @module
 */
import type { OrderedMap } from 'immutable'
import type { Seed, Tensor } from '@graphgrad/core'

/** A layer's parameters: tensors and nested sub-layer maps, keyed by PyTorch's names. */
export type Params = OrderedMap<string, Tensor | Params>

/** Per-call options shared by all layers. */
export interface ApplyOptions {
  /** Training mode: dropout is active only when true (default false, i.e. eval mode). */
  train?: boolean
  /** Where dropout draws its masks from; required when training with dropout > 0. */
  key?: Seed
}

/**
 * A layer: a pure definition with no hidden state. `init` draws parameters from an explicit
 * seed; `apply` computes the output from parameters and input. `P` is the type of its
 * parameters: `Params` for the built-in layers, a {@link TypedParams} for a `model`.
 */
export interface Layer<In = Tensor, Out = Tensor, Opts extends ApplyOptions = ApplyOptions, P extends Params = Params> {
  /** Creates parameters, drawing every random number from `seed`. */
  init(seed: Seed): P
  /** Runs the layer. */
  apply(params: P, x: In, options?: Opts): Out
}

/**
 * Parameters whose entries are known by name: an Immutable.js `OrderedMap` like any
 * {@link Params} (the optimizers, `grad` and the checkpoint functions take it as it is), whose
 * `get` returns each entry's own type and refuses, at compile time, a name it does not have:
 * `params.get('encoder')` is the encoder's parameters, `params.get('encodr')` does not compile.
 * `model(...).init(seed)` returns one.
 */
export interface TypedParams<R extends Readonly<Record<string, Tensor | Params>>> extends OrderedMap<string, Tensor | Params> {
  /** The entry `key`, with its own type. */
  get<K extends keyof R & string>(key: K, notSetValue?: unknown): R[K]
  /** A name not known at compile time, with a default: the entry or the default. */
  get<NSV>(key: string, notSetValue: NSV): Tensor | Params | NSV
  /** The same parameters with the entry `key` replaced by a value of its type. */
  set<K extends keyof R & string>(key: K, value: R[K]): this
}

/** The parameter type of a layer or model: what its `init` returns (`Params` for a built-in layer). */
export type ParamsOf<L> = L extends { init(seed: Seed): infer P extends Params } ? P : never
