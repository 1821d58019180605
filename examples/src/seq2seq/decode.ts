/**
 * Decoding: greedy (the most likely next token at every step) and beam search (the `width`
 * most likely prefixes at every step), batched over examples and beams, through any
 * {@link Seq2SeqModel}. A hypothesis ends at the end token or at `maxLength` steps; the score
 * of a hypothesis is the sum of the log-probabilities of its tokens, its end token included.
 *
 * Beam search keeps its finished hypotheses in the beam, competing with the unfinished ones,
 * and stops when every hypothesis of the beam has finished. Width 1 is greedy decoding, token
 * for token and score for score (ties go to the lowest id in both). A wider beam can still
 * miss the greedy answer (it is pushed out of the beam by prefixes that later fall behind), so
 * {@link beamSearch} also decodes greedily and keeps the greedy answer where it scores higher:
 * the result is never worse than greedy in the model's own score, and how often the greedy
 * answer was kept is counted.
 * @module
 */
import { type Tensor, noGrad } from '@graphgrad/core'
import type { Params } from '@graphgrad/layers'
import type { Seq2SeqModel } from './model.ts'
import { BOS, EOS } from './vocab.ts'

/** A decoded output. */
export interface Hypothesis {
  /** Output ids, without the end token. */
  readonly tokens: readonly number[]
  /** The sum of the log-probabilities of the tokens (and of the end token when finished). */
  readonly score: number
  /** Whether it ended with the end token (false: cut at the maximum length). */
  readonly finished: boolean
}

/** A greedy hypothesis with the attention of each of its steps. */
export interface AttendedHypothesis extends Hypothesis {
  /** Attention over the input at each step (the end token's step included), when the model exposes it. */
  readonly attention: readonly (readonly number[])[]
}

/** Options of the decoders. */
export interface DecodeOptions {
  /** Most output tokens (the end token included) before a hypothesis is cut. */
  readonly maxLength: number
}

/** Whether `a` is better than `b`: finished beats cut at the maximum length, then the higher score. */
export function better(a: Hypothesis, b: Hypothesis): boolean {
  return a.finished !== b.finished ? a.finished : a.score > b.score
}

/** The first index of the largest value of `row` (the lowest id on ties). */
function argmax(values: Float32Array | Float64Array, from: number, count: number): number {
  let best = 0
  for (let v = 1; v < count; v++) if (values[from + v] > values[from + best]) best = v
  return best
}

/** Greedy decoding of a batch of inputs `[B, S]`, with each step's attention. */
export function greedyDecode<M, S, P extends Params>(
  model: Seq2SeqModel<M, S, P>,
  params: P,
  source: Tensor,
  lengths: readonly number[],
  options: DecodeOptions,
): AttendedHypothesis[] {
  return noGrad(() => {
    const memory = model.encode(params, source, lengths)
    const rows = lengths.length
    const tokens = new Int32Array(rows).fill(BOS)
    const out = Array.from({ length: rows }, () => ({ tokens: [] as number[], score: 0, finished: false, attention: [] as number[][] }))
    let state = model.start(params, memory)
    for (let t = 0; t < options.maxLength && out.some((h) => !h.finished); t++) {
      const step = model.step(params, memory, state, tokens)
      state = step.state
      const V = step.logProbs.length / rows
      const S = step.attention === undefined ? 0 : step.attention.length / rows
      out.forEach((h, r) => {
        if (h.finished) {
          tokens[r] = EOS
          return
        }
        const v = argmax(step.logProbs, r * V, V)
        h.score += step.logProbs[r * V + v]
        if (step.attention !== undefined) h.attention.push(Array.from(step.attention.subarray(r * S, (r + 1) * S)))
        if (v === EOS) h.finished = true
        else h.tokens.push(v)
        tokens[r] = v
      })
    }
    return out
  })
}

/** One hypothesis of a beam, while searching. */
interface Slot {
  readonly tokens: readonly number[]
  readonly score: number
  readonly finished: boolean
}

/** A candidate extension: the slot it extends and the token (-1: a finished slot carried over). */
interface Candidate {
  readonly score: number
  readonly slot: number
  readonly token: number
}

/** The `width` best candidates, best first; ties keep the order they were listed in. */
function topCandidates(candidates: Candidate[], width: number): Candidate[] {
  return candidates
    .map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.score - a.c.score || a.i - b.i)
    .slice(0, width)
    .map(({ c }) => c)
}

/** Options of {@link beamSearch}. */
export interface BeamOptions extends DecodeOptions {
  /** Hypotheses kept at every step. */
  readonly width: number
  /** The greedy hypotheses of the same inputs and `maxLength`, when already decoded (else beam search decodes them). */
  readonly greedy?: readonly Hypothesis[]
}

/** Beam search of width `width` over a batch of inputs `[B, S]`; see the module comment. */
export function beamSearch<M, S, P extends Params>(
  model: Seq2SeqModel<M, S, P>,
  params: P,
  source: Tensor,
  lengths: readonly number[],
  options: BeamOptions,
): { hypotheses: Hypothesis[]; greedyKept: number } {
  const k = options.width
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`beamSearch: width must be a positive integer, got ${k}`)
  const found = noGrad(() => search(model, params, source, lengths, options.maxLength, k))
  if (k === 1) return { hypotheses: found, greedyKept: 0 }
  const greedy = options.greedy ?? greedyDecode(model, params, source, lengths, options)
  if (greedy.length !== found.length) throw new RangeError(`beamSearch: ${greedy.length} greedy hypotheses for ${found.length} inputs`)
  let greedyKept = 0
  const hypotheses = found.map((h, b) => {
    if (!better(greedy[b], h)) return h
    greedyKept++
    const { tokens, score, finished } = greedy[b]
    return { tokens, score, finished }
  })
  return { hypotheses, greedyKept }
}

function search<M, S, P extends Params>(
  model: Seq2SeqModel<M, S, P>,
  params: P,
  source: Tensor,
  lengths: readonly number[],
  maxLength: number,
  k: number,
): Hypothesis[] {
  const examples = lengths.length
  const repeat = Int32Array.from({ length: examples * k }, (_, i) => Math.floor(i / k))
  const memory = model.selectMemory(model.encode(params, source, lengths), repeat)
  let state = model.start(params, memory)
  // Slot j of example b is row b * k + j; at first only slot 0 is alive (score -Infinity: empty).
  let beams: Slot[][] = Array.from({ length: examples }, () =>
    Array.from({ length: k }, (_, j) => ({ tokens: [], score: j === 0 ? 0 : -Infinity, finished: false })),
  )
  const tokens = new Int32Array(examples * k).fill(BOS)
  const live = (s: Slot): boolean => s.score > -Infinity && !s.finished
  for (let t = 0; t < maxLength && beams.some((beam) => beam.some(live)); t++) {
    const step = model.step(params, memory, state, tokens)
    const V = step.logProbs.length / (examples * k)
    const parents = new Int32Array(examples * k)
    beams = beams.map((beam, b) => {
      const candidates: Candidate[] = []
      beam.forEach((slot, j) => {
        if (slot.score === -Infinity) return
        if (slot.finished) {
          candidates.push({ score: slot.score, slot: j, token: -1 })
          return
        }
        const row = (b * k + j) * V
        for (let v = 0; v < V; v++) candidates.push({ score: slot.score + step.logProbs[row + v], slot: j, token: v })
      })
      const chosen = topCandidates(candidates, k)
      return Array.from({ length: k }, (_, j): Slot => {
        const c = chosen[j]
        const row = b * k + j
        parents[row] = b * k + (c?.slot ?? 0)
        if (c === undefined) {
          tokens[row] = EOS
          return { tokens: [], score: -Infinity, finished: false }
        }
        const parent = beam[c.slot]
        tokens[row] = c.token < 0 ? EOS : c.token
        if (c.token < 0) return parent
        if (c.token === EOS) return { tokens: parent.tokens, score: c.score, finished: true }
        return { tokens: [...parent.tokens, c.token], score: c.score, finished: false }
      })
    })
    state = model.selectState(step.state, parents)
  }
  return beams.map((beam) => beam.filter((s) => s.score > -Infinity).reduce((best, s) => (better(s, best) ? s : best)))
}
