/**
 * The long-range memory tasks, generated in code from a seed (nothing is downloaded).
 * Each batch is a set of input sequences [batch, length, features] and one target per
 * sequence, read from the model's last hidden state: whatever decides the answer lies
 * `lag` steps before the end, so the model must carry it across the whole sequence.
 * @module
 */
import { type Seed, type Tensor, RandomStream, argmax, tensor } from '@graphgrad/core'
import { crossEntropy, mseLoss } from '@graphgrad/layers'
import type { TaskName } from './names.ts'

/** One batch of a task: inputs [batch, length, features] and the targets (class ids [batch] or values [batch, 1]). */
interface Batch {
  /** Input sequences, batch first: [batch, length, inputSize]. */
  readonly inputs: Tensor
  /** Class ids (int32 [batch]) for a classification task, values (float32 [batch, 1]) for a regression task. */
  readonly targets: Tensor
}

/** A sequence task with its loss, its score and the score of guessing. */
export interface Task {
  /** Short name used on the command line, in the table and in file names. */
  readonly name: TaskName
  /** What the task is, in one line. */
  readonly title: string
  /** Features per input step. */
  readonly inputSize: number
  /** Outputs the head produces (classes, or 1 for a value). */
  readonly outputSize: number
  /** The score reported for a trained model: accuracy (higher is better) or mean squared error (lower is better). */
  readonly metric: 'accuracy' | 'mse'
  /** Steps of a sequence whose answer lies `lag` steps back. */
  sequenceLength(lag: number): number
  /** The score of the best guess that ignores the inputs. */
  readonly chance: number
  /** The loss of that guess (ln classes for cross-entropy, the chance error for mean squared error). */
  readonly chanceLoss: number
  /** A batch of `size` sequences whose answer lies `lag` steps back, drawn from `seed`. */
  batch(lag: number, size: number, seed: Seed): Batch
  /** The training loss of outputs [batch, outputSize] against the targets. */
  loss(outputs: Tensor, targets: Tensor): Tensor
  /** The task's score of outputs [batch, outputSize] against the targets. */
  score(outputs: Tensor, targets: Tensor): number
  /** Whether a score counts as having learned the task (well clear of chance). */
  solved(score: number): boolean
}

const RECALL_SYMBOLS = 8
const RECALL_DISTRACTORS = 8

/**
 * Delayed recall: the first step shows one of 8 symbols, then come `lag` distractors (8 other
 * symbols, drawn at random); after the last one the model must name the first symbol.
 * Guessing scores 1/8.
 */
export const recallTask: Task = {
  name: 'recall',
  title: `delayed recall: name the first of ${RECALL_SYMBOLS} symbols after a lag of distractors`,
  inputSize: RECALL_SYMBOLS + RECALL_DISTRACTORS,
  outputSize: RECALL_SYMBOLS,
  metric: 'accuracy',
  chance: 1 / RECALL_SYMBOLS,
  chanceLoss: Math.log(RECALL_SYMBOLS),
  sequenceLength: (lag) => lag + 1,
  batch(lag, size, seed) {
    const length = lag + 1
    const features = RECALL_SYMBOLS + RECALL_DISTRACTORS
    const rng = new RandomStream(seed, 'recall')
    const inputs = new Float32Array(size * length * features)
    const targets = new Int32Array(size)
    for (let b = 0; b < size; b++) {
      const symbol = rng.nextInt(0, RECALL_SYMBOLS)
      targets[b] = symbol
      inputs[b * length * features + symbol] = 1
      for (let t = 1; t < length; t++) inputs[(b * length + t) * features + RECALL_SYMBOLS + rng.nextInt(0, RECALL_DISTRACTORS)] = 1
    }
    return { inputs: tensor(inputs, { shape: [size, length, features] }), targets: tensor(targets, { shape: [size] }) }
  },
  loss: (outputs, targets) => crossEntropy(outputs, targets),
  score: (outputs, targets) => argmax(outputs, 1).equal(targets).sum().item() / targets.shape[0],
  solved: (score) => score >= 0.9,
}

/**
 * The adding problem (Hochreiter and Schmidhuber 1997, experiment 4, in the form of Le et al.
 * 2015): each step carries a random value in [0, 1) and a marker; exactly two steps are
 * marked, one in the first half and one in the second, and the target is the sum of their
 * values. Here `lag` is the sequence length. Always answering 1 (the mean sum) scores a mean
 * squared error of 1/6, the chance level.
 */
export const addingTask: Task = {
  name: 'adding',
  title: 'adding problem: sum the two marked values of a sequence of length lag',
  inputSize: 2,
  outputSize: 1,
  metric: 'mse',
  chance: 1 / 6,
  chanceLoss: 1 / 6,
  sequenceLength: (lag) => Math.max(lag, 2),
  batch(lag, size, seed) {
    const length = Math.max(lag, 2)
    const half = Math.floor(length / 2)
    const rng = new RandomStream(seed, 'adding')
    const inputs = new Float32Array(size * length * 2)
    const targets = new Float32Array(size)
    for (let b = 0; b < size; b++) {
      for (let t = 0; t < length; t++) inputs[(b * length + t) * 2] = rng.nextFloat()
      const first = rng.nextInt(0, half)
      const second = rng.nextInt(half, length)
      inputs[(b * length + first) * 2 + 1] = 1
      inputs[(b * length + second) * 2 + 1] = 1
      targets[b] = inputs[(b * length + first) * 2] + inputs[(b * length + second) * 2]
    }
    return { inputs: tensor(inputs, { shape: [size, length, 2] }), targets: tensor(targets, { shape: [size, 1] }) }
  },
  loss: (outputs, targets) => mseLoss(outputs, targets),
  score: (outputs, targets) => mseLoss(outputs, targets).item(),
  // A tenth of the chance error: the model reads both marked values, if not exactly.
  solved: (score) => score <= 1 / 60,
}

/** Every task, by name. */
export const TASKS: Readonly<Record<TaskName, Task>> = { recall: recallTask, adding: addingTask }
