/**
 * One training run: a model on a task at one lag, trained with Adam and gradient-norm
 * clipping on a fresh batch every step, then scored on a held-out batch drawn from a
 * separate seed stream. Every draw (parameters, batches) comes from an explicit seed.
 * @module
 */
import { type Seed, type Tensor, foldIn, noGrad, valueAndGrad } from '@graphgrad/core'
import type { Params } from '@graphgrad/layers'
import { adam, clipGradNorm } from '@graphgrad/optim'
import { InputError } from '../shared/cli.ts'
import type { Model } from './models.ts'
import type { Task } from './tasks.ts'

/** How every run of a sweep trains. */
export interface Hyperparameters {
  /** Optimizer steps. */
  readonly steps: number
  /** Sequences per training batch. */
  readonly batchSize: number
  /** Adam's learning rate. */
  readonly lr: number
  /** Maximum global gradient norm (clipGradNorm). */
  readonly clip: number
  /** Sequences in the held-out evaluation batch. */
  readonly evalSize: number
}

/** Settings of one training run. */
export interface TrainSettings extends Hyperparameters {
  /** Record the loss and score (on the training batch) every this many steps. */
  readonly logEvery: number
  /** Seed of the model's initial parameters. */
  readonly initSeed: Seed
  /**
   * Seed of the data: the training batches and the held-out batch derive from it, so runs
   * that share it (the models at one task and lag) see the same sequences.
   */
  readonly dataSeed: Seed
}

/** A point of a learning curve: the training loss and score at a step. */
export interface CurvePoint {
  /** Step number, from 1. */
  readonly step: number
  /** Training loss of that step's batch. */
  readonly loss: number
  /** The task's score on that step's batch (before the update). */
  readonly score: number
}

/** What a run reports while it trains, once per step. */
export interface StepReport extends CurvePoint {
  /** Global gradient norm before clipping. */
  readonly gradNorm: number
}

/** The outcome of a run. */
export interface TrainResult {
  /** The trained parameters. */
  readonly params: Params
  /** Loss and score every `logEvery` steps (and at the last step). */
  readonly curve: readonly CurvePoint[]
  /** The score on the held-out batch. */
  readonly score: number
  /** The loss on the held-out batch. */
  readonly loss: number
  /** Wall-clock seconds of training and evaluation. */
  readonly seconds: number
}

/** Seed streams of the data, kept apart so that no training batch shares a key with the held-out batch. */
const STREAM = { train: 0, heldOut: 1 } as const

/** Trains `model` on `task` at `lag`; `onStep` is called after every step (for a progress bar). */
export function train(model: Model, task: Task, lag: number, settings: TrainSettings, onStep?: (report: StepReport) => void): TrainResult {
  const start = performance.now()
  const opt = adam({ lr: settings.lr })
  let params = model.init(settings.initSeed)
  let state = opt.init(params)
  const trainSeed = foldIn(settings.dataSeed, STREAM.train)
  let scored: Tensor | undefined
  const lossOf = (p: Params, inputs: Tensor, targets: Tensor): Tensor => {
    scored = model.apply(p, inputs)
    return task.loss(scored, targets)
  }
  const step = valueAndGrad(lossOf)
  const curve: CurvePoint[] = []
  for (let i = 1; i <= settings.steps; i++) {
    const { inputs, targets } = task.batch(lag, settings.batchSize, foldIn(trainSeed, i))
    const [value, grads] = step(params, inputs, targets)
    const loss = value.item()
    if (!Number.isFinite(loss)) {
      throw new InputError(`${task.name} lag ${lag} ${model.name}: the training loss became ${loss} at step ${i}; try a smaller --lr or --clip`)
    }
    const score = noGrad(() => task.score(scored as Tensor, targets))
    const clipped = clipGradNorm(grads, settings.clip)
    ;({ params, state } = opt.step(params, clipped.grads, state))
    if (i % settings.logEvery === 0 || i === settings.steps || i === 1) curve.push({ step: i, loss, score })
    onStep?.({ step: i, loss, score, gradNorm: clipped.totalNorm })
  }
  const heldOut = task.batch(lag, settings.evalSize, foldIn(settings.dataSeed, STREAM.heldOut))
  const final = noGrad(() => {
    const outputs = model.apply(params, heldOut.inputs)
    return { loss: task.loss(outputs, heldOut.targets).item(), score: task.score(outputs, heldOut.targets) }
  })
  // Weights that overflowed can keep the training loss finite and still score NaN; results.json would record null.
  if (!Number.isFinite(final.loss) || !Number.isFinite(final.score)) {
    const [what, value] = Number.isFinite(final.loss) ? ['score', final.score] : ['loss', final.loss]
    throw new InputError(
      `${task.name} lag ${lag} ${model.name}: the held-out ${what} became ${value} after ${settings.steps} steps; try a smaller --lr or --clip`,
    )
  }
  return { params, curve, ...final, seconds: (performance.now() - start) / 1000 }
}
