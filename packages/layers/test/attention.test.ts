// Behaviour of the attention layers beyond the PyTorch fixtures: initialisation and parameter
// names, masks of every kind agreeing with each other, dropout keyed by the call, the layouts,
// and errors that name the layer and the shapes.
import { describe, expect, it } from 'vitest'
import { ArgumentError, DTypeError, ShapeError, type Tensor, flattenParams, key, randn, abs, max, sum, tensor, zeros } from '@graphgrad/core'
import { multiHeadAttention, scaledDotProductAttention } from '../src/attention.ts'
import { positionalEmbedding, sinusoidalPositionalEncoding } from '../src/positional.ts'
import { bahdanauAttention, luongAttention } from '../src/recurrent-attention.ts'
import { transformerDecoderLayer, transformerEncoderLayer } from '../src/transformer.ts'
import { errorOf, maxDiff } from './test-util.ts'

const shapes = (p: Parameters<typeof flattenParams>[0]): [string, readonly number[]][] => [...flattenParams(p)].map(([k, v]) => [k, v.shape])

describe('multiHeadAttention: parameters as nn.MultiheadAttention', () => {
  it("has PyTorch's names, shapes and order, and its initialisation", () => {
    const e = 16
    const p = multiHeadAttention({ embedDim: e, numHeads: 4 }).init(3)
    expect(shapes(p)).toEqual([
      ['in_proj_weight', [48, 16]],
      ['in_proj_bias', [48]],
      ['out_proj.weight', [16, 16]],
      ['out_proj.bias', [16]],
    ])
    const flat = flattenParams(p)
    const absMax = (n: string): number => max(abs(flat.get(n) as Tensor)).item()
    const xavier = Math.sqrt(6 / (e + 3 * e)) // fans of the whole [3E, E] matrix
    expect(absMax('in_proj_weight')).toBeLessThanOrEqual(xavier)
    expect(absMax('in_proj_weight')).toBeGreaterThan(0.9 * xavier)
    expect(absMax('out_proj.weight')).toBeLessThanOrEqual(1 / Math.sqrt(e))
    expect(absMax('out_proj.weight')).toBeGreaterThan(0.9 / Math.sqrt(e))
    expect(absMax('in_proj_bias') + absMax('out_proj.bias')).toBe(0)
    expect(shapes(multiHeadAttention({ embedDim: 4, numHeads: 2, bias: false }).init(0))).toEqual([
      ['in_proj_weight', [12, 4]],
      ['out_proj.weight', [4, 4]],
    ])
  })

  it('the same seed gives the same parameters, another seed others', () => {
    const layer = multiHeadAttention({ embedDim: 4, numHeads: 2 })
    const w = (s: number): Tensor => layer.init(s).get('in_proj_weight') as Tensor
    expect(maxDiff(w(1), w(1))).toBe(0)
    expect(maxDiff(w(1), w(2))).toBeGreaterThan(0)
  })
})

describe('multiHeadAttention: inputs, layouts and masks', () => {
  const layer = multiHeadAttention({ embedDim: 4, numHeads: 2, dtype: 'float64' })
  const params = layer.init(0)
  const x = randn([5, 2, 4], 1, { dtype: 'float64' }) // [L, N, E]

  it('a query alone is self-attention, as { query, key: query, value: query }', () => {
    const a = layer.apply(params, x)
    const b = layer.apply(params, { query: x, key: x, value: x })
    expect(maxDiff(a.output, b.output)).toBe(0)
    expect(a.output.shape).toEqual([5, 2, 4])
    expect(a.weights?.shape).toEqual([2, 5, 5])
  })

  it('value defaults to key', () => {
    const m = randn([3, 2, 4], 2, { dtype: 'float64' })
    expect(maxDiff(layer.apply(params, { query: x, key: m }).output, layer.apply(params, { query: x, key: m, value: m }).output)).toBe(0)
  })

  it('batch-first is the transposed layout; unbatched is a batch of one', () => {
    const bf = multiHeadAttention({ embedDim: 4, numHeads: 2, batchFirst: true, dtype: 'float64' })
    const y = layer.apply(params, x).output
    const yb = bf.apply(params, x.transpose(0, 1)).output
    expect(maxDiff(yb.transpose(0, 1), y)).toBeLessThan(1e-15)
    const one = layer.apply(params, x.select(1, 0))
    expect(one.output.shape).toEqual([5, 4])
    expect(one.weights?.shape).toEqual([5, 5])
    expect(maxDiff(one.output, y.select(1, 0))).toBeLessThan(1e-15)
  })

  it('weights: averaged over heads by default, per head on request, null when not needed', () => {
    const per = layer.apply(params, x, { averageAttnWeights: false }).weights as Tensor
    expect(per.shape).toEqual([2, 2, 5, 5])
    expect(maxDiff(per.mean(1), layer.apply(params, x).weights as Tensor)).toBeLessThan(1e-15)
    expect(maxDiff(sum(per, -1), tensor(1, { dtype: 'float64' }))).toBeLessThan(1e-15)
    expect(layer.apply(params, x, { needWeights: false }).weights).toBeNull()
  })

  it('isCausal, an int32 mask and a float -Infinity mask agree; blocked keys get zero weight', () => {
    const blocked = Int32Array.from({ length: 25 }, (_, i) => (i % 5 > Math.floor(i / 5) ? 1 : 0))
    const intMask = tensor(blocked, { shape: [5, 5], dtype: 'int32' })
    const floatMask = tensor(
      Float64Array.from(blocked, (b) => (b === 1 ? -Infinity : 0)),
      { shape: [5, 5] },
    )
    const a = layer.apply(params, x, { isCausal: true })
    const b = layer.apply(params, x, { attnMask: intMask })
    const c = layer.apply(params, x, { attnMask: floatMask })
    expect(maxDiff(a.output, b.output)).toBe(0)
    expect(maxDiff(a.output, c.output)).toBe(0)
    const w = (a.weights as Tensor).data
    for (let i = 0; i < w.length; i++) if (blocked[i % 25] === 1) expect(w[i]).toBe(0)
  })

  it('a key padding mask ignores the padded keys: the same as cutting them off', () => {
    const m = randn([4, 1, 4], 3, { dtype: 'float64' })
    const padded = layer.apply(params, { query: x.select(1, 0).unsqueeze(1), key: m }, { keyPaddingMask: tensor([[0, 0, 1, 1]], { dtype: 'int32' }) })
    const cut = layer.apply(params, { query: x.select(1, 0).unsqueeze(1), key: m.slice([{ stop: 2 }]) })
    expect(maxDiff(padded.output, cut.output)).toBeLessThan(1e-14)
  })

  it('a query whose keys are all blocked gives NaN, as PyTorch', () => {
    const y = layer.apply(params, x, {
      keyPaddingMask: tensor(
        [
          [1, 1, 1, 1, 1],
          [0, 0, 0, 0, 0],
        ],
        { dtype: 'int32' },
      ),
    })
    expect(y.output.select(1, 0).data.every(Number.isNaN)).toBe(true)
    expect(y.output.select(1, 1).data.some(Number.isNaN)).toBe(false)
  })

  it('dropout on the weights only in training mode, drawn from the key', () => {
    const d = multiHeadAttention({ embedDim: 4, numHeads: 2, dropout: 0.5, dtype: 'float64' })
    const evalOut = d.apply(params, x).output
    expect(maxDiff(evalOut, layer.apply(params, x).output)).toBe(0)
    const t1 = d.apply(params, x, { train: true, key: key(7) }).output
    expect(maxDiff(t1, d.apply(params, x, { train: true, key: key(7) }).output)).toBe(0)
    expect(maxDiff(t1, d.apply(params, x, { train: true, key: key(8) }).output)).toBeGreaterThan(0)
    expect(maxDiff(t1, evalOut)).toBeGreaterThan(0)
    expect(errorOf(() => d.apply(params, x, { train: true })).message).toBe('multiHeadAttention: dropout on the attention weights (p = 0.5) needs a key')
  })
})

describe('multiHeadAttention: errors name the layer and the shapes', () => {
  const layer = multiHeadAttention({ embedDim: 4, numHeads: 2 })
  const params = layer.init(0)
  const x = zeros([5, 2, 4])
  it.each([
    [
      'a query of the wrong size',
      () => layer.apply(params, zeros([5, 2, 3])),
      ShapeError,
      'multiHeadAttention: query must be [L, N, E] (or [L, E] unbatched) with E = embedDim = 4, got shape [5,2,3]',
    ],
    [
      'a key of another batch',
      () => layer.apply(params, { query: x, key: zeros([3, 1, 4]) }),
      ShapeError,
      'multiHeadAttention: key must be [S, N, E] like the query [5,2,4] (E = 4), got shape [3,1,4]',
    ],
    [
      'key and value of different lengths',
      () => layer.apply(params, { query: x, key: zeros([3, 2, 4]), value: zeros([2, 2, 4]) }),
      ShapeError,
      'multiHeadAttention: key [3,2,4] and value [2,2,4] must have the same shape',
    ],
    [
      'an attnMask of the wrong shape',
      () => layer.apply(params, x, { attnMask: zeros([5, 4]) }),
      ShapeError,
      'multiHeadAttention: attnMask must have shape [5,5] or [4,5,5] (N * numHeads, L, S), got [5,4]',
    ],
    [
      'a keyPaddingMask of the wrong shape',
      () => layer.apply(params, x, { keyPaddingMask: zeros([5, 2]) }),
      ShapeError,
      'multiHeadAttention: keyPaddingMask must have shape [2,5] (N, S), got [5,2]',
    ],
    [
      'attnMask and isCausal',
      () => layer.apply(params, x, { attnMask: zeros([5, 5]), isCausal: true }),
      ArgumentError,
      'multiHeadAttention: pass attnMask or isCausal, not both',
    ],
    [
      'an int32 query',
      () => layer.apply(params, zeros([5, 2, 4], { dtype: 'int32' })),
      DTypeError,
      'multiHeadAttention: query must be a float tensor, got int32 of shape [5,2,4]',
    ],
    [
      'a wrong in_proj_weight',
      () => layer.apply(params.set('in_proj_weight', zeros([4, 4])), x),
      ShapeError,
      'multiHeadAttention: in_proj_weight must have shape [12,4], got [4,4]',
    ],
    [
      'an array input',
      () => layer.apply(params, [[1]] as never),
      ArgumentError,
      'multiHeadAttention: the input (the query Tensor, or { query, key?, value? }) must be a Tensor, found an array',
    ],
    [
      'embedDim not divisible by numHeads',
      () => multiHeadAttention({ embedDim: 5, numHeads: 2 }),
      ArgumentError,
      'multiHeadAttention: embedDim=5 must be divisible by numHeads=2',
    ],
    ["PyTorch's snake_case option", () => multiHeadAttention({ embed_dim: 4, numHeads: 2 } as never), ArgumentError, "did you mean 'embedDim'"],
  ] as const)('%s', (_, fn, kind, message) => {
    const e = errorOf(fn)
    expect(e).toBeInstanceOf(kind)
    expect(e.message).toContain(message)
  })
})

describe('scaledDotProductAttention', () => {
  const q = randn([2, 3, 4], 1, { dtype: 'float64' })
  const k = randn([2, 5, 4], 2, { dtype: 'float64' })
  const v = randn([2, 5, 6], 3, { dtype: 'float64' })

  it('is softmax(q k^T / sqrt(E)) v; the scale can be given', () => {
    const ref = q.matmul(k.transpose()).div(2).softmax(-1).matmul(v)
    expect(maxDiff(scaledDotProductAttention(q, k, v), ref)).toBeLessThan(1e-15)
    expect(maxDiff(scaledDotProductAttention(q, k, v, { scale: 0.5 }), ref)).toBeLessThan(1e-15)
  })

  it('isCausal is the top-left lower triangle when L != S, as PyTorch', () => {
    const blocked = Int32Array.from({ length: 15 }, (_, i) => (i % 5 > Math.floor(i / 5) ? 1 : 0))
    expect(
      maxDiff(
        scaledDotProductAttention(q, k, v, { isCausal: true }),
        scaledDotProductAttention(q, k, v, { attnMask: tensor(blocked, { shape: [3, 5], dtype: 'int32' }) }),
      ),
    ).toBe(0)
  })

  it('dropout whenever dropoutP > 0, from the key', () => {
    const a = scaledDotProductAttention(q, k, v, { dropoutP: 0.5, key: 1 })
    expect(maxDiff(a, scaledDotProductAttention(q, k, v, { dropoutP: 0.5, key: 1 }))).toBe(0)
    expect(maxDiff(a, scaledDotProductAttention(q, k, v))).toBeGreaterThan(0)
    expect(errorOf(() => scaledDotProductAttention(q, k, v, { dropoutP: 0.5 })).message).toBe(
      'scaledDotProductAttention: dropout on the attention weights (p = 0.5) needs a key',
    )
  })

  it.each([
    [
      'different E',
      () => scaledDotProductAttention(q, randn([2, 5, 3], 0), v),
      'scaledDotProductAttention: query [..., L, E] and key [..., S, E] must have the same E, got query [2,3,4], key [2,5,3], value [2,5,6]',
    ],
    ['different S', () => scaledDotProductAttention(q, k, randn([2, 4, 6], 0)), 'must have the same S, got query [2,3,4], key [2,5,4], value [2,4,6]'],
    [
      'batches that do not broadcast',
      () => scaledDotProductAttention(randn([3, 3, 4], 0), k, v),
      'scaledDotProductAttention: the leading (batch) dimensions do not broadcast: query [3,3,4], key [2,5,4], value [2,5,6]',
    ],
    ['a vector query', () => scaledDotProductAttention(randn([4], 0), k, v), 'scaledDotProductAttention: query must be [..., L, E] (rank >= 2), got shape [4]'],
    [
      'a mask that does not broadcast',
      () => scaledDotProductAttention(q, k, v, { attnMask: zeros([3, 4]) }),
      'attnMask of shape [3,4] does not broadcast to the scores [..., L, S] = [2,3,5]',
    ],
  ] as const)('refuses %s', (_, fn, message) => {
    expect(errorOf(fn).message).toContain(message)
  })
})

describe('transformer layers', () => {
  it("encoder and decoder parameters: PyTorch's state_dict names, shapes and order", () => {
    const o = { dModel: 4, nhead: 2, dimFeedforward: 8 }
    const mha = (p: string): [string, number[]][] => [
      [`${p}.in_proj_weight`, [12, 4]],
      [`${p}.in_proj_bias`, [12]],
      [`${p}.out_proj.weight`, [4, 4]],
      [`${p}.out_proj.bias`, [4]],
    ]
    const ff: [string, number[]][] = [
      ['linear1.weight', [8, 4]],
      ['linear1.bias', [8]],
      ['linear2.weight', [4, 8]],
      ['linear2.bias', [4]],
    ]
    const norms = (n: number): [string, number[]][] =>
      Array.from(
        { length: n },
        (_, i) =>
          [
            [`norm${i + 1}.weight`, [4]],
            [`norm${i + 1}.bias`, [4]],
          ] as [string, number[]][],
      ).flat()
    expect(shapes(transformerEncoderLayer(o).init(0))).toEqual([...mha('self_attn'), ...ff, ...norms(2)])
    expect(shapes(transformerDecoderLayer(o).init(0))).toEqual([...mha('self_attn'), ...mha('multihead_attn'), ...ff, ...norms(3)])
    expect((transformerEncoderLayer({ dModel: 4, nhead: 2 }).init(0).get('linear1') as never as { get(k: string): Tensor }).get('weight').shape).toEqual([
      2048, 4,
    ])
  })

  const layer = transformerEncoderLayer({ dModel: 4, nhead: 2, dimFeedforward: 6, dtype: 'float64' })
  const params = layer.init(0)
  const src = randn([3, 2, 4], 5, { dtype: 'float64' })

  it('dropout (default 0.1) only in training mode, reproducible from the key, different per key', () => {
    const evalOut = layer.apply(params, src)
    const a = layer.apply(params, src, { train: true, key: key(1) })
    expect(maxDiff(a, layer.apply(params, src, { train: true, key: key(1) }))).toBe(0)
    expect(maxDiff(a, layer.apply(params, src, { train: true, key: key(2) }))).toBeGreaterThan(0)
    expect(maxDiff(a, evalOut)).toBeGreaterThan(0)
    expect(errorOf(() => layer.apply(params, src, { train: true })).message).toBe(
      'transformerEncoderLayer: training mode with dropout=0.1 needs a key (pass { train: true, key })',
    )
  })

  it('a custom activation function', () => {
    const tanhLayer = transformerEncoderLayer({ dModel: 4, nhead: 2, dimFeedforward: 6, activation: (t) => t.tanh(), dtype: 'float64' })
    expect(maxDiff(tanhLayer.apply(params, src), layer.apply(params, src))).toBeGreaterThan(0)
  })

  it.each([
    [
      'a src of the wrong size',
      () => layer.apply(params, zeros([3, 2, 5])),
      'transformerEncoderLayer: src must be [S, N, E] (or [S, E] unbatched) with E = dModel = 4, got shape [3,2,5]',
    ],
    [
      'a wrong mask',
      () => layer.apply(params, src, { srcMask: zeros([2, 2]) }),
      'transformerEncoderLayer self_attn: multiHeadAttention: attnMask must have shape [3,3] or [4,3,3]',
    ],
    [
      'a decoder given a tensor',
      () => transformerDecoderLayer({ dModel: 4, nhead: 2 }).apply(params, src as never),
      'transformerDecoderLayer: the input must be { tgt, memory }, got a Tensor',
    ],
    [
      'a memory of another batch',
      () => transformerDecoderLayer({ dModel: 4, nhead: 2 }).apply(params, { tgt: src, memory: zeros([3, 1, 4]) }),
      'transformerDecoderLayer: memory must be [S, N, E] (or [S, E] unbatched) with E = dModel = 4 and the batch of [3,2,4], got shape [3,1,4]',
    ],
    ['nhead not dividing dModel', () => transformerEncoderLayer({ dModel: 6, nhead: 4 }), 'transformerEncoderLayer: dModel=6 must be divisible by nhead=4'],
  ] as const)('refuses %s', (_, fn, message) => {
    expect(errorOf(fn).message).toContain(message)
  })
})

describe('Luong and Bahdanau attention', () => {
  const q = randn([3, 4], 1, { dtype: 'float64' })
  const keys = randn([5, 3, 4], 2, { dtype: 'float64' }) // [T, B, H], an lstm's output
  const dot = luongAttention({ querySize: 4, dtype: 'float64' })

  it('weights sum to one, are zero past each length, and lengths equal the padding mask', () => {
    const r = dot.apply(dot.init(0), { query: q, key: keys }, { lengths: [5, 2, 1] })
    expect(r.context.shape).toEqual([3, 4])
    expect(r.weights.shape).toEqual([3, 5])
    expect(maxDiff(sum(r.weights, -1), tensor(1, { dtype: 'float64' }))).toBeLessThan(1e-15)
    expect(r.weights.toArray()).toMatchObject([
      [expect.any(Number), expect.any(Number), expect.any(Number), expect.any(Number), expect.any(Number)],
      [expect.any(Number), expect.any(Number), 0, 0, 0],
      [1, 0, 0, 0, 0],
    ])
    const mask = tensor(
      [
        [0, 0, 0, 0, 0],
        [0, 0, 1, 1, 1],
        [0, 1, 1, 1, 1],
      ],
      { dtype: 'int32' },
    )
    expect(maxDiff(dot.apply(dot.init(0), { query: q, key: keys }, { keyPaddingMask: mask }).context, r.context)).toBe(0)
  })

  it('batch-first keys give the same result', () => {
    const bf = bahdanauAttention({ querySize: 4, batchFirst: true, dtype: 'float64' })
    const sf = bahdanauAttention({ querySize: 4, dtype: 'float64' })
    const p = sf.init(0)
    expect(shapes(p)).toEqual([
      ['query_proj.weight', [4, 4]],
      ['key_proj.weight', [4, 4]],
      ['key_proj.bias', [4]],
      ['v.weight', [1, 4]],
    ])
    expect(maxDiff(bf.apply(p, { query: q, key: keys.transpose(0, 1) }).context, sf.apply(p, { query: q, key: keys }).context)).toBeLessThan(1e-15)
  })

  it('general: parameter weight [querySize, keySize]', () => {
    expect(shapes(luongAttention({ method: 'general', querySize: 3, keySize: 5 }).init(0))).toEqual([['weight', [3, 5]]])
  })

  it.each([
    [
      'a query of the wrong size',
      () => dot.apply(dot.init(0), { query: zeros([3, 2]), key: keys }),
      'luongAttention: query must be [B, H] with H = querySize = 4, got shape [3,2]',
    ],
    [
      'keys of another batch',
      () => dot.apply(dot.init(0), { query: q, key: zeros([5, 2, 4]) }),
      "luongAttention: key must be [T, B, H] with B = 3 (the query's batch) and H = keySize = 4, got shape [5,2,4] (query [3,4])",
    ],
    [
      'a length past T',
      () => dot.apply(dot.init(0), { query: q, key: keys }, { lengths: [5, 6, 1] }),
      'luongAttention: lengths must be 3 integers in [1, 5] (one per sequence, at most T), got [5,6,1]',
    ],
    [
      'lengths and a mask',
      () => dot.apply(dot.init(0), { query: q, key: keys }, { lengths: [1, 1, 1], keyPaddingMask: zeros([3, 5]) }),
      'luongAttention: pass lengths or keyPaddingMask, not both',
    ],
    [
      'dot with different sizes',
      () => luongAttention({ querySize: 4, keySize: 3 }),
      "luongAttention: 'dot' scores need keySize = querySize, got 3 and 4 (use method 'general')",
    ],
    ['a tensor input', () => dot.apply(dot.init(0), q as never), 'luongAttention: the input must be { query, key, value? }'],
  ] as const)('refuses %s', (_, fn, message) => {
    expect(errorOf(fn).message).toContain(message)
  })
})

describe('positional encodings', () => {
  it('the sinusoidal encoding: an offset is a later slice; values at position 0 are 0, 1, 0, 1, ...', () => {
    const long = sinusoidalPositionalEncoding(10, 6, { dtype: 'float64' })
    expect(maxDiff(sinusoidalPositionalEncoding(4, 6, { offset: 6, dtype: 'float64' }), long.slice([{ start: 6 }]))).toBe(0)
    expect(long.select(0, 0).toArray()).toEqual([0, 1, 0, 1, 0, 1])
    expect(sinusoidalPositionalEncoding(3, 4).dtype).toBe('float32')
  })

  it('the learned embedding adds rows offset.. to each step, in either layout', () => {
    const layer = positionalEmbedding({ maxLength: 8, embeddingDim: 3, dtype: 'float64' })
    const p = layer.init(0)
    const w = p.get('weight') as Tensor
    const x = zeros([2, 4, 3], { dtype: 'float64' })
    const bf = positionalEmbedding({ maxLength: 8, embeddingDim: 3, batchFirst: true, dtype: 'float64' })
    expect(maxDiff(bf.apply(p, x, { offset: 2 }).select(0, 1), w.slice([{ start: 2, stop: 6 }]))).toBe(0)
    expect(maxDiff(layer.apply(p, x.transpose(0, 1)).select(1, 0), w.slice([{ stop: 4 }]))).toBe(0)
    expect(errorOf(() => layer.apply(p, zeros([6, 1, 3]), { offset: 3 })).message).toBe(
      'positionalEmbedding: positions 3..8 of an input of shape [6,1,3] are past maxLength=8',
    )
    expect(errorOf(() => layer.apply(p, zeros([6, 1, 4]))).message).toContain(
      'positionalEmbedding: expected an input [T, B, E] or [T, E] with E = embeddingDim = 3, got shape [6,1,4]',
    )
  })
})
