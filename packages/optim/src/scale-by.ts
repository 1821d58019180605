/**
 * The update rules as transforms for {@link chain}: Adam's and Adamax's moments, SGD's
 * momentum, RMSprop's, Adagrad's and Lion's statistics. Each loop computes, per element, what
 * the optimizer's fused kernel in kernels.ts computes, with the same operands in the same
 * order, so that a chain of these equals the named optimizer bit for bit; keep the two in
 * step when changing either (chain.test.ts compares them).
 * @module
 */
import { ArgumentError, type Tensor } from '@graphgrad/core'
import type { Transform } from './chain.ts'
import { hyperAt, materialize } from './chain.ts'
import { fullLike } from './helpers.ts'
import type { Hyper } from './options.ts'
import { checkNow, perParam, plain, slot, unitAt } from './transforms.ts'

/** Options of {@link scaleByAdam} (torch.optim.Adam's, same defaults). */
export interface ScaleByAdamOptions {
  /** (β1, β2), each in [0, 1). Default [0.9, 0.999]. */
  readonly betas?: readonly [Hyper, Hyper]
  /** Added to the denominator, >= 0. Default 1e-8. */
  readonly eps?: Hyper
  /** Divide by the running maximum of the second moment (AMSGrad). Default false. */
  readonly amsgrad?: boolean
}

/**
 * Adam's update direction: `m = β1 m + (1 - β1) g`, `v = β2 v + (1 - β2) g²`, update
 * `m / (1 - β1^t) / (sqrt(v) / sqrt(1 - β2^t) + eps)` (with AMSGrad the running maximum of
 * `v`). Slots `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` (AMSGrad), as torch's.
 */
export function scaleByAdam(options: ScaleByAdamOptions = {}): Transform {
  const name = 'scaleByAdam'
  const { betas = [0.9, 0.999], eps = 1e-8, amsgrad = false } = options
  checkNow(unitAt, name, { 'betas[0]': betas[0], 'betas[1]': betas[1] })
  checkNow(hyperAt, name, { eps })
  const slots = ['exp_avg', 'exp_avg_sq', ...(amsgrad ? ['max_exp_avg_sq'] : [])]
  return {
    name,
    slots,
    init: (p: Tensor) => Object.fromEntries(slots.map((s) => [s, fullLike(p, 0)])),
    update(input) {
      const b1 = unitAt(betas[0], input.step, name, 'betas[0]')
      const b2 = unitAt(betas[1], input.step, name, 'betas[1]')
      const e = hyperAt(eps, input.step, name, 'eps')
      const t = input.step + 1
      const bc1 = 1 - b1 ** t
      const vScale = Math.sqrt(1 - b2 ** t)
      return perParam(input, (d, _p, s) => {
        const g = materialize(d)
        const m0 = slot(s, 'exp_avg', name)
        const v0 = slot(s, 'exp_avg_sq', name)
        const vmax0 = amsgrad ? slot(s, 'max_exp_avg_sq', name) : m0
        const n = g.length
        const m = new Float64Array(n)
        const v = new Float64Array(n)
        const vmax = new Float64Array(amsgrad ? n : 0)
        const den = new Float64Array(n)
        for (let i = 0; i < n; i++) {
          const gi = g[i]
          m[i] = m0[i] * b1 + (1 - b1) * gi
          const vi = v0[i] * b2 + (1 - b2) * gi * gi
          v[i] = vi
          let ve = vi
          if (amsgrad) {
            const old = vmax0[i]
            ve = old >= vi || old !== old ? old : vi
            vmax[i] = ve
          }
          den[i] = Math.sqrt(ve) / vScale + e
        }
        const out: Record<string, Float64Array> = { exp_avg: m, exp_avg_sq: v }
        if (amsgrad) out.max_exp_avg_sq = vmax
        return { d: plain(m, d, den, bc1), slots: out }
      })
    },
  }
}

/** Options of {@link scaleByAdamax}. */
export interface ScaleByAdamaxOptions {
  /** (β1, β2), each in [0, 1). Default [0.9, 0.999]. */
  readonly betas?: readonly [Hyper, Hyper]
  /** Added to |g| in the infinity norm, >= 0. Default 1e-8. */
  readonly eps?: Hyper
}

/**
 * Adamax's direction (torch.optim.Adamax): `m = β1 m + (1 - β1) g`, `u = max(β2 u, |g| + eps)`,
 * update `m / (1 - β1^t) / u`. Slots `exp_avg`, `exp_inf`.
 */
export function scaleByAdamax(options: ScaleByAdamaxOptions = {}): Transform {
  const name = 'scaleByAdamax'
  const { betas = [0.9, 0.999], eps = 1e-8 } = options
  checkNow(unitAt, name, { 'betas[0]': betas[0], 'betas[1]': betas[1] })
  checkNow(hyperAt, name, { eps })
  return {
    name,
    slots: ['exp_avg', 'exp_inf'],
    init: (p: Tensor) => ({ exp_avg: fullLike(p, 0), exp_inf: fullLike(p, 0) }),
    update(input) {
      const b1 = unitAt(betas[0], input.step, name, 'betas[0]')
      const b2 = unitAt(betas[1], input.step, name, 'betas[1]')
      const e = hyperAt(eps, input.step, name, 'eps')
      const bc1 = 1 - b1 ** (input.step + 1)
      return perParam(input, (d, _p, s) => {
        const g = materialize(d)
        const m0 = slot(s, 'exp_avg', name)
        const u0 = slot(s, 'exp_inf', name)
        const m = new Float64Array(g.length)
        const u = new Float64Array(g.length)
        for (let i = 0; i < g.length; i++) {
          m[i] = m0[i] * b1 + (1 - b1) * g[i]
          const a = u0[i] * b2
          const b = Math.abs(g[i]) + e
          u[i] = a >= b || a !== a ? a : b
        }
        return { d: plain(m, d, u, bc1), slots: { exp_avg: m, exp_inf: u } }
      })
    },
  }
}

/** Options of {@link scaleByMomentum} (torch.optim.SGD's momentum options). */
export interface ScaleByMomentumOptions {
  /** Momentum factor μ, >= 0; 0 leaves the update as it is. */
  readonly momentum: Hyper
  /** Dampening τ. Default 0. */
  readonly dampening?: Hyper
  /** Nesterov momentum (needs dampening 0). Default false. */
  readonly nesterov?: boolean
}

/**
 * SGD's momentum: `buf = d` on the first update with momentum (torch creates the buffer
 * then, undamped) and `buf = μ buf + (1 - τ) d` after; the update is `d + μ buf` (Nesterov)
 * or `buf`. Optional slot `momentum_buffer`.
 */
export function scaleByMomentum(options: ScaleByMomentumOptions): Transform {
  const name = 'scaleByMomentum'
  if (typeof options !== 'object' || options === null || options.momentum === undefined) throw new ArgumentError(`${name}: momentum is required`)
  const { momentum, dampening = 0, nesterov = false } = options
  checkNow(hyperAt, name, { momentum })
  return {
    name,
    slots: [],
    optionalSlots: ['momentum_buffer'],
    init: () => ({}),
    update(input) {
      const mu = hyperAt(momentum, input.step, name, 'momentum')
      const tau = typeof dampening === 'function' ? dampening(input.step) : dampening
      if (!Number.isFinite(tau)) throw new ArgumentError(`${name}: invalid dampening ${String(tau)}: must be a finite number`)
      if (nesterov && (mu <= 0 || tau !== 0))
        throw new ArgumentError(`${name}: nesterov momentum requires momentum > 0 and dampening 0 (got momentum ${mu}, dampening ${tau})`)
      return perParam(input, (d, _p, s) => {
        const buf = s.momentum_buffer
        // Momentum 0 (perhaps scheduled there): the update passes through and a buffer is kept as it was.
        if (mu === 0) return { d, slots: buf === undefined ? {} : ({ momentum_buffer: buf } as Record<string, Float64Array>) }
        const g = materialize(d)
        const b = new Float64Array(g.length)
        const u = nesterov ? new Float64Array(g.length) : b
        for (let i = 0; i < g.length; i++) {
          const bi = buf === undefined ? g[i] : buf[i] * mu + (1 - tau) * g[i]
          b[i] = bi
          if (nesterov) u[i] = g[i] + mu * bi
        }
        return { d: plain(u, d), slots: { momentum_buffer: b } }
      })
    },
  }
}

/** Options of {@link scaleByRms} (torch.optim.RMSprop's, same defaults). */
export interface ScaleByRmsOptions {
  /** Smoothing constant α of the squared-gradient average, >= 0 (as torch checks it). Default 0.99. */
  readonly alpha?: Hyper
  /** Added to the denominator, >= 0. Default 1e-8. */
  readonly eps?: Hyper
  /** Subtract the squared mean gradient (slot `grad_avg`). Default false. */
  readonly centered?: boolean
  /** Momentum factor, >= 0, applied to `g / avg` as torch does (slot `momentum_buffer`). Default 0. */
  readonly momentum?: number
}

/**
 * RMSprop's direction: `sq = α sq + (1 - α) g²`, `avg = sqrt(sq) + eps` (centered:
 * `sqrt(sq - ga²) + eps`, `ga = α ga + (1 - α) g`); the update is `g / avg`, or with
 * momentum `buf = μ buf + g / avg`. Slots `square_avg`, `momentum_buffer`, `grad_avg`.
 */
export function scaleByRms(options: ScaleByRmsOptions = {}): Transform {
  const name = 'scaleByRms'
  const { alpha = 0.99, eps = 1e-8, centered = false, momentum = 0 } = options
  checkNow(hyperAt, name, { alpha, eps })
  if (!(momentum >= 0 && momentum < Infinity)) throw new ArgumentError(`${name}: invalid momentum ${String(momentum)}: must be a finite number >= 0`)
  const slots = ['square_avg', ...(momentum > 0 ? ['momentum_buffer'] : []), ...(centered ? ['grad_avg'] : [])]
  return {
    name,
    slots,
    init: (p: Tensor) => Object.fromEntries(slots.map((s) => [s, fullLike(p, 0)])),
    update(input) {
      const a = hyperAt(alpha, input.step, name, 'alpha')
      const e = hyperAt(eps, input.step, name, 'eps')
      return perParam(input, (d, _p, s) => {
        const g = materialize(d)
        const n = g.length
        const sq0 = slot(s, 'square_avg', name)
        const ga0 = centered ? slot(s, 'grad_avg', name) : sq0
        const buf0 = momentum > 0 ? slot(s, 'momentum_buffer', name) : sq0
        const sq = new Float64Array(n)
        const ga = new Float64Array(centered ? n : 0)
        const buf = new Float64Array(momentum > 0 ? n : 0)
        const avg = new Float64Array(n)
        for (let i = 0; i < n; i++) {
          const gi = g[i]
          const si = sq0[i] * a + (1 - a) * gi * gi
          sq[i] = si
          if (centered) {
            const c = ga0[i] * a + (1 - a) * gi
            ga[i] = c
            avg[i] = Math.sqrt(si + -1 * c * c) + e
          } else {
            avg[i] = Math.sqrt(si) + e
          }
          if (momentum > 0) buf[i] = buf0[i] * momentum + gi / avg[i]
        }
        const out: Record<string, Float64Array> = { square_avg: sq }
        if (momentum > 0) out.momentum_buffer = buf
        if (centered) out.grad_avg = ga
        return { d: momentum > 0 ? plain(buf, d) : plain(g, d, avg), slots: out }
      })
    },
  }
}

/** Options of {@link scaleByRss} (torch.optim.Adagrad's). */
export interface ScaleByRssOptions {
  /** Starting value of the sum of squared gradients, >= 0. Default 0. */
  readonly initialAccumulatorValue?: number
  /** Added to the denominator, >= 0. Default 1e-10. */
  readonly eps?: Hyper
}

/**
 * Adagrad's direction: `sum += g²`, update `g / (sqrt(sum) + eps)`. Slot `sum`. torch's
 * `lr_decay` is a learning-rate schedule: `scaleByLearningRate((k) => lr / (1 + k lrDecay))`.
 */
export function scaleByRss(options: ScaleByRssOptions = {}): Transform {
  const name = 'scaleByRss'
  const { initialAccumulatorValue = 0, eps = 1e-10 } = options
  checkNow(hyperAt, name, { eps })
  if (!(initialAccumulatorValue >= 0 && initialAccumulatorValue < Infinity))
    throw new ArgumentError(`${name}: invalid initialAccumulatorValue ${String(initialAccumulatorValue)}: must be a finite number >= 0`)
  return {
    name,
    slots: ['sum'],
    init: (p: Tensor) => ({ sum: fullLike(p, initialAccumulatorValue) }),
    update(input) {
      const e = hyperAt(eps, input.step, name, 'eps')
      return perParam(input, (d, _p, s) => {
        const g = materialize(d)
        const sum0 = slot(s, 'sum', name)
        const sum = new Float64Array(g.length)
        const den = new Float64Array(g.length)
        for (let i = 0; i < g.length; i++) {
          const si = sum0[i] + g[i] * g[i]
          sum[i] = si
          den[i] = Math.sqrt(si) + e
        }
        return { d: plain(g, d, den), slots: { sum } }
      })
    },
  }
}

/** Options of {@link scaleByLion}. */
export interface ScaleByLionOptions {
  /** (β1, β2): β1 interpolates the update direction, β2 the momentum; each in [0, 1). Default [0.9, 0.99]. */
  readonly betas?: readonly [Hyper, Hyper]
}

/**
 * Lion's direction (Chen et al. 2023): update `sign(β1 m + (1 - β1) g)`, then
 * `m = β2 m + (1 - β2) g`. Slot `exp_avg`. Lion's weight decay is decoupled: chain
 * {@link addDecayedWeights} before it.
 */
export function scaleByLion(options: ScaleByLionOptions = {}): Transform {
  const name = 'scaleByLion'
  const { betas = [0.9, 0.99] } = options
  checkNow(unitAt, name, { 'betas[0]': betas[0], 'betas[1]': betas[1] })
  return {
    name,
    slots: ['exp_avg'],
    init: (p: Tensor) => ({ exp_avg: fullLike(p, 0) }),
    update(input) {
      const b1 = unitAt(betas[0], input.step, name, 'betas[0]')
      const b2 = unitAt(betas[1], input.step, name, 'betas[1]')
      return perParam(input, (d, _p, s) => {
        const g = materialize(d)
        const m0 = slot(s, 'exp_avg', name)
        const u = new Float64Array(g.length)
        const m = new Float64Array(g.length)
        for (let i = 0; i < g.length; i++) {
          const mi = m0[i]
          u[i] = Math.sign(mi * b1 + (1 - b1) * g[i])
          m[i] = mi * b2 + (1 - b2) * g[i]
        }
        return { d: plain(u, d), slots: { exp_avg: m } }
      })
    },
  }
}
