/**
 * The attention, transformer, recurrent-attention and positional layers against PyTorch 1.13
 * (testdata/reference/attention-norm): outputs, attention weights and the gradients of every
 * input and parameter, with PyTorch's parameter names.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { Tensor } from '@graphgrad/core'
import { multiHeadAttention, scaledDotProductAttention } from '../src/attention.ts'
import { positionalEmbedding, sinusoidalPositionalEncoding } from '../src/positional.ts'
import { bahdanauAttention, luongAttention } from '../src/recurrent-attention.ts'
import { transformerDecoderLayer, transformerEncoderLayer } from '../src/transformer.ts'
import { OrderedMap } from 'immutable'
import type { Params } from '../src/layer.ts'
import { type NormCase, casesOf, configOf, checkCase, expectClose, tensorsOf, worst } from './attention-util.ts'

type Config = Record<string, unknown>
const kw = (c: NormCase): Config => c.config.kwargs as Config
const dtypeOf = (c: NormCase): 'float32' | 'float64' => (c.config.dtype === 'F32' ? 'float32' : 'float64')
const maybe = (c: NormCase, name: string): Tensor | undefined => tensorsOf(c).all.get(name)

describe('multiHeadAttention against nn.MultiheadAttention', () => {
  for (const c of casesOf('mha')) {
    it(c.file, () => {
      const k = kw(c)
      const cfg = configOf<Config & { inputs: string[]; is_causal: boolean; need_weights: boolean; average_attn_weights: boolean }>(c)
      const layer = multiHeadAttention({
        embedDim: k.embed_dim as number,
        numHeads: k.num_heads as number,
        bias: k.bias as boolean,
        batchFirst: k.batch_first as boolean,
        dtype: dtypeOf(c),
      })
      checkCase(c, layer.init(0), cfg.inputs, (params, x) => {
        const input = cfg.inputs.length === 1 ? x.query : { query: x.query, key: x.key, value: x.value }
        const r = layer.apply(params, input, {
          keyPaddingMask: maybe(c, 'key_padding_mask'),
          attnMask: cfg.is_causal ? undefined : maybe(c, 'attn_mask'),
          isCausal: cfg.is_causal,
          needWeights: cfg.need_weights,
          averageAttnWeights: cfg.average_attn_weights,
        })
        expect(r.weights === null).toBe(!cfg.need_weights)
        const out: Record<string, Tensor> = { output: r.output }
        if (r.weights !== null) out.weights = r.weights
        return out
      })
    })
  }
})

describe('scaledDotProductAttention against its definition in torch ops', () => {
  for (const c of casesOf('sdpa')) {
    it(c.file, () => {
      const cfg = configOf<{ is_causal: boolean; scale: number | null }>(c)
      checkCase(c, OrderedMap() as Params, ['query', 'key', 'value'], (_, x) => ({
        output: scaledDotProductAttention(x.query, x.key, x.value, { attnMask: maybe(c, 'attn_mask'), isCausal: cfg.is_causal, scale: cfg.scale ?? undefined }),
      }))
    })
  }
})

function transformerOptions(c: NormCase) {
  const k = kw(c)
  return {
    dModel: k.d_model as number,
    nhead: k.nhead as number,
    dimFeedforward: k.dim_feedforward as number,
    dropout: k.dropout as number,
    activation: k.activation as 'relu' | 'gelu',
    batchFirst: k.batch_first as boolean,
    normFirst: k.norm_first as boolean,
    dtype: dtypeOf(c),
    ...(k.layer_norm_eps === undefined ? {} : { layerNormEps: k.layer_norm_eps as number }),
  }
}

describe('transformer layers against nn.TransformerEncoderLayer / nn.TransformerDecoderLayer (eval mode)', () => {
  for (const c of casesOf('encoder_layer')) {
    it(c.file, () => {
      const layer = transformerEncoderLayer(transformerOptions(c))
      const causal = c.config.is_causal === true
      checkCase(c, layer.init(0), ['src'], (params, x) => ({
        output: layer.apply(params, x.src, {
          srcKeyPaddingMask: maybe(c, 'src_key_padding_mask'),
          isCausal: causal,
          srcMask: causal ? undefined : maybe(c, 'src_mask'),
        }),
      }))
    })
  }
  for (const c of casesOf('decoder_layer')) {
    it(c.file, () => {
      const layer = transformerDecoderLayer(transformerOptions(c))
      const causal = c.config.is_causal === true
      checkCase(c, layer.init(0), ['tgt', 'memory'], (params, x) => ({
        output: layer.apply(
          params,
          { tgt: x.tgt, memory: x.memory },
          {
            tgtIsCausal: causal,
            tgtMask: causal ? undefined : maybe(c, 'tgt_mask'),
            memoryMask: maybe(c, 'memory_mask'),
            tgtKeyPaddingMask: maybe(c, 'tgt_key_padding_mask'),
            memoryKeyPaddingMask: maybe(c, 'memory_key_padding_mask'),
          },
        ),
      }))
    })
  }
})

describe('Luong and Bahdanau attention against small PyTorch modules', () => {
  for (const c of [...casesOf('luong'), ...casesOf('bahdanau')]) {
    it(c.file, () => {
      const cfg = configOf<{
        batch_first: boolean
        query_size: number
        key_size: number
        inputs: string[]
        method: 'dot' | 'general' | null
        attention_size: number | null
        bias: boolean
      }>(c)
      const common = { querySize: cfg.query_size, keySize: cfg.key_size, batchFirst: cfg.batch_first, dtype: dtypeOf(c) }
      const layer =
        c.kind === 'luong'
          ? luongAttention({ ...common, method: cfg.method ?? 'dot' })
          : bahdanauAttention({ ...common, attentionSize: cfg.attention_size ?? undefined, bias: cfg.bias })
      const lengths = maybe(c, 'lengths')
      checkCase(c, layer.init(0), cfg.inputs, (params, x) => {
        const r = layer.apply(
          params,
          { query: x.query, key: x.key, value: x.value },
          { lengths: lengths === undefined ? undefined : Array.from(lengths.data), keyPaddingMask: maybe(c, 'key_padding_mask') },
        )
        return { context: r.context, weights: r.weights }
      })
    })
  }
})

describe('positional encodings', () => {
  for (const c of casesOf('sinusoidal')) {
    it(`${c.file}: the tutorial's sinusoidal encoding, even and odd sizes`, () => {
      const { get } = tensorsOf(c)
      expectClose(c, 'pe_even', sinusoidalPositionalEncoding(50, 16, { dtype: 'float64' }), get('pe_even'))
      expectClose(c, 'pe_odd', sinusoidalPositionalEncoding(20, 7, { dtype: 'float64' }), get('pe_odd'))
    })
  }
  for (const c of casesOf('positional_embedding')) {
    it(`${c.file}: a learned embedding added with an offset`, () => {
      const cfg = configOf<{ offset: number; max_length: number; batch_first: boolean }>(c)
      const layer = positionalEmbedding({ maxLength: cfg.max_length, embeddingDim: 4, batchFirst: cfg.batch_first, dtype: 'float64' })
      checkCase(c, layer.init(0), ['x'], (params, x) => ({ output: layer.apply(params, x.x, { offset: cfg.offset }) }))
    })
  }
})

afterAll(() => {
  if (process.env.FIXTURE_REPORT !== undefined) for (const [file, err] of worst) console.log(`${file}\t${err.toExponential(2)}`)
})
