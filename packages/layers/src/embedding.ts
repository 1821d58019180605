/**
 * A lookup table, as `nn.Embedding`: integer ids of any shape pick rows of `weight`
 * [numEmbeddings, embeddingDim]. The row at `paddingIdx` starts at zero and gets no gradient.
 * @module
 */
import { ArgumentError, DTypeError, equal, fmtShape, indexSelect, mul, notEqual, stopGradient, tensor, unsqueeze, where } from '@graphgrad/core'
import type { CaseSampler, DType, GradSpec, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { Layer, Params } from './layer.ts'
import { checkInput, checkOptions, checkSize, param } from './compose.ts'
import { type Initializer, normalInit } from './init.ts'

/** Options of {@link embedding}: `nn.Embedding`'s arguments in camelCase, plus dtype and initialiser. */
export interface EmbeddingOptions {
  /** Size of the vocabulary (rows of `weight`). */
  numEmbeddings: number
  /** Size of each embedding vector (columns of `weight`). */
  embeddingDim: number
  /**
   * A row that stays fixed: it is zero after `init` and receives no gradient (negative
   * values count from the end, as PyTorch).
   */
  paddingIdx?: number
  /** Parameter dtype (default float32). */
  dtype?: DType
  /** Weight initialiser; default PyTorch's N(0, 1) (then the padding row is zeroed). */
  weightInit?: Initializer
}

/**
 * An embedding layer: `apply(params, ids)` maps int32 `ids` of any shape to
 * `[...ids.shape, embeddingDim]`. Parameter `weight` `[numEmbeddings, embeddingDim]`.
 */
export function embedding(options: EmbeddingOptions): Layer {
  checkOptions(options, { numEmbeddings: true, embeddingDim: true, paddingIdx: true, dtype: true, weightInit: true }, 'embedding')
  const num = checkSize(options.numEmbeddings, 'numEmbeddings', 'embedding')
  const dim = checkSize(options.embeddingDim, 'embeddingDim', 'embedding', true)
  const dtype = options.dtype ?? 'float32'
  let pad = options.paddingIdx
  if (pad !== undefined) {
    if (!Number.isInteger(pad) || pad < -num || pad >= num) {
      throw new ArgumentError(`embedding: paddingIdx must be an integer in [-${num}, ${num}), got ${pad}`)
    }
    if (pad < 0) pad += num
  }
  const padIdx = pad
  const init = options.weightInit ?? normalInit(0, 1)
  return {
    init(seed) {
      let weight = init([num, dim], seed, { dtype })
      if (padIdx !== undefined) {
        const data = Float64Array.from(weight.data)
        data.fill(0, padIdx * dim, (padIdx + 1) * dim)
        weight = tensor(data, { shape: [num, dim], dtype })
      }
      return OrderedMap({ weight }) as Params
    },
    apply(params, ids) {
      checkInput(ids, 'embedding', 'ids')
      if (ids.dtype !== 'int32') throw new DTypeError(`embedding: ids must be an int32 tensor, got ${ids.dtype} of shape ${fmtShape(ids.shape)}`)
      const data = ids.data
      for (let i = 0; i < data.length; i++) {
        if (data[i] < 0 || data[i] >= num)
          throw new ArgumentError(`embedding: id ${data[i]} is out of range for numEmbeddings=${num}; ids must be in [0, ${num})`)
      }
      const w = param(params, 'weight', 'embedding')
      if (w.rank !== 2 || w.shape[0] !== num || w.shape[1] !== dim) {
        throw new ArgumentError(`embedding: weight must have shape ${fmtShape([num, dim])}, got ${fmtShape(w.shape)}`)
      }
      const y = indexSelect(w, 0, ids)
      if (padIdx === undefined) return y
      // The padding row's value is used (it may have been loaded non-zero) but never trained.
      return where(unsqueeze(equal(ids, padIdx), -1), stopGradient(y), y)
    },
  }
}

/** Gradient-check specs: with respect to the weight, with repeated ids, with and without a padding row. */
export const embeddingSpecs: Record<string, GradSpec> = {
  embedding: {
    sample: (s: CaseSampler) => {
      const num = s.int(1, 5)
      const dim = s.int(1, 3)
      const ids = s.indices(s.shape({ maxRank: 2, maxDim: 4 }), 0, num)
      const w = s.values([num, dim])
      const paddingIdx = s.coin(0.5) ? s.int(0, num - 1) : undefined
      const layer = embedding({ numEmbeddings: num, embeddingDim: dim, paddingIdx, dtype: 'float64' })
      // The padding row is read but gets no gradient (PyTorch's rule, not the derivative), so
      // the check masks the outputs that read it: then both sides see a zero there.
      const keep = paddingIdx === undefined ? undefined : unsqueeze(notEqual(ids, paddingIdx), -1)
      const fn = (wi: Tensor): Tensor => {
        const y = layer.apply(OrderedMap({ weight: wi }) as Params, ids)
        return keep === undefined ? y : mul(y, keep)
      }
      return {
        inputs: [w],
        fn,
        label: `weight ${fmtShape(w.shape)}, ids ${fmtShape(ids.shape)}${paddingIdx === undefined ? '' : `, paddingIdx ${paddingIdx}`}`,
      }
    },
  },
}
