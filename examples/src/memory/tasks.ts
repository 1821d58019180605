/**
 * The long-range memory tasks, generated in code from a seed (nothing is downloaded). Each
 * batch holds input sequences [batch, length, features] with their targets, and knows which
 * of its sequences a model's outputs got right by the task's criterion. Delayed recall and
 * the adding problem are answered from the last hidden state: whatever decides the answer
 * lies `lag` steps before the end. The embedded Reber grammar (reber.ts) is answered at
 * every step.
 * @module
 */
import { type Seed, type Tensor, RandomStream, argmax, tensor } from '@graphgrad/core'
import { crossEntropy, mseLoss } from '@graphgrad/layers'
import type { TaskName } from './names.ts'
import { reberTask } from './reber.ts'

/** One batch of a task: inputs, the targets of the loss, and the task's verdict per sequence. */
export interface Batch {
  /** Input sequences, batch first: [batch, length, inputSize]. */
  readonly inputs: Tensor
  /** What the loss compares the outputs with (class ids, or values [batch, 1]). */
  readonly targets: Tensor
  /** Whether the model's outputs for this batch got each sequence right. */
  right(outputs: Tensor): boolean[]
}

/** A model's result on a set of sequences. */
export interface Evaluation {
  /** The task's loss (for the adding problem, the mean squared error). */
  readonly loss: number
  /** The fraction of sequences the task's criterion counts as right. */
  readonly right: number
}

/** A sequence task: its data, its loss, and when it counts as solved. */
export interface Task {
  /** Short name used on the command line, in the table and in file names. */
  readonly name: TaskName
  /** What the task is, in one line. */
  readonly title: string
  /** When a sequence is right and when the task is solved, in one line. */
  readonly criterion: string
  /** Features per input step. */
  readonly inputSize: number
  /** Outputs the head produces (classes, or 1 for a value). */
  readonly outputSize: number
  /** Whether the model answers at every step (true) or once, from its last hidden state. */
  readonly perStep: boolean
  /** The longest sequence a batch at `lag` holds (for the memory estimate). */
  sequenceLength(lag: number): number
  /** The fraction right of the best guess that ignores the inputs. */
  readonly chance: number
  /** The loss of that guess (ln classes for cross-entropy, the target's variance for mean squared error). */
  readonly chanceLoss: number
  /** A batch of `size` sequences whose answer lies `lag` steps back, drawn from `seed`. */
  batch(lag: number, size: number, seed: Seed): Batch
  /** The training loss of the outputs against the targets. */
  loss(outputs: Tensor, targets: Tensor): Tensor
  /** Whether an evaluation meets the task's success criterion. */
  solved(evaluation: Evaluation): boolean
}

const RECALL_SYMBOLS = 8
const RECALL_DISTRACTORS = 8

/**
 * Delayed recall: the first step shows one of 8 symbols, then come `lag` distractors (8 other
 * symbols, drawn at random); after the last one the model must name the first symbol.
 * Guessing scores 1/8; solved at 99% held-out accuracy.
 */
export const recallTask: Task = {
  name: 'recall',
  title: `delayed recall: name the first of ${RECALL_SYMBOLS} symbols after a lag of distractors`,
  criterion: 'right: the first symbol named; solved: 99% of the held-out sequences right',
  inputSize: RECALL_SYMBOLS + RECALL_DISTRACTORS,
  outputSize: RECALL_SYMBOLS,
  perStep: false,
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
    return {
      inputs: tensor(inputs, { shape: [size, length, features] }),
      targets: tensor(targets, { shape: [size] }),
      right: (outputs) => Array.from(argmax(outputs, 1).data, (guess, b) => guess === targets[b]),
    }
  },
  loss: (outputs, targets) => crossEntropy(outputs, targets),
  solved: (e) => e.right >= 0.99,
}

/** The adding problem's tolerance: a sequence is right when its absolute error is below this (the paper's 0.04). */
const ADDING_TOLERANCE = 0.04

/**
 * The adding problem (Hochreiter and Schmidhuber 1997, experiment 4): each step carries a
 * random value in [-1, 1] and a marker; exactly two steps are marked, one in the first half
 * and one in the second (as Le et al. 2015 place them), and the target is the paper's
 * `0.5 + (X1 + X2) / 4`, in [0, 1]. Here `lag` is the sequence length. As in the paper, a
 * sequence is right when the absolute error is below 0.04; solved when at most 1% of the
 * held-out sequences are wrong and their mean squared error is below 0.01. Always answering
 * 0.5 scores a mean squared error of 1/24 (the target's variance) and gets 16% right.
 */
export const addingTask: Task = {
  name: 'adding',
  title: 'adding problem: 0.5 + (X1 + X2) / 4 of the two marked values in a sequence of length lag',
  criterion: `right: absolute error < ${ADDING_TOLERANCE}; solved: 99% of the held-out sequences right and mean squared error < 0.01`,
  inputSize: 2,
  outputSize: 1,
  perStep: false,
  chance: 0.16,
  chanceLoss: 1 / 24,
  sequenceLength: (lag) => Math.max(lag, 2),
  batch(lag, size, seed) {
    const length = Math.max(lag, 2)
    const half = Math.floor(length / 2)
    const rng = new RandomStream(seed, 'adding')
    const inputs = new Float32Array(size * length * 2)
    const targets = new Float32Array(size)
    for (let b = 0; b < size; b++) {
      for (let t = 0; t < length; t++) inputs[(b * length + t) * 2] = 2 * rng.nextFloat() - 1
      const first = rng.nextInt(0, half)
      const second = rng.nextInt(half, length)
      inputs[(b * length + first) * 2 + 1] = 1
      inputs[(b * length + second) * 2 + 1] = 1
      targets[b] = 0.5 + (inputs[(b * length + first) * 2] + inputs[(b * length + second) * 2]) / 4
    }
    return {
      inputs: tensor(inputs, { shape: [size, length, 2] }),
      targets: tensor(targets, { shape: [size, 1] }),
      right: (outputs) => Array.from(outputs.data, (y, b) => Math.abs(y - targets[b]) < ADDING_TOLERANCE),
    }
  },
  loss: (outputs, targets) => mseLoss(outputs, targets),
  solved: (e) => e.right >= 0.99 && e.loss < 0.01,
}

/** Every task, by name. */
export const TASKS: Readonly<Record<TaskName, Task>> = { reber: reberTask, recall: recallTask, adding: addingTask }
