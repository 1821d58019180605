/**
 * The three models of the experiment, each a recurrent layer read out by a linear head on
 * its last hidden state: the essay's plain RNN (`rnn` + `linear`), an LSTM and a GRU. They
 * get equal parameter budgets: the LSTM's hidden size sets the budget, and the RNN and the
 * GRU take the hidden size whose parameter count comes closest to it.
 * @module
 */
import { OrderedMap } from 'immutable'
import { type Seed, type Tensor, foldIn, tensor } from '@graphgrad/core'
import { type Initializer, type Params, gru, linear, lstm, rnn, uniformInit } from '@graphgrad/layers'
import type { ModelName } from './names.ts'

/** Weight matrices per cell: one for the RNN, three gates for the GRU, four for the LSTM. */
export const GATES: Readonly<Record<ModelName, number>> = { rnn: 1, lstm: 4, gru: 3 }

/** A recurrent model with a linear readout, as pure functions of its parameters. */
export interface Model {
  /** Which cell it uses. */
  readonly name: ModelName
  /** Hidden size of the recurrent layer. */
  readonly hidden: number
  /** Number of trainable scalars (recurrent layer and head). */
  readonly parameters: number
  /** Fresh parameters from a seed: `{ cell: {...}, head: {...} }`, PyTorch's state_dict names below. */
  init(seed: Seed): Params
  /**
   * Outputs from inputs [batch, length, inputSize]: [batch, outputSize] read from the last
   * hidden state, or with `perStep` [batch * length, outputSize] read from every step.
   */
  apply(params: Params, inputs: Tensor): Tensor
}

/** Parameters of a one-layer cell with biases and its linear head. */
export function parameterCount(name: ModelName, inputSize: number, hidden: number, outputSize: number): number {
  return GATES[name] * hidden * (inputSize + hidden + 2) + hidden * outputSize + outputSize
}

/**
 * The hidden size for `name` whose parameter count is closest to `budget` (the smaller on a
 * tie), searched upwards from 1 until the count passes the budget (it grows with the size,
 * so the search ends; no cap, so the LSTM gets exactly the size that set the budget).
 */
export function hiddenForBudget(name: ModelName, inputSize: number, outputSize: number, budget: number): number {
  let best = 1
  for (let h = 2; ; h++) {
    const gap = Math.abs(parameterCount(name, inputSize, h, outputSize) - budget)
    if (gap < Math.abs(parameterCount(name, inputSize, best, outputSize) - budget)) best = h
    if (parameterCount(name, inputSize, h, outputSize) > budget) break
  }
  return best
}

/**
 * PyTorch's default bias initialiser (uniform in ±1/sqrt(hidden)) with the rows of the gate
 * that decides what the cell keeps set to half of `gateBias`: the LSTM's forget gate and the
 * GRU's update gate, both the second block of `hidden` rows in PyTorch's gate order (i, f, g, o
 * and r, z, n). `bias_ih` and `bias_hh` both get half, so the gate starts at sigmoid(gateBias).
 * A positive bias (Gers et al. 2000; Jozefowicz et al. 2015) starts the cell keeping its
 * contents instead of halving them every step, which long lags need. The LSTM's input gate
 * (the first block) gets `inputBias` the same way: negative, as in Hochreiter and Schmidhuber
 * (1997), it starts the gate nearly shut, so that distractors do not write noise into the
 * cell before the gate has learned what to let in. A bias of 0 leaves PyTorch's draw.
 */
function gateBiasInit(hidden: number, gateBias: number, inputBias: number): Initializer {
  const base = uniformInit(1 / Math.sqrt(hidden))
  return (shape, seed, options) => {
    const drawn = base(shape, seed, options)
    const data = Float64Array.from(drawn.data)
    if (gateBias !== 0) data.fill(gateBias / 2, hidden, 2 * hidden)
    if (inputBias !== 0) data.fill(inputBias / 2, 0, hidden)
    return tensor(data, { shape, dtype: drawn.dtype })
  }
}

/** Options of {@link makeModel}. */
export interface ModelOptions {
  /**
   * Initial bias of the gated cells' keep gate (the LSTM's forget gate, the GRU's update gate;
   * see {@link keepGateBiasInit}); 0 (default) gives PyTorch's plain initialisation. The RNN has no gate.
   */
  readonly gateBias?: number
  /** Read the head from every step's hidden state instead of the last one only (default false). */
  readonly perStep?: boolean
  /** Initial bias of the LSTM's input gate (see {@link gateBiasInit}); 0 (default) leaves PyTorch's draw. */
  readonly inputBias?: number
}

/** One model with the given hidden size. */
export function makeModel(name: ModelName, inputSize: number, hidden: number, outputSize: number, modelOptions: ModelOptions = {}): Model {
  const options = { inputSize, hiddenSize: hidden, batchFirst: true }
  const gateBias = modelOptions.gateBias ?? 0
  const gated = (inputBias: number): Parameters<typeof lstm>[0] =>
    gateBias === 0 && inputBias === 0 ? options : { ...options, biasInit: gateBiasInit(hidden, gateBias, inputBias) }
  const cell = name === 'lstm' ? lstm(gated(modelOptions.inputBias ?? 0)) : name === 'gru' ? gru(gated(0)) : rnn(options)
  const head = linear({ inFeatures: hidden, outFeatures: outputSize })
  return {
    name,
    hidden,
    parameters: parameterCount(name, inputSize, hidden, outputSize),
    init: (seed) => OrderedMap({ cell: cell.init(foldIn(seed, 0)), head: head.init(foldIn(seed, 1)) }) as Params,
    apply: (params, inputs) => {
      const { output, hN } = cell.apply(params.get('cell') as Params, inputs)
      const [batch, length] = inputs.shape
      const states = modelOptions.perStep === true ? output.reshape([batch * length, hidden]) : hN.reshape([batch, hidden])
      return head.apply(params.get('head') as Params, states)
    },
  }
}

/**
 * The models named, sized to one parameter budget: the LSTM's at `lstmHidden` (whether or
 * not the LSTM itself is among them).
 */
export function modelsForBudget(names: readonly ModelName[], inputSize: number, outputSize: number, lstmHidden: number, options: ModelOptions = {}): Model[] {
  const budget = parameterCount('lstm', inputSize, lstmHidden, outputSize)
  return names.map((name) => makeModel(name, inputSize, hiddenForBudget(name, inputSize, outputSize, budget), outputSize, options))
}
