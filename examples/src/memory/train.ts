/**
 * One training run: a model on a task at one lag, trained with Adam and gradient-norm
 * clipping on a fresh batch every step until it meets the task's success criterion on a
 * held-out batch, or until its budget of training sequences runs out. The held-out batch is
 * checked only when a training batch already meets the criterion (checked on the outputs the
 * step computed anyway), at most once every {@link CHECK_GAP} steps, so checking costs little.
 * Every draw (parameters, batches) comes from an explicit seed.
 * @module
 */
import { type Seed, type Tensor, foldIn, noGrad, valueAndGrad } from '@graphgrad/core'
import type { Params } from '@graphgrad/layers'
import { adam, clipGradNorm } from '@graphgrad/optim'
import { InputError } from '../shared/cli.ts'
import type { Model } from './models.ts'
import type { Batch, Evaluation, Task } from './tasks.ts'

/** How every run of a sweep trains. */
export interface Hyperparameters {
  /** Training sequences a run may see before it counts as not solved. */
  readonly budget: number
  /** Sequences per training batch. */
  readonly batchSize: number
  /** Adam's learning rate. */
  readonly lr: number
  /** Maximum global gradient norm (clipGradNorm). */
  readonly clip: number
  /** Sequences in the held-out batch the criterion is checked on. */
  readonly evalSize: number
}

/** Settings of one training run. */
export interface TrainSettings extends Hyperparameters {
  /** Seed of the model's initial parameters. */
  readonly initSeed: Seed
  /** Seed of the training batches (batch i is drawn from `foldIn(trainSeed, i)`). */
  readonly trainSeed: Seed
  /** Seed of the held-out batch. */
  readonly heldOutSeed: Seed
}

/** A point of a learning curve: the training loss and the fraction right at a step. */
export interface CurvePoint {
  /** Training sequences seen before this step. */
  readonly sequences: number
  /** Training loss of that step's batch. */
  readonly loss: number
  /** Fraction of that step's batch the criterion counts as right (before the update). */
  readonly right: number
}

/** The outcome of a run. */
export interface TrainResult {
  /** The trained parameters. */
  readonly params: Params
  /** Loss and fraction right, about 200 points over the run (and at its last step). */
  readonly curve: readonly CurvePoint[]
  /** Training sequences seen when the held-out batch first met the criterion; null if it never did. */
  readonly solvedAt: number | null
  /** Training sequences seen in all. */
  readonly sequences: number
  /** Held-out evaluations made. */
  readonly checks: number
  /** The held-out result at the end. */
  readonly heldOut: Evaluation
  /** Wall-clock seconds of training and evaluation. */
  readonly seconds: number
}

/** Steps between two held-out checks at least. */
const CHECK_GAP = 25

/** The task's verdict on a batch: the loss and the fraction of sequences right. */
function evaluate(task: Task, batch: Batch, outputs: Tensor): Evaluation {
  const right = batch.right(outputs)
  return { loss: task.loss(outputs, batch.targets).item(), right: right.filter(Boolean).length / right.length }
}

/** Trains `model` on `task` at `lag` until it is solved or the budget is spent. */
export function train(model: Model, task: Task, lag: number, settings: TrainSettings): TrainResult {
  const start = performance.now()
  const label = `${task.name}${task.perStep ? '' : ` lag ${lag}`} ${model.name}`
  const opt = adam({ lr: settings.lr })
  let params = model.init(settings.initSeed)
  let state = opt.init(params)
  let scored: Tensor | undefined
  const lossOf = (p: Params, inputs: Tensor, targets: Tensor): Tensor => {
    scored = model.apply(p, inputs)
    return task.loss(scored, targets)
  }
  const step = valueAndGrad(lossOf)
  const heldOutBatch = task.batch(lag, settings.evalSize, settings.heldOutSeed)
  const checkHeldOut = (): Evaluation => {
    const e = noGrad(() => evaluate(task, heldOutBatch, model.apply(params, heldOutBatch.inputs)))
    // Weights that overflowed can keep the training loss finite and still score NaN; results.json would record null.
    if (!Number.isFinite(e.loss)) {
      throw new InputError(`${label}: the held-out loss became ${e.loss} after ${Math.min(i, steps)} steps; try a smaller --lr or --clip`)
    }
    return e
  }
  const steps = Math.ceil(settings.budget / settings.batchSize)
  const logEvery = Math.max(1, Math.round(steps / 200))
  const curve: CurvePoint[] = []
  let last: CurvePoint | undefined
  let solvedAt: number | null = null
  let heldOut: Evaluation | undefined
  let checks = 0
  let lastCheck = -Infinity
  let i = 1
  for (; i <= steps; i++) {
    const sequences = (i - 1) * settings.batchSize
    const batch = task.batch(lag, settings.batchSize, foldIn(settings.trainSeed, i))
    const [value, grads] = step(params, batch.inputs, batch.targets)
    const loss = value.item()
    if (!Number.isFinite(loss)) {
      throw new InputError(`${label}: the training loss became ${loss} at step ${i}; try a smaller --lr or --clip`)
    }
    const onBatch = noGrad(() => evaluate(task, batch, scored as Tensor))
    last = { sequences, loss, right: onBatch.right }
    if (i % logEvery === 0 || i === 1) curve.push(last)
    // The outputs scored were those of the parameters before this step's update: check those.
    if (task.solved({ loss, right: onBatch.right }) && i - lastCheck >= CHECK_GAP) {
      lastCheck = i
      checks++
      heldOut = checkHeldOut()
      if (task.solved(heldOut)) {
        solvedAt = sequences
        break
      }
    }
    const clipped = clipGradNorm(grads, settings.clip)
    ;({ params, state } = opt.step(params, clipped.grads, state))
  }
  const done = solvedAt ?? steps * settings.batchSize
  if (solvedAt === null) {
    checks++
    heldOut = checkHeldOut()
  }
  if (last !== undefined && curve[curve.length - 1] !== last) curve.push(last)
  return { params, curve, solvedAt, sequences: done, checks, heldOut: heldOut as Evaluation, seconds: (performance.now() - start) / 1000 }
}
