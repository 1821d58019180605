/**
 * Text generation: the model reads a prompt, then writes one character at a time, each
 * drawn from its predicted distribution sharpened or flattened by a temperature, and fed
 * back in with the LSTM state carried along. Every draw comes from an explicit seed.
 * @module
 */
import { RandomStream, type Seed, noGrad, tensor } from '@graphgrad/core'
import type { Params } from '@graphgrad/layers'
import { LmError } from './errors.ts'
import type { CharModel, LstmState } from './model.ts'

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** Characters to write after the prompt. */
  readonly length: number
  /** Divides the scores before the softmax: below 1 safer, above 1 wilder; 0 always takes the likeliest character. */
  readonly temperature: number
  /** Where the draws come from. */
  readonly seed: Seed
}

/** Writes `options.length` token ids after the prompt's (which must not be empty); returns only the new ones. */
export function generate(model: CharModel, params: Params, prompt: Int32Array, options: GenerateOptions): Int32Array {
  const { length, temperature } = options
  if (prompt.length === 0) throw new LmError('the prompt is empty: give at least one character')
  if (!Number.isInteger(length) || length < 0) throw new LmError(`the length must be a whole number >= 0, got ${length}`)
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new LmError(`the temperature must be a finite number >= 0, got ${temperature}`)
  const rng = new RandomStream(options.seed)
  const vocab = model.config.vocabSize
  const out = new Int32Array(length)
  noGrad(() => {
    let state: LstmState | undefined
    let input = tensor(prompt, { shape: [1, prompt.length] })
    for (let i = 0; i < length; i++) {
      const step = model.apply(params, input, state)
      state = step.state
      const scores = step.logits.data.subarray((step.logits.shape[1] - 1) * vocab)
      out[i] = pick(scores, temperature, rng)
      input = tensor(out.subarray(i, i + 1), { shape: [1, 1] })
    }
  })
  return out
}

/** Draws an index from softmax(scores / temperature); the argmax at temperature 0. */
function pick(scores: ArrayLike<number>, temperature: number, rng: RandomStream): number {
  let best = 0
  for (let j = 1; j < scores.length; j++) if (scores[j] > scores[best]) best = j
  if (temperature === 0) return best
  // Subtracting the largest score keeps exp() from overflowing at small temperatures.
  const weights = new Float64Array(scores.length)
  let total = 0
  for (let j = 0; j < scores.length; j++) total += weights[j] = Math.exp((scores[j] - scores[best]) / temperature)
  let u = rng.nextFloat() * total
  for (let j = 0; j < weights.length; j++) {
    u -= weights[j]
    if (u < 0) return j
  }
  return best
}
