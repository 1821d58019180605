/**
 * The affine layer `y = x W^T + b`, as `nn.Linear`, with PyTorch's parameter names,
 * shapes (`weight` [out, in], `bias` [out]) and default initialisation.
 * @module
 */
import { ShapeError, add, fmtShape, foldIn, transpose, matmul } from '@graphgrad/core'
import type { CaseSampler, DType, GradSpec, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { Layer, Params } from './layer.ts'
import { checkInput, checkOptions, checkSize, param } from './compose.ts'
import { type Initializer, kaimingUniform, uniformInit } from './init.ts'

/** Options of {@link linear}: `nn.Linear`'s arguments in camelCase, plus dtype and initialisers. */
export interface LinearOptions {
  /** Size of each input sample (the input's last dimension). */
  inFeatures: number
  /** Size of each output sample. */
  outFeatures: number
  /** Learn an additive bias (default true). */
  bias?: boolean
  /** Parameter dtype (default float32). */
  dtype?: DType
  /** Weight initialiser; default PyTorch's, `kaimingUniform` with `a = sqrt(5)`, i.e. U(-1/sqrt(in), 1/sqrt(in)). */
  weightInit?: Initializer
  /** Bias initialiser; default PyTorch's U(-1/sqrt(in), 1/sqrt(in)). */
  biasInit?: Initializer
}

/**
 * A fully connected layer: `apply(params, x)` maps `x` of shape `[..., inFeatures]` to
 * `[..., outFeatures]` as `x W^T + b`. Parameters `weight` `[outFeatures, inFeatures]` and
 * (unless `bias: false`) `bias` `[outFeatures]`.
 */
export function linear(options: LinearOptions): Layer {
  checkOptions(options, { inFeatures: true, outFeatures: true, bias: true, dtype: true, weightInit: true, biasInit: true }, 'linear')
  const inF = checkSize(options.inFeatures, 'inFeatures', 'linear', true)
  const outF = checkSize(options.outFeatures, 'outFeatures', 'linear', true)
  const hasBias = options.bias ?? true
  const dtype = options.dtype ?? 'float32'
  const bound = inF > 0 ? 1 / Math.sqrt(inF) : 0
  const weightInit = options.weightInit ?? ((shape, seed, o) => kaimingUniform(shape, seed, { ...o, a: Math.sqrt(5) }))
  const biasInit = options.biasInit ?? uniformInit(bound)
  return {
    init(seed) {
      const weight = weightInit([outF, inF], foldIn(seed, 0), { dtype })
      if (!hasBias) return OrderedMap({ weight }) as Params
      return OrderedMap({ weight, bias: biasInit([outF], foldIn(seed, 1), { dtype }) }) as Params
    },
    apply(params, x) {
      checkInput(x, 'linear')
      if (x.rank === 0 || x.shape[x.rank - 1] !== inF) {
        throw new ShapeError(`linear: expected an input whose last dimension is inFeatures=${inF}, got shape ${fmtShape(x.shape)}`)
      }
      const w = param(params, 'weight', 'linear')
      if (w.rank !== 2 || w.shape[0] !== outF || w.shape[1] !== inF) {
        throw new ShapeError(`linear: weight must have shape ${fmtShape([outF, inF])}, got ${fmtShape(w.shape)}`)
      }
      const y = matmul(x, transpose(w))
      return hasBias ? add(y, param(params, 'bias', 'linear')) : y
    },
  }
}

/** Gradient-check specs: input, weight and bias, any number of leading dimensions. */
export const linearSpecs: Record<string, GradSpec> = {
  linear: {
    sample: (s: CaseSampler) => {
      const inF = s.int(1, 4)
      const outF = s.int(1, 4)
      const x = s.values([...s.shape({ maxRank: 2, maxDim: 3 }), inF])
      const w = s.values([outF, inF])
      const b = s.values([outF])
      const layer = linear({ inFeatures: inF, outFeatures: outF, dtype: 'float64' })
      const fn = (xi: Tensor, wi: Tensor, bi: Tensor): Tensor => layer.apply(OrderedMap({ weight: wi, bias: bi }) as Params, xi)
      return { inputs: [x, w, b], fn, label: `x ${fmtShape(x.shape)}, weight ${fmtShape(w.shape)}` }
    },
  },
  linearNoBias: {
    sample: (s: CaseSampler) => {
      const inF = s.int(1, 4)
      const outF = s.int(1, 4)
      const x = s.values([s.int(1, 3), inF])
      const w = s.values([outF, inF])
      const layer = linear({ inFeatures: inF, outFeatures: outF, bias: false, dtype: 'float64' })
      const fn = (xi: Tensor, wi: Tensor): Tensor => layer.apply(OrderedMap({ weight: wi }) as Params, xi)
      return { inputs: [x, w], fn, label: `x ${fmtShape(x.shape)}, weight ${fmtShape(w.shape)}, no bias` }
    },
  },
}
