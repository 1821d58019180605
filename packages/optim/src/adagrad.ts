/**
 * Adagrad, torch.optim.Adagrad's rule.
 * @module
 */
import { adagradKernel } from './kernels.ts'
import { type ConfiguredOptimizer, type UpdateRule, createOptimizer } from './optimizer.ts'
import { fullLike, requiredSlot } from './helpers.ts'
import type { Hyper, OptimizerOptions } from './options.ts'
import { scaleByRss } from './scale-by.ts'
import { addWeightDecay, maximizeIf, scaleByLearningRate } from './transforms.ts'

/** Hyper-parameters of {@link adagrad} (torch.optim.Adagrad's, in camelCase). */
export interface AdagradHyperparams {
  /** Learning rate, >= 0. Default 1e-2. */
  lr: Hyper
  /** Learning-rate decay: the t-th update uses `lr / (1 + (t - 1) lrDecay)`; >= 0. Default 0. */
  lrDecay: Hyper
  /** L2 penalty added to the gradient, >= 0. Default 0. */
  weightDecay: Hyper
  /** Starting value of the sum of squared gradients, >= 0. Default 0. */
  initialAccumulatorValue: number
  /** Added to the denominator for numerical stability, >= 0. Default 1e-10. */
  eps: Hyper
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean
}

/** Options of {@link adagrad}. */
export type AdagradOptions = OptimizerOptions<AdagradHyperparams>

const SUM = 'sum'

const rule: UpdateRule<AdagradHyperparams> = {
  name: 'adagrad',
  defaults: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false },
  validate(h, check) {
    check.nonNegative(h, 'lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps')
  },
  slotNames: () => ({ required: [SUM] }),
  init: (p, h) => ({ [SUM]: fullLike(p, h.initialAccumulatorValue) }),
  transforms: (o) => {
    const at = (v: Hyper, k: number): number => (typeof v === 'function' ? v(k) : v)
    // torch's lr_decay is a schedule of the learning rate: the k-th update (from 0) uses lr / (1 + k lrDecay).
    const lr = (k: number): number => at(o.lr, k) / (1 + k * at(o.lrDecay, k))
    return [...maximizeIf(o.maximize), addWeightDecay(o.weightDecay), scaleByRss(o), scaleByLearningRate(lr)]
  },
  update({ p, g, slots, h, t }) {
    const n = p.length
    const out = { p: new Float64Array(n), sum: new Float64Array(n) }
    const sum = requiredSlot(slots, SUM)
    const clr = h.lr / (1 + (t - 1) * h.lrDecay)
    adagradKernel(p, g, sum, out.p, out.sum, { sign: h.maximize ? -1 : 1, clr, weightDecay: h.weightDecay, eps: h.eps })
    return { p: out.p, slots: { [SUM]: out.sum } }
  },
}

/**
 * Adagrad (torch.optim.Adagrad): `g = g + wd p`, `sum += g²`,
 * `p -= lr / (1 + (t - 1) lrDecay) * g / (sqrt(sum) + eps)` for the t-th update (from 1).
 * State slot: `sum`, starting at `initialAccumulatorValue`.
 */
export function adagrad(options: AdagradOptions = {}): ConfiguredOptimizer<AdagradHyperparams> {
  return createOptimizer(rule, options)
}
