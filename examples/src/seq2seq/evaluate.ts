/**
 * Scoring on the held-out dates: exact match (the whole ISO date right, character for
 * character, and nothing after it) of greedy decoding and of beam search.
 * @module
 */
import { padSequences } from '@graphgrad/core'
import type { Params } from '@graphgrad/layers'
import { type Hypothesis, beamSearch, greedyDecode } from './decode.ts'
import type { Example } from './dates.ts'
import type { Seq2SeqModel } from './model.ts'
import { PAD, decodeTarget, encodeSource } from './vocab.ts'

/** The longest output the decoders produce: an ISO date's 10 characters, the end token, and one more. */
export const MAX_OUTPUT = 12

/** Held-out scores of one model. */
export interface Evaluation {
  /** Share of the held-out examples whose greedy output is exactly the target. */
  readonly greedy: number
  /** The same with beam search. */
  readonly beam: number
  /** The beam width. */
  readonly width: number
  /** Examples where beam search kept the greedy answer because it scored higher (see decode.ts). */
  readonly greedyKept: number
  /** Examples where beam search changed the greedy answer. */
  readonly changed: number
  /** A few held-out examples the greedy decoder got wrong: input, target, output. */
  readonly mistakes: readonly { readonly source: string; readonly target: string; readonly greedy: string; readonly beam: string }[]
  /** Seconds spent decoding. */
  readonly seconds: number
}

/** Decodes `examples` in chunks of `chunk` with both decoders and scores them. */
export function evaluate<M, S, P extends Params>(
  model: Seq2SeqModel<M, S, P>,
  params: P,
  examples: readonly Example[],
  width: number,
  chunk = 250,
): Evaluation {
  const started = performance.now()
  let [greedyRight, beamRight, greedyKept, changed] = [0, 0, 0, 0]
  const mistakes: { source: string; target: string; greedy: string; beam: string }[] = []
  for (let from = 0; from < examples.length; from += chunk) {
    const part = examples.slice(from, from + chunk)
    const { padded, lengths } = padSequences(
      part.map((e) => encodeSource(e.source)),
      { padValue: PAD },
    )
    const text = (h: Hypothesis): string => (h.finished ? decodeTarget(h.tokens) : `${decodeTarget(h.tokens)}...`)
    const greedyHypotheses = greedyDecode(model, params, padded, lengths, { maxLength: MAX_OUTPUT })
    const greedy = greedyHypotheses.map(text)
    const beam = beamSearch(model, params, padded, lengths, { maxLength: MAX_OUTPUT, width, greedy: greedyHypotheses })
    greedyKept += beam.greedyKept
    part.forEach((e, i) => {
      const b = text(beam.hypotheses[i])
      if (greedy[i] === e.target) greedyRight++
      if (b === e.target) beamRight++
      if (b !== greedy[i]) changed++
      if (greedy[i] !== e.target && mistakes.length < 8) mistakes.push({ source: e.source, target: e.target, greedy: greedy[i], beam: b })
    })
  }
  const n = Math.max(1, examples.length)
  return { greedy: greedyRight / n, beam: beamRight / n, width, greedyKept, changed, mistakes, seconds: (performance.now() - started) / 1000 }
}
