/**
 * The record of a sweep, as kept in memory and written to `results.json`: the settings
 * that produced it and one entry per run (every seed's), learning curve included.
 * @module
 */
import type { ModelName, TaskName } from './names.ts'
import type { Evaluation } from './tasks.ts'
import type { CurvePoint, Hyperparameters } from './train.ts'

/** Version of the results file's layout. */
export const RESULTS_FORMAT = 'graphgrad-memory-results/2'

/** One run: a model trained on a task at one lag from one seed, until solved or out of budget. */
export interface RunRecord {
  /** The task. */
  readonly task: TaskName
  /** Steps between what must be remembered and the answer (recall), the sequence length (adding); null for the Reber grammar. */
  readonly lag: number | null
  /** The model. */
  readonly model: ModelName
  /** Which of the sweep's seeds (0, 1, ...): the training batches and the initialisation derive from it. */
  readonly seed: number
  /** Its hidden size. */
  readonly hidden: number
  /** Its number of trainable scalars. */
  readonly parameters: number
  /** Not run because this seed of the model did not solve the task at this shorter lag (null: it ran). */
  readonly notRunAfter: number | null
  /** Training sequences seen when the held-out batch first met the criterion; null if it never did within the budget. */
  readonly solvedAt: number | null
  /** Training sequences seen in all. */
  readonly sequences: number
  /** The held-out result at the end (loss, and the fraction of sequences right); null for a run not made. */
  readonly heldOut: Evaluation | null
  /** The fraction right of guessing. */
  readonly chance: number
  /** The loss of guessing. */
  readonly chanceLoss: number
  /** Held-out evaluations made along the way. */
  readonly checks: number
  /** Wall-clock seconds of the run. */
  readonly seconds: number
  /** The training loss and the fraction right along the way. */
  readonly curve: readonly CurvePoint[]
  /** The trained weights, relative to the output folder; null for a run not made. */
  readonly weights: string | null
}

/** Everything needed to reproduce a sweep. */
export interface SweepSettings extends Hyperparameters {
  /** Tasks, in order. */
  readonly tasks: readonly TaskName[]
  /** Lags, in order (the Reber grammar has none and ignores them). */
  readonly lags: readonly number[]
  /** Models, in order. */
  readonly models: readonly ModelName[]
  /** The LSTM's hidden size, which sets the parameter budget of every model. */
  readonly hidden: number
  /** Initial bias of the LSTM's forget gate and the GRU's update gate. */
  readonly gateBias: number
  /** Initial bias of the LSTM's input gate (0: PyTorch's draw). */
  readonly inputBias: number
  /** Seed of the whole sweep. */
  readonly seed: number
  /** Runs per task, lag and model, each from its own seed. */
  readonly seeds: number
  /** Run every lag, also those longer than one at which the same seed of the model did not solve the task. */
  readonly allLags: boolean
}

/** The contents of `results.json`. */
export interface SweepResults {
  /** {@link RESULTS_FORMAT}. */
  readonly format: string
  /** The settings of the sweep. */
  readonly settings: SweepSettings
  /** Parallel jobs the sweep ran in (the numbers do not depend on it). */
  readonly jobs: number
  /** One record per run, in the table's order (task, lag, model, seed). */
  readonly runs: readonly RunRecord[]
  /** Wall-clock seconds of the whole sweep. */
  readonly seconds: number
}

/** The Hochreiter and Schmidhuber (1997) LSTM's training sequences to solve, where the paper has a figure. */
const PAPER_LSTM: Readonly<Partial<Record<TaskName, Readonly<Record<number, number>>>>> = {
  // Table 7, the adding problem: T = 100, 500, 1000.
  adding: { 100: 74_000, 500: 209_000, 1000: 853_000 },
}

/** The paper's LSTM on the embedded Reber grammar (Table 1). */
const PAPER_REBER = 8_440

/** The paper's figure for a task and lag, if it has one. */
export function paperFigure(task: TaskName, lag: number | null): number | undefined {
  if (task === 'reber') return PAPER_REBER
  return lag === null ? undefined : PAPER_LSTM[task]?.[lag]
}
