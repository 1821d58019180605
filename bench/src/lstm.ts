/**
 * The LSTM training step of the essay's character model: vocab 64, batch 32, sequence 64,
 * embedding 64, one LSTM layer, a linear head, mean cross-entropy, full backward, Adam.
 * Reported in ms per step at hidden 256 and hidden 64, for graphgrad and for tfjs-cpu (the same
 * step in `lstm-tfjs.ts`).
 * @module
 */
import { type Tensor, randint, reshape, valueAndGrad } from '@graphgrad/core'
import { crossEntropy, embedding, linear, lstm } from '@graphgrad/layers'
import type { Params } from '@graphgrad/layers'
import { adam } from '@graphgrad/optim'
import { OrderedMap } from 'immutable'
import { type BenchGroup, type BenchResult, type TimingOptions, medianMs, round3 } from './timing.ts'
import { lstmTfjsTrainStep } from './lstm-tfjs.ts'

const VOCAB = 64
const BATCH = 32
const SEQ = 64
const EMBED = 64

/** The sizes of one benchmarked model: both libraries' steps are built from it. */
export interface LstmShape {
  /** Token vocabulary, also the head's output size. */
  readonly vocab: number
  /** Sequences per step. */
  readonly batch: number
  /** Time steps per sequence. */
  readonly seq: number
  /** Embedding width, the LSTM's input size. */
  readonly embed: number
  /** LSTM hidden size. */
  readonly hidden: number
}

/** A training step closure for one hidden size; each call runs one step and keeps the new parameters. */
export function lstmTrainStep(hidden: number): () => number {
  const emb = embedding({ numEmbeddings: VOCAB, embeddingDim: EMBED })
  const rec = lstm({ inputSize: EMBED, hiddenSize: hidden, batchFirst: true })
  const head = linear({ inFeatures: hidden, outFeatures: VOCAB })
  let params = OrderedMap<string, Params>([['embedding', emb.init(0)], ['lstm', rec.init(1)], ['head', head.init(2)]])
  const tokens = randint(0, VOCAB, [BATCH, SEQ], 3)
  const targets = randint(0, VOCAB, [BATCH * SEQ], 4)
  const loss = (p: typeof params): Tensor => {
    const x = emb.apply(p.get('embedding') as Params, tokens)
    const { output } = rec.apply(p.get('lstm') as Params, x)
    const logits = head.apply(p.get('head') as Params, reshape(output, [BATCH * SEQ, hidden]))
    return crossEntropy(logits, targets)
  }
  const opt = adam({ lr: 1e-3 })
  let state = opt.init(params)
  return () => {
    const [value, grads] = valueAndGrad(loss)(params)
    const next = opt.step(params, grads as typeof params, state)
    params = next.params
    state = next.state
    return value.item()
  }
}

/** Median ms of one call of `step`, and how many calls were timed (the warm-up not counted). */
function timeSteps(step: () => number, options: TimingOptions): { ms: number; steps: number } {
  let calls = 0
  const ms = medianMs(() => {
    calls++
    step()
  }, options)
  return { ms, steps: calls - (options.warmup ?? 2) }
}

const GRAPHGRAD_TIMING: TimingOptions = { warmup: 1, minRuns: 3, maxRuns: 10, minTimeMs: 2000 }

/** tfjs-cpu is several times slower at hidden 256: fewer timed steps keep `pnpm bench` short. */
function tfjsTiming(hidden: number): TimingOptions {
  return hidden >= 256 ? { warmup: 1, minRuns: 2, maxRuns: 2, minTimeMs: 0 } : { warmup: 1, minRuns: 3, maxRuns: 5, minTimeMs: 2000 }
}

/** ms per training step at hidden 256 and 64, graphgrad's then tfjs-cpu's. */
export const lstmGroup: BenchGroup = {
  name: 'lstm',
  async *run() {
    for (const hidden of [256, 64]) {
      const shape: LstmShape = { vocab: VOCAB, batch: BATCH, seq: SEQ, embed: EMBED, hidden }
      const result = (lib: string, t: { ms: number; steps: number }): BenchResult =>
        ({ bench: 'lstm', lib, ...shape, dtype: 'float32', optimizer: 'adam', msPerStep: round3(t.ms), steps: t.steps })
      yield result('graphgrad', timeSteps(lstmTrainStep(hidden), GRAPHGRAD_TIMING))
      const tfjs = await lstmTfjsTrainStep(shape)
      try {
        yield result('tfjs-cpu', timeSteps(tfjs.step, tfjsTiming(hidden)))
      } finally {
        tfjs.dispose()
      }
    }
  },
}
