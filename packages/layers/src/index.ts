/**
 * @graphgrad/layers: layers as pure `{ init(seed), apply(params, x) }` definitions with
 * PyTorch's names, shapes, defaults and checkpoints; losses; initialisers.
 * @packageDocumentation
 */
import type { GradSpec } from '@graphgrad/core'
// For its side effect: Node's console.log prints a parameter tree readably (see the module).
import './params-inspect.ts'
import { convSpecs } from './conv.ts'
import { dropoutSpecs } from './dropout.ts'
import { embeddingSpecs } from './embedding.ts'
import { linearSpecs } from './linear.ts'
import { lossSpecs } from './losses.ts'
import { normSpecs } from './norm.ts'
import { poolSpecs } from './pool.ts'
import { recurrentSpecs } from './recurrent.ts'
import { attentionSpecs } from './attention.ts'
import { batchNormSpecs } from './batch-norm.ts'
import { positionalSpecs } from './positional.ts'
import { recurrentAttentionSpecs } from './recurrent-attention.ts'
import { transformerSpecs } from './transformer.ts'

export type { ApplyOptions, Layer, Params, TypedParams, ParamsOf } from './layer.ts'
export { linear, type LinearOptions } from './linear.ts'
export { embedding, type EmbeddingOptions } from './embedding.ts'
export { dropout, applyDropout, dropoutMask, type DropoutOptions, type DropoutCallOptions } from './dropout.ts'
export { layerNorm, type LayerNormOptions } from './norm.ts'
export { conv1d, conv2d, type ConvLayerOptions, type Conv1dLayerOptions, type Conv2dLayerOptions } from './conv.ts'
export {
  maxPool1d,
  maxPool2d,
  avgPool1d,
  avgPool2d,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  type MaxPool1dOptions,
  type MaxPool2dOptions,
  type AvgPool1dOptions,
  type AvgPool2dOptions,
  type AdaptiveAvgPoolOptions,
} from './pool.ts'
export { compose, sequential, lambda, type AnyLayer, type Bound, type BoundLayers } from './compose.ts'
export {
  model,
  type Model,
  type ModelCore,
  type ModelMethods,
  type ModelParams,
  type ModelScope,
  type ModelContext,
  type BoundModel,
  type BoundSubLayer,
  type SubLayer,
  type SubLayers,
} from './model.ts'
export { summary, parameterCount, formatParams, type ParamSummary, type ParamRow, type SubLayerTotal, type FormatParamsOptions } from './summary.ts'
export * from './init.ts'
export * from './losses.ts'
export * from './checkpoint.ts'
export { flattenParams, unflattenParams } from '@graphgrad/core'
export * from './recurrent.ts'
export {
  scaledDotProductAttention,
  multiHeadAttention,
  type ScaledDotProductAttentionOptions,
  type MultiheadAttentionOptions,
  type MultiheadAttentionCallOptions,
  type AttentionInputs,
  type AttentionResult,
  type MultiheadAttentionLayer,
} from './attention.ts'
export {
  transformerEncoderLayer,
  transformerDecoderLayer,
  type TransformerLayerOptions,
  type TransformerEncoderCallOptions,
  type TransformerDecoderInputs,
  type TransformerDecoderCallOptions,
} from './transformer.ts'
export {
  batchNorm1d,
  batchNorm2d,
  groupNorm,
  type BatchNormOptions,
  type BatchNormCallOptions,
  type BatchNormResult,
  type BatchNormLayer,
  type GroupNormOptions,
} from './batch-norm.ts'
export {
  sinusoidalPositionalEncoding,
  positionalEmbedding,
  type SinusoidalOptions,
  type PositionalEmbeddingOptions,
  type PositionalCallOptions,
} from './positional.ts'
export {
  luongAttention,
  bahdanauAttention,
  type LuongAttentionOptions,
  type BahdanauAttentionOptions,
  type RecurrentAttentionInputs,
  type RecurrentAttentionCallOptions,
  type RecurrentAttentionResult,
  type RecurrentAttentionLayer,
} from './recurrent-attention.ts'

/** One differentiable layer or loss with its gradient-check spec, as the gradcheck command lists them. */
export interface LayerEntry {
  /** The spec's name, e.g. `linear`, `crossEntropy`. */
  readonly name: string
  /** The file family it belongs to (`linear`, `losses`, `recurrent`, ...). */
  readonly family: string
  /** A layer (with parameters) or a loss function. */
  readonly kind: 'layer' | 'loss'
  /** How to check its gradient. */
  readonly spec: GradSpec
}

const families: readonly [string, 'layer' | 'loss', Readonly<Record<string, GradSpec>>][] = [
  ['linear', 'layer', linearSpecs],
  ['embedding', 'layer', embeddingSpecs],
  ['norm', 'layer', normSpecs],
  ['conv', 'layer', convSpecs],
  ['pool', 'layer', poolSpecs],
  ['dropout', 'layer', dropoutSpecs],
  ['losses', 'loss', lossSpecs],
  ['recurrent', 'layer', recurrentSpecs],
  ['attention', 'layer', { ...attentionSpecs, ...recurrentAttentionSpecs }],
  ['transformer', 'layer', transformerSpecs],
  ['batchNorm', 'layer', batchNormSpecs],
  ['positional', 'layer', positionalSpecs],
]

/** All gradient-check specs of this package's layers and losses, by name. */
export const layerSpecs: Readonly<Record<string, GradSpec>> = Object.fromEntries(families.flatMap(([, , specs]) => Object.entries(specs)))

/** Every layer and loss of this package with its gradient-check spec (the gradcheck command reads it). */
export function registeredLayers(): LayerEntry[] {
  return families.flatMap(([family, kind, specs]) => Object.entries(specs).map(([name, spec]) => ({ name, family, kind, spec })))
}
