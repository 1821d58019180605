/**
 * The character model in jax-js, written as its users write it: a pure loss over a params
 * object, an unrolled Python-style time loop (0.1.25 has no `lax.scan`), `.ref` wherever an
 * array is used again (jax-js moves arrays into every call). The embedding lookup and the
 * target pick are one-hot matmuls/products: the gradient of `take` is a scatter, which
 * 0.1.25's `jit` cannot compile ("routine primitive scatter input is not imm").
 * @module
 */
import { nn, numpy as np } from '@jax-js/jax'
import { type ModelData, gatesOf, timeMajor, transpose2d } from '../data.ts'
import type { Cell, ModelShape } from '../workloads.ts'

/** The model's parameters in the [in, out] layouts. A type alias (not an interface), as jax-js's JsTree requires. */
export type JaxParams = { emb: np.Array; wih: np.Array; whh: np.Array; bih: np.Array; bhh: np.Array; headW: np.Array; headB: np.Array }

/** The fixed batch: one-hot tokens [T*B, V] and one-hot targets [T*B, V], time-major. */
export type JaxBatch = { tokens: np.Array; labels: np.Array }

/** The starting parameters and batch as jax-js arrays. */
export function jaxModelData(cell: Cell, s: ModelShape, d: ModelData): { params: JaxParams; batch: JaxBatch } {
  const G = gatesOf(cell) * s.hidden
  const oneHot = (ids: Int32Array): np.Array => nn.oneHot(np.array(timeMajor(ids, s.batch, s.seq), { dtype: np.int32 }), s.vocab)
  return {
    params: {
      emb: np.array(d.embedding).reshape([s.vocab, s.embed]),
      wih: np.array(transpose2d(d.weightIh, G, s.embed)).reshape([s.embed, G]),
      whh: np.array(transpose2d(d.weightHh, G, s.hidden)).reshape([s.hidden, G]),
      bih: np.array(d.biasIh),
      bhh: np.array(d.biasHh),
      headW: np.array(transpose2d(d.headWeight, s.vocab, s.hidden)).reshape([s.hidden, s.vocab]),
      headB: np.array(d.headBias),
    },
    batch: { tokens: oneHot(d.tokens), labels: oneHot(d.targets) },
  }
}

/** PyTorch's LSTM cell on the step's input projection (both biases already in `gx`); consumes gx, h, c. */
function lstmStep(whh: np.Array, gx: np.Array, h: np.Array, c: np.Array): [np.Array, np.Array] {
  const [i, f, g, o] = np.split(gx.add(np.matmul(h, whh)), 4, 1)
  const c2 = nn
    .sigmoid(f)
    .mul(c)
    .add(nn.sigmoid(i).mul(np.tanh(g)))
  return [nn.sigmoid(o).mul(np.tanh(c2.ref)), c2]
}

/** PyTorch's GRU cell (reset gate after the hidden matmul); consumes gx and h. */
function gruStep(whh: np.Array, bhh: np.Array, gx: np.Array, h: np.Array): np.Array {
  const [xr, xz, xn] = np.split(gx, 3, 1)
  const [hr, hz, hn] = np.split(np.matmul(h.ref, whh).add(bhh), 3, 1)
  const r = nn.sigmoid(xr.add(hr))
  const z = nn.sigmoid(xz.add(hz))
  const n = np.tanh(xn.add(r.mul(hn)))
  // (1 - z) n + z h  =  n + z (h - n)
  return n.ref.add(z.mul(h.sub(n)))
}

/** The model's mean cross-entropy; takes ownership of `p` and `b`, as jax-js functions do. */
export function jaxLoss(cell: Cell, s: ModelShape): (p: JaxParams, b: JaxBatch) => np.Array {
  const { batch: B, seq: T, hidden: H } = s
  return (p, b) => {
    const x = np.matmul(b.tokens, p.emb)
    const bias = cell === 'lstm' ? p.bih.add(p.bhh.ref) : p.bih
    const steps = np.unstack(
      np
        .matmul(x, p.wih)
        .add(bias)
        .reshape([T, B, gatesOf(cell) * H]),
      0,
    )
    let h = np.zeros([B, H])
    let c = np.zeros([B, H])
    const hs: np.Array[] = []
    for (const gx of steps) {
      if (cell === 'lstm') [h, c] = lstmStep(p.whh.ref, gx, h, c)
      else h = gruStep(p.whh.ref, p.bhh.ref, gx, h)
      hs.push(h.ref)
    }
    h.dispose()
    c.dispose()
    p.whh.dispose()
    p.bhh.dispose()
    const logits = np.matmul(np.stack(hs).reshape([T * B, H]), p.headW).add(p.headB)
    return nn
      .logSoftmax(logits, -1)
      .mul(b.labels)
      .sum()
      .mul(-1 / (T * B))
  }
}
