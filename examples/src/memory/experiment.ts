/**
 * The sweep: every task at every lag with every model, one training run each, with a
 * progress bar per run; the trained weights are written as each run ends. Seeds are
 * derived from names, not positions: the data of a (task, lag) pair is the same for every
 * model and whatever else the sweep contains, and so is each model's initialisation.
 * @module
 */
import { join } from 'node:path'
import { foldIn, key } from '@graphgrad/core'
import { modelsForBudget } from './models.ts'
import { MODEL_NAMES, type TaskName } from './names.ts'
import { ProgressBar, type ProgressSink } from '../shared/progress.ts'
import { RESULTS_FORMAT, type RunRecord, type SweepResults, type SweepSettings } from './results.ts'
import { TASKS } from './tasks.ts'
import { type TrainResult, type TrainSettings, train } from './train.ts'
import { weightsPath, writeWeights } from './files.ts'

const TASK_IDS: Readonly<Record<TaskName, number>> = { recall: 0, adding: 1 }

/** Runs the sweep, writing weights under `out`; progress goes to `sink`. */
export async function runSweep(settings: SweepSettings, out: string, sink: ProgressSink): Promise<SweepResults> {
  const started = performance.now()
  const root = key(settings.seed)
  const total = settings.tasks.length * settings.lags.length * settings.models.length
  const runs: RunRecord[] = []
  const { steps, batchSize, lr, clip, evalSize } = settings
  const hyperparameters = { steps, batchSize, lr, clip, evalSize }
  for (const taskName of settings.tasks) {
    const task = TASKS[taskName]
    const models = modelsForBudget(settings.models, task.inputSize, task.outputSize, settings.hidden, { gateBias: settings.gateBias })
    for (const lag of settings.lags) {
      const dataSeed = foldIn(foldIn(root, TASK_IDS[taskName]), lag)
      for (const model of models) {
        const label = `[${String(runs.length + 1).padStart(String(total).length)}/${total}] ${taskName} lag ${String(lag).padEnd(3)} ${model.name.padEnd(4)}`
        const bar = new ProgressBar(sink, { label, total: settings.steps, scoreLabel: task.metric === 'accuracy' ? 'acc' : 'mse' })
        const runSettings: TrainSettings = {
          ...hyperparameters,
          logEvery: Math.max(1, Math.round(settings.steps / 100)),
          initSeed: foldIn(foldIn(dataSeed, 1000), MODEL_NAMES.indexOf(model.name)),
          dataSeed,
        }
        let result: TrainResult
        // On a terminal the bar's line must end before anything else is printed, an error message included.
        try {
          result = train(model, task, lag, runSettings, (report) => bar.update(report))
        } finally {
          bar.finish()
        }
        const weights = weightsPath(taskName, lag, model.name)
        await writeWeights(join(out, weights), result.params, {
          task: taskName,
          lag: String(lag),
          model: model.name,
          hidden: String(model.hidden),
          seed: String(settings.seed),
        })
        runs.push({
          task: taskName,
          lag,
          model: model.name,
          hidden: model.hidden,
          parameters: model.parameters,
          metric: task.metric,
          score: result.score,
          loss: result.loss,
          chance: task.chance,
          chanceLoss: task.chanceLoss,
          solved: task.solved(result.score),
          steps: settings.steps,
          seconds: result.seconds,
          curve: result.curve,
          weights,
        })
      }
    }
  }
  return { format: RESULTS_FORMAT, settings, runs, seconds: (performance.now() - started) / 1000 }
}
