/**
 * The transformer beside the LSTM: token embeddings plus sinusoidal positions, a stack of
 * `transformerEncoderLayer`s over the input (padding masked), a stack of
 * `transformerDecoderLayer`s over the output so far (causal) attending to the encoder's
 * output, and a linear head; post-norm layers, as `nn.Transformer`'s defaults. Decoding
 * re-runs the decoder over the whole prefix at each step (outputs are 11 characters long, so a
 * key-value cache would save little).
 * @module
 */
import { type Tensor, add, indexSelect, logSoftmax, reshape, select, tensor } from '@graphgrad/core'
import {
  type ModelParams,
  type TransformerDecoderInputs,
  crossEntropy,
  embedding,
  linear,
  model,
  sinusoidalPositionalEncoding,
  transformerDecoderLayer,
  transformerEncoderLayer,
} from '@graphgrad/layers'
import { type Batch, type Seq2SeqModel, rowIndex } from './model.ts'
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

/** The sub-layers of the transformer: the encoder and the decoder are models of their numbered layers. */
function transformerLayers(config: TransformerConfig) {
  const D = config.dModel
  const layerOptions = { dModel: D, nhead: config.heads, dimFeedforward: config.feedforward, dropout: config.dropout, batchFirst: true }
  const numbered = <L>(make: () => L): Record<string, L> => Object.fromEntries(Array.from({ length: config.layers }, (_, i) => [String(i), make()]))
  // Each layer gets the stack's train flag and its own dropout key, derived from its position.
  const encoder = model(
    numbered(() => transformerEncoderLayer(layerOptions)),
    (m) => ({
      apply: (x: Tensor, options: { srcKeyPaddingMask: Tensor }): Tensor =>
        Object.values(m).reduce((y, layer) => layer(y, { srcKeyPaddingMask: options.srcKeyPaddingMask }), x),
    }),
  )
  const decoder = model(
    numbered(() => transformerDecoderLayer(layerOptions)),
    (m) => ({
      apply: (input: TransformerDecoderInputs, options: { memoryKeyPaddingMask: Tensor }): Tensor =>
        Object.values(m).reduce(
          (y, layer) => layer({ tgt: y, memory: input.memory }, { tgtIsCausal: true, memoryKeyPaddingMask: options.memoryKeyPaddingMask }),
          input.tgt,
        ),
    }),
  )
  return {
    src_embed: embedding({ numEmbeddings: config.sourceVocabulary, embeddingDim: D, paddingIdx: PAD }),
    tgt_embed: embedding({ numEmbeddings: config.targetVocabulary, embeddingDim: D, paddingIdx: PAD }),
    encoder,
    decoder,
    head: linear({ inFeatures: D, outFeatures: config.targetVocabulary }),
  }
}

/** The parameters of the transformer: `get('encoder')` is the encoder stack's, and so on. */
export type TransformerParams = ModelParams<ReturnType<typeof transformerLayers>>

/** Builds the transformer encoder-decoder, a `model` of the layers above with its methods. */
export function transformerModel(config: TransformerConfig): Seq2SeqModel<TransformerMemory, TransformerState, TransformerParams> {
  const { dModel: D, targetVocabulary: V } = config
  const net = model(transformerLayers(config), (m) => {
    const positions = (ids: Tensor): Tensor => sinusoidalPositionalEncoding(ids.shape[1], D)
    const encode = (source: Tensor, lengths: readonly number[]): TransformerMemory => {
      const padding = paddingMask(lengths, source.shape[1])
      return { memory: m.encoder(add(m.src_embed(source), positions(source)), { srcKeyPaddingMask: padding }), padding }
    }
    /** Logits `[B, T, V]` of every position of the target prefix `ids` `[B, T]`. */
    const decode = (memory: TransformerMemory, ids: Tensor): Tensor =>
      m.head(m.decoder({ tgt: add(m.tgt_embed(ids), positions(ids)), memory: memory.memory }, { memoryKeyPaddingMask: memory.padding }))
    return {
      encode,
      decode,
      loss: (batch: Batch): Tensor =>
        crossEntropy(reshape(decode(encode(batch.source, batch.lengths), batch.targetIn), [-1, V]), reshape(batch.targetOut, [-1]), { ignoreIndex: PAD }),
    }
  })
  return {
    name: 'transformer',
    describe: `transformer, ${config.layers} encoder + ${config.layers} decoder layers, d_model ${D}, ${config.heads} heads, feed-forward ${config.feedforward}, dropout ${config.dropout}`,
    init: (seed) => net.init(seed),
    // Training binds the model with { train, key }: every dropout site draws from the step's key.
    loss: (params, batch, options = {}) => net.bind(params, options).loss(batch),
    encode: (params, source, lengths) => net.encode(params, source, lengths),
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
      const logits = net.decode(params, memory, tensor(ids, { shape: [rows, steps], dtype: 'int32' }))
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
