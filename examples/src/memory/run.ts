/**
 * One run of the sweep, as a pure function of the sweep's settings and the run's place in it
 * (task, lag, model, seed): the same record and the same weights wherever it runs, in this
 * process or in a worker. Seeds derive from names, not positions: the data of a (task, lag)
 * pair is the same for every model and whatever else the sweep contains; the held-out batch
 * is shared by every seed, the training batches and the initialisation are the seed's own.
 * @module
 */
import { join } from 'node:path'
import { foldIn, key } from '@graphgrad/core'
import { weightsPath, writeWeights } from './files.ts'
import { modelsForBudget } from './models.ts'
import { MODEL_NAMES, type ModelName, type TaskName } from './names.ts'
import type { RunRecord, SweepSettings } from './results.ts'
import { TASKS } from './tasks.ts'
import { train } from './train.ts'

/** Which run: a task at a lag (null for a task without one), a model, a seed. */
export interface RunSpec {
  /** The task. */
  readonly task: TaskName
  /** The lag, null for the Reber grammar. */
  readonly lag: number | null
  /** The model. */
  readonly model: ModelName
  /** Which seed of the sweep, from 0. */
  readonly seed: number
}

const TASK_IDS: Readonly<Record<TaskName, number>> = { recall: 0, adding: 1, reber: 2 }

/** Trains the run, writes its weights under `out` and returns its record. */
export async function runOne(settings: SweepSettings, spec: RunSpec, out: string): Promise<RunRecord> {
  const task = TASKS[spec.task]
  const lag = spec.lag ?? 0
  const [model] = modelsForBudget([spec.model], task.inputSize, task.outputSize, settings.hidden, {
    gateBias: settings.gateBias,
    inputBias: settings.inputBias,
    perStep: task.perStep,
  })
  const dataSeed = foldIn(foldIn(key(settings.seed), TASK_IDS[spec.task]), lag)
  const { budget, batchSize, lr, clip, evalSize } = settings
  const result = train(model, task, lag, {
    budget,
    batchSize,
    lr,
    clip,
    evalSize,
    heldOutSeed: foldIn(dataSeed, 1),
    trainSeed: foldIn(foldIn(dataSeed, 0), spec.seed),
    initSeed: foldIn(foldIn(foldIn(dataSeed, 1000), MODEL_NAMES.indexOf(spec.model)), spec.seed),
  })
  const weights = weightsPath(spec.task, spec.lag, spec.model, spec.seed)
  await writeWeights(join(out, weights), result.params, {
    task: spec.task,
    lag: String(spec.lag ?? ''),
    model: spec.model,
    hidden: String(model.hidden),
    seed: String(settings.seed),
    run: String(spec.seed),
  })
  return {
    ...spec,
    hidden: model.hidden,
    parameters: model.parameters,
    notRunAfter: null,
    solvedAt: result.solvedAt,
    sequences: result.sequences,
    heldOut: result.heldOut,
    chance: task.chance,
    chanceLoss: task.chanceLoss,
    checks: result.checks,
    seconds: result.seconds,
    curve: result.curve,
    weights,
  }
}

/** Every run of a sweep, in the table's order: task, lag, model, seed. */
export function sweepRuns(settings: SweepSettings): RunSpec[] {
  return settings.tasks.flatMap((task) =>
    (TASKS[task].perStep ? [null] : settings.lags).flatMap((lag) =>
      settings.models.flatMap((model) => Array.from({ length: settings.seeds }, (_, seed) => ({ task, lag, model, seed }))),
    ),
  )
}
