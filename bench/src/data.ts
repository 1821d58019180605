/**
 * The one set of starting weights and token data every implementation of a model workload
 * uses: drawn once from graphgrad's seeded initialisers (PyTorch's defaults) and handed to
 * the peers as plain typed arrays, so that all of them compute the same loss at step 0.
 * @module
 */
import { type Tensor, randint, randn } from '@graphgrad/core'
import { embedding, gru, linear, lstm } from '@graphgrad/layers'
import type { Layer, Params, RecurrentOutput } from '@graphgrad/layers'
import { OrderedMap } from 'immutable'
import type { Cell, ModelShape } from './workloads.ts'

/** Seeds of the three layers' parameters and of the two token draws. */
const SEEDS = { embedding: 0, recurrent: 1, head: 2, tokens: 3, targets: 4 } as const

/** The model's starting parameters and data as typed arrays, in PyTorch's layouts (weights are [out, in]). */
export interface ModelData {
  /** [vocab, embed]. */
  readonly embedding: Float32Array
  /** [gates*hidden, embed]; gates i,f,g,o (LSTM) or r,z,n (GRU), PyTorch's order. */
  readonly weightIh: Float32Array
  /** [gates*hidden, hidden]. */
  readonly weightHh: Float32Array
  /** [gates*hidden]. */
  readonly biasIh: Float32Array
  /** [gates*hidden]. */
  readonly biasHh: Float32Array
  /** [vocab, hidden]. */
  readonly headWeight: Float32Array
  /** [vocab]. */
  readonly headBias: Float32Array
  /** Input tokens, [batch, seq] (batch-first), each in [0, vocab). */
  readonly tokens: Int32Array
  /** Target tokens, [batch * seq] in the same batch-first order. */
  readonly targets: Int32Array
}

/** graphgrad's layers of one model workload. */
export function modelLayers(cell: Cell, s: ModelShape): { emb: Layer; rec: Layer<Tensor, RecurrentOutput>; head: Layer } {
  const options = { inputSize: s.embed, hiddenSize: s.hidden, batchFirst: true }
  return {
    emb: embedding({ numEmbeddings: s.vocab, embeddingDim: s.embed }),
    rec: cell === 'lstm' ? lstm(options) : gru(options),
    head: linear({ inFeatures: s.hidden, outFeatures: s.vocab }),
  }
}

/** The seeded starting parameters, keyed `embedding`, `rnn`, `head`, in graphgrad's own form. */
export function initialParams(cell: Cell, s: ModelShape): OrderedMap<string, Params> {
  const { emb, rec, head } = modelLayers(cell, s)
  return OrderedMap<string, Params>([
    ['embedding', emb.init(SEEDS.embedding)],
    ['rnn', rec.init(SEEDS.recurrent)],
    ['head', head.init(SEEDS.head)],
  ])
}

/** The seeded tokens ([batch, seq]) and targets ([batch * seq]). */
export function tokenData(s: ModelShape): { tokens: Tensor; targets: Tensor } {
  return { tokens: randint(0, s.vocab, [s.batch, s.seq], SEEDS.tokens), targets: randint(0, s.vocab, [s.batch * s.seq], SEEDS.targets) }
}

function f32(p: Params, name: string): Float32Array {
  const t = p.get(name)
  if (t === undefined || t instanceof OrderedMap) throw new Error(`modelData: no tensor '${name}'`)
  return Float32Array.from((t as Tensor).data)
}

/** The model's starting point as typed arrays, for the peers. */
export function modelData(cell: Cell, s: ModelShape): ModelData {
  const p = initialParams(cell, s)
  const rnn = p.get('rnn') as Params
  const head = p.get('head') as Params
  const { tokens, targets } = tokenData(s)
  return {
    embedding: f32(p.get('embedding') as Params, 'weight'),
    weightIh: f32(rnn, 'weight_ih_l0'),
    weightHh: f32(rnn, 'weight_hh_l0'),
    biasIh: f32(rnn, 'bias_ih_l0'),
    biasHh: f32(rnn, 'bias_hh_l0'),
    headWeight: f32(head, 'weight'),
    headBias: f32(head, 'bias'),
    tokens: Int32Array.from(tokens.data),
    targets: Int32Array.from(targets.data),
  }
}

/** The [cols, rows] transpose of a row-major [rows, cols] matrix (PyTorch's [out, in] to the peers' [in, out]). */
export function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  if (a.length !== rows * cols) throw new Error(`transpose2d: ${a.length} values is not ${rows} x ${cols}`)
  const out = new Float32Array(a.length)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]
  return out
}

/** A batch-first [batch, seq] index array reordered time-major, [seq, batch]. */
export function timeMajor(a: Int32Array, batch: number, seq: number): Int32Array {
  if (a.length !== batch * seq) throw new Error(`timeMajor: ${a.length} values is not ${batch} x ${seq}`)
  const out = new Int32Array(a.length)
  for (let b = 0; b < batch; b++) for (let t = 0; t < seq; t++) out[t * batch + b] = a[b * seq + t]
  return out
}

/** The two recurrent biases summed: LSTM peers with one bias vector add b_ih + b_hh, as PyTorch's math does. */
export function summedBias(d: ModelData): Float32Array {
  return d.biasIh.map((v, i) => v + d.biasHh[i])
}

/** Gates per cell: the row count of the stacked weights is gates x hidden. */
export function gatesOf(cell: Cell): number {
  return cell === 'lstm' ? 4 : 3
}

/**
 * Bytes of the activations a training step keeps for its backward pass, from the shapes, in
 * float32: per (batch, time) position the embedding row (E), the cell's post-activation gates
 * (4H LSTM, 3H GRU plus the hidden-side candidate H), its state (c and h for LSTM, h for GRU)
 * and the head's logits and softmax (2V). Parameters and their gradients are not activations.
 */
export function savedActivationBytes(cell: Cell, s: ModelShape): number {
  const perPosition = s.embed + (cell === 'lstm' ? 4 * s.hidden + 2 * s.hidden : 4 * s.hidden + s.hidden) + 2 * s.vocab
  return 4 * s.batch * s.seq * perPosition
}

/** The op chain's starting vector and its trainable w and b, each [width], seeded. */
export function chainData(width: number): { x0: Float32Array; w: Float32Array; b: Float32Array } {
  return { x0: Float32Array.from(randn([width], 10).data), w: Float32Array.from(randn([width], 11).data), b: Float32Array.from(randn([width], 12).data) }
}

/** A seeded standard-normal n x n matrix, row-major: the matmul operands (seeds 1 and 2). */
export function matrixData(n: number, seed: number): Float32Array {
  return Float32Array.from(randn([n, n], seed).data)
}
