/**
 * Text generation: the model reads a prompt, then writes one character at a time, each
 * drawn from its predicted distribution (sharpened or flattened by a temperature, cut to
 * the `topK` likeliest characters when asked) and fed back in with the LSTM state carried
 * along. Every draw comes from an explicit seed. The draws ({@link Sampler}) are apart from
 * the model, so that sampling an exported ONNX model (onnx-sample.ts) draws exactly the same
 * characters from the same scores.
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
  /** Draw only among the `topK` likeliest characters (0, or at least the vocabulary's size: among all). */
  readonly topK?: number
  /** Where the draws come from. */
  readonly seed: Seed
}

/** The draws of one generated text: the options checked once, then one {@link Sampler.pick} per character. */
export class Sampler {
  private readonly rng: RandomStream
  private readonly temperature: number
  private readonly topK: number

  /** Checks `options` (a bad one is an {@link LmError}) and seeds the draws. */
  constructor(prompt: ArrayLike<number>, options: GenerateOptions) {
    const { length, temperature, topK = 0 } = options
    if (prompt.length === 0) throw new LmError('the prompt is empty: give at least one character')
    if (!Number.isInteger(length) || length < 0) throw new LmError(`the length must be a whole number >= 0, got ${length}`)
    if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new LmError(`the temperature must be a finite number >= 0, got ${temperature}`)
    if (!Number.isInteger(topK) || topK < 0) throw new LmError(`top-k must be a whole number >= 0, got ${topK}`)
    this.rng = new RandomStream(options.seed)
    this.temperature = temperature
    this.topK = topK
  }

  /** Draws an index from softmax(scores / temperature) over the top-k scores; the argmax at temperature 0. */
  pick(scores: ArrayLike<number>): number {
    // Finite weights can still give NaN scores (a run that diverged after its last good
    // checkpoint): refuse them instead of printing the first character over and over.
    for (let j = 0; j < scores.length; j++) {
      if (!Number.isFinite(scores[j])) {
        throw new LmError(
          `the model's next-character scores are not finite (${scores[j]} for character ${j}): its weights have diverged; sample an earlier checkpoint or train again with a lower --lr`,
        )
      }
    }
    let best = 0
    for (let j = 1; j < scores.length; j++) if (scores[j] > scores[best]) best = j
    if (this.temperature === 0) return best
    const kept = this.kept(scores)
    // Subtracting the largest score keeps exp() from overflowing at small temperatures.
    const weights = new Float64Array(scores.length)
    let total = 0
    for (let j = 0; j < scores.length; j++) if (kept(j)) total += weights[j] = Math.exp((scores[j] - scores[best]) / this.temperature)
    let u = this.rng.nextFloat() * total
    for (let j = 0; j < weights.length; j++) {
      u -= weights[j]
      if (u < 0) return j
    }
    return best
  }

  /** Which indices take part: the topK highest scores (ties to the lower index), or all. */
  private kept(scores: ArrayLike<number>): (j: number) => boolean {
    if (this.topK === 0 || this.topK >= scores.length) return () => true
    const order = Array.from({ length: scores.length }, (_, j) => j).sort((a, b) => scores[b] - scores[a] || a - b)
    const set = new Uint8Array(scores.length)
    for (let r = 0; r < this.topK; r++) set[order[r]] = 1
    return (j) => set[j] === 1
  }
}

/** Writes `options.length` token ids after the prompt's (which must not be empty); returns only the new ones. */
export function generate(model: CharModel, params: Params, prompt: Int32Array, options: GenerateOptions): Int32Array {
  const sampler = new Sampler(prompt, options)
  const vocab = model.config.vocabSize
  const out = new Int32Array(options.length)
  noGrad(() => {
    let state: LstmState | undefined
    let input = tensor(prompt, { shape: [1, prompt.length] })
    for (let i = 0; i < out.length; i++) {
      const step = model.apply(params, input, state)
      state = step.state
      out[i] = sampler.pick(step.logits.data.subarray((step.logits.shape[1] - 1) * vocab))
      input = tensor(out.subarray(i, i + 1), { shape: [1, 1] })
    }
  })
  return out
}
