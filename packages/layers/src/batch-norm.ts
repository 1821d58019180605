/**
 * Batch and group normalisation, as `nn.BatchNorm1d`, `nn.BatchNorm2d` and `nn.GroupNorm`.
 * A batch-norm layer's learned parameters (`weight`, `bias`) come from `init(seed)`; its
 * running statistics (`running_mean`, `running_var`, `num_batches_tracked`, PyTorch's
 * buffers) are a separate state tree from `initState()`, passed to `apply` and returned
 * updated: `({ output, state } = bn.apply(params, x, { train: true, state }))`.
 * @module
 */
import {
  ArgumentError,
  ShapeError,
  add,
  astype,
  div,
  fmtShape,
  mean,
  mul,
  noGrad,
  ones,
  reshape,
  sqrt,
  stopGradient,
  sub,
  tensor,
  variance,
  zeros,
} from '@graphgrad/core'
import type { CaseSampler, DType, GradSpec, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { ApplyOptions, Layer, Params } from './layer.ts'
import { checkInput, checkOptions, checkSize, param } from './compose.ts'

/** Options of {@link batchNorm1d} and {@link batchNorm2d}: `nn.BatchNorm1d`'s arguments in camelCase. */
export interface BatchNormOptions {
  /** Number of channels C (the input's dimension 1). */
  numFeatures: number
  /** Added to the variance for stability (default 1e-5). */
  eps?: number
  /**
   * Weight of the current batch in the running statistics (default 0.1):
   * `running = (1 - momentum) * running + momentum * batch`. `null` is PyTorch's `None`, a
   * cumulative average (`momentum = 1 / num_batches_tracked`).
   */
  momentum?: number | null
  /** Learn a per-channel `weight` (ones) and `bias` (zeros) (default true). */
  affine?: boolean
  /**
   * Keep running statistics (default true). When false there is no state, and eval mode
   * normalises with the batch's own statistics, as in training.
   */
  trackRunningStats?: boolean
  /** Parameter and state dtype (default float32; `num_batches_tracked` is int32). */
  dtype?: DType
}

/** Per-call options of a batch-norm layer. */
export interface BatchNormCallOptions extends ApplyOptions {
  /**
   * The running statistics (from `initState()`, or the `state` a previous call returned).
   * Required when `trackRunningStats` is true: eval mode reads it, training mode updates it.
   */
  state?: Params
}

/** What a batch-norm layer's `apply` returns. */
export interface BatchNormResult {
  /** The normalised input, same shape. */
  readonly output: Tensor
  /** The running statistics after this call: updated in training mode, the given ones in eval mode (empty without tracking). */
  readonly state: Params
}

/** A batch-norm layer: a {@link Layer} whose `apply` returns `{ output, state }`, plus `initState()`. */
export interface BatchNormLayer extends Layer<Tensor, BatchNormResult, BatchNormCallOptions> {
  /** Fresh running statistics, as PyTorch's: `running_mean` zeros, `running_var` ones `[C]`, `num_batches_tracked` 0 (int32 scalar). Empty without tracking. */
  initState(): Params
}

function checkEps(eps: unknown, where: string): number {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps))
    throw new ArgumentError(`${where}: eps must be a non-negative number, got ${String(eps)}`)
  return eps
}

/** `[1, C, 1, ...]`: a per-channel vector shaped to broadcast over an input of rank `rank`. */
function perChannel(v: Tensor, rank: number): Tensor {
  return reshape(v, [1, v.size, ...new Array<number>(rank - 2).fill(1)])
}

function batchNorm(where: string, ranks: readonly number[], layout: string, options: BatchNormOptions): BatchNormLayer {
  checkOptions(options, { numFeatures: true, eps: true, momentum: true, affine: true, trackRunningStats: true, dtype: true }, where)
  const c = checkSize(options.numFeatures, 'numFeatures', where)
  const eps = checkEps(options.eps ?? 1e-5, where)
  const momentum = options.momentum === undefined ? 0.1 : options.momentum
  if (momentum !== null && (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1))) {
    throw new ArgumentError(`${where}: momentum must be a number in [0, 1] or null (a cumulative average), got ${String(momentum)}`)
  }
  const affine = options.affine ?? true
  const track = options.trackRunningStats ?? true
  const dtype = options.dtype ?? 'float32'
  const stateWhere = `${where} state`
  const initState = (): Params =>
    (track
      ? OrderedMap({ running_mean: zeros([c], { dtype }), running_var: ones([c], { dtype }), num_batches_tracked: zeros([], { dtype: 'int32' }) })
      : OrderedMap()) as Params
  return {
    init: () => (affine ? OrderedMap({ weight: ones([c], { dtype }), bias: zeros([c], { dtype }) }) : OrderedMap()) as Params,
    initState,
    apply(params, x, call = {}) {
      checkInput(x, where)
      if (!ranks.includes(x.rank) || x.shape[1] !== c) {
        throw new ShapeError(`${where}: expected an input ${layout} with C = numFeatures = ${c}, got shape ${fmtShape(x.shape)}`)
      }
      const train = call.train === true
      const state = call.state
      if (!track && state !== undefined) throw new ArgumentError(`${where}: trackRunningStats is false, so there is no state to pass`)
      if (track && state === undefined) {
        throw new ArgumentError(`${where}: pass the running statistics as { state } (layer.initState() to start, then the state the previous call returned)`)
      }
      const axes = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2)]
      const count = x.size / c
      let norm: Tensor
      let next: Params = state ?? initState()
      if (train || !track) {
        if (count <= 1) throw new ArgumentError(`${where}: expected more than 1 value per channel when training, got input of shape ${fmtShape(x.shape)}`)
        const mu = mean(x, axes, true)
        const v = variance(x, axes, { correction: 0, keepdims: true })
        norm = div(sub(x, mu), sqrt(add(v, eps)))
        if (train && track) next = updated(next, reshape(mu, [c]), reshape(v, [c]), count, momentum, stateWhere, c)
      } else {
        const rm = stateEntry(next, 'running_mean', stateWhere, c)
        const rv = stateEntry(next, 'running_var', stateWhere, c)
        norm = div(sub(x, perChannel(rm, x.rank)), sqrt(add(perChannel(rv, x.rank), eps)))
      }
      if (affine) norm = add(mul(norm, perChannel(param(params, 'weight', where), x.rank)), perChannel(param(params, 'bias', where), x.rank))
      return { output: norm, state: next }
    },
  }
}

function stateEntry(state: Params, name: string, where: string, c: number): Tensor {
  const t = param(state, name, where)
  if (t.shape.join() !== String(c)) throw new ShapeError(`${where}: ${name} must have shape ${fmtShape([c])}, got ${fmtShape(t.shape)}`)
  return t
}

/** The running statistics after one training batch (the variance unbiased, as PyTorch), without gradient. */
function updated(state: Params, mu: Tensor, biasedVar: Tensor, count: number, momentum: number | null, where: string, c: number): Params {
  const rm = stateEntry(state, 'running_mean', where, c)
  const rv = stateEntry(state, 'running_var', where, c)
  const tracked = param(state, 'num_batches_tracked', where)
  const steps = (tracked.size === 1 ? tracked.data[0] : NaN) + 1
  if (!Number.isInteger(steps)) throw new ShapeError(`${where}: num_batches_tracked must be an integer scalar, got ${fmtShape(tracked.shape)} ${tracked.dtype}`)
  const f = momentum ?? 1 / steps
  return noGrad(() => {
    const blend = (run: Tensor, batch: Tensor): Tensor => astype(add(mul(run, 1 - f), mul(stopGradient(batch), f)), run.dtype)
    return state
      .set('running_mean', blend(rm, mu))
      .set('running_var', blend(rv, mul(biasedVar, count / (count - 1))))
      .set('num_batches_tracked', tensor(steps, { dtype: 'int32' }))
  })
}

/**
 * Batch normalisation over `[N, C]` or `[N, C, L]`, as `nn.BatchNorm1d`: statistics per
 * channel over the batch (and length). Parameters `weight`, `bias` `[C]`; state from
 * `initState()`. See {@link BatchNormLayer}.
 */
export function batchNorm1d(options: BatchNormOptions): BatchNormLayer {
  return batchNorm('batchNorm1d', [2, 3], '[N, C] or [N, C, L]', options)
}

/** Batch normalisation over `[N, C, H, W]`, as `nn.BatchNorm2d`: statistics per channel over batch, height and width. */
export function batchNorm2d(options: BatchNormOptions): BatchNormLayer {
  return batchNorm('batchNorm2d', [4], '[N, C, H, W]', options)
}

/** Options of {@link groupNorm}: `nn.GroupNorm`'s arguments in camelCase. */
export interface GroupNormOptions {
  /** Number of groups the channels are split into; must divide `numChannels`. */
  numGroups: number
  /** Number of channels C (the input's dimension 1). */
  numChannels: number
  /** Added to the variance for stability (default 1e-5). */
  eps?: number
  /** Learn a per-channel `weight` (ones) and `bias` (zeros) (default true). */
  affine?: boolean
  /** Parameter dtype (default float32). */
  dtype?: DType
}

/**
 * Group normalisation, as `nn.GroupNorm`: an input `[N, C, *]` is normalised per sample over
 * each group of `C / numGroups` channels (and all positions), with the biased variance, then
 * scaled and shifted per channel. Parameters `weight`, `bias` `[C]`. No running statistics.
 */
export function groupNorm(options: GroupNormOptions): Layer {
  const W = 'groupNorm'
  checkOptions(options, { numGroups: true, numChannels: true, eps: true, affine: true, dtype: true }, W)
  const g = checkSize(options.numGroups, 'numGroups', W)
  const c = checkSize(options.numChannels, 'numChannels', W)
  if (c % g !== 0) throw new ArgumentError(`${W}: numChannels=${c} must be divisible by numGroups=${g}`)
  const eps = checkEps(options.eps ?? 1e-5, W)
  const affine = options.affine ?? true
  const dtype = options.dtype ?? 'float32'
  return {
    init: () => (affine ? OrderedMap({ weight: ones([c], { dtype }), bias: zeros([c], { dtype }) }) : OrderedMap()) as Params,
    apply(params, x) {
      checkInput(x, W)
      if (x.rank < 2 || x.shape[1] !== c) throw new ShapeError(`${W}: expected an input [N, C, *] with C = numChannels = ${c}, got shape ${fmtShape(x.shape)}`)
      const grouped = reshape(x, [x.shape[0], g, -1])
      const centered = sub(grouped, mean(grouped, [2], true))
      const y = reshape(div(centered, sqrt(add(variance(grouped, [2], { correction: 0, keepdims: true }), eps))), x.shape)
      if (!affine) return y
      return add(mul(y, perChannel(param(params, 'weight', W), x.rank)), perChannel(param(params, 'bias', W), x.rank))
    },
  }
}

/** Gradient-check specs: batch norm in training mode (batch statistics) and eval mode (given running statistics), group norm. */
export const batchNormSpecs: Record<string, GradSpec> = {
  batchNormTrain: {
    sample: (s: CaseSampler) => {
      const c = s.int(1, 3)
      const shape = s.coin() ? [s.int(2, 4), c] : [s.int(1, 3), c, s.int(2, 3)]
      const layer = batchNorm1d({ numFeatures: c, dtype: 'float64' })
      const [x, w, b] = [s.values(shape), s.values([c]), s.values([c])]
      const fn = (xi: Tensor, wi: Tensor, bi: Tensor): Tensor =>
        layer.apply(OrderedMap({ weight: wi, bias: bi }) as Params, xi, { train: true, state: layer.initState() }).output
      return { inputs: [x, w, b], fn, label: `train ${fmtShape(shape)}` }
    },
  },
  batchNormEval: {
    sample: (s: CaseSampler) => {
      const c = s.int(1, 3)
      const layer = batchNorm2d({ numFeatures: c, dtype: 'float64' })
      const shape = [s.int(1, 2), c, s.int(1, 3), s.int(1, 3)]
      const state = OrderedMap({
        running_mean: s.values([c]),
        running_var: s.values([c], { min: 0.5, max: 2 }),
        num_batches_tracked: tensor(3, { dtype: 'int32' }),
      }) as Params
      const [x, w, b] = [s.values(shape), s.values([c]), s.values([c])]
      const fn = (xi: Tensor, wi: Tensor, bi: Tensor): Tensor => layer.apply(OrderedMap({ weight: wi, bias: bi }) as Params, xi, { state }).output
      return { inputs: [x, w, b], fn, label: `eval ${fmtShape(shape)}` }
    },
  },
  groupNorm: {
    sample: (s: CaseSampler) => {
      const g = s.int(1, 2)
      const c = g * s.int(1, 2)
      const shape = [s.int(1, 2), c, ...s.shape({ maxRank: 2, maxDim: 3 })]
      if (shape.slice(2).reduce((a, d) => a * d, c / g) < 2) shape.push(2)
      const layer = groupNorm({ numGroups: g, numChannels: c, dtype: 'float64' })
      const [x, w, b] = [s.values(shape), s.values([c]), s.values([c])]
      const fn = (xi: Tensor, wi: Tensor, bi: Tensor): Tensor => layer.apply(OrderedMap({ weight: wi, bias: bi }) as Params, xi)
      return { inputs: [x, w, b], fn, label: `${fmtShape(shape)} in ${g} groups` }
    },
  },
}
