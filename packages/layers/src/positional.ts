/**
 * Position information for attention models, which otherwise see a set, not a sequence:
 * the fixed sinusoidal encoding of "Attention Is All You Need" (the one of PyTorch's
 * transformer tutorial) and a learned positional embedding (as BERT's and GPT-2's).
 * @module
 */
import { ArgumentError, ShapeError, add, fmtShape, slice, tensor, unsqueeze } from '@graphgrad/core'
import type { CaseSampler, DType, GradSpec, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { ApplyOptions, Layer, Params } from './layer.ts'
import { checkInput, checkOptions, checkSize, param } from './compose.ts'
import { type Initializer, normalInit } from './init.ts'

/** Options of {@link sinusoidalPositionalEncoding}. */
export interface SinusoidalOptions {
  /** The first position (default 0), for encoding a continuation. */
  offset?: number
  /** The wavelength base (default 10000). */
  base?: number
  /** Result dtype (default float32). */
  dtype?: DType
}

/**
 * The sinusoidal positional encoding `[length, dModel]`: for position `pos` and column `j`,
 * `sin(pos * base^(-2i/dModel))` at even `j = 2i` and `cos(pos * base^(-2i/dModel))` at odd
 * `j = 2i + 1`, as PyTorch's transformer tutorial's `PositionalEncoding` (which adds it to
 * the embeddings). Computed in float64, then rounded to `dtype`. An odd `dModel` is allowed.
 */
export function sinusoidalPositionalEncoding(length: number, dModel: number, options: SinusoidalOptions = {}): Tensor {
  const W = 'sinusoidalPositionalEncoding'
  checkOptions(options, { offset: true, base: true, dtype: true }, W)
  const n = checkSize(length, 'length', W, true)
  const d = checkSize(dModel, 'dModel', W)
  const offset = checkSize(options.offset ?? 0, 'offset', W, true)
  const base = options.base ?? 10000
  if (typeof base !== 'number' || !(base > 0) || !Number.isFinite(base)) throw new ArgumentError(`${W}: base must be a positive number, got ${String(base)}`)
  const out = new Float64Array(n * d)
  const rate = -Math.log(base) / d
  for (let p = 0; p < n; p++) {
    for (let j = 0; j < d; j++) {
      const angle = (p + offset) * Math.exp((j - (j % 2)) * rate)
      out[p * d + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle)
    }
  }
  return tensor(out, { shape: [n, d], dtype: options.dtype ?? 'float32' })
}

/** Options of {@link positionalEmbedding}. */
export interface PositionalEmbeddingOptions {
  /** Number of positions (rows of `weight`): the longest sequence it can encode. */
  maxLength: number
  /** Size of each position's vector: the model size. */
  embeddingDim: number
  /** Inputs are `[batch, seq, feature]` (default false: `[seq, batch, feature]`, as the transformer layers). */
  batchFirst?: boolean
  /** Parameter dtype (default float32). */
  dtype?: DType
  /** Weight initialiser; default N(0, 1), as `nn.Embedding`. */
  weightInit?: Initializer
}

/** Per-call options of {@link positionalEmbedding}. */
export interface PositionalCallOptions extends ApplyOptions {
  /** Position of the first step (default 0), for feeding a sequence piece by piece. */
  offset?: number
}

/**
 * A learned positional embedding: `apply(params, x)` adds row `offset + t` of `weight`
 * `[maxLength, embeddingDim]` to step `t` of `x` (`[T, B, E]`, or `[B, T, E]` when
 * batch-first; also `[T, E]`), as `x + pos_emb(arange(T))` in PyTorch with an `nn.Embedding`
 * named `weight`, so such a checkpoint loads by name.
 */
export function positionalEmbedding(options: PositionalEmbeddingOptions): Layer<Tensor, Tensor, PositionalCallOptions> {
  const W = 'positionalEmbedding'
  checkOptions(options, { maxLength: true, embeddingDim: true, batchFirst: true, dtype: true, weightInit: true }, W)
  const max = checkSize(options.maxLength, 'maxLength', W)
  const e = checkSize(options.embeddingDim, 'embeddingDim', W)
  const batchFirst = options.batchFirst ?? false
  const dtype = options.dtype ?? 'float32'
  const init = options.weightInit ?? normalInit(0, 1)
  return {
    init: (seed) => OrderedMap({ weight: init([max, e], seed, { dtype }) }) as Params,
    apply(params, x, call = {}) {
      checkInput(x, W)
      const layout = batchFirst ? '[B, T, E]' : '[T, B, E]'
      if ((x.rank !== 2 && x.rank !== 3) || x.shape[x.rank - 1] !== e) {
        throw new ShapeError(`${W}: expected an input ${layout} or [T, E] with E = embeddingDim = ${e}, got shape ${fmtShape(x.shape)}`)
      }
      const offset = checkSize(call.offset ?? 0, 'offset', W, true)
      const t = x.rank === 3 && batchFirst ? x.shape[1] : x.shape[0]
      if (offset + t > max)
        throw new ArgumentError(`${W}: positions ${offset}..${offset + t - 1} of an input of shape ${fmtShape(x.shape)} are past maxLength=${max}`)
      const w = param(params, 'weight', W)
      if (w.shape.join() !== [max, e].join()) throw new ShapeError(`${W}: weight must have shape ${fmtShape([max, e])}, got ${fmtShape(w.shape)}`)
      const rows = slice(w, [{ start: offset, stop: offset + t }])
      return add(x, x.rank === 3 && !batchFirst ? unsqueeze(rows, 1) : rows)
    },
  }
}

/** Gradient-check spec: the learned embedding, with respect to the input and the weight, both layouts and an offset. */
export const positionalSpecs: Record<string, GradSpec> = {
  positionalEmbedding: {
    sample: (s: CaseSampler) => {
      const [t, b, e] = [s.int(1, 3), s.int(1, 2), s.int(1, 3)]
      const offset = s.int(0, 2)
      const batchFirst = s.coin()
      const max = t + offset + s.int(0, 1)
      const layer = positionalEmbedding({ maxLength: max, embeddingDim: e, batchFirst, dtype: 'float64' })
      const x = s.values(batchFirst ? [b, t, e] : [t, b, e])
      const w = s.values([max, e])
      const fn = (xi: Tensor, wi: Tensor): Tensor => layer.apply(OrderedMap({ weight: wi }) as Params, xi, { offset })
      return { inputs: [x, w], fn, label: `${fmtShape(x.shape)}${batchFirst ? ' batch-first' : ''}, offset ${offset}` }
    },
  },
}
