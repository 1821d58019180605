/**
 * Lion, from Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms" (Program 1).
 * @module
 */
import { lionKernel } from './kernels.ts'
import { type ConfiguredOptimizer, type UpdateRule, createOptimizer } from './optimizer.ts'
import { fullLike, requiredSlot } from './helpers.ts'
import type { Hyper, OptimizerOptions } from './options.ts'
import { scaleByLion } from './scale-by.ts'
import { addDecayedWeights, maximizeIf, scaleByLearningRate } from './transforms.ts'

/** Hyper-parameters of {@link lion} (the paper's, with its reference implementation's defaults). */
export interface LionHyperparams {
  /** Learning rate, >= 0 (the paper suggests 3-10x smaller than AdamW's). Default 1e-4. */
  lr: Hyper
  /** (β1, β2): β1 interpolates the update direction, β2 the momentum; each in [0, 1). Default [0.9, 0.99]. */
  betas: readonly [Hyper, Hyper]
  /** Decoupled weight decay λ, >= 0: `p *= 1 - lr λ`. Default 0. */
  weightDecay: Hyper
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean
}

/** Options of {@link lion}. */
export type LionOptions = OptimizerOptions<LionHyperparams>

const EXP_AVG = 'exp_avg'

const rule: UpdateRule<LionHyperparams> = {
  name: 'lion',
  defaults: { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false },
  validate(h, check) {
    check.nonNegative(h, 'lr')
    check.betas(h.betas)
    check.nonNegative(h, 'weightDecay')
  },
  slotNames: () => ({ required: [EXP_AVG] }),
  init: (p) => ({ [EXP_AVG]: fullLike(p, 0) }),
  transforms: (o) => [...maximizeIf(o.maximize), addDecayedWeights(o.weightDecay), scaleByLion(o), scaleByLearningRate(o.lr)],
  update({ p, g, slots, h }) {
    const n = p.length
    const out = { p: new Float64Array(n), m: new Float64Array(n) }
    lionKernel(p, g, requiredSlot(slots, EXP_AVG), out.p, out.m, {
      sign: h.maximize ? -1 : 1,
      lr: h.lr,
      beta1: h.betas[0],
      beta2: h.betas[1],
      weightDecay: h.weightDecay,
    })
    return { p: out.p, slots: { [EXP_AVG]: out.m } }
  },
}

/**
 * Lion: `c = β1 m + (1 - β1) g`, `p = p (1 - lr λ) - lr sign(c)`, `m = β2 m + (1 - β2) g`.
 * Every coordinate moves by exactly `lr` (plus decay), so use a smaller lr than for Adam.
 * State slot: `exp_avg` (the momentum m).
 */
export function lion(options: LionOptions = {}): ConfiguredOptimizer<LionHyperparams> {
  return createOptimizer(rule, options)
}
