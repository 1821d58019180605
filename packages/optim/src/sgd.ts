/**
 * Stochastic gradient descent with momentum, torch.optim.SGD's rule.
 * @module
 */
import { ArgumentError } from '@graphgrad/core'
import { sgdKernel } from './kernels.ts'
import { type ConfiguredOptimizer, type UpdateRule, createOptimizer } from './optimizer.ts'
import type { Hyper, OptimizerOptions } from './options.ts'
import { scaleByMomentum } from './scale-by.ts'
import { addWeightDecay, maximizeIf, scaleByLearningRate } from './transforms.ts'

/** Hyper-parameters of {@link sgd} (torch.optim.SGD's, in camelCase). */
export interface SgdHyperparams {
  /** Learning rate; required (torch 1.13's SGD has no default). */
  lr: Hyper
  /** Momentum factor μ, >= 0. Default 0. */
  momentum: Hyper
  /** Dampening τ of the momentum. Default 0. */
  dampening: Hyper
  /** L2 penalty added to the gradient, >= 0. Default 0. */
  weightDecay: Hyper
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov: boolean
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean
}

/** Options of {@link sgd}: its hyper-parameters, `lr` required, and parameter groups. */
export type SgdOptions = OptimizerOptions<SgdHyperparams> & { readonly lr: Hyper }

const MOMENTUM_BUFFER = 'momentum_buffer'
const NO_BUFFER = new Float64Array(0)

const rule: UpdateRule<SgdHyperparams> = {
  name: 'sgd',
  defaults: { lr: NaN, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false },
  validate(h, check) {
    check.nonNegative(h, 'lr', 'momentum')
    if (!Number.isFinite(h.dampening)) check.fail('dampening', h.dampening, 'must be a finite number')
    check.nonNegative(h, 'weightDecay')
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new ArgumentError(`${check.where}: nesterov momentum requires momentum > 0 and dampening 0 (got momentum ${h.momentum}, dampening ${h.dampening})`)
    }
  },
  // torch creates the momentum buffer on the first update that uses momentum (buf = d then, not zeros).
  slotNames: () => ({ required: [], optional: [MOMENTUM_BUFFER] }),
  init: () => ({}),
  transforms: (o) => [...maximizeIf(o.maximize), addWeightDecay(o.weightDecay), scaleByMomentum(o), scaleByLearningRate(o.lr)],
  update({ p, g, slots, h }) {
    const outP = new Float64Array(p.length)
    const buf = slots[MOMENTUM_BUFFER]
    const c = { sign: h.maximize ? -1 : 1, lr: h.lr, weightDecay: h.weightDecay, momentum: h.momentum, dampening: h.dampening, nesterov: h.nesterov }
    if (h.momentum === 0) {
      sgdKernel(p, g, null, outP, NO_BUFFER, c)
      const kept: Record<string, Float64Array> = buf === undefined ? {} : { [MOMENTUM_BUFFER]: buf }
      return { p: outP, slots: kept }
    }
    const outBuf = new Float64Array(p.length)
    sgdKernel(p, g, buf ?? null, outP, outBuf, c)
    return { p: outP, slots: { [MOMENTUM_BUFFER]: outBuf } }
  },
}

/**
 * SGD, torch.optim.SGD's update: `d = g + wd p`; with momentum μ, `buf = d` on the first
 * update and `buf = μ buf + (1 - τ) d` after, then `d = d + μ buf` (Nesterov) or `d = buf`;
 * `p = p - lr d`. State slot: `momentum_buffer` (created by the first update with momentum).
 * @example const opt = sgd({ lr: 0.1, momentum: 0.9, nesterov: true })
 */
export function sgd(options: SgdOptions): ConfiguredOptimizer<SgdHyperparams> {
  if (typeof options !== 'object' || options === null || options.lr === undefined) {
    throw new ArgumentError('sgd: lr is required (torch.optim.SGD has no default learning rate)')
  }
  return createOptimizer(rule, options)
}
