/**
 * The generic transforms {@link chain} composes: weight decay (coupled and decoupled), the
 * sign (`scale(-1)` maximizes), clipping and the learning rate, each written once (the update
 * rules, Adam's moments and the others, are in scale-by.ts). A loop here does what the fused
 * kernels of kernels.ts do for an element, with the same operands in the same order, which is
 * why a chain gives the named optimizer's bits; keep the two in step when changing either
 * (chain.test.ts compares them bit for bit).
 *
 * Scalar transforms ({@link scale}, {@link scaleByLearningRate}, {@link addDecayedWeights})
 * only change the {@link Direction}'s scalars, so they cost no pass over the arrays.
 * @module
 */
import { ArgumentError } from '@graphgrad/core'
import { type Direction, type Transform, type TransformInput, type TransformOutput, hyperAt, materialize } from './chain.ts'
import { clipCoefficient, globalNorm } from './clip.ts'
import { scaleKernel } from './kernels.ts'
import type { Hyper } from './options.ts'

/** A plain direction `u` carrying over `d`'s decoupled decay (what a transform returns after it materialised `d`). */
export function plain(u: Float64Array, d: Direction, den: Float64Array | null = null, divisor = 1): Direction {
  return { u, den, scale: 1, divisor, decay: d.decay }
}

/** Maps each parameter's update and slots with `f`; the usual shape of a per-parameter transform. */
export function perParam(
  input: TransformInput,
  f: (d: Direction, p: Float64Array, slots: Readonly<Record<string, Float64Array | undefined>>) => { d: Direction; slots: Record<string, Float64Array> },
): TransformOutput {
  const out = input.updates.map((d, j) => f(d, input.params[j], input.slots[j]))
  return { updates: out.map((o) => o.d), slots: out.map((o) => o.slots) }
}

/** A slot every state of the transform has (the chain checks the state before any update runs). */
export function slot(slots: Readonly<Record<string, Float64Array | undefined>>, name: string, where: string): Float64Array {
  const s = slots[name]
  if (s === undefined) throw new ArgumentError(`${where}: state slot '${name}' is missing`)
  return s
}

/** A value in [0, 1) at `step`, for the betas and alpha. */
export function unitAt(value: Hyper, step: number, where: string, option: string): number {
  const v = hyperAt(value, step, where, option)
  if (!(v < 1)) throw new ArgumentError(`${where}: invalid ${option} ${v}: must be in [0, 1)`)
  return v
}

/**
 * Checks now the options that are numbers (`check` is {@link hyperAt} or {@link unitAt}), so
 * that a bad constant fails when the transform is made, as a named optimizer's options do;
 * schedules are checked at each update.
 */
export function checkNow(
  check: (value: Hyper, step: number, where: string, option: string) => number,
  where: string,
  options: Readonly<Record<string, Hyper>>,
): void {
  for (const [option, value] of Object.entries(options)) if (typeof value !== 'function') check(value, 0, where, option)
}

/**
 * Multiplies the whole update by `factor` (a scalar, no pass over the arrays). `scale(-1)`
 * first in a chain maximizes, as torch's `maximize`: the gradient is negated before anything
 * else sees it.
 */
export function scale(factor: Hyper): Transform {
  const name = 'scale'
  return scalarTransform(name, (step) => {
    const f = typeof factor === 'function' ? factor(step) : factor
    if (typeof f !== 'number' || !Number.isFinite(f)) throw new ArgumentError(`${name}: invalid factor ${String(f)}: must be a finite number`)
    return f
  })
}

/**
 * Scales the update by the learning rate `lr` (a number or a schedule of the step), torch's
 * `lr` and optax's `scale_by_learning_rate`: it multiplies the direction's factor and the
 * decoupled decay, so put it last. Unlike optax the sign is not flipped here: the chain
 * subtracts the update when it applies it.
 */
export function scaleByLearningRate(lr: Hyper): Transform {
  const name = 'scaleByLearningRate'
  checkNow(hyperAt, name, { lr })
  return scalarTransform(name, (step) => hyperAt(lr, step, name, 'lr'))
}

/** A stateless transform multiplying the direction's factor and the decoupled decay by `factorAt(step)`: no pass over the arrays. */
function scalarTransform(name: string, factorAt: (step: number) => number): Transform {
  return {
    name,
    slots: [],
    init: () => ({}),
    update(input) {
      const r = factorAt(input.step)
      return { updates: input.updates.map((d) => ({ ...d, scale: d.scale * r, decay: d.decay * r })), slots: input.updates.map(() => ({})) }
    },
  }
}

/**
 * Coupled weight decay, an L2 penalty: adds `wd p` to the incoming update, which the
 * transforms after it then see as part of the gradient (torch's `weight_decay` of Adam,
 * SGD, RMSprop and Adagrad).
 */
export function addWeightDecay(weightDecay: Hyper): Transform {
  const name = 'addWeightDecay'
  checkNow(hyperAt, name, { weightDecay })
  return {
    name,
    slots: [],
    init: () => ({}),
    update: (input) => {
      const wd = hyperAt(weightDecay, input.step, name, 'weightDecay')
      return perParam(input, (d, p) => {
        const g = materialize(d)
        if (wd === 0) return { d: plain(g, d), slots: {} }
        const out = new Float64Array(g.length)
        for (let i = 0; i < g.length; i++) out[i] = g[i] + wd * p[i]
        return { d: plain(out, d), slots: {} }
      })
    },
  }
}

/**
 * Decoupled weight decay (AdamW's, Lion's): the parameter is multiplied by `1 - lr wd`
 * before the rest of the update is added, wherever this transform stands before
 * {@link scaleByLearningRate}; the transforms in between (Adam's moments, ...) never see it.
 */
export function addDecayedWeights(weightDecay: Hyper): Transform {
  const name = 'addDecayedWeights'
  checkNow(hyperAt, name, { weightDecay })
  return {
    name,
    slots: [],
    init: () => ({}),
    update(input) {
      const wd = hyperAt(weightDecay, input.step, name, 'weightDecay')
      return { updates: input.updates.map((d) => ({ ...d, decay: d.decay + wd })), slots: input.updates.map(() => ({})) }
    },
  }
}

/**
 * Scales all updates together so that their total `normType`-norm is at most `maxNorm`,
 * the numbers of torch's `clip_grad_norm_` (and of {@link clipGradNorm}) applied inside the chain.
 */
export function clipByGlobalNorm(maxNorm: number, normType = 2): Transform {
  const name = 'clipByGlobalNorm'
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0)) throw new ArgumentError(`${name}: maxNorm must be a number >= 0, got ${String(maxNorm)}`)
  if (typeof normType !== 'number' || !(normType > 0))
    throw new ArgumentError(`${name}: normType must be a positive number or Infinity, got ${String(normType)}`)
  return {
    name,
    slots: [],
    init: () => ({}),
    update(input) {
      const data = input.updates.map(materialize)
      const coef = clipCoefficient(maxNorm, globalNorm(data, normType))
      const updates = data.map((g, j) => {
        const out = new Float64Array(g.length)
        scaleKernel(g, coef, out)
        return plain(out, input.updates[j])
      })
      return { updates, slots: updates.map(() => ({})) }
    },
  }
}

/**
 * `[scale(-1)]` when `maximize`, else nothing: how the named optimizers' chain forms start,
 * so that torch's `maximize` (the gradient negated before anything else) is written once.
 */
export function maximizeIf(maximize: boolean): Transform[] {
  return maximize ? [scale(-1)] : []
}
