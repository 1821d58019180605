/**
 * Dropout, as `nn.Dropout`: in training mode each element is zeroed with probability `p`
 * and the survivors are scaled by `1 / (1 - p)`; in eval mode it is the identity. The mask
 * comes from an explicit key, so a training step is reproducible.
 * @module
 */
import { ArgumentError, RandomStream, fmtShape, key as makeKey, mul, tensor } from '@graphgrad/core'
import type { CaseSampler, GradSpec, Seed, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { ApplyOptions, Layer, Params } from './layer.ts'
import { checkInput, checkOptions } from './compose.ts'

/** Options of {@link dropout}, as `nn.Dropout`'s. */
export interface DropoutOptions {
  /** Probability of zeroing an element (default 0.5). */
  p?: number
}

/** Options of {@link applyDropout}. */
export interface DropoutCallOptions extends ApplyOptions {
  /** Probability of zeroing an element. */
  p: number
}

function checkP(p: number, where: string): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ArgumentError(`${where}: p must be a probability in [0, 1], got ${String(p)}`)
  return p
}

/**
 * The dropout mask for `shape` drawn from `key`: 0 with probability `p`, `1 / (1 - p)`
 * otherwise (all zeros when `p` is 1, as PyTorch).
 */
export function dropoutMask(shape: readonly number[], p: number, key: Seed, dtype: Tensor['dtype'] = 'float32'): Tensor {
  checkP(p, 'dropoutMask')
  const rng = new RandomStream(key)
  let n = 1
  for (const d of shape) n *= d
  const out = new Float64Array(n)
  const scale = p === 1 ? 0 : 1 / (1 - p)
  for (let i = 0; i < n; i++) out[i] = rng.nextFloat() < p ? 0 : scale
  return tensor(out, { shape, dtype })
}

/**
 * Functional dropout (`F.dropout`): the identity unless `train` is true and `p > 0`, in
 * which case `key` is required and `x` is multiplied by {@link dropoutMask}.
 */
export function applyDropout(x: Tensor, options: DropoutCallOptions): Tensor {
  // Checked in eval mode too, where x is returned as it is: a plain array would only fail later, elsewhere.
  checkInput(x, 'dropout')
  const p = checkP(options.p, 'dropout')
  if (!options.train || p === 0) return x
  if (options.key === undefined) throw new ArgumentError('dropout: training mode with p > 0 needs a key (pass { train: true, key })')
  return mul(x, dropoutMask(x.shape, p, options.key, x.dtype))
}

/** A dropout layer (no parameters). `apply(params, x, { train, key })`; eval mode by default. */
export function dropout(options: DropoutOptions = {}): Layer {
  checkOptions(options, { p: true }, 'dropout')
  const p = checkP(options.p ?? 0.5, 'dropout')
  return {
    init: () => OrderedMap() as Params,
    apply: (_params, x, call = {}) => applyDropout(x, { ...call, p }),
  }
}

/** Gradient-check specs: eval mode is the identity; train mode with a fixed key is a fixed mask times a scale. */
export const dropoutSpecs: Record<string, GradSpec> = {
  dropoutEval: {
    sample: (s: CaseSampler) => {
      const x = s.values(s.shape({ minRank: 1 }))
      const layer = dropout({ p: s.float(0, 0.9) })
      return { inputs: [x], fn: (t: Tensor) => layer.apply(OrderedMap() as Params, t), label: `eval ${fmtShape(x.shape)}` }
    },
  },
  dropoutTrain: {
    sample: (s: CaseSampler) => {
      const x = s.values(s.shape({ minRank: 1, maxDim: 5 }))
      const p = s.pick([0.1, 0.5, 0.8])
      const k = makeKey(s.int(0, 1000))
      const layer = dropout({ p })
      return { inputs: [x], fn: (t: Tensor) => layer.apply(OrderedMap() as Params, t, { train: true, key: k }), label: `train p=${p} ${fmtShape(x.shape)}` }
    },
  },
}
