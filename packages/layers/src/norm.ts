/**
 * Layer normalisation, as `nn.LayerNorm`: normalise over the trailing `normalizedShape`
 * dimensions with the biased variance, then scale by `weight` and shift by `bias`.
 * @module
 */
import { ArgumentError, ShapeError, add, div, fmtShape, mean, mul, ones, sqrt, sub, variance, zeros } from '@graphgrad/core'
import type { CaseSampler, DType, GradSpec, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { Layer, Params } from './layer.ts'
import { checkInput, checkOptions, param } from './compose.ts'

/** Options of {@link layerNorm}, as `nn.LayerNorm`'s. */
export interface LayerNormOptions {
  /** The trailing dimensions to normalise over: a size or a list of sizes. */
  normalizedShape: number | readonly number[]
  /** Added to the variance for stability (default 1e-5). */
  eps?: number
  /** Learn a per-element `weight` (ones) and `bias` (zeros) (default true). */
  elementwiseAffine?: boolean
  /** Parameter dtype (default float32). */
  dtype?: DType
}

/** A layer-normalisation layer; parameters `weight` and `bias` of shape `normalizedShape`. */
export function layerNorm(options: LayerNormOptions): Layer {
  checkOptions(options, { normalizedShape: true, eps: true, elementwiseAffine: true, dtype: true }, 'layerNorm')
  const shape = typeof options.normalizedShape === 'number' ? [options.normalizedShape] : [...options.normalizedShape]
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new ArgumentError(`layerNorm: normalizedShape must be positive integers, got ${fmtShape(shape)}`)
  }
  const eps = options.eps ?? 1e-5
  const affine = options.elementwiseAffine ?? true
  const dtype = options.dtype ?? 'float32'
  const k = shape.length
  return {
    init: () => (affine ? OrderedMap({ weight: ones(shape, { dtype }), bias: zeros(shape, { dtype }) }) : OrderedMap()) as Params,
    apply(params, x) {
      checkInput(x, 'layerNorm')
      const tail = x.shape.slice(x.rank - k)
      if (x.rank < k || tail.some((d, i) => d !== shape[i])) {
        throw new ShapeError(`layerNorm: expected an input whose trailing dimensions are ${fmtShape(shape)}, got shape ${fmtShape(x.shape)}`)
      }
      const axes = shape.map((_, i) => x.rank - k + i)
      const centered = sub(x, mean(x, axes, true))
      const y = div(centered, sqrt(add(variance(x, axes, { correction: 0, keepdims: true }), eps)))
      if (!affine) return y
      return add(mul(y, param(params, 'weight', 'layerNorm')), param(params, 'bias', 'layerNorm'))
    },
  }
}

/** Gradient-check spec: input, weight and bias, over one or two trailing dimensions. */
export const normSpecs: Record<string, GradSpec> = {
  layerNorm: {
    sample: (s: CaseSampler) => {
      const norm = s.shape({ minRank: 1, maxRank: 2, minDim: 2, maxDim: 4 })
      const lead = s.shape({ maxRank: 2, maxDim: 3 })
      const x = s.values([...lead, ...norm])
      const w = s.values(norm)
      const b = s.values(norm)
      const layer = layerNorm({ normalizedShape: norm, dtype: 'float64' })
      const fn = (xi: Tensor, wi: Tensor, bi: Tensor): Tensor => layer.apply(OrderedMap({ weight: wi, bias: bi }) as Params, xi)
      return { inputs: [x, w, b], fn, label: `${fmtShape(x.shape)} over ${fmtShape(norm)}` }
    },
  },
}
