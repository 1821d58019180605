/**
 * @graphgrad/optim: torch.optim's optimizers as pure functions over immutable parameter
 * trees, learning-rate schedules, gradient clipping, and optimizer state that saves to
 * safetensors.
 *
 * ```ts
 * const opt = adamw({ lr: cosineAnnealingLR({ lr: 1e-3, tMax: 1000 }), groups: [{ params: /bias$/, weightDecay: 0 }] })
 * let state = opt.init(params)
 * ;({ params, state } = opt.step(params, clipGradNorm(grads, 1).grads, state))
 * ```
 *
 * Or compose an optimizer from transforms, as optax does (`adamw` is this chain, fused):
 * `chain(clipByGlobalNorm(1), addDecayedWeights(0.01), scaleByAdam(), scaleByLearningRate(1e-3))`.
 * @packageDocumentation
 */

export type { Schedule, Hyper, ParamSelector, ParamGroup, OptimizerOptions } from './options.ts'
export type { ParamTree, OptimizerState, StepResult, Optimizer, ConfiguredOptimizer } from './optimizer.ts'
export { sgd } from './sgd.ts'
export type { SgdHyperparams, SgdOptions } from './sgd.ts'
export { adam, adamw, adamax, nadam, radam } from './adam.ts'
export type {
  AdamFamilyHyperparams,
  AdamHyperparams,
  AdamaxHyperparams,
  NadamHyperparams,
  RadamHyperparams,
  AdamOptions,
  AdamwOptions,
  AdamaxOptions,
  NadamOptions,
  RadamOptions,
} from './adam.ts'
export { rmsprop } from './rmsprop.ts'
export type { RmspropHyperparams, RmspropOptions } from './rmsprop.ts'
export { adagrad } from './adagrad.ts'
export type { AdagradHyperparams, AdagradOptions } from './adagrad.ts'
export { lion } from './lion.ts'
export type { LionHyperparams, LionOptions } from './lion.ts'
export { stepLR, multiStepLR, exponentialLR, cosineAnnealingLR, linearLR, oneCycleLR, sequentialLR } from './schedules.ts'
export type {
  StepLROptions,
  MultiStepLROptions,
  ExponentialLROptions,
  CosineAnnealingLROptions,
  LinearLROptions,
  OneCycleLROptions,
  OneCycleSchedule,
  SequentialLROptions,
} from './schedules.ts'
export { chain } from './chain.ts'
export type { Direction, Transform, TransformInput, TransformOutput } from './chain.ts'
export { scale, scaleByLearningRate, addWeightDecay, addDecayedWeights, clipByGlobalNorm } from './transforms.ts'
export { scaleByAdam, scaleByAdamax, scaleByMomentum, scaleByRms, scaleByRss, scaleByLion } from './scale-by.ts'
export type { ScaleByAdamOptions, ScaleByAdamaxOptions, ScaleByMomentumOptions, ScaleByRmsOptions, ScaleByRssOptions, ScaleByLionOptions } from './scale-by.ts'
export { clipGradNorm, clipGradValue } from './clip.ts'
export type { ClipGradNormOptions, ClipGradNormResult } from './clip.ts'
export { optimizerStateToTensors, optimizerStateFromTensors, saveOptimizerState, loadOptimizerState, OPTIMIZER_STATE_FORMAT } from './state.ts'
export type { SerializedOptimizerState } from './state.ts'
