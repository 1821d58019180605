/**
 * The names of the memory experiment's models and tasks, apart from their code, so that the
 * command line (and `--help`) is answered without loading the models.
 * @module
 */

/** Names of the models this experiment compares. */
export type ModelName = 'rnn' | 'lstm' | 'gru'

/** Every model name, in the order the table lists them. */
export const MODEL_NAMES: readonly ModelName[] = ['rnn', 'lstm', 'gru']

/** Names of the tasks this experiment knows. */
export type TaskName = 'reber' | 'recall' | 'adding'

/** Every task name, in the order they run by default. */
export const TASK_NAMES: readonly TaskName[] = ['reber', 'recall', 'adding']
