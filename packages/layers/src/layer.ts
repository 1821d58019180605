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
 * seed; `apply` computes the output from parameters and input.
 */
export interface Layer<In = Tensor, Out = Tensor, Opts extends ApplyOptions = ApplyOptions> {
  /** Creates parameters, drawing every random number from `seed`. */
  init(seed: Seed): Params
  /** Runs the layer. */
  apply(params: Params, x: In, options?: Opts): Out
}
