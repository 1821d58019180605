/**
 * The recurrent layers `rnn`, `lstm` and `gru`: one shell shared by the three cell
 * families, with PyTorch's options, parameter names (state_dict order), initialisation,
 * state layout, bidirectional and multi-layer stacking, inter-layer dropout and packed
 * variable-length semantics.
 *
 * Per layer and direction, the input projection of all time steps is one matmul before
 * the time loop (its biases are added in the loop); the loop itself is one fused op
 * (default, the projection inside it) or the composed cell per step. The options'
 * validation, the parameter layout and the per-call checks are in recurrent-config.ts.
 * @module
 */
import { ArgumentError, type Tensor, add, concat, foldIn, reshape, select, stack, tensor, transpose, where, zeros } from '@graphgrad/core'
import type { CaseSampler, DType, GradSpec } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { ApplyOptions, Layer, Params } from './layer.ts'
import { applyDropout } from './dropout.ts'
import type { Initializer } from './init.ts'
import { scan } from './cells/recurrence.ts'
import { type Config, checkInput, checkLengths, checkState, configure, directionParams, init, shaped } from './recurrent-config.ts'
import { lstmCellSpecs, lstmFamily } from './cells/lstm.ts'
import { gruCellSpecs, gruFamily } from './cells/gru.ts'
import { type Nonlinearity, rnnCellSpecs, rnnFamilies } from './cells/rnn.ts'

export { lstmCell, lstmCellFused, type LSTMState } from './cells/lstm.ts'
export { gruCell, gruCellFused } from './cells/gru.ts'
export { rnnCell, rnnCellFused, type Nonlinearity } from './cells/rnn.ts'

/** Constructor options shared by {@link rnn}, {@link lstm} and {@link gru}: PyTorch's, in camelCase. */
export interface RecurrentOptions {
  /** Features of the input x. */
  inputSize: number
  /** Features of the hidden state h. */
  hiddenSize: number
  /** Stacked layers; layer k+1 reads the outputs of layer k (default 1). */
  numLayers?: number
  /** Whether the layers have `bias_ih` and `bias_hh` (default true). */
  bias?: boolean
  /** Input and output are [batch, seq, feature] instead of [seq, batch, feature] (default false). States are always [layers*directions, batch, hidden]. */
  batchFirst?: boolean
  /** Dropout probability on the outputs of every layer but the last, in training only (default 0). */
  dropout?: number
  /** Run a second, reverse-time direction per layer and concatenate the outputs, forward first (default false). */
  bidirectional?: boolean
  /** dtype of the parameters `init` creates (default float32). */
  dtype?: DType
  /**
   * Run each direction of each layer as one fused op with a hand-written VJP (default true,
   * fast), or as the cell composed from core ops at every step (slower). Both are
   * differentiable to any order: a second derivative (or a jvp) through the fused op
   * recomputes the layer with the composed cells in its backward.
   */
  fused?: boolean
  /**
   * Initialiser of every `weight_ih_l{k}` (default PyTorch's: uniform in ±1/sqrt(hiddenSize)),
   * e.g. `xavierUniform`. Called once per matrix with its full stacked-gates shape, as
   * `torch.nn.init.*_(lstm.weight_ih_l0)` would be.
   */
  weightIhInit?: Initializer
  /** Initialiser of every `weight_hh_l{k}` (default as `weightIhInit`), e.g. `orthogonal`. */
  weightHhInit?: Initializer
  /** Initialiser of every bias (default uniform in ±1/sqrt(hiddenSize)), e.g. `constantInit(0)`. */
  biasInit?: Initializer
}

/** Options of {@link rnn}. */
export interface RNNOptions extends RecurrentOptions {
  /** The Elman network's nonlinearity f (default 'tanh'). */
  nonlinearity?: Nonlinearity
}

/** Per-call options of {@link rnn} and {@link gru}. */
export interface RecurrentApplyOptions extends ApplyOptions {
  /** Initial hidden state [layers*directions, batch, hidden] (default zeros). */
  h0?: Tensor
  /**
   * Length of each sequence of the batch, in batch order, each in [1, seq]: steps past a
   * sequence's length are never read, its outputs there are zero and its final state is
   * the one at its last valid step, as PyTorch's packed sequences give.
   */
  lengths?: readonly number[] | Tensor
}

/** Per-call options of {@link lstm}. */
export interface LSTMApplyOptions extends RecurrentApplyOptions {
  /** Initial cell state [layers*directions, batch, hidden] (default zeros). */
  c0?: Tensor
}

/** What {@link rnn} and {@link gru} return. */
export interface RecurrentOutput {
  /** The last layer's h at every step, directions concatenated: [seq, batch, D*hidden] ([batch, seq, D*hidden] when batchFirst). */
  output: Tensor
  /** Final hidden state of every layer and direction, [layers*directions, batch, hidden]; row k*D+d is layer k, direction d. */
  hN: Tensor
}

/** What {@link lstm} returns. */
export interface LSTMOutput extends RecurrentOutput {
  /** Final cell state, laid out as `hN`. */
  cN: Tensor
}

/**
 * `seq` [T,B,I] with the steps past each row's length replaced by zeros. Packed sequences
 * never read them, but the input projection is one matmul over all steps: a NaN there would
 * reach grad weight_ih (0 * NaN) even though no output depends on it. Only layer 0 needs
 * this; every layer's outputs are already zero past each length.
 */
function maskPadding(seq: Tensor, lengths: readonly number[]): Tensor {
  const [T, B] = seq.shape
  const mask = new Int32Array(T * B)
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) mask[t * B + b] = t < lengths[b] ? 1 : 0
  return where(tensor(mask, { shape: [T, B, 1], dtype: 'int32' }), seq, 0)
}

interface RunResult {
  output: Tensor
  hN: Tensor
  cN: Tensor | null
}

function run(cfg: Config, params: Params, x: Tensor, options: LSTMApplyOptions): RunResult {
  checkInput(cfg, x)
  const dtype = x.dtype
  const seq = cfg.batchFirst ? transpose(x, 0, 1) : x
  const [T, B] = seq.shape
  const H = cfg.hidden
  const hasCell = cfg.family.kernel.hasCell
  const lengths = checkLengths(cfg, options.lengths, T, B)
  const h0 = checkState(cfg, 'h0', options.h0, B, dtype)
  if (!hasCell && options.c0 !== undefined)
    throw new ArgumentError(`${cfg.where}: c0 was given, but a ${cfg.family.name} layer has no cell state (only lstm has one); pass h0 alone`)
  const c0 = hasCell ? checkState(cfg, 'c0', options.c0, B, dtype) : null
  const initial = (s: Tensor | null, row: number): Tensor => (s === null ? zeros([B, H], { dtype }) : select(s, 0, row))
  const hs: Tensor[] = []
  const cs: Tensor[] = []
  let input = lengths === null ? seq : maskPadding(seq, lengths)
  for (let k = 0; k < cfg.layers; k++) {
    if (k > 0 && cfg.dropout > 0 && options.train === true) {
      if (options.key === undefined) throw new ArgumentError(`${cfg.where}: training with dropout > 0 needs a key (pass { train: true, key })`)
      input = applyDropout(input, { p: cfg.dropout, train: true, key: foldIn(options.key, k) })
    }
    const outs: Tensor[] = []
    // A batch-first stack's last layer, with one direction, gets its outputs batch-first from the scan: no transposed copy.
    const direct = cfg.batchFirst && k === cfg.layers - 1 && cfg.directions === 1
    for (let d = 0; d < cfg.directions; d++) {
      const [wih, whh, bih, bhh] = directionParams(cfg, k, d).map(([name, shape]) => shaped(cfg, params, name, shape, dtype))
      // The input projection x W_ih^T (one GEMM over all steps) and its biases are part of the scan.
      const inputBias = cfg.bias ? (cfg.family.hiddenBiasInStep ? bih : add(bih, bhh)) : null
      const row = k * cfg.directions + d
      const stepBias = cfg.bias && cfg.family.hiddenBiasInStep ? bhh : null
      const r = scan(cfg.family, cfg.fused, input, initial(h0, row), hasCell ? initial(c0, row) : null, whh, stepBias, {
        reverse: d === 1,
        lengths,
        inputBias,
        inputWeight: wih,
        batchFirst: direct,
      })
      outs.push(r.output)
      hs.push(r.h)
      if (r.c !== null) cs.push(r.c)
    }
    input = outs.length === 1 ? outs[0] : concat(outs, 2)
  }
  const direct = cfg.batchFirst && cfg.directions === 1
  return { output: cfg.batchFirst && !direct ? transpose(input, 0, 1) : input, hN: stack(hs, 0), cN: hasCell ? stack(cs, 0) : null }
}

/**
 * The Elman network of the essay, `h_t = f(U x_t + W h_{t-1} + b)`, as `torch.nn.RNN`:
 * U is `weight_ih_l{k}` [H, I], W is `weight_hh_l{k}` [H, H], b is `bias_ih_l{k} + bias_hh_l{k}`.
 * The essay's output layer `o_t = g(V h_t)` is a {@link linear} on top of `output`:
 * @example
 * const cell = rnn({ inputSize: 10, hiddenSize: 32 })
 * const head = linear({ inFeatures: 32, outFeatures: 10 })   // V
 * const { output } = cell.apply(p.get('rnn'), x)              // [T, B, 32]
 * const o = softmax(head.apply(p.get('head'), output))        // g = softmax
 */
export function rnn(options: RNNOptions): Layer<Tensor, RecurrentOutput, RecurrentApplyOptions> {
  const nl = options?.nonlinearity ?? 'tanh'
  if (nl !== 'tanh' && nl !== 'relu') throw new ArgumentError(`rnn: nonlinearity must be 'tanh' or 'relu', got '${String(nl)}'`)
  const cfg = configure(rnnFamilies[nl], 'rnn', options, ['nonlinearity'])
  return {
    init: (seed) => init(cfg, seed),
    apply: (params, x, opts = {}) => {
      const r = run(cfg, params, x, opts)
      return { output: r.output, hN: r.hN }
    },
  }
}

/**
 * A long short-term memory layer, as `torch.nn.LSTM`: gates i, f, g, o (in that order in
 * `weight_ih_l{k}` [4H, I] and `weight_hh_l{k}` [4H, H]), `c_t = f * c_{t-1} + i * g`,
 * `h_t = o * tanh(c_t)`.
 * @example
 * const layer = lstm({ inputSize: 8, hiddenSize: 16, numLayers: 2, batchFirst: true })
 * const params = layer.init(0)
 * const { output, hN, cN } = layer.apply(params, x, { lengths: [5, 3] })
 */
export function lstm(options: RecurrentOptions): Layer<Tensor, LSTMOutput, LSTMApplyOptions> {
  const cfg = configure(lstmFamily, 'lstm', options)
  return {
    init: (seed) => init(cfg, seed),
    apply: (params, x, opts = {}) => {
      const r = run(cfg, params, x, opts)
      return { output: r.output, hN: r.hN, cN: r.cN as Tensor }
    },
  }
}

/**
 * A gated recurrent unit layer, as `torch.nn.GRU`: gates r, z, n, with
 * `n = tanh(W_in x + b_in + r * (W_hn h + b_hn))` (the reset gate multiplies the hidden
 * projection including its bias) and `h_t = (1 - z) * n + z * h_{t-1}`.
 */
export function gru(options: RecurrentOptions): Layer<Tensor, RecurrentOutput, RecurrentApplyOptions> {
  const cfg = configure(gruFamily, 'gru', options)
  return {
    init: (seed) => init(cfg, seed),
    apply: (params, x, opts = {}) => {
      const r = run(cfg, params, x, opts)
      return { output: r.output, hN: r.hN }
    },
  }
}

/** The kinds of recurrent layer, named as the reference fixtures name them. */
export type RecurrentKind = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu'

/** Builds any recurrent layer by kind (LSTM results carry `cN`). */
export function recurrentLayer(kind: RecurrentKind, options: RecurrentOptions): Layer<Tensor, RecurrentOutput & { cN?: Tensor }, LSTMApplyOptions> {
  if (kind === 'lstm') return lstm(options)
  if (kind === 'gru') return gru(options)
  return rnn({ ...options, nonlinearity: kind === 'rnn_relu' ? 'relu' : 'tanh' })
}

/** A random small layer configuration and its float64 inputs, for gradient checks. */
function layerSpec(kind: RecurrentKind, fused: boolean): GradSpec {
  return {
    sample: (s: CaseSampler) => {
      const I = s.int(1, 3)
      const H = s.int(1, 3)
      const L = s.int(1, 2)
      const B = s.int(1, 3)
      const T = s.int(1, 4)
      const o: RecurrentOptions = {
        inputSize: I,
        hiddenSize: H,
        numLayers: L,
        bias: s.coin(0.7),
        batchFirst: s.coin(),
        bidirectional: s.coin(0.4),
        dtype: 'float64',
        fused,
      }
      const layer = recurrentLayer(kind, o)
      const names = [...layer.init(0).keys()]
      const shapes = [...(layer.init(0).values() as Iterable<Tensor>)].map((p) => p.shape)
      const D = o.bidirectional === true ? 2 : 1
      const withState = s.coin()
      const states = withState ? (kind === 'lstm' ? 2 : 1) : 0
      const lengths = s.coin(0.4) ? Array.from({ length: B }, (_, b) => (b === 0 ? T : s.int(1, T))) : undefined
      const inputs = [
        s.values(o.batchFirst === true ? [B, T, I] : [T, B, I]),
        ...Array.from({ length: states }, () => s.values([L * D, B, H], { min: -1, max: 1 })),
        ...shapes.map((shape) => s.values(shape, { min: -0.6, max: 0.6 })),
      ]
      const fn = (...xs: Tensor[]): Tensor => {
        const params = OrderedMap(names.map((n, i) => [n, xs[1 + states + i]])) as Params
        const r = layer.apply(params, xs[0], { h0: states > 0 ? xs[1] : undefined, c0: states > 1 ? xs[2] : undefined, lengths })
        const parts = [r.output, r.hN, ...(r.cN === undefined ? [] : [r.cN])].map((t) => reshape(t, [-1]))
        return concat(parts, 0)
      }
      const label = `${kind} I=${I} H=${H} L=${L} B=${B} T=${T}${o.bias === true ? '' : ' nobias'}${D === 2 ? ' bidir' : ''}${o.batchFirst === true ? ' batchFirst' : ''}${withState ? ' h0' : ''}${lengths === undefined ? '' : ` lengths=${lengths.join(',')}`}`
      return { inputs, fn, label }
    },
  }
}

const KINDS: readonly RecurrentKind[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru']

/**
 * Gradient-check specs of the recurrent layers and their cells: whole layers on small
 * random configurations (`lstm`, ..., with the fused op; `lstm_composed`, ... with the
 * composed cells, which support second derivatives), and each cell, fused and composed.
 */
export const recurrentSpecs: Readonly<Record<string, GradSpec>> = {
  ...Object.fromEntries(
    KINDS.flatMap((k) => [
      [k, layerSpec(k, true)],
      [`${k}_composed`, layerSpec(k, false)],
    ]),
  ),
  ...lstmCellSpecs,
  ...gruCellSpecs,
  ...rnnCellSpecs,
}
