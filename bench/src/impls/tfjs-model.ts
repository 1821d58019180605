/**
 * The character model in TensorFlow.js, written as its users write it: `tf.layers`
 * (embedding, lstm with returnSequences, dense on the 3-D output) where that trains, and a
 * hand-written cell under `tf.variableGrads`/`optimizer.minimize` where it does not: the
 * GRU (tfjs-layers' GRU is the reset-before variant, not PyTorch's) and everything on wasm,
 * whose backend lacks `UnsortedSegmentSum`, the gradient of `gather`, so the embedding there
 * is a one-hot matmul (the same function and the same gradient).
 * @module
 */
import type * as TF from '@tensorflow/tfjs-core'
import { type ModelData, gatesOf, summedBias, timeMajor, transpose2d } from '../data.ts'
import type { Cell, ModelShape } from '../workloads.ts'

type Tf = typeof TF

/** How the embedding table is read: `gather` (cpu), or a one-hot matmul (wasm, where gather has no gradient). */
export type EmbeddingLookup = 'gather' | 'onehot'

/** A model set up on one backend: its loss, its trainable variables, and what to free. */
export interface TfModel {
  /** The mean cross-entropy of the fixed batch, recorded on the tape when called inside minimize. */
  loss(): TF.Scalar
  /** Frees the variables and data. */
  dispose(): void
}

/** The hand-written model's variables, in the peers' [in, out] layouts. */
interface CellVars {
  readonly emb: TF.Variable
  readonly wih: TF.Variable
  readonly whh: TF.Variable
  readonly bih: TF.Variable
  readonly bhh: TF.Variable
  readonly headW: TF.Variable
  readonly headB: TF.Variable
}

function cellVars(tf: Tf, cell: Cell, s: ModelShape, d: ModelData): CellVars {
  const G = gatesOf(cell) * s.hidden
  return {
    emb: tf.variable(tf.tensor2d(d.embedding, [s.vocab, s.embed])),
    wih: tf.variable(tf.tensor2d(transpose2d(d.weightIh, G, s.embed), [s.embed, G])),
    whh: tf.variable(tf.tensor2d(transpose2d(d.weightHh, G, s.hidden), [s.hidden, G])),
    bih: tf.variable(tf.tensor1d(d.biasIh)),
    bhh: tf.variable(tf.tensor1d(d.biasHh)),
    headW: tf.variable(tf.tensor2d(transpose2d(d.headWeight, s.vocab, s.hidden), [s.hidden, s.vocab])),
    headB: tf.variable(tf.tensor1d(d.headBias)),
  }
}

/** One step of PyTorch's LSTM cell from the step's input projection `gx` (biases included). */
function lstmStep(tf: Tf, v: CellVars, gx: TF.Tensor, h: TF.Tensor, c: TF.Tensor): [TF.Tensor, TF.Tensor] {
  const [i, f, g, o] = tf.split(tf.add(gx, tf.matMul(h, v.whh)), 4, 1)
  const c2 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)))
  return [tf.mul(tf.sigmoid(o), tf.tanh(c2)), c2]
}

/** One step of PyTorch's GRU cell: the reset gate scales the hidden side's candidate after its matmul. */
function gruStep(tf: Tf, v: CellVars, gx: TF.Tensor, h: TF.Tensor): TF.Tensor {
  const [xr, xz, xn] = tf.split(gx, 3, 1)
  const [hr, hz, hn] = tf.split(tf.add(tf.matMul(h, v.whh), v.bhh), 3, 1)
  const r = tf.sigmoid(tf.add(xr, hr))
  const z = tf.sigmoid(tf.add(xz, hz))
  const n = tf.tanh(tf.add(xn, tf.mul(r, hn)))
  return tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h))
}

/**
 * The hand-written model, time-major throughout: tokens are [T,B], so the per-step slices of
 * the input projection are one `unstack` (whose gradient is one `stack`).
 */
export function cellModel(tf: Tf, cell: Cell, s: ModelShape, d: ModelData, lookup: EmbeddingLookup): TfModel {
  const { batch: B, seq: T, hidden: H, vocab: V } = s
  const v = cellVars(tf, cell, s, d)
  const tokens = tf.tensor1d(timeMajor(d.tokens, B, T), 'int32')
  const onehotTokens = lookup === 'onehot' ? tf.tidy(() => tf.cast(tf.oneHot(tokens, V), 'float32')) : null
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(timeMajor(d.targets, B, T), 'int32'), V))
  const loss = (): TF.Scalar => {
    const x = onehotTokens === null ? tf.gather(v.emb, tokens) : tf.matMul(onehotTokens, v.emb)
    const bias = cell === 'lstm' ? tf.add(v.bih, v.bhh) : v.bih
    const steps = tf.unstack(tf.reshape(tf.add(tf.matMul(x, v.wih), bias), [T, B, gatesOf(cell) * H]))
    let h: TF.Tensor = tf.zeros([B, H])
    let c: TF.Tensor = tf.zeros([B, H])
    const hs: TF.Tensor[] = []
    for (const gx of steps) {
      if (cell === 'lstm') [h, c] = lstmStep(tf, v, gx, h, c)
      else h = gruStep(tf, v, gx, h)
      hs.push(h)
    }
    const logits = tf.add(tf.matMul(tf.reshape(tf.stack(hs), [T * B, H]), v.headW), v.headB)
    return tf.losses.softmaxCrossEntropy(labels, logits)
  }
  return { loss, dispose: () => tf.dispose([...Object.values(v), tokens, labels, ...(onehotTokens === null ? [] : [onehotTokens])]) }
}

/**
 * The LSTM model in `tf.layers`: embedding, lstm (sigmoid recurrent activation, as PyTorch;
 * tfjs defaults to hardSigmoid) returning sequences, dense applied to every step. Keras'
 * LSTM has one bias, so it gets b_ih + b_hh; gates i,f,c,o are PyTorch's i,f,g,o.
 */
export async function layersModel(tf: Tf, s: ModelShape, d: ModelData): Promise<TfModel> {
  const tfl = await import('@tensorflow/tfjs-layers')
  const { batch: B, seq: T, embed: E, hidden: H, vocab: V } = s
  const emb = tfl.layers.embedding({ inputDim: V, outputDim: E, inputShape: [T] })
  // Zero initialisers: the weights are overwritten below, and the default orthogonal one takes seconds at H = 256.
  const rec = tfl.layers.lstm({ units: H, returnSequences: true, recurrentActivation: 'sigmoid', kernelInitializer: 'zeros', recurrentInitializer: 'zeros' })
  const head = tfl.layers.dense({ units: V })
  const model = tfl.sequential({ layers: [emb, rec, head] })
  const G = 4 * H
  tf.tidy(() => {
    emb.setWeights([tf.tensor2d(d.embedding, [V, E])])
    rec.setWeights([tf.tensor2d(transpose2d(d.weightIh, G, E), [E, G]), tf.tensor2d(transpose2d(d.weightHh, G, H), [H, G]), tf.tensor1d(summedBias(d))])
    head.setWeights([tf.tensor2d(transpose2d(d.headWeight, V, H), [H, V]), tf.tensor1d(d.headBias)])
  })
  const tokens = tf.tensor2d(d.tokens, [B, T], 'int32')
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(d.targets, 'int32'), V))
  const loss = (): TF.Scalar => {
    const logits = model.apply(tokens) as TF.Tensor
    return tf.losses.softmaxCrossEntropy(labels, tf.reshape(logits, [B * T, V]))
  }
  return {
    loss,
    dispose: () => {
      model.dispose()
      tf.dispose([tokens, labels])
    },
  }
}
