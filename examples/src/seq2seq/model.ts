/**
 * What the two models share: a batch of padded sequences, and the interface the training
 * loop and the decoders (greedy, beam search) work through, so that the LSTM with attention
 * and the transformer are trained, decoded and scored by the same code.
 * @module
 */
import { type Seed, type Tensor, padSequences, tensor } from '@graphgrad/core'
import type { Params } from '@graphgrad/layers'
import { BOS, PAD } from './vocab.ts'

/** A batch as the models take it, batch-first. */
export interface Batch {
  /** Input ids `[B, S]`, padded with {@link PAD}. */
  readonly source: Tensor
  /** Each input's length (as the recurrent layers' `lengths`). */
  readonly lengths: readonly number[]
  /** The decoder's inputs `[B, T]` (teacher forcing): the start token, then the target shifted right. */
  readonly targetIn: Tensor
  /** What the decoder must predict at each step `[B, T]`: the target and its end token, padded with {@link PAD}. */
  readonly targetOut: Tensor
}

/** Pads token sequences into a {@link Batch}: sources with `padSequences`, whose lengths go to the encoder. */
export function makeBatch(sources: readonly (readonly number[])[], targets: readonly (readonly number[])[]): Batch {
  const { padded: source, lengths } = padSequences(sources, { padValue: PAD })
  const targetIn = padSequences(
    targets.map((t) => [BOS, ...t.slice(0, -1)]),
    { padValue: PAD },
  ).padded
  const targetOut = padSequences(targets, { padValue: PAD }).padded
  return { source, lengths, targetIn, targetOut }
}

/** Per-call options of a model's loss: training mode and where dropout draws from. */
interface LossOptions {
  /** Training mode (dropout on, where a model has it). */
  readonly train?: boolean
  /** The key of this step's dropout masks. */
  readonly key?: Seed
}

/** What one decoder step gives for each row. */
export interface StepResult<S> {
  /** Log-probabilities of the next token, row-major `[rows, targetVocabulary]`. */
  readonly logProbs: Float32Array | Float64Array
  /** The state after the step's input tokens. */
  readonly state: S
  /** The attention over the input at this step, row-major `[rows, S]`, where the model exposes one. */
  readonly attention?: Float32Array | Float64Array
}

/**
 * An encoder-decoder, as pure functions of its parameters `P`. `M` is what the encoder leaves
 * for the decoder (the memory), `S` the decoder's state between steps.
 */
export interface Seq2SeqModel<M = unknown, S = unknown, P extends Params = Params> {
  /** A short name: `lstm`, `transformer`. */
  readonly name: string
  /** A one-line description of the architecture and its sizes. */
  readonly describe: string
  /** Fresh parameters, every draw from `seed`. */
  init(seed: Seed): P
  /** The mean cross-entropy of the batch's targets with teacher forcing (padding left out). */
  loss(params: P, batch: Batch, options?: LossOptions): Tensor
  /** Encodes inputs `[B, S]` of the given lengths. */
  encode(params: P, source: Tensor, lengths: readonly number[]): M
  /** The memory of the given rows, in that order (a row may repeat: beams). */
  selectMemory(memory: M, rows: Int32Array): M
  /** The decoder's state before its first input, one row per memory row. */
  start(params: P, memory: M): S
  /** One decoder step: feed one token per row, get the next token's log-probabilities. */
  step(params: P, memory: M, state: S, tokens: Int32Array): StepResult<S>
  /** The state of the given rows, in that order (a row may repeat: beams). */
  selectState(state: S, rows: Int32Array): S
}

/** Row indices as an int32 tensor (for `indexSelect`). */
export function rowIndex(rows: Int32Array): Tensor {
  return tensor(rows, { shape: [rows.length], dtype: 'int32' })
}
