/**
 * The LSTM encoder-decoder with Luong attention (Luong, Pham and Manning, 2015, "global
 * attention" with the `general` score). A bidirectional LSTM reads the input (two directions of
 * `hidden / 2`, so each output is `hidden` wide); the decoder LSTM starts from the encoder's
 * final states (forward and backward side by side) and reads the previous output character;
 * at each step its state scores every input position, the weighted sum of the encoder outputs
 * is the context `c`, and the output layer reads `tanh(W_c [c; h])`. Training runs the decoder
 * over the whole target at once (teacher forcing) and attends step by step.
 * @module
 */
import { type Tensor, concat, indexSelect, logSoftmax, reshape, select, stack, tanh, tensor, unsqueeze } from '@graphgrad/core'
import { type ModelParams, crossEntropy, embedding, linear, lstm, luongAttention, model } from '@graphgrad/layers'
import { type Batch, type Seq2SeqModel, type StepResult, rowIndex } from './model.ts'
import { PAD } from './vocab.ts'

/** The sizes of the LSTM model. */
export interface LstmConfig {
  /** Input vocabulary size. */
  readonly sourceVocabulary: number
  /** Output vocabulary size. */
  readonly targetVocabulary: number
  /** Width of the input and output embeddings. */
  readonly embedDim: number
  /** The decoder's hidden size, and the encoder's output size (`hidden / 2` per direction); even. */
  readonly hidden: number
}

/** What the encoder leaves: the attention's keys and the decoder's initial state. */
export interface LstmMemory {
  /** Encoder outputs `[B, S, hidden]`. */
  readonly keys: Tensor
  /** Each input's length: the attention gives no weight past it. */
  readonly lengths: readonly number[]
  /** The decoder's initial hidden state `[1, B, hidden]`. */
  readonly h0: Tensor
  /** The decoder's initial cell state `[1, B, hidden]`. */
  readonly c0: Tensor
}

/** The decoder LSTM's state, `[1, rows, hidden]` each. */
export interface LstmState {
  /** Hidden state. */
  readonly h: Tensor
  /** Cell state. */
  readonly c: Tensor
}

/** The sub-layers of the LSTM model; their names are the first part of the parameters' names. */
function lstmLayers(config: LstmConfig) {
  const { hidden: H, embedDim: E, targetVocabulary: V } = config
  return {
    src_embed: embedding({ numEmbeddings: config.sourceVocabulary, embeddingDim: E, paddingIdx: PAD }),
    encoder: lstm({ inputSize: E, hiddenSize: H / 2, bidirectional: true, batchFirst: true }),
    tgt_embed: embedding({ numEmbeddings: V, embeddingDim: E, paddingIdx: PAD }),
    decoder: lstm({ inputSize: E, hiddenSize: H, batchFirst: true }),
    attention: luongAttention({ querySize: H, keySize: H, method: 'general', batchFirst: true }),
    combine: linear({ inFeatures: 2 * H, outFeatures: H }),
    head: linear({ inFeatures: H, outFeatures: V }),
  }
}

/** The parameters of the LSTM model: `get('encoder')` is the encoder's, and so on. */
export type LstmParams = ModelParams<ReturnType<typeof lstmLayers>>

/** Builds the LSTM encoder-decoder with Luong attention, a `model` of the layers above with its methods. */
export function lstmAttentionModel(config: LstmConfig): Seq2SeqModel<LstmMemory, LstmState, LstmParams> {
  const { hidden: H, embedDim: E, targetVocabulary: V } = config
  if (!Number.isInteger(H / 2) || H < 2) throw new RangeError(`lstmAttentionModel: hidden must be even (two encoder directions of hidden / 2), got ${H}`)
  const net = model(lstmLayers(config), (m) => {
    const encode = (source: Tensor, lengths: readonly number[]): LstmMemory => {
      const { output, hN, cN } = m.encoder(m.src_embed(source), { lengths })
      // [2, B, H/2] (forward, backward) -> [1, B, H]: both directions' final states side by side.
      const joined = (s: Tensor): Tensor => unsqueeze(concat([select(s, 0, 0), select(s, 0, 1)], -1), 0)
      return { keys: output, lengths, h0: joined(hN), c0: joined(cN) }
    }
    /** The context of a decoder output `[B, H]` at one step, and the attention weights. */
    const attend = (memory: LstmMemory, query: Tensor): { context: Tensor; weights: Tensor } =>
      m.attention({ query, key: memory.keys }, { lengths: memory.lengths })
    /** Logits from the decoder outputs and their contexts (any leading dimensions). */
    const readout = (context: Tensor, output: Tensor): Tensor => m.head(tanh(m.combine(concat([context, output], -1))))
    return {
      encode,
      loss(batch: Batch): Tensor {
        const memory = encode(batch.source, batch.lengths)
        const { output } = m.decoder(m.tgt_embed(batch.targetIn), { h0: memory.h0, c0: memory.c0 })
        const contexts = stack(
          Array.from({ length: output.shape[1] }, (_, t) => attend(memory, select(output, 1, t)).context),
          1,
        )
        return crossEntropy(reshape(readout(contexts, output), [-1, V]), reshape(batch.targetOut, [-1]), { ignoreIndex: PAD })
      },
      step(memory: LstmMemory, state: LstmState, tokens: Int32Array): StepResult<LstmState> {
        const x = m.tgt_embed(tensor(tokens, { shape: [tokens.length, 1], dtype: 'int32' }))
        const { output, hN, cN } = m.decoder(x, { h0: state.h, c0: state.c })
        const query = select(output, 1, 0)
        const { context, weights } = attend(memory, query)
        return { logProbs: logSoftmax(readout(context, query), -1).data as Float32Array, state: { h: hN, c: cN }, attention: weights.data as Float32Array }
      },
    }
  })
  return {
    name: 'lstm',
    describe: `bidirectional LSTM encoder (2 x ${H / 2}), LSTM decoder (${H}), Luong general attention, embeddings ${E}`,
    init: (seed) => net.init(seed),
    loss: (params, batch, options = {}) => net.bind(params, options).loss(batch),
    encode: (params, source, lengths) => net.encode(params, source, lengths),
    selectMemory(memory, rows) {
      const index = rowIndex(rows)
      return {
        keys: indexSelect(memory.keys, 0, index),
        lengths: Array.from(rows, (r) => memory.lengths[r]),
        h0: indexSelect(memory.h0, 1, index),
        c0: indexSelect(memory.c0, 1, index),
      }
    },
    start: (_params, memory) => ({ h: memory.h0, c: memory.c0 }),
    step: (params, memory, state, tokens) => net.step(params, memory, state, tokens),
    selectState(state, rows) {
      const index = rowIndex(rows)
      return { h: indexSelect(state.h, 1, index), c: indexSelect(state.c, 1, index) }
    },
  }
}
