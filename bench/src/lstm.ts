/**
 * The LSTM training step of the essay's character model: vocab 64, batch 32, sequence 64,
 * embedding 64, one LSTM layer, a linear head, mean cross-entropy, full backward, Adam.
 * Reported in ms per step at hidden 256 and hidden 64.
 * @module
 */
import { type Tensor, randint, reshape, valueAndGrad } from '@graphgrad/core'
import { crossEntropy, embedding, linear, lstm } from '@graphgrad/layers'
import type { Params } from '@graphgrad/layers'
import { adam } from '@graphgrad/optim'
import { OrderedMap } from 'immutable'
import { type BenchGroup, type BenchResult, medianMs, round3 } from './timing.ts'

const VOCAB = 64
const BATCH = 32
const SEQ = 64
const EMBED = 64

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

/** ms per training step at hidden 256 and 64. */
export const lstmGroup: BenchGroup = {
  name: 'lstm',
  async *run() {
    for (const hidden of [256, 64]) {
      const step = lstmTrainStep(hidden)
      const ms = medianMs(step, { warmup: 1, minRuns: 3, maxRuns: 10, minTimeMs: 2000 })
      const r: BenchResult = { bench: 'lstm', lib: 'graphgrad', vocab: VOCAB, batch: BATCH, seq: SEQ, embed: EMBED, hidden, dtype: 'float32', optimizer: 'adam', msPerStep: round3(ms) }
      yield r
    }
  },
}
