/**
 * Why gradients vanish, measured: for an Elman RNN and an LSTM with their default (PyTorch)
 * initialisation, how much the last hidden state h_T depends on the input `lag` steps back,
 * as the norm of d sum(h_T) / d x_{T-lag}. One backward pass per network gives every lag.
 * @module
 */
import { type Tensor, grad, randn, sum, tensor } from '@graphgrad/core'
import { type Params, lstm, rnn } from '@graphgrad/layers'

/** Gradient norm per lag (index 0 is lag 1) for each network. */
export interface VanishingCurves {
  /** Lags 1..N. */
  readonly lags: readonly number[]
  /** Elman RNN (tanh): norm of d sum(h_T) / d x_{T-lag}. */
  readonly rnn: readonly number[]
  /** LSTM: the same. */
  readonly lstm: readonly number[]
}

/** Sizes and seed of the measurement. */
export interface VanishingOptions {
  /** Longest lag N (the sequence is N steps long). Default 60. */
  readonly maxLag?: number
  /** Hidden units of both networks. Default 32. */
  readonly hiddenSize?: number
  /** Seed of the weights and the inputs. Default 0. */
  readonly seed?: number
  /**
   * Added to the LSTM's forget-gate bias after the default init (default 0). A positive
   * value keeps the forget gate open, the usual remedy, and the LSTM's curve flattens.
   */
  readonly forgetBias?: number
}

const INPUT = 8
const BATCH = 4

/** The norm over the batch and features of time step t of a [T, B, I] gradient. */
function normsPerStep(g: Tensor): number[] {
  const [T, Bt, I] = g.shape
  const data = g.data
  const out: number[] = []
  for (let t = 0; t < T; t++) {
    let s = 0
    for (let i = t * Bt * I; i < (t + 1) * Bt * I; i++) s += data[i] * data[i]
    out.push(Math.sqrt(s))
  }
  return out
}

/** `params` with `delta` added to the forget-gate quarter [H, 2H) of `bias_ih_l0` (gate order i, f, g, o). */
function shiftForgetBias(params: Params, hiddenSize: number, delta: number): Params {
  const bias = params.get('bias_ih_l0') as Tensor
  const data = Float32Array.from(bias.data)
  for (let j = hiddenSize; j < 2 * hiddenSize; j++) data[j] += delta
  return params.set('bias_ih_l0', tensor(data, { shape: bias.shape }))
}

/** Gradient norms by lag for both networks, with the inputs shared between them. */
export function vanishingCurves(options: VanishingOptions = {}): VanishingCurves {
  const maxLag = options.maxLag ?? 60
  const hiddenSize = options.hiddenSize ?? 32
  const seed = options.seed ?? 0
  const x = randn([maxLag, BATCH, INPUT], seed)
  const curve = (last: (x: Tensor) => Tensor): number[] => {
    // Step t (0-based) is lag T - t: the last input is lag 1.
    const perStep = normsPerStep(grad((xs: Tensor) => sum(last(xs)))(x))
    return perStep.reverse()
  }
  const elman = rnn({ inputSize: INPUT, hiddenSize })
  const elmanParams: Params = elman.init(seed + 1)
  const cell = lstm({ inputSize: INPUT, hiddenSize })
  const cellParams = shiftForgetBias(cell.init(seed + 2), hiddenSize, options.forgetBias ?? 0)
  return {
    lags: Array.from({ length: maxLag }, (_, i) => i + 1),
    rnn: curve((xs) => elman.apply(elmanParams, xs).hN),
    lstm: curve((xs) => cell.apply(cellParams, xs).hN),
  }
}
