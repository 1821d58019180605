/**
 * The record of a sweep, as kept in memory and written to `results.json`: the settings
 * that produced it and one entry per run, learning curve included.
 * @module
 */
import type { ModelName, TaskName } from './names.ts'
import type { CurvePoint, Hyperparameters } from './train.ts'

/** Version of the results file's layout. */
export const RESULTS_FORMAT = 'graphgrad-memory-results/1'

/** One run: a model trained on a task at one lag, scored on a held-out batch. */
export interface RunRecord {
  /** The task. */
  readonly task: TaskName
  /** Steps between what must be remembered and the answer (recall), or the sequence length (adding). */
  readonly lag: number
  /** The model. */
  readonly model: ModelName
  /** Its hidden size. */
  readonly hidden: number
  /** Its number of trainable scalars. */
  readonly parameters: number
  /** What the score measures. */
  readonly metric: 'accuracy' | 'mse'
  /** The score on the held-out batch. */
  readonly score: number
  /** The loss on the held-out batch. */
  readonly loss: number
  /** The score of guessing. */
  readonly chance: number
  /** The training loss of guessing (ln classes, or the chance mean squared error). */
  readonly chanceLoss: number
  /** Whether the score counts as having learned the task. */
  readonly solved: boolean
  /** Optimizer steps taken. */
  readonly steps: number
  /** Wall-clock seconds of the run. */
  readonly seconds: number
  /** The training loss and score along the way. */
  readonly curve: readonly CurvePoint[]
  /** The trained weights, relative to the output folder. */
  readonly weights: string
}

/** Everything needed to reproduce a sweep. */
export interface SweepSettings extends Hyperparameters {
  /** Tasks, in order. */
  readonly tasks: readonly TaskName[]
  /** Lags, in order. */
  readonly lags: readonly number[]
  /** Models, in order. */
  readonly models: readonly ModelName[]
  /** The LSTM's hidden size, which sets the parameter budget of every model. */
  readonly hidden: number
  /** Initial bias of the LSTM's forget gate and the GRU's update gate. */
  readonly gateBias: number
  /** Seed of the whole sweep. */
  readonly seed: number
}

/** The contents of `results.json`. */
export interface SweepResults {
  /** {@link RESULTS_FORMAT}. */
  readonly format: string
  /** The settings of the sweep. */
  readonly settings: SweepSettings
  /** One record per run, in the table's order. */
  readonly runs: readonly RunRecord[]
  /** Wall-clock seconds of the whole sweep. */
  readonly seconds: number
}
