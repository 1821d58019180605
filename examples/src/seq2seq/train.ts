/**
 * Training, the same for both models: epochs over the training examples in batches drawn
 * by `batches` with a new shuffle key per epoch (`foldIn(key, epoch)`), each batch padded by
 * `padSequences` (the lengths go to the encoder), teacher forcing, Adam with a cosine-annealed
 * learning rate, and the gradient norm clipped by `clipGradNorm`.
 * @module
 */
import { type Key, type Tensor, batches, foldIn, key, valueAndGrad } from '@graphgrad/core'
import type { Params } from '@graphgrad/layers'
import { adam, clipGradNorm, cosineAnnealingLR } from '@graphgrad/optim'
import { InputError } from '../shared/cli.ts'
import { ProgressBar, type ProgressSink } from '../shared/progress.ts'
import { type Seq2SeqModel, makeBatch } from './model.ts'

/** How a model is trained. */
export interface TrainSettings {
  /** Seed of the parameters, the shuffles and the dropout masks. */
  readonly seed: number
  /** Passes over the training examples. */
  readonly epochs: number
  /** Examples per batch. */
  readonly batchSize: number
  /** Adam's initial learning rate (annealed to a tenth of it, on a cosine, by the last step). */
  readonly lr: number
  /** Largest gradient norm. */
  readonly clip: number
}

/** The training examples as token ids. */
export interface EncodedExamples {
  /** Input ids of each example. */
  readonly sources: readonly (readonly number[])[]
  /** Output ids of each example (ending with the end token). */
  readonly targets: readonly (readonly number[])[]
}

/** A trained model. */
export interface Trained<P extends Params = Params> {
  /** The parameters after the last step. */
  readonly params: P
  /** Steps taken. */
  readonly steps: number
  /** The mean training loss of each epoch. */
  readonly epochLosses: readonly number[]
  /** Seconds spent training. */
  readonly seconds: number
}

/** Keys of a run's random draws, apart per purpose. */
const STREAMS = { params: 0, shuffle: 1, dropout: 2 } as const

/** The key of a model's draws for `purpose` (models apart from each other by `modelIndex`). */
function trainKey(seed: number, modelIndex: number, purpose: keyof typeof STREAMS): Key {
  return foldIn(foldIn(foldIn(key(seed), 1000 + modelIndex), STREAMS[purpose]), 0)
}

/** Trains `model` on `data`; progress to `sink`, labelled `label`. */
export function train<M, S, P extends Params>(
  model: Seq2SeqModel<M, S, P>,
  modelIndex: number,
  data: EncodedExamples,
  settings: TrainSettings,
  sink: ProgressSink,
  label: string,
): Trained<P> {
  const started = performance.now()
  const perEpoch = Math.ceil(data.sources.length / settings.batchSize)
  const total = perEpoch * settings.epochs
  const opt = adam({ lr: cosineAnnealingLR({ lr: settings.lr, tMax: total, etaMin: settings.lr / 10 }) })
  let params = model.init(trainKey(settings.seed, modelIndex, 'params'))
  let state = opt.init(params)
  const bar = new ProgressBar(sink, { label, total })
  const epochLosses: number[] = []
  let step = 0
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    let sum = 0
    let count = 0
    const order = foldIn(trainKey(settings.seed, modelIndex, 'shuffle'), epoch)
    for (const { sources, targets } of batches({ sources: data.sources, targets: data.targets }, { batchSize: settings.batchSize, shuffle: order })) {
      const batch = makeBatch(sources, targets)
      const dropoutKey = foldIn(trainKey(settings.seed, modelIndex, 'dropout'), step)
      const [value, grads] = valueAndGrad((p: P): Tensor => model.loss(p, batch, { train: true, key: dropoutKey }))(params)
      const loss = value.item()
      const clipped = clipGradNorm(grads, settings.clip)
      if (!Number.isFinite(loss) || !Number.isFinite(clipped.totalNorm)) {
        bar.finish()
        throw new InputError(
          `${model.name}: the training loss or gradient norm became ${Number.isFinite(loss) ? clipped.totalNorm : loss} at step ${step + 1}; try a smaller --lr`,
        )
      }
      ;({ params, state } = opt.step(params, clipped.grads, state))
      step++
      sum += loss * sources.length
      count += sources.length
      bar.update({ step, loss })
    }
    epochLosses.push(sum / count)
  }
  return { params, steps: step, epochLosses, seconds: (performance.now() - started) / 1000 }
}
