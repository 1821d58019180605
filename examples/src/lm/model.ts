/**
 * The character language model: an embedding of each character, a stack of LSTM layers,
 * and a linear head that scores every character of the vocabulary as the next one. Built
 * from @graphgrad/layers; parameters nest by sub-layer, so their dotted names are the
 * state_dict names PyTorch's `nn.Embedding` / `nn.LSTM` / `nn.Linear` would have.
 * @module
 */
import { OrderedMap } from 'immutable'
import { type Seed, Tensor, foldIn } from '@graphgrad/core'
import { type Params, embedding, linear, lstm } from '@graphgrad/layers'

/** The sizes that define a model (stored in checkpoints; a checkpoint loads only into the same sizes). */
export interface ModelConfig {
  /** Characters in the vocabulary (inputs and outputs). */
  readonly vocabSize: number
  /** Width of the character embedding. */
  readonly embedDim: number
  /** Hidden size of every LSTM layer. */
  readonly hidden: number
  /** Stacked LSTM layers. */
  readonly layers: number
  /** Dropout between LSTM layers while training (0 to 1). */
  readonly dropout: number
}

/** The LSTM's state, [layers, rows, hidden] each: what one window hands to the next. */
export interface LstmState {
  /** Hidden state. */
  readonly h: Tensor
  /** Cell state. */
  readonly c: Tensor
}

/** What the model computes for a window. */
interface ModelOutput {
  /** Scores of the next character, [rows, seq, vocabSize]. */
  readonly logits: Tensor
  /** The LSTM state after the window's last character. */
  readonly state: LstmState
}

/** Per-call options of {@link CharModel.apply}. */
interface CharModelApplyOptions {
  /** Training mode (dropout active when the config has any). */
  readonly train?: boolean
  /** Where dropout draws its masks from (needed when training with dropout). */
  readonly key?: Seed
}

/** The model as pure functions of its parameters. */
export interface CharModel {
  /** Its sizes. */
  readonly config: ModelConfig
  /** Fresh parameters `{ embed, lstm, head }`, every draw from `seed`. */
  init(seed: Seed): Params
  /** Runs tokens [rows, seq] from `state` (zeros when absent). */
  apply(params: Params, tokens: Tensor, state?: LstmState, options?: CharModelApplyOptions): ModelOutput
}

/** Builds the model of a config. */
export function charModel(config: ModelConfig): CharModel {
  const embed = embedding({ numEmbeddings: config.vocabSize, embeddingDim: config.embedDim })
  const rnn = lstm({ inputSize: config.embedDim, hiddenSize: config.hidden, numLayers: config.layers, dropout: config.dropout, batchFirst: true })
  const head = linear({ inFeatures: config.hidden, outFeatures: config.vocabSize })
  return {
    config,
    init(seed) {
      return OrderedMap({ embed: embed.init(foldIn(seed, 0)), lstm: rnn.init(foldIn(seed, 1)), head: head.init(foldIn(seed, 2)) }) as Params
    },
    apply(params, tokens, state, options = {}) {
      const x = embed.apply(params.get('embed') as Params, tokens)
      const out = rnn.apply(params.get('lstm') as Params, x, { h0: state?.h, c0: state?.c, train: options.train, key: options.key })
      return { logits: head.apply(params.get('head') as Params, out.output), state: { h: out.hN, c: out.cN } }
    },
  }
}

/** Number of trainable scalars. */
export function parameterCount(params: Params): number {
  let n = 0
  for (const v of params.values()) n += v instanceof Tensor ? v.size : parameterCount(v)
  return n
}
