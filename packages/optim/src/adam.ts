/**
 * The Adam family, torch.optim's rules: Adam, AdamW, Adamax, NAdam and RAdam. They share
 * one kernel ({@link adaptiveMomentKernel}) and one rule builder; each optimizer only says
 * how its coefficients follow from the options and the step number.
 * @module
 */
import type { Tensor } from '@graphgrad/core'
import { type AdaptiveCoefficients, type SecondMoment, adaptiveMomentKernel, perClass } from './kernels.ts'
import { type ConfiguredOptimizer, type UpdateInput, type UpdateOutput, type UpdateRule, createOptimizer } from './optimizer.ts'
import { type FloatArray, fullLike, requiredSlot, scalarSlot } from './helpers.ts'
import type { Check, Hyper, OptimizerOptions, Resolved } from './options.ts'
import type { Transform } from './chain.ts'
import { scaleByAdam, scaleByAdamax } from './scale-by.ts'
import { addDecayedWeights, addWeightDecay, maximizeIf, scaleByLearningRate } from './transforms.ts'

/** Hyper-parameters shared by the Adam family. */
export interface AdamFamilyHyperparams {
  /** Learning rate, >= 0. Default 1e-3 (2e-3 for adamax and nadam). */
  lr: Hyper
  /** Decay rates (β1, β2) of the first and second moment estimates, each in [0, 1). Default [0.9, 0.999]. */
  betas: readonly [Hyper, Hyper]
  /** Added to the denominator for numerical stability, >= 0. Default 1e-8. */
  eps: Hyper
  /** Weight decay, >= 0: an L2 penalty added to the gradient, except in adamw (decoupled). Default 0 (1e-2 for adamw). */
  weightDecay: Hyper
  /** Maximize the objective instead of minimizing it. Default false. */
  maximize: boolean
}

/** Hyper-parameters of {@link adam} and {@link adamw}. */
export interface AdamHyperparams extends AdamFamilyHyperparams {
  /** Use the running maximum of the second moment (AMSGrad). Default false. */
  amsgrad: boolean
}

/** Hyper-parameters of {@link adamax}. */
export type AdamaxHyperparams = AdamFamilyHyperparams

/** Hyper-parameters of {@link nadam}. */
export interface NadamHyperparams extends AdamFamilyHyperparams {
  /** Momentum decay ψ of the μ_t schedule, >= 0. Default 4e-3. */
  momentumDecay: Hyper
  /** Decay the weights directly (`p *= 1 - lr wd`, as AdamW) instead of adding `wd p` to the gradient. Default false. */
  decoupledWeightDecay: boolean
}

/** Hyper-parameters of {@link radam}. */
export interface RadamHyperparams extends AdamFamilyHyperparams {
  /** Decay the weights directly (`p *= 1 - lr wd`, as AdamW) instead of adding `wd p` to the gradient. Default false. */
  decoupledWeightDecay: boolean
}

/** Options of {@link adam}. */
export type AdamOptions = OptimizerOptions<AdamHyperparams>
/** Options of {@link adamw}. */
export type AdamwOptions = OptimizerOptions<AdamHyperparams>
/** Options of {@link adamax}. */
export type AdamaxOptions = OptimizerOptions<AdamaxHyperparams>
/** Options of {@link nadam}. */
export type NadamOptions = OptimizerOptions<NadamHyperparams>
/** Options of {@link radam}. */
export type RadamOptions = OptimizerOptions<RadamHyperparams>

/** The coefficients an Adam-family member chooses per update (the rest come from the options). */
type Choice = Pick<AdaptiveCoefficients, 'weightDecay' | 'decay' | 'denominator' | 'vScale' | 'gradCoef' | 'momentCoef'>

interface FamilySpec<H extends AdamFamilyHyperparams> {
  readonly name: string
  readonly defaults: Readonly<Required<H>>
  readonly secondMoment: SecondMoment
  /** torch's name of the second-moment slot. */
  readonly secondSlot: string
  readonly amsgrad?: (h: Resolved<H>) => boolean
  readonly validate?: (h: Resolved<H>, check: Check) => void
  /** Per-parameter scalar slots and their initial values (NAdam's `mu_product`). */
  readonly scalars?: Readonly<Record<string, number>>
  /** The update's coefficients and new scalar slots, from the options, step t (from 1) and the old scalar slots. */
  coefficients(h: Resolved<H>, t: number, scalars: Readonly<Record<string, number>>): { choice: Choice; scalars?: Record<string, number> }
  /** The chain form (see {@link UpdateRule.transforms}), or why there is none. */
  readonly transforms: (o: Readonly<Required<H>>) => readonly Transform[] | string
}

const EXP_AVG = 'exp_avg'
const MAX_EXP_AVG_SQ = 'max_exp_avg_sq'

/** Coupled (`g + wd p`) or decoupled (`p *= 1 - lr wd`) weight decay. */
function weightDecay(h: { lr: number; weightDecay: number }, decoupled: boolean): Pick<Choice, 'weightDecay' | 'decay'> {
  return decoupled ? { weightDecay: 0, decay: 1 - h.lr * h.weightDecay } : { weightDecay: h.weightDecay, decay: 1 }
}

/** Builds the update rule of one Adam-family member. */
function familyRule<H extends AdamFamilyHyperparams>(spec: FamilySpec<H>): UpdateRule<H> {
  const amsgradOf = spec.amsgrad ?? (() => false)
  const scalarNames = Object.keys(spec.scalars ?? {})
  return {
    name: spec.name,
    defaults: spec.defaults,
    scalarSlots: scalarNames,
    validate(h, check) {
      check.nonNegative(h, 'lr', 'eps')
      check.betas(h.betas)
      check.nonNegative(h, 'weightDecay')
      spec.validate?.(h, check)
    },
    slotNames: (h) => ({ required: [...scalarNames, EXP_AVG, spec.secondSlot, ...(amsgradOf(h) ? [MAX_EXP_AVG_SQ] : [])] }),
    init(p: Tensor, h) {
      const slots: Record<string, Tensor> = {}
      for (const s of scalarNames) slots[s] = scalarSlot((spec.scalars as Record<string, number>)[s])
      slots[EXP_AVG] = fullLike(p, 0)
      slots[spec.secondSlot] = fullLike(p, 0)
      if (amsgradOf(h)) slots[MAX_EXP_AVG_SQ] = fullLike(p, 0)
      return slots
    },
    transforms: spec.transforms,
    update: (input) => update(input, (n) => new Float64Array(n)),
    updateFloat32: (input) => update(input, (n) => new Float32Array(n)),
  }

  /** One update in the class of the input's arrays (`alloc` makes fresh ones of it). */
  function update<A extends FloatArray>({ p, g, slots, h, t }: UpdateInput<H, A>, alloc: (n: number) => A): UpdateOutput<A> {
    const n = p.length
    const oldScalars: Record<string, number> = {}
    for (const s of scalarNames) oldScalars[s] = requiredSlot(slots, s)[0]
    const { choice, scalars } = spec.coefficients(h, t, oldScalars)
    const amsgrad = amsgradOf(h)
    const out = { p: alloc(n), m: alloc(n), v: alloc(n), vmax: alloc(amsgrad ? n : 0) }
    perClass(adaptiveMomentKernel<A>, p)(
      p,
      g,
      requiredSlot<A>(slots, EXP_AVG),
      requiredSlot<A>(slots, spec.secondSlot),
      amsgrad ? requiredSlot<A>(slots, MAX_EXP_AVG_SQ) : out.vmax,
      out.p,
      out.m,
      out.v,
      out.vmax,
      { ...choice, sign: h.maximize ? -1 : 1, beta1: h.betas[0], beta2: h.betas[1], eps: h.eps, secondMoment: spec.secondMoment, amsgrad },
    )
    const newSlots: Record<string, A | Float64Array> = {}
    for (const s of scalarNames) newSlots[s] = new Float64Array([scalars?.[s] ?? oldScalars[s]])
    newSlots[EXP_AVG] = out.m
    newSlots[spec.secondSlot] = out.v
    if (amsgrad) newSlots[MAX_EXP_AVG_SQ] = out.vmax
    return { p: out.p, slots: newSlots }
  }
}

const FAMILY_DEFAULTS: Readonly<Required<AdamFamilyHyperparams>> = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false }

/** Adam's step: `p -= lr / (1 - β1^t) * m / (sqrt(v) / sqrt(1 - β2^t) + eps)` (v: vmax with AMSGrad). */
function adamCoefficients(h: Resolved<AdamHyperparams>, t: number, decoupled: boolean): Choice {
  const bc1 = 1 - h.betas[0] ** t
  const bc2 = 1 - h.betas[1] ** t
  return { ...weightDecay(h, decoupled), denominator: 'sqrt', vScale: Math.sqrt(bc2), gradCoef: 0, momentCoef: h.lr / bc1 }
}

const adamRule = familyRule<AdamHyperparams>({
  name: 'adam',
  defaults: { ...FAMILY_DEFAULTS, amsgrad: false },
  secondMoment: 'squares',
  secondSlot: 'exp_avg_sq',
  amsgrad: (h) => h.amsgrad,
  coefficients: (h, t) => ({ choice: adamCoefficients(h, t, false) }),
  transforms: (o) => [...maximizeIf(o.maximize), addWeightDecay(o.weightDecay), scaleByAdam(o), scaleByLearningRate(o.lr)],
})

const adamwRule = familyRule<AdamHyperparams>({
  name: 'adamw',
  defaults: { ...FAMILY_DEFAULTS, weightDecay: 1e-2, amsgrad: false },
  secondMoment: 'squares',
  secondSlot: 'exp_avg_sq',
  amsgrad: (h) => h.amsgrad,
  coefficients: (h, t) => ({ choice: adamCoefficients(h, t, true) }),
  transforms: (o) => [...maximizeIf(o.maximize), addDecayedWeights(o.weightDecay), scaleByAdam(o), scaleByLearningRate(o.lr)],
})

const adamaxRule = familyRule<AdamaxHyperparams>({
  name: 'adamax',
  defaults: { ...FAMILY_DEFAULTS, lr: 2e-3 },
  secondMoment: 'infinityNorm',
  secondSlot: 'exp_inf',
  coefficients: (h, t) => ({
    choice: { ...weightDecay(h, false), denominator: 'plain', vScale: 1, gradCoef: 0, momentCoef: h.lr / (1 - h.betas[0] ** t) },
  }),
  transforms: (o) => [...maximizeIf(o.maximize), addWeightDecay(o.weightDecay), scaleByAdamax(o), scaleByLearningRate(o.lr)],
})

const nadamRule = familyRule<NadamHyperparams>({
  name: 'nadam',
  defaults: { ...FAMILY_DEFAULTS, lr: 2e-3, momentumDecay: 4e-3, decoupledWeightDecay: false },
  secondMoment: 'squares',
  secondSlot: 'exp_avg_sq',
  scalars: { mu_product: 1 },
  validate: (h, check) => check.nonNegative(h, 'momentumDecay'),
  // Its two step sizes, lr (1 - μ_t) / (1 - Π μ) and lr μ_{t+1} / (1 - Π μ μ_{t+1}), are not lr times one factor.
  transforms: () => 'NAdam has no chain form (its two step sizes do not factor into scaleByLearningRate and one direction)',
  coefficients(h, t, { mu_product: before }) {
    const [beta1, beta2] = h.betas
    const mu = beta1 * (1 - 0.5 * 0.96 ** (t * h.momentumDecay))
    const muNext = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * h.momentumDecay))
    const muProduct = before * mu
    const muProductNext = muProduct * muNext
    return {
      choice: {
        ...weightDecay(h, h.decoupledWeightDecay),
        denominator: 'sqrt',
        vScale: Math.sqrt(1 - beta2 ** t),
        gradCoef: (h.lr * (1 - mu)) / (1 - muProduct),
        momentCoef: (h.lr * muNext) / (1 - muProductNext),
      },
      scalars: { mu_product: muProduct },
    }
  },
})

const radamRule = familyRule<RadamHyperparams>({
  name: 'radam',
  defaults: { ...FAMILY_DEFAULTS, decoupledWeightDecay: false },
  secondMoment: 'squares',
  secondSlot: 'exp_avg_sq',
  // torch rounds lr · r_t · sqrt(1 - β2^t) / (1 - β1^t) in that order, which lr times a factor would not reproduce.
  transforms: () => 'RAdam has no chain form (its rectified step size does not factor into scaleByLearningRate)',
  coefficients(h, t) {
    const [beta1, beta2] = h.betas
    const bc1 = 1 - beta1 ** t
    const bc2 = 1 - beta2 ** t
    const rhoInf = 2 / (1 - beta2) - 1
    const rhoT = rhoInf - (2 * t * beta2 ** t) / bc2
    const wd = weightDecay(h, h.decoupledWeightDecay)
    if (rhoT > 5) {
      const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT))
      return { choice: { ...wd, denominator: 'sqrt', vScale: 1, gradCoef: 0, momentCoef: (h.lr * rect * Math.sqrt(bc2)) / bc1 } }
    }
    return { choice: { ...wd, denominator: 'none', vScale: 1, gradCoef: 0, momentCoef: h.lr / bc1 } }
  },
})

/**
 * Adam (torch.optim.Adam): `g = g + wd p`, `m = β1 m + (1 - β1) g`, `v = β2 v + (1 - β2) g²`,
 * `p -= lr / (1 - β1^t) * m / (sqrt(v) / sqrt(1 - β2^t) + eps)`; with `amsgrad` the running
 * maximum of `v` replaces `v` in the denominator. State slots: `exp_avg`, `exp_avg_sq`,
 * `max_exp_avg_sq` (AMSGrad only).
 * @example const opt = adam({ lr: 1e-3, weightDecay: 0.1, groups: [{ params: (n) => n.endsWith('bias'), weightDecay: 0 }] })
 */
export function adam(options: AdamOptions = {}): ConfiguredOptimizer<AdamHyperparams> {
  return createOptimizer(adamRule, options)
}

/**
 * AdamW (torch.optim.AdamW): Adam with decoupled weight decay, `p *= 1 - lr wd` before the
 * Adam update (whose gradient has no `wd p` term). Default `weightDecay` 1e-2.
 */
export function adamw(options: AdamwOptions = {}): ConfiguredOptimizer<AdamHyperparams> {
  return createOptimizer(adamwRule, options)
}

/**
 * Adamax (torch.optim.Adamax): Adam with the infinity norm, `u = max(β2 u, |g| + eps)`,
 * `p -= lr / (1 - β1^t) * m / u`. Default lr 2e-3. State slots: `exp_avg`, `exp_inf`.
 */
export function adamax(options: AdamaxOptions = {}): ConfiguredOptimizer<AdamaxHyperparams> {
  return createOptimizer(adamaxRule, options)
}

/**
 * NAdam (torch.optim.NAdam): Adam with Nesterov momentum and torch's momentum schedule
 * `μ_t = β1 (1 - 0.96^(t ψ) / 2)`:
 * `p -= lr (1 - μ_t) / (1 - Π μ) g / d + lr μ_{t+1} / (1 - Π μ · μ_{t+1}) m / d`,
 * `d = sqrt(v / (1 - β2^t)) + eps`. Default lr 2e-3. State slots: `mu_product` (a 0-d
 * float64 tensor: the product of the μ so far), `exp_avg`, `exp_avg_sq`.
 */
export function nadam(options: NadamOptions = {}): ConfiguredOptimizer<NadamHyperparams> {
  return createOptimizer(nadamRule, options)
}

/**
 * RAdam (torch.optim.RAdam): Adam with the variance rectification of Liu et al. While
 * `ρ_t = ρ∞ - 2 t β2^t / (1 - β2^t) <= 5` (`ρ∞ = 2 / (1 - β2) - 1`) the update is
 * `p -= lr m / (1 - β1^t)`; after, `p -= lr m / (1 - β1^t) · r_t · sqrt(1 - β2^t) / (sqrt(v) + eps)`
 * with the rectification `r_t`. State slots: `exp_avg`, `exp_avg_sq`.
 */
export function radam(options: RadamOptions = {}): ConfiguredOptimizer<RadamHyperparams> {
  return createOptimizer(radamRule, options)
}
