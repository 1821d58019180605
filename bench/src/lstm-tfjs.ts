/**
 * The LSTM training step of `lstm.ts` written in TensorFlow.js (cpu backend), with the same
 * FLOPs as graphgrad's layer: one input-projection matmul for all time steps, one
 * [B,H] x [H,4H] matmul per step, a linear head, mean softmax cross-entropy, Adam.
 * @module
 */
import type * as TF from '@tensorflow/tfjs-core'
import type { LstmShape } from './lstm.ts'
import { loadTfjs } from './tfjs.ts'

type Tf = typeof TF

interface Vars {
  readonly emb: TF.Variable
  readonly wih: TF.Variable
  readonly whh: TF.Variable
  readonly bih: TF.Variable
  readonly bhh: TF.Variable
  readonly headW: TF.Variable
  readonly headB: TF.Variable
}

/** PyTorch's initialisation: embedding N(0,1), LSTM and head uniform in ±1/sqrt(fan). */
function initVars(tf: Tf, s: LstmShape): Vars {
  const G = 4 * s.hidden
  const k = 1 / Math.sqrt(s.hidden)
  // In a tidy, so the initial value is freed once the variable holds its data.
  const variable = (init: () => TF.Tensor): TF.Variable => tf.tidy(() => tf.variable(init()))
  const u = (shape: number[], seed: number): TF.Variable => variable(() => tf.randomUniform(shape, -k, k, 'float32', seed))
  return {
    emb: variable(() => tf.randomNormal([s.vocab, s.embed], 0, 1, 'float32', 0)),
    wih: u([s.embed, G], 1),
    whh: u([s.hidden, G], 2),
    bih: u([G], 3),
    bhh: u([G], 4),
    headW: u([s.hidden, s.vocab], 5),
    headB: u([s.vocab], 6),
  }
}

/**
 * The loss, time-major throughout: tokens are [T,B], so the per-step slices of the input
 * projection are one `unstack` (whose gradient is one `stack`) instead of T strided slices
 * (whose gradients would be T zero-padded copies of the whole projection).
 */
function loss(tf: Tf, s: LstmShape, v: Vars, tokens: TF.Tensor, targets: TF.Tensor): TF.Scalar {
  const { batch: B, seq: T, embed: E, hidden: H } = s
  const x = tf.reshape(tf.gather(v.emb, tokens), [T * B, E])
  const gx = tf.add(tf.matMul(x, v.wih), tf.add(v.bih, v.bhh))
  const steps = tf.unstack(tf.reshape(gx, [T, B, 4 * H]))
  let h: TF.Tensor = tf.zeros([B, H])
  let c: TF.Tensor = tf.zeros([B, H])
  const hs: TF.Tensor[] = []
  for (const gxt of steps) {
    const [i, f, g, o] = tf.split(tf.add(gxt, tf.matMul(h, v.whh)), 4, 1)
    c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)))
    h = tf.mul(tf.sigmoid(o), tf.tanh(c))
    hs.push(h)
  }
  const logits = tf.add(tf.matMul(tf.reshape(tf.stack(hs), [T * B, H]), v.headW), v.headB)
  return tf.losses.softmaxCrossEntropy(targets, logits)
}

/**
 * A tfjs training step closure for one shape; each call runs one step (forward, backward,
 * Adam update of the variables) and returns the loss. `dispose` frees the variables and the
 * optimizer's moments.
 */
export async function lstmTfjsTrainStep(s: LstmShape): Promise<{ step: () => number; dispose: () => void }> {
  const tf = await loadTfjs()
  const v = initVars(tf, s)
  const vars = Object.values(v)
  const tokens = tf.randomUniform([s.seq, s.batch], 0, s.vocab, 'int32', 7)
  const targets = tf.tidy(() => tf.oneHot(tf.randomUniform([s.seq * s.batch], 0, s.vocab, 'int32', 8) as TF.Tensor1D, s.vocab))
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8)
  const step = (): number => tf.tidy(() => (opt.minimize(() => loss(tf, s, v, tokens, targets), true, vars) as TF.Scalar).dataSync()[0])
  const dispose = (): void => {
    opt.dispose()
    tf.dispose([...vars, tokens, targets])
  }
  return { step, dispose }
}
