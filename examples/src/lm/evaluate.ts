/**
 * Validation: the model's mean loss per character on the held-out text, read as parallel
 * streams with the LSTM state carried across windows (as in training, but without
 * gradients or dropout), and the same figure in bits per character.
 * @module
 */
import { noGrad } from '@graphgrad/core'
import { type Params, crossEntropy } from '@graphgrad/layers'
import { Streams } from './batching.ts'
import type { CharModel, LstmState } from './model.ts'

/** A validation result. */
export interface Evaluation {
  /** Mean cross-entropy per predicted character, in nats. */
  readonly loss: number
  /** The same in bits per character (loss / ln 2). */
  readonly bpc: number
  /** Characters predicted. */
  readonly characters: number
}

/**
 * Evaluates `params` on `ids`, read as at most `rows` streams of windows of at most `seq`
 * characters (fewer for a short text, so even a tiny validation part is read whole).
 */
export function evaluate(model: CharModel, params: Params, ids: Int32Array, rows: number, seq: number): Evaluation {
  const window = Math.max(1, Math.min(seq, ids.length - 1))
  const streams = new Streams(ids, Math.max(1, Math.min(rows, Math.floor((ids.length - 1) / window))), window, 'the validation text')
  const vocab = model.config.vocabSize
  let total = 0
  let state: LstmState | undefined
  noGrad(() => {
    for (let k = 0; k < streams.windows; k++) {
      const { input, target } = streams.window(k)
      const out = model.apply(params, input, state)
      state = out.state
      total += crossEntropy(out.logits.reshape([-1, vocab]), target.reshape([-1]), { reduction: 'sum' }).item()
    }
  })
  const characters = streams.windows * streams.rows * streams.seq
  const loss = total / characters
  return { loss, bpc: loss / Math.LN2, characters }
}
