/** Optimizer configurations, each with a learning rate that is sane on the test problems. */
import { adagrad, adam, adamax, adamw, lion, nadam, radam, rmsprop, sgd, type ConfiguredOptimizer } from '../src/index.ts'

export interface Config {
  readonly label: string
  readonly name: string
  readonly options: Record<string, unknown>
}

const FACTORIES: Record<string, (options: any) => ConfiguredOptimizer<any>> = {
  sgd,
  adam,
  adamw,
  adamax,
  nadam,
  radam,
  rmsprop,
  adagrad,
  lion,
}

export const CONFIGS: readonly Config[] = [
  { label: 'sgd', name: 'sgd', options: { lr: 0.1 } },
  { label: 'sgd momentum dampening wd', name: 'sgd', options: { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 } },
  { label: 'sgd nesterov wd', name: 'sgd', options: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 } },
  { label: 'adam', name: 'adam', options: { lr: 0.05 } },
  { label: 'adam amsgrad wd betas', name: 'adam', options: { lr: 0.05, amsgrad: true, weightDecay: 0.1, betas: [0.8, 0.9] } },
  { label: 'adamw', name: 'adamw', options: { lr: 0.05 } },
  { label: 'adamw amsgrad', name: 'adamw', options: { lr: 0.05, amsgrad: true, weightDecay: 0.05 } },
  { label: 'adamax', name: 'adamax', options: { lr: 0.05 } },
  { label: 'adamax wd betas', name: 'adamax', options: { lr: 0.05, weightDecay: 0.01, betas: [0.8, 0.95] } },
  { label: 'nadam', name: 'nadam', options: { lr: 0.05 } },
  { label: 'nadam wd', name: 'nadam', options: { lr: 0.05, weightDecay: 0.01 } },
  { label: 'nadam decoupled wd', name: 'nadam', options: { lr: 0.05, weightDecay: 0.01, decoupledWeightDecay: true, momentumDecay: 0.01 } },
  { label: 'radam', name: 'radam', options: { lr: 0.05 } },
  { label: 'radam decoupled wd', name: 'radam', options: { lr: 0.05, weightDecay: 0.1, decoupledWeightDecay: true, betas: [0.9, 0.99] } },
  { label: 'rmsprop', name: 'rmsprop', options: { lr: 0.01 } },
  { label: 'rmsprop centered momentum wd', name: 'rmsprop', options: { lr: 0.01, centered: true, momentum: 0.5, weightDecay: 0.01, alpha: 0.9 } },
  { label: 'adagrad', name: 'adagrad', options: { lr: 0.1 } },
  { label: 'adagrad lrDecay accumulator wd', name: 'adagrad', options: { lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01, eps: 1e-6 } },
  { label: 'lion', name: 'lion', options: { lr: 0.01 } },
  { label: 'lion wd betas', name: 'lion', options: { lr: 0.01, weightDecay: 0.1, betas: [0.95, 0.98] } },
]

export function make(config: Config, extra: Record<string, unknown> = {}): ConfiguredOptimizer<any> {
  return FACTORIES[config.name]({ ...config.options, ...extra })
}
