/**
 * One training step and the state it advances. Truncated backpropagation through time:
 * step s trains on window s mod W of the training streams (W windows per pass), starting
 * from the LSTM state the previous window ended in, cut from the graph with `stopGradient`
 * so each backward pass stops at the window's edge while the forward pass still remembers
 * what came before. At the start of every pass the state starts again from zeros.
 *
 * Everything a step depends on is in {@link TrainState} (parameters, optimizer state,
 * carried LSTM state, step count) or derives from the config (data position = step mod W,
 * dropout key = foldIn(seed, step)), so a run restored from a checkpoint continues with
 * exactly the numbers of an uninterrupted one.
 * @module
 */
import { List } from 'immutable'
import { type Key, type Tensor, foldIn, stopGradient, valueAndGrad } from '@graphgrad/core'
import { type Params, crossEntropy } from '@graphgrad/layers'
import { type OptimizerState, adam, clipGradNorm } from '@graphgrad/optim'
import { Streams } from './batching.ts'
import type { CharModel, LstmState } from './model.ts'

/** The settings a run is defined by (stored in checkpoints; `--resume` refuses to change them). */
export interface TrainConfig {
  /** Seed of the parameters and of every dropout mask. */
  readonly seed: number
  /** Batch rows: parallel streams of the text. */
  readonly batch: number
  /** Characters per window (the truncation length of BPTT). */
  readonly seq: number
  /** Adam's learning rate. */
  readonly lr: number
  /** Largest total gradient norm (clipGradNorm). */
  readonly clip: number
  /** Share of the text, at its end, held out for validation. */
  readonly valFraction: number
}

/** A validation figure recorded during training. */
export interface ValidationPoint {
  /** Steps done when it was measured. */
  readonly step: number
  /** Mean loss per character (nats). */
  readonly loss: number
  /** Bits per character. */
  readonly bpc: number
}

/** Everything that changes as training goes on. */
export interface TrainState {
  /** Steps done. */
  readonly step: number
  /** The model's parameters. */
  readonly params: Params
  /** Adam's state. */
  readonly optimizer: OptimizerState
  /** The LSTM state the last window ended in (absent before the first step). */
  readonly carried?: LstmState
  /** Training loss of every step so far, in order (an Immutable list: appending stays cheap in long runs). */
  readonly losses: List<number>
  /** Gradient norm (before clipping) of every step so far. */
  readonly gradNorms: List<number>
  /** Validation figures measured so far. */
  readonly validation: List<ValidationPoint>
}

/** Stream ids of the keys derived from the seed. */
const PARAMS_STREAM = 0
const DROPOUT_STREAM = 1
const SAMPLE_STREAM = 2

/** A training run's fixed parts: the model, the config and the training text as streams. */
export interface Trainer {
  /** The training text laid out for BPTT. */
  readonly streams: Streams
  /**
   * The state before the first step: `params` (default: the model's initialisation from the
   * seed) with a fresh optimizer state, which follows their dtype (float64 parameters train in float64).
   */
  init(params?: Params): TrainState
  /** The state after one more step. */
  step(state: TrainState): TrainState
}

/** The key of step `step`'s dropout masks. */
export function dropoutKey(seed: number, step: number): Key {
  return foldIn(foldIn(seed, DROPOUT_STREAM), step)
}

/** The key of the sample printed after step `step` (apart from training's keys, so printing samples changes no training number). */
export function sampleKey(seed: number, step: number): Key {
  return foldIn(foldIn(seed, SAMPLE_STREAM), step)
}

/** Sets up training of `model` on the token ids `train`. */
export function trainer(model: CharModel, config: TrainConfig, train: Int32Array): Trainer {
  const streams = new Streams(train, config.batch, config.seq, 'the training part of the text')
  const opt = adam({ lr: config.lr })
  const vocab = model.config.vocabSize
  return {
    streams,
    init(params = model.init(foldIn(config.seed, PARAMS_STREAM))) {
      return { step: 0, params, optimizer: opt.init(params), losses: List(), gradNorms: List(), validation: List() }
    },
    step(state) {
      const k = state.step % streams.windows
      const from = k === 0 ? undefined : state.carried
      const { input, target } = streams.window(k)
      const key = dropoutKey(config.seed, state.step)
      let carried: LstmState | undefined
      const loss = (params: Params): Tensor => {
        const out = model.apply(params, input, from, { train: true, key })
        carried = { h: stopGradient(out.state.h), c: stopGradient(out.state.c) }
        return crossEntropy(out.logits.reshape([-1, vocab]), target.reshape([-1]))
      }
      const [value, grads] = valueAndGrad(loss)(state.params)
      const clipped = clipGradNorm(grads, config.clip)
      const next = opt.step(state.params, clipped.grads, state.optimizer)
      return {
        step: state.step + 1,
        params: next.params,
        optimizer: next.state,
        carried,
        losses: state.losses.push(value.item()),
        gradNorms: state.gradNorms.push(clipped.totalNorm),
        validation: state.validation,
      }
    },
  }
}
