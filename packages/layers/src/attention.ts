/**
 * Attention, as PyTorch's: {@link scaledDotProductAttention} (`F.scaled_dot_product_attention`)
 * and {@link multiHeadAttention} (`nn.MultiheadAttention`, with its parameter names, shapes,
 * initialisation and masks). A mask is either int32, non-zero where attention is NOT allowed
 * (PyTorch's `True` in `nn.MultiheadAttention`), or float, added to the scores (`-Infinity`
 * blocks). A query row whose keys are all blocked gives NaN, as in PyTorch.
 * @module
 */
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  Tensor,
  add,
  concat,
  div,
  fmtShape,
  foldIn,
  matmul,
  mean,
  mul,
  permute,
  reshape,
  softmax,
  split,
  squeeze,
  tensor,
  transpose,
  unsqueeze,
  zeros,
} from '@graphgrad/core'
import type { CaseSampler, DType, GradSpec, Seed } from '@graphgrad/core'
import { OrderedMap, isMap } from 'immutable'
import { checkInput, checkOptions, checkSize, param } from './compose.ts'
import { dropoutMask } from './dropout.ts'
import { additiveMask, attentionMask, causalMask } from './attention-masks.ts'
import { kaimingUniform, xavierUniform } from './init.ts'
import type { ApplyOptions, Layer, Params } from './layer.ts'

/** Options of {@link scaledDotProductAttention}, as `F.scaled_dot_product_attention`'s keyword arguments. */
export interface ScaledDotProductAttentionOptions {
  /**
   * A mask broadcastable to the scores `[..., L, S]`: int32, non-zero where query i may NOT
   * attend to key j (the opposite of PyTorch 2's boolean `attn_mask`, which is true where
   * attention is allowed; graphgrad uses `nn.MultiheadAttention`'s convention everywhere),
   * or float, added to the scores. Not together with `isCausal`.
   */
  attnMask?: Tensor
  /** Query i attends to keys j <= i only (the lower triangle, top-left aligned when L != S, as PyTorch). */
  isCausal?: boolean
  /** Dropout probability on the attention weights, applied whenever it is > 0, as PyTorch's function (default 0). */
  dropoutP?: number
  /** Where the dropout mask comes from; required when `dropoutP > 0`. */
  key?: Seed
  /** The factor of the scores (default `1 / sqrt(E)`). */
  scale?: number
}

/** @internal Throws unless `p` is a probability; returns it. */
export function checkProbability(p: unknown, name: string, where: string): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ArgumentError(`${where}: ${name} must be a probability in [0, 1], got ${String(p)}`)
  return p
}

function checkFloat(x: Tensor, where: string, what: string): void {
  if (x.dtype === 'int32') throw new DTypeError(`${where}: ${what} must be a float tensor, got int32 of shape ${fmtShape(x.shape)}`)
}

/** The broadcast of shapes (NumPy's rule), or null when they do not broadcast. */
function broadcast(shapes: readonly (readonly number[])[]): number[] | null {
  const rank = Math.max(...shapes.map((s) => s.length))
  const out: number[] = []
  for (let i = 0; i < rank; i++) {
    let d = 1
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1
      if (e !== 1 && d !== 1 && e !== d) return null
      if (e !== 1) d = e
    }
    out.push(d)
  }
  return out
}

/** The dropout of the attention weights: probability and key. */
interface AttentionDropout {
  readonly p: number
  readonly key: Seed
}

/**
 * `softmax(q k^T * scale + mask) v` with the weights; `scale` undefined divides `q` by
 * `sqrt(E)` first, as PyTorch does.
 */
function attend(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor | undefined,
  scale: number | undefined,
  drop: AttentionDropout | undefined,
): { output: Tensor; weights: Tensor } {
  const qs = scale === undefined ? div(q, Math.sqrt(q.shape[q.rank - 1])) : mul(q, scale)
  const scores = matmul(qs, transpose(k))
  let weights = softmax(mask === undefined ? scores : add(scores, mask), -1)
  if (drop !== undefined && drop.p > 0) weights = mul(weights, dropoutMask(weights.shape, drop.p, drop.key, weights.dtype))
  return { output: matmul(weights, v), weights }
}

function dropoutOf(p: number, key: Seed | undefined, where: string): AttentionDropout | undefined {
  if (p === 0) return undefined
  if (key === undefined) throw new ArgumentError(`${where}: dropout on the attention weights (p = ${p}) needs a key`)
  return { p, key }
}

/**
 * Scaled dot-product attention, as PyTorch's `F.scaled_dot_product_attention`:
 * `softmax(query key^T / sqrt(E) + mask) value` for `query` `[..., L, E]`, `key` `[..., S, E]`
 * and `value` `[..., S, Ev]` (the leading dimensions broadcast), giving `[..., L, Ev]`.
 */
export function scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, options: ScaledDotProductAttentionOptions = {}): Tensor {
  const W = 'scaledDotProductAttention'
  checkOptions(options, { attnMask: true, isCausal: true, dropoutP: true, key: true, scale: true }, W)
  const named: [Tensor, string, string][] = [
    [query, 'query', '[..., L, E]'],
    [key, 'key', '[..., S, E]'],
    [value, 'value', '[..., S, Ev]'],
  ]
  for (const [t, name, want] of named) {
    checkInput(t, W, name)
    checkFloat(t, W, name)
    if (t.rank < 2) throw new ShapeError(`${W}: ${name} must be ${want} (rank >= 2), got shape ${fmtShape(t.shape)}`)
  }
  const shapes = `query ${fmtShape(query.shape)}, key ${fmtShape(key.shape)}, value ${fmtShape(value.shape)}`
  if (query.shape[query.rank - 1] !== key.shape[key.rank - 1])
    throw new ShapeError(`${W}: query [..., L, E] and key [..., S, E] must have the same E, got ${shapes}`)
  if (key.shape[key.rank - 2] !== value.shape[value.rank - 2])
    throw new ShapeError(`${W}: key [..., S, E] and value [..., S, Ev] must have the same S, got ${shapes}`)
  const lead = broadcast([query.shape.slice(0, -2), key.shape.slice(0, -2), value.shape.slice(0, -2)])
  if (lead === null) throw new ShapeError(`${W}: the leading (batch) dimensions do not broadcast: ${shapes}`)
  const l = query.shape[query.rank - 2]
  const s = key.shape[key.rank - 2]
  const dtype = query.dtype
  let mask: Tensor | undefined
  if (options.isCausal === true) {
    if (options.attnMask !== undefined) throw new ArgumentError(`${W}: pass attnMask or isCausal, not both`)
    mask = causalMask(l, s, dtype)
  } else if (options.attnMask !== undefined) {
    mask = additiveMask(options.attnMask, dtype, W, 'attnMask')
    if (broadcast([mask.shape, [...lead, l, s]])?.join() !== [...lead, l, s].join()) {
      throw new ShapeError(
        `${W}: attnMask of shape ${fmtShape(mask.shape)} does not broadcast to the scores [..., L, S] = ${fmtShape([...lead, l, s])} (${shapes})`,
      )
    }
  }
  if (options.scale !== undefined && (typeof options.scale !== 'number' || !Number.isFinite(options.scale))) {
    throw new ArgumentError(`${W}: scale must be a finite number, got ${String(options.scale)}`)
  }
  const drop = dropoutOf(checkProbability(options.dropoutP ?? 0, 'dropoutP', W), options.key, W)
  return attend(query, key, value, mask, options.scale, drop).output
}

/** Options of {@link multiHeadAttention}: `nn.MultiheadAttention`'s arguments in camelCase (`kdim = vdim = embedDim`). */
export interface MultiheadAttentionOptions {
  /** Size of the model: the last dimension of query, key, value and output. */
  embedDim: number
  /** Number of heads; each has `embedDim / numHeads` dimensions. */
  numHeads: number
  /** Dropout probability on the attention weights in training mode (default 0). */
  dropout?: number
  /** Learn `in_proj_bias` and `out_proj.bias` (default true). */
  bias?: boolean
  /** Inputs and output are `[batch, seq, feature]` (default false: `[seq, batch, feature]`). */
  batchFirst?: boolean
  /** Parameter dtype (default float32). */
  dtype?: DType
}

/**
 * The input of {@link multiHeadAttention}: `nn.MultiheadAttention.forward`'s `query`, `key`
 * and `value`. `key` defaults to `query` and `value` to `key`.
 */
export interface AttentionInputs {
  /** `[L, N, E]` (`[N, L, E]` when batch-first, `[L, E]` unbatched). */
  readonly query: Tensor
  /** `[S, N, E]` (`[N, S, E]` when batch-first, `[S, E]` unbatched). */
  readonly key?: Tensor
  /** Same shape as `key`. */
  readonly value?: Tensor
}

/** Per-call options of {@link multiHeadAttention}: `forward`'s keyword arguments, and `train` / `key` for dropout. */
export interface MultiheadAttentionCallOptions extends ApplyOptions {
  /** `[N, S]` (`[S]` unbatched): int32 non-zero marks a padding key to ignore, or float added to its scores. */
  keyPaddingMask?: Tensor
  /** `[L, S]` or `[N * numHeads, L, S]` (`[numHeads, L, S]` unbatched): int32 non-zero blocks, float is added. */
  attnMask?: Tensor
  /** Query i attends to keys j <= i only (not together with `attnMask`). */
  isCausal?: boolean
  /** Return the attention weights (default true); false gives `weights: null`. */
  needWeights?: boolean
  /** Average the weights over heads, `[N, L, S]` (default true); false gives `[N, numHeads, L, S]`. */
  averageAttnWeights?: boolean
}

/** What {@link multiHeadAttention} returns, as `nn.MultiheadAttention`'s `(attn_output, attn_output_weights)`. */
export interface AttentionResult {
  /** Same layout as the query. */
  readonly output: Tensor
  /** The attention weights (after dropout, as PyTorch 1.13), or null when `needWeights` is false. */
  readonly weights: Tensor | null
}

/** The multi-head attention layer: the query tensor alone is self-attention. */
export type MultiheadAttentionLayer = Layer<Tensor | AttentionInputs, AttentionResult, MultiheadAttentionCallOptions>

/** @internal The nested parameter map `name` of `params`, with an error naming the layer and what is there. */
export function subParams(params: Params, name: string, where: string): Params {
  const value: unknown = isMap(params) ? params.get(name) : undefined
  if (isMap(value)) return value as Params
  const there = isMap(params) ? `found: ${[...params.keys()].join(', ') || 'none'}` : 'the parameters are not an Immutable.js map'
  throw new ArgumentError(`${where}: the parameters have no sub-layer map '${name}' (${there})`)
}

function inputsOf(input: unknown, where: string): { query: Tensor; key: Tensor; value: Tensor } {
  if (input instanceof Tensor) return { query: input, key: input, value: input }
  if (typeof input !== 'object' || input === null || !('query' in input)) {
    checkInput(input, where, 'the input (the query Tensor, or { query, key?, value? })')
  }
  const { query, key, value } = input as AttentionInputs
  checkInput(query, where, 'query')
  if (key !== undefined) checkInput(key, where, 'key')
  if (value !== undefined) checkInput(value, where, 'value')
  const k = key ?? query
  return { query, key: k, value: value ?? k }
}

/**
 * Multi-head attention, as `nn.MultiheadAttention` (with `kdim = vdim = embedDim`).
 * Parameters: `in_proj_weight` `[3E, E]` (xavier uniform; rows: query, key, value
 * projections), `in_proj_bias` `[3E]` (zeros), `out_proj.weight` `[E, E]` (Linear's default,
 * U(-1/sqrt(E), 1/sqrt(E))) and `out_proj.bias` `[E]` (zeros); no biases when `bias: false`.
 * `apply(params, query | { query, key, value }, options)` returns `{ output, weights }`.
 */
export function multiHeadAttention(options: MultiheadAttentionOptions): MultiheadAttentionLayer {
  const W = 'multiHeadAttention'
  checkOptions(options, { embedDim: true, numHeads: true, dropout: true, bias: true, batchFirst: true, dtype: true }, W)
  const E = checkSize(options.embedDim, 'embedDim', W)
  const H = checkSize(options.numHeads, 'numHeads', W)
  if (E % H !== 0) throw new ArgumentError(`${W}: embedDim=${E} must be divisible by numHeads=${H}`)
  const D = E / H
  const p = checkProbability(options.dropout ?? 0, 'dropout', W)
  const hasBias = options.bias ?? true
  const batchFirst = options.batchFirst ?? false
  const dtype = options.dtype ?? 'float32'
  const layout = (seq: string): string => (batchFirst ? `[N, ${seq}, E]` : `[${seq}, N, E]`)
  return {
    init(seed) {
      const inW = xavierUniform([3 * E, E], foldIn(seed, 0), { dtype })
      const outW = kaimingUniform([E, E], foldIn(seed, 1), { dtype, a: Math.sqrt(5) })
      if (!hasBias) return OrderedMap({ in_proj_weight: inW, out_proj: OrderedMap({ weight: outW }) }) as Params
      return OrderedMap({
        in_proj_weight: inW,
        in_proj_bias: zeros([3 * E], { dtype }),
        out_proj: OrderedMap({ weight: outW, bias: zeros([E], { dtype }) }),
      }) as Params
    },
    apply(params, input, call = {}) {
      const { query, key, value } = inputsOf(input, W)
      checkFloat(query, W, 'query')
      const batched = query.rank === 3
      if ((query.rank !== 2 && !batched) || query.shape[query.rank - 1] !== E) {
        throw new ShapeError(`${W}: query must be ${layout('L')} (or [L, E] unbatched) with E = embedDim = ${E}, got shape ${fmtShape(query.shape)}`)
      }
      const batchAxis = batchFirst ? 0 : 1
      for (const [t, name] of [
        [key, 'key'],
        [value, 'value'],
      ] as const) {
        const ok = t.rank === query.rank && t.shape[t.rank - 1] === E && (!batched || t.shape[batchAxis] === query.shape[batchAxis])
        if (!ok)
          throw new ShapeError(
            `${W}: ${name} must be ${batched ? layout('S') : '[S, E]'} like the query ${fmtShape(query.shape)} (E = ${E}), got shape ${fmtShape(t.shape)}`,
          )
      }
      if (key.shape.join() !== value.shape.join())
        throw new ShapeError(`${W}: key ${fmtShape(key.shape)} and value ${fmtShape(value.shape)} must have the same shape`)
      const toBatchFirst = (t: Tensor): Tensor => (!batched ? unsqueeze(t, 0) : batchFirst ? t : transpose(t, 0, 1))
      const [q0, k0, v0] = [toBatchFirst(query), toBatchFirst(key), toBatchFirst(value)]
      const [N, L, S] = [q0.shape[0], q0.shape[1], k0.shape[1]]
      const inW = param(params, 'in_proj_weight', W)
      if (inW.shape.join() !== [3 * E, E].join())
        throw new ShapeError(`${W}: in_proj_weight must have shape ${fmtShape([3 * E, E])}, got ${fmtShape(inW.shape)}`)
      const inB = hasBias ? param(params, 'in_proj_bias', W) : undefined
      const out = subParams(params, 'out_proj', W)
      const outW = param(out, 'weight', `${W} out_proj`)
      const outB = hasBias ? param(out, 'bias', `${W} out_proj`) : undefined
      const mask = attentionMask(call, { N, H, L, S, batched, dtype: q0.dtype })
      const [wq, wk, wv] = split(inW, E, 0)
      const [bq, bk, bv] = inB === undefined ? [] : split(inB, E, 0)
      const project = (x: Tensor, w: Tensor, b: Tensor | undefined, len: number): Tensor => {
        const y = matmul(x, transpose(w))
        return permute(reshape(b === undefined ? y : add(y, b), [N, len, H, D]), [0, 2, 1, 3])
      }
      const drop = call.train === true ? dropoutOf(p, call.key, W) : undefined
      const heads = attend(project(q0, wq, bq, L), project(k0, wk, bk, S), project(v0, wv, bv, S), mask, undefined, drop)
      let y = matmul(reshape(permute(heads.output, [0, 2, 1, 3]), [N, L, E]), transpose(outW))
      if (outB !== undefined) y = add(y, outB)
      const output = !batched ? squeeze(y, 0) : batchFirst ? y : transpose(y, 0, 1)
      if (call.needWeights === false) return { output, weights: null }
      const weights = call.averageAttnWeights === false ? heads.weights : mean(heads.weights, 1)
      return { output, weights: batched ? weights : squeeze(weights, 0) }
    },
  }
}

/** A random int32 mask `[rows, cols]`, non-zero (blocked) with probability 0.4 but never in column 0, so no row is fully blocked. */
function randomBlocks(s: CaseSampler, rows: number, cols: number): Tensor {
  const out = new Int32Array(rows * cols)
  for (let i = 0; i < out.length; i++) out[i] = i % cols !== 0 && s.coin(0.4) ? 1 : 0
  return tensor(out, { shape: [rows, cols], dtype: 'int32' })
}

/** The output and the weights as one flat tensor, so a check covers both. */
const both = (r: AttentionResult): Tensor => (r.weights === null ? reshape(r.output, [-1]) : concat([reshape(r.output, [-1]), reshape(r.weights, [-1])]))

/** Gradient-check specs: the function with each kind of mask; the layer self- and cross-attending, with its parameters. */
export const attentionSpecs: Record<string, GradSpec> = {
  scaledDotProductAttention: {
    sample: (s: CaseSampler) => {
      const lead = s.shape({ maxRank: 2, maxDim: 2 })
      const [l, n, e, ev] = [s.int(1, 3), s.int(1, 3), s.int(1, 3), s.int(1, 3)]
      const [q, k, v] = [s.values([...lead, l, e]), s.values([...lead, n, e]), s.values([...lead, n, ev])]
      const kind = s.pick(['none', 'causal', 'float', 'int32'] as const)
      const options: ScaledDotProductAttentionOptions =
        kind === 'causal'
          ? { isCausal: true }
          : kind === 'float'
            ? { attnMask: s.values([l, n], { min: -1, max: 1 }) }
            : kind === 'int32'
              ? { attnMask: randomBlocks(s, l, n) }
              : {}
      const fn = (qi: Tensor, ki: Tensor, vi: Tensor): Tensor => scaledDotProductAttention(qi, ki, vi, options)
      return { inputs: [q, k, v], fn, label: `q ${fmtShape(q.shape)}, k ${fmtShape(k.shape)}, v ${fmtShape(v.shape)}, mask ${kind}` }
    },
  },
  multiHeadAttention: {
    sample: (s: CaseSampler) => {
      const [h, d, n, l] = [s.int(1, 2), s.int(1, 2), s.int(1, 2), s.int(1, 3)]
      const e = h * d
      const cross = s.coin()
      const len = cross ? s.int(1, 3) : l
      const batchFirst = s.coin()
      const layer = multiHeadAttention({ embedDim: e, numHeads: h, batchFirst, dtype: 'float64' })
      const shape = (t: number): number[] => (batchFirst ? [n, t, e] : [t, n, e])
      const call: MultiheadAttentionCallOptions = s.coin() ? { keyPaddingMask: randomBlocks(s, n, len) } : { isCausal: true }
      const params = [s.values([3 * e, e]), s.values([3 * e]), s.values([e, e]), s.values([e])]
      const tree = (w: Tensor[]): Params =>
        OrderedMap({ in_proj_weight: w[0], in_proj_bias: w[1], out_proj: OrderedMap({ weight: w[2], bias: w[3] }) }) as Params
      const inputs = cross ? [s.values(shape(l)), s.values(shape(len)), s.values(shape(len))] : [s.values(shape(l))]
      const fn = (...xs: Tensor[]): Tensor => {
        const io = xs.slice(0, inputs.length)
        const x = io.length === 1 ? io[0] : { query: io[0], key: io[1], value: io[2] }
        return both(layer.apply(tree(xs.slice(inputs.length)), x, call))
      }
      const masks = call.isCausal === true ? 'causal' : 'key padding'
      return {
        inputs: [...inputs, ...params],
        fn,
        label: `${cross ? 'cross' : 'self'} E=${e} heads=${h} N=${n} L=${l} S=${len}${batchFirst ? ' batch-first' : ''}, ${masks}`,
      }
    },
  },
}
