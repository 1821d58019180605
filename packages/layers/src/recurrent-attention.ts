/**
 * Attention for recurrent encoder-decoders: at each decoder step, the decoder's state (the
 * query) scores every encoder output (the keys), the scores become weights by a softmax over
 * the valid steps, and the context is the weighted sum of the values (the encoder outputs
 * again, by default). {@link luongAttention} scores multiplicatively (Luong et al., 2015,
 * `dot` and `general`), {@link bahdanauAttention} additively (Bahdanau et al., 2015).
 * The keys are laid out as the recurrent layers' output: `[T, B, H]`, or `[B, T, H]` with
 * `batchFirst`, so an `lstm`'s `output` is the keys as it is.
 * @module
 */
import {
  ArgumentError,
  ShapeError,
  add,
  concat,
  fmtShape,
  foldIn,
  matmul,
  reshape,
  softmax,
  squeeze,
  tanh,
  tensor,
  transpose,
  unsqueeze,
} from '@graphgrad/core'
import type { CaseSampler, DType, GradSpec, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import { subParams } from './attention.ts'
import { additiveMask } from './attention-masks.ts'
import { checkInput, checkOptions, checkSize, param } from './compose.ts'
import type { ApplyOptions, Layer, Params } from './layer.ts'
import { linear } from './linear.ts'

/** The input of {@link luongAttention} and {@link bahdanauAttention}. */
export interface RecurrentAttentionInputs {
  /** The decoder state `[B, querySize]`. */
  readonly query: Tensor
  /** The encoder outputs `[T, B, keySize]` (`[B, T, keySize]` when batch-first). */
  readonly key: Tensor
  /** What the context averages, `[T, B, Hv]` (`[B, T, Hv]` batch-first); default `key`. */
  readonly value?: Tensor
}

/** Per-call options: which encoder steps are padding (at most one of the two). */
export interface RecurrentAttentionCallOptions extends ApplyOptions {
  /** Each sequence's length (in [1, T]), as the recurrent layers' `lengths`: steps past it get no weight. */
  lengths?: readonly number[]
  /** `[B, T]`: int32 non-zero marks a padding step, or float added to the scores. */
  keyPaddingMask?: Tensor
}

/** The context and the attention weights of one decoder step. */
export interface RecurrentAttentionResult {
  /** `[B, Hv]`: the weighted sum of the values. */
  readonly context: Tensor
  /** `[B, T]`: the softmax of the scores over the steps (zero at padding); each row sums to 1. */
  readonly weights: Tensor
}

/** An attention layer of a recurrent encoder-decoder. */
export type RecurrentAttentionLayer = Layer<RecurrentAttentionInputs, RecurrentAttentionResult, RecurrentAttentionCallOptions>

/** What the two layers share: input checks, masking, the softmax and the context. */
function attention(
  where: string,
  sizes: { query: number; key: number; batchFirst: boolean },
  score: (params: Params, query: Tensor, keys: Tensor) => Tensor,
): RecurrentAttentionLayer['apply'] {
  const layout = sizes.batchFirst ? '[B, T, H]' : '[T, B, H]'
  return (params, input, call = {}) => {
    if (typeof input !== 'object' || input === null || !('query' in input) || !('key' in input)) {
      checkInput(input, where, 'the input ({ query, key, value? })')
      throw new ArgumentError(`${where}: the input must be { query, key, value? } (the decoder state and the encoder outputs), got a Tensor`)
    }
    const { query, key } = input
    checkInput(query, where, 'query')
    checkInput(key, where, 'key')
    const value = input.value ?? key
    checkInput(value, where, 'value')
    if (query.rank !== 2 || query.shape[1] !== sizes.query)
      throw new ShapeError(`${where}: query must be [B, H] with H = querySize = ${sizes.query}, got shape ${fmtShape(query.shape)}`)
    const b = query.shape[0]
    const toBatchFirst = (t: Tensor): Tensor => (sizes.batchFirst ? t : transpose(t, 0, 1))
    if (key.rank !== 3 || key.shape[2] !== sizes.key || key.shape[sizes.batchFirst ? 0 : 1] !== b) {
      throw new ShapeError(
        `${where}: key must be ${layout} with B = ${b} (the query's batch) and H = keySize = ${sizes.key}, got shape ${fmtShape(key.shape)} (query ${fmtShape(query.shape)})`,
      )
    }
    if (value.rank !== 3 || value.shape[0] !== key.shape[0] || value.shape[1] !== key.shape[1]) {
      throw new ShapeError(`${where}: value must be ${layout} with the key's T and B, got shape ${fmtShape(value.shape)} (key ${fmtShape(key.shape)})`)
    }
    const keys = toBatchFirst(key)
    const t = keys.shape[1]
    let scores = score(params, query, keys)
    const mask = paddingMask(call, b, t, scores.dtype, where)
    if (mask !== undefined) scores = add(scores, mask)
    const weights = softmax(scores, -1)
    const context = squeeze(matmul(unsqueeze(weights, 1), toBatchFirst(value)), 1)
    return { context, weights }
  }
}

function paddingMask(call: RecurrentAttentionCallOptions, b: number, t: number, dtype: DType, where: string): Tensor | undefined {
  if (call.lengths !== undefined && call.keyPaddingMask !== undefined) throw new ArgumentError(`${where}: pass lengths or keyPaddingMask, not both`)
  if (call.keyPaddingMask !== undefined) {
    const m = additiveMask(call.keyPaddingMask, dtype, where, 'keyPaddingMask')
    if (m.shape.join() !== [b, t].join()) throw new ShapeError(`${where}: keyPaddingMask must have shape ${fmtShape([b, t])} (B, T), got ${fmtShape(m.shape)}`)
    return m
  }
  if (call.lengths === undefined) return undefined
  const lengths = call.lengths
  if (!Array.isArray(lengths) || lengths.length !== b || lengths.some((n) => !Number.isInteger(n) || n < 1 || n > t)) {
    throw new ArgumentError(`${where}: lengths must be ${b} integers in [1, ${t}] (one per sequence, at most T), got ${JSON.stringify(lengths)}`)
  }
  const out = new Float64Array(b * t)
  for (let i = 0; i < b; i++) out.fill(-Infinity, i * t + lengths[i], (i + 1) * t)
  return tensor(out, { shape: [b, t], dtype })
}

/** Options of {@link luongAttention}. */
export interface LuongAttentionOptions {
  /** `'dot'` (default): `score = q . k`; `'general'`: `score = q . (W k)` with a learned `weight`. */
  method?: 'dot' | 'general'
  /** Size of the query (the decoder's hidden size). */
  querySize: number
  /** Size of each key (the encoder's output size); default `querySize`, and equal to it for `dot`. */
  keySize?: number
  /** Keys and values are `[B, T, H]` (default false: `[T, B, H]`, as the recurrent layers). */
  batchFirst?: boolean
  /** Parameter dtype (default float32). */
  dtype?: DType
}

/**
 * Luong (multiplicative) attention: `weights = softmax_t(score(q, k_t))`, `context =
 * sum_t weights_t v_t`, with `score = q . k_t` (`dot`, no parameters) or `q . (W_a k_t)`
 * (`general`: parameter `weight` `[querySize, keySize]`, `nn.Linear(keySize, querySize,
 * bias=False)`'s weight and initialisation). `apply(params, { query, key, value? },
 * { lengths?, keyPaddingMask? })` gives `{ context, weights }`.
 */
export function luongAttention(options: LuongAttentionOptions): RecurrentAttentionLayer {
  const W = 'luongAttention'
  checkOptions(options, { method: true, querySize: true, keySize: true, batchFirst: true, dtype: true }, W)
  const method = options.method ?? 'dot'
  if (method !== 'dot' && method !== 'general') throw new ArgumentError(`${W}: method must be 'dot' or 'general', got ${String(method)}`)
  const hq = checkSize(options.querySize, 'querySize', W)
  const hk = checkSize(options.keySize ?? hq, 'keySize', W)
  if (method === 'dot' && hk !== hq) throw new ArgumentError(`${W}: 'dot' scores need keySize = querySize, got ${hk} and ${hq} (use method 'general')`)
  const proj = linear({ inFeatures: hk, outFeatures: hq, bias: false, dtype: options.dtype })
  const dot = (q: Tensor, keys: Tensor): Tensor => squeeze(matmul(keys, unsqueeze(q, 2)), 2)
  return {
    init: (seed) => (method === 'general' ? proj.init(seed) : OrderedMap()) as Params,
    apply: attention(W, { query: hq, key: hk, batchFirst: options.batchFirst ?? false }, (params, q, keys) => {
      if (method === 'dot') return dot(q, keys)
      const w = param(params, 'weight', W)
      if (w.shape.join() !== [hq, hk].join()) throw new ShapeError(`${W}: weight must have shape ${fmtShape([hq, hk])}, got ${fmtShape(w.shape)}`)
      return dot(matmul(q, w), keys) // q . (W k) = (q W) . k
    }),
  }
}

/** Options of {@link bahdanauAttention}. */
export interface BahdanauAttentionOptions {
  /** Size of the query (the decoder's hidden size). */
  querySize: number
  /** Size of each key (the encoder's output size); default `querySize`. */
  keySize?: number
  /** Size A of the hidden layer of the scoring network; default `querySize`. */
  attentionSize?: number
  /** Learn a bias `key_proj.bias` inside the tanh (default true). */
  bias?: boolean
  /** Keys and values are `[B, T, H]` (default false: `[T, B, H]`, as the recurrent layers). */
  batchFirst?: boolean
  /** Parameter dtype (default float32). */
  dtype?: DType
}

/**
 * Bahdanau (additive) attention: `score(q, k_t) = v . tanh(W_q q + W_k k_t + b)`, then as
 * {@link luongAttention}. Parameters, each an `nn.Linear` with PyTorch's initialisation:
 * `query_proj.weight` `[A, querySize]`, `key_proj.weight` `[A, keySize]`, `key_proj.bias`
 * `[A]` (unless `bias: false`) and `v.weight` `[1, A]`.
 */
export function bahdanauAttention(options: BahdanauAttentionOptions): RecurrentAttentionLayer {
  const W = 'bahdanauAttention'
  checkOptions(options, { querySize: true, keySize: true, attentionSize: true, bias: true, batchFirst: true, dtype: true }, W)
  const hq = checkSize(options.querySize, 'querySize', W)
  const hk = checkSize(options.keySize ?? hq, 'keySize', W)
  const a = checkSize(options.attentionSize ?? hq, 'attentionSize', W)
  const dtype = options.dtype
  const parts = {
    query_proj: linear({ inFeatures: hq, outFeatures: a, bias: false, dtype }),
    key_proj: linear({ inFeatures: hk, outFeatures: a, bias: options.bias ?? true, dtype }),
    v: linear({ inFeatures: a, outFeatures: 1, bias: false, dtype }),
  }
  return {
    init: (seed) => OrderedMap(Object.entries(parts).map(([name, l], i) => [name, l.init(foldIn(seed, i))] as [string, Params])) as Params,
    apply: attention(W, { query: hq, key: hk, batchFirst: options.batchFirst ?? false }, (params, q, keys) => {
      const run = (name: keyof typeof parts, x: Tensor): Tensor => parts[name].apply(subParams(params, name, W), x)
      const hidden = tanh(add(unsqueeze(run('query_proj', q), 1), run('key_proj', keys)))
      return squeeze(run('v', hidden), 2)
    }),
  }
}

/** Context and weights as one flat tensor, so a check covers both. */
const both = (r: RecurrentAttentionResult): Tensor => concat([reshape(r.context, [-1]), reshape(r.weights, [-1])])

/** Gradient-check specs: both layers with respect to query, keys, values and parameters, with padding. */
export const recurrentAttentionSpecs: Record<string, GradSpec> = {
  luongAttention: {
    sample: (s: CaseSampler) => {
      const [b, t, hq] = [s.int(1, 3), s.int(1, 3), s.int(1, 3)]
      const general = s.coin()
      const hk = general ? s.int(1, 3) : hq
      const batchFirst = s.coin()
      const layer = luongAttention({ method: general ? 'general' : 'dot', querySize: hq, keySize: hk, batchFirst, dtype: 'float64' })
      const lengths = Array.from({ length: b }, () => s.int(1, t))
      const seq = (h: number): number[] => (batchFirst ? [b, t, h] : [t, b, h])
      const inputs = [s.values([b, hq]), s.values(seq(hk)), s.values(seq(s.int(1, 2))), ...(general ? [s.values([hq, hk])] : [])]
      const fn = (q: Tensor, k: Tensor, v: Tensor, w?: Tensor): Tensor => {
        const r = layer.apply((w === undefined ? OrderedMap() : OrderedMap({ weight: w })) as Params, { query: q, key: k, value: v }, { lengths })
        return both(r)
      }
      return { inputs, fn, label: `${general ? 'general' : 'dot'} B=${b} T=${t} lengths ${lengths.join(',')}${batchFirst ? ' batch-first' : ''}` }
    },
  },
  bahdanauAttention: {
    sample: (s: CaseSampler) => {
      const [b, t, hq, hk, a] = [s.int(1, 3), s.int(1, 3), s.int(1, 3), s.int(1, 3), s.int(1, 3)]
      const layer = bahdanauAttention({ querySize: hq, keySize: hk, attentionSize: a, dtype: 'float64' })
      const lengths = Array.from({ length: b }, () => s.int(1, t))
      const inputs = [s.values([b, hq]), s.values([t, b, hk]), s.values([a, hq]), s.values([a, hk]), s.values([a]), s.values([1, a])]
      const fn = (q: Tensor, k: Tensor, wq: Tensor, wk: Tensor, bk: Tensor, v: Tensor): Tensor => {
        const params = OrderedMap({
          query_proj: OrderedMap({ weight: wq }),
          key_proj: OrderedMap({ weight: wk, bias: bk }),
          v: OrderedMap({ weight: v }),
        }) as Params
        return both(layer.apply(params, { query: q, key: k }, { lengths }))
      }
      return { inputs, fn, label: `B=${b} T=${t} query ${hq} key ${hk} attention ${a}, lengths ${lengths.join(',')}` }
    },
  },
}
