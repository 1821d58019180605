/**
 * The transformer beside the LSTM: token embeddings plus sinusoidal positions, a stack of
 * `transformerEncoderLayer`s over the input (padding masked), a stack of
 * `transformerDecoderLayer`s over the output so far (causal) attending to the encoder's
 * output, and a linear head; post-norm layers, as `nn.Transformer`'s defaults. Decoding
 * re-runs the decoder over the whole prefix at each step (outputs are 11 characters long, so a
 * key-value cache would save little).
 * @module
 */
import { OrderedMap } from 'immutable'
import { type Seed, type Tensor, add, foldIn, indexSelect, logSoftmax, reshape, select, tensor } from '@graphgrad/core'
import { type Params, crossEntropy, embedding, linear, sinusoidalPositionalEncoding, transformerDecoderLayer, transformerEncoderLayer } from '@graphgrad/layers'
import { type Batch, type LossOptions, type Seq2SeqModel, rowIndex } from './model.ts'
import { PAD } from './vocab.ts'

/** The sizes of the transformer. */
export interface TransformerConfig {
  /** Input vocabulary size. */
  readonly sourceVocabulary: number
  /** Output vocabulary size. */
  readonly targetVocabulary: number
  /** The model width (embeddings, attention, residual stream); a multiple of `heads`. */
  readonly dModel: number
  /** Attention heads. */
  readonly heads: number
  /** Hidden size of each feed-forward block. */
  readonly feedforward: number
  /** Encoder layers, and as many decoder layers. */
  readonly layers: number
  /** Dropout at every site while training. */
  readonly dropout: number
}

/** What the encoder leaves for the decoder. */
export interface TransformerMemory {
  /** Encoder outputs `[B, S, dModel]`. */
  readonly memory: Tensor
  /** `[B, S]` int32, non-zero at padding. */
  readonly padding: Tensor
}

/** The output so far, `rows x steps` ids, row-major (the decoder re-reads it at every step). */
export interface TransformerState {
  /** The ids fed so far. */
  readonly tokens: Int32Array
  /** Steps fed so far. */
  readonly steps: number
}

/** `[B, S]` int32, 1 past each length. */
function paddingMask(lengths: readonly number[], width: number): Tensor {
  const mask = new Int32Array(lengths.length * width)
  lengths.forEach((n, b) => mask.fill(1, b * width + n, (b + 1) * width))
  return tensor(mask, { shape: [lengths.length, width], dtype: 'int32' })
}

/** Builds the transformer encoder-decoder. */
export function transformerModel(config: TransformerConfig): Seq2SeqModel<TransformerMemory, TransformerState> {
  const { dModel: D, targetVocabulary: V } = config
  const layerOptions = { dModel: D, nhead: config.heads, dimFeedforward: config.feedforward, dropout: config.dropout, batchFirst: true }
  const encoders = Array.from({ length: config.layers }, () => transformerEncoderLayer(layerOptions))
  const decoders = Array.from({ length: config.layers }, () => transformerDecoderLayer(layerOptions))
  const srcEmbed = embedding({ numEmbeddings: config.sourceVocabulary, embeddingDim: D, paddingIdx: PAD })
  const tgtEmbed = embedding({ numEmbeddings: V, embeddingDim: D, paddingIdx: PAD })
  const head = linear({ inFeatures: D, outFeatures: V })
  const p = (params: Params, ...path: string[]): Params => path.reduce((q, name) => q.get(name) as Params, params)
  /** Embeddings plus positions, `[B, L, D]`. */
  const embed = (params: Params, name: 'src_embed' | 'tgt_embed', ids: Tensor): Tensor => {
    const layer = name === 'src_embed' ? srcEmbed : tgtEmbed
    return add(layer.apply(p(params, name), ids), sinusoidalPositionalEncoding(ids.shape[1], D))
  }
  const dropoutKey = (options: LossOptions, site: number): LossOptions =>
    options.train === true && options.key !== undefined ? { train: true, key: foldIn(options.key, site) } : {}
  const encode = (params: Params, source: Tensor, lengths: readonly number[], options: LossOptions = {}): TransformerMemory => {
    const padding = paddingMask(lengths, source.shape[1])
    let x = embed(params, 'src_embed', source)
    encoders.forEach((layer, i) => {
      x = layer.apply(p(params, 'encoder', String(i)), x, { srcKeyPaddingMask: padding, ...dropoutKey(options, i) })
    })
    return { memory: x, padding }
  }
  /** Logits `[B, T, V]` of every position of the target prefix `ids` `[B, T]`. */
  const decode = (params: Params, memory: TransformerMemory, ids: Tensor, options: LossOptions = {}): Tensor => {
    let y = embed(params, 'tgt_embed', ids)
    decoders.forEach((layer, i) => {
      y = layer.apply(p(params, 'decoder', String(i)), { tgt: y, memory: memory.memory }, { tgtIsCausal: true, memoryKeyPaddingMask: memory.padding, ...dropoutKey(options, 100 + i) })
    })
    return head.apply(p(params, 'head'), y)
  }
  const stackParams = (layers: readonly { init(seed: Seed): Params }[], seed: Seed): Params =>
    OrderedMap(layers.map((l, i) => [String(i), l.init(foldIn(seed, i))] as [string, Params])) as Params

  return {
    name: 'transformer',
    describe: `transformer, ${config.layers} encoder + ${config.layers} decoder layers, d_model ${D}, ${config.heads} heads, feed-forward ${config.feedforward}, dropout ${config.dropout}`,
    init: (seed) => OrderedMap({
      src_embed: srcEmbed.init(foldIn(seed, 0)),
      tgt_embed: tgtEmbed.init(foldIn(seed, 1)),
      encoder: stackParams(encoders, foldIn(seed, 2)),
      decoder: stackParams(decoders, foldIn(seed, 3)),
      head: head.init(foldIn(seed, 4)),
    }) as Params,
    loss(params, batch: Batch, options = {}) {
      const logits = decode(params, encode(params, batch.source, batch.lengths, options), batch.targetIn, options)
      return crossEntropy(reshape(logits, [-1, V]), reshape(batch.targetOut, [-1]), { ignoreIndex: PAD })
    },
    encode: (params, source, lengths) => encode(params, source, lengths),
    selectMemory(memory, rows) {
      const index = rowIndex(rows)
      return { memory: indexSelect(memory.memory, 0, index), padding: indexSelect(memory.padding, 0, index) }
    },
    start: () => ({ tokens: new Int32Array(0), steps: 0 }),
    step(params, memory, state, tokens) {
      const rows = tokens.length
      const steps = state.steps + 1
      const ids = new Int32Array(rows * steps)
      for (let r = 0; r < rows; r++) {
        ids.set(state.tokens.subarray(r * state.steps, (r + 1) * state.steps), r * steps)
        ids[r * steps + state.steps] = tokens[r]
      }
      const logits = decode(params, memory, tensor(ids, { shape: [rows, steps], dtype: 'int32' }))
      const logProbs = logSoftmax(select(logits, 1, steps - 1), -1).data as Float32Array
      return { logProbs, state: { tokens: ids, steps } }
    },
    selectState(state, rows) {
      const tokens = new Int32Array(rows.length * state.steps)
      rows.forEach((r, i) => tokens.set(state.tokens.subarray(r * state.steps, (r + 1) * state.steps), i * state.steps))
      return { tokens, steps: state.steps }
    },
  }
}
