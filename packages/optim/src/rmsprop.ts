/**
 * RMSprop, torch.optim.RMSprop's rule.
 * @module
 */
import { rmspropKernel } from './kernels.ts'
import { type ConfiguredOptimizer, type UpdateRule, createOptimizer } from './optimizer.ts'
import { fullLike, requiredSlot } from './helpers.ts'
import type { Hyper, OptimizerOptions } from './options.ts'
import { scaleByRms } from './scale-by.ts'
import { addWeightDecay, maximizeIf, scaleByLearningRate } from './transforms.ts'

/** Hyper-parameters of {@link rmsprop} (torch.optim.RMSprop's, in camelCase). */
export interface RmspropHyperparams {
  /** Learning rate, >= 0. Default 1e-2. */
  lr: Hyper
  /** Smoothing constant α of the squared-gradient average, >= 0. Default 0.99. */
  alpha: Hyper
  /** Added to the denominator for numerical stability, >= 0. Default 1e-8. */
  eps: Hyper
  /** L2 penalty added to the gradient, >= 0. Default 0. */
  weightDecay: Hyper
  /** Momentum factor, >= 0. Default 0. */
  momentum: Hyper
  /** Normalize by the estimated variance (subtract the squared mean gradient). Default false. */
  centered: boolean
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean
}

/** Options of {@link rmsprop}. */
export type RmspropOptions = OptimizerOptions<RmspropHyperparams>

const SQUARE_AVG = 'square_avg'
const MOMENTUM_BUFFER = 'momentum_buffer'
const GRAD_AVG = 'grad_avg'
const NONE = new Float64Array(0)

const rule: UpdateRule<RmspropHyperparams> = {
  name: 'rmsprop',
  defaults: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
  validate(h, check) {
    check.nonNegative(h, 'lr', 'eps', 'momentum', 'weightDecay', 'alpha')
  },
  // init makes the momentum buffer when momentum starts > 0; a momentum scheduled up from 0 makes it (zeros) at its first use.
  slotNames: (h) => {
    const required = [SQUARE_AVG, ...(h.momentum > 0 ? [MOMENTUM_BUFFER] : []), ...(h.centered ? [GRAD_AVG] : [])]
    return { required, optional: h.momentum > 0 ? [] : [MOMENTUM_BUFFER] }
  },
  init(p, h) {
    const slots: Record<string, ReturnType<typeof fullLike>> = { [SQUARE_AVG]: fullLike(p, 0) }
    if (h.momentum > 0) slots[MOMENTUM_BUFFER] = fullLike(p, 0)
    if (h.centered) slots[GRAD_AVG] = fullLike(p, 0)
    return slots
  },
  transforms: (o) => {
    // scaleByRms fixes its slots when made; the rule keeps them by the momentum at each step.
    if (typeof o.momentum === 'function') return 'a scheduled momentum has no chain form (scaleByRms takes a fixed momentum)'
    return [
      ...maximizeIf(o.maximize),
      addWeightDecay(o.weightDecay),
      scaleByRms({ alpha: o.alpha, eps: o.eps, centered: o.centered, momentum: o.momentum }),
      scaleByLearningRate(o.lr),
    ]
  },
  update({ p, g, slots, h }) {
    const n = p.length
    const useMomentum = h.momentum > 0
    const zeros = (): Float64Array => new Float64Array(n)
    const out = {
      p: new Float64Array(n),
      sq: new Float64Array(n),
      ga: h.centered ? new Float64Array(n) : NONE,
      buf: useMomentum ? new Float64Array(n) : NONE,
    }
    rmspropKernel(
      p,
      g,
      requiredSlot(slots, SQUARE_AVG),
      h.centered ? requiredSlot(slots, GRAD_AVG) : NONE,
      useMomentum ? (slots[MOMENTUM_BUFFER] ?? zeros()) : NONE,
      out.p,
      out.sq,
      out.ga,
      out.buf,
      { sign: h.maximize ? -1 : 1, lr: h.lr, alpha: h.alpha, eps: h.eps, weightDecay: h.weightDecay, momentum: h.momentum, centered: h.centered },
    )
    // Slots not used by this update (momentum scheduled to 0) are kept as they were.
    const newSlots: Record<string, Float64Array> = { ...(slots as Record<string, Float64Array>), [SQUARE_AVG]: out.sq }
    if (useMomentum) newSlots[MOMENTUM_BUFFER] = out.buf
    if (h.centered) newSlots[GRAD_AVG] = out.ga
    return { p: out.p, slots: newSlots }
  },
}

/**
 * RMSprop (torch.optim.RMSprop): `g = g + wd p`, `sq = α sq + (1 - α) g²`;
 * `avg = sqrt(sq - ga²) + eps` with `ga = α ga + (1 - α) g` when centered, else
 * `avg = sqrt(sq) + eps`; with momentum μ > 0, `buf = μ buf + g / avg` and `p -= lr buf`,
 * else `p -= lr g / avg`. State slots: `square_avg`, `momentum_buffer` (momentum > 0),
 * `grad_avg` (centered).
 */
export function rmsprop(options: RmspropOptions = {}): ConfiguredOptimizer<RmspropHyperparams> {
  return createOptimizer(rule, options)
}
