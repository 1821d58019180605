// Error messages a PyTorch porter meets first (issue 17, #17 and #16): a plain array as a
// layer's (or a loss's) input, a mistyped parameter key, PyTorch's snake_case options, and a
// state_dict given as a plain object.
import { describe, expect, it } from 'vitest'
import { Map as IMap, OrderedMap } from 'immutable'
import { ArgumentError, type Tensor, loadSafetensors, tensor, zeros } from '@graphgrad/core'
import { readFileSync } from 'node:fs'
import type { Layer, Params } from '../src/layer.ts'
import { linear } from '../src/linear.ts'
import { gru, lstm, rnn } from '../src/recurrent.ts'
import { embedding } from '../src/embedding.ts'
import { layerNorm } from '../src/norm.ts'
import { applyDropout, dropout } from '../src/dropout.ts'
import { compose, sequential } from '../src/compose.ts'
import { StateDictError, loadStateDict, stateDict } from '../src/checkpoint.ts'
import { binaryCrossEntropyWithLogits, crossEntropy, l1Loss, mseLoss, nllLoss } from '../src/losses.ts'
import { kaimingUniform, orthogonal, xavierUniform } from '../src/init.ts'
import { errorOf } from './test-util.ts'

describe("a layer's apply refuses an input that is not a Tensor, saying to wrap it", () => {
  const wrap = 'wrap it with tensor(...) from @graphgrad/core, e.g. tensor([[1, 2, 3]])'
  const cases: [string, Layer, unknown, string][] = [
    ['linear', linear({ inFeatures: 3, outFeatures: 2 }), [[1, 2, 3]], 'linear: the input must be a Tensor, found an array; '],
    ['embedding', embedding({ numEmbeddings: 4, embeddingDim: 2 }), [0, 1], 'embedding: ids must be a Tensor, found an array; '],
    ['layerNorm', layerNorm({ normalizedShape: 3 }), [[1, 2, 3]], 'layerNorm: the input must be a Tensor, found an array; '],
    ['dropout (eval mode, which returns its input)', dropout({ p: 0.5 }), [1, 2], 'dropout: the input must be a Tensor, found an array; '],
    ['sequential', sequential([linear({ inFeatures: 3, outFeatures: 2 })]), [[1, 2, 3]], 'linear: the input must be a Tensor'],
  ]
  it.each(cases)('%s', (_, layer, input, message) => {
    const e = errorOf(() => layer.apply(layer.init(0), input as Tensor))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toContain(message)
    expect(e.message).toContain(wrap)
  })

  it('names the value found, and the shape option for a typed array', () => {
    const layer = linear({ inFeatures: 3, outFeatures: 2 })
    expect(errorOf(() => layer.apply(layer.init(0), [[1, 2, 3]] as never)).message).toBe(`linear: the input must be a Tensor, found an array; ${wrap}`)
    expect(errorOf(() => layer.apply(layer.init(0), new Float32Array(3) as never)).message).toContain(
      'found a Float32Array; wrap it with tensor(data, { shape })',
    )
    expect(errorOf(() => layer.apply(layer.init(0), 3 as never)).message).toContain('found number 3')
    expect(errorOf(() => layer.apply(layer.init(0), undefined as never)).message).toContain('found nothing')
    expect(errorOf(() => applyDropout([1] as never, { p: 0.1, train: true, key: 0 })).message).toContain('dropout: the input must be a Tensor')
  })
})

describe('a missing parameter names the keys that are there and the nearest', () => {
  const layer = linear({ inFeatures: 3, outFeatures: 2 })
  const x = tensor([[1, 2, 3]])

  it('a mistyped key', () => {
    const p = layer.init(0).mapKeys((k) => (k === 'weight' ? 'weigth' : k)) as Params
    const e = errorOf(() => layer.apply(p, x))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe("linear: parameter 'weight' is missing (parameters: weigth, bias; did you mean 'weigth'?)")
    expect(errorOf(() => layer.apply(OrderedMap() as Params, x)).message).toBe("linear: parameter 'weight' is missing (parameters: none)")
  })

  it('parameters that are not a map: undefined from a mistyped outer key, or a plain object', () => {
    const model = OrderedMap({ head: layer.init(0) })
    const e = errorOf(() => layer.apply(model.get('haed' as 'head') as Params, x))
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe(
      "linear: cannot look up parameter 'weight': the parameters must be the Immutable.js map layer.init(seed) returns, found undefined (a mistyped key when taking them out of a bigger map gives undefined)",
    )
    expect(errorOf(() => layer.apply({ weight: zeros([2, 3]) } as never, x)).message).toContain('found an object')
    // An Immutable.js Map that is not ordered works as well as the OrderedMap init returns.
    expect(layer.apply(IMap(layer.init(0)) as unknown as Params, x).shape).toEqual([1, 2])
  })

  it('a parameter that is not a tensor', () => {
    const p = layer.init(0).set('bias', [0, 0] as never) as Params
    expect(errorOf(() => layer.apply(p, x)).message).toBe("linear: parameter 'bias' must be a Tensor, found an array")
  })

  it("a composed model's mistyped sub-layer name", () => {
    const model = compose({ head: layer }, (m, input: Tensor) => m.head(input))
    const p = model.init(0).mapKeys(() => 'haed') as Params
    expect(errorOf(() => model.apply(p, x)).message).toBe("compose: no parameters for sub-layer 'head' (found: haed; did you mean 'haed'?)")
  })
})

describe('layer constructors refuse unknown options, suggesting the camelCase one (as the optimizers do)', () => {
  const cases: [string, () => unknown, string][] = [
    ['linear, snake_case', () => linear({ in_features: 3, out_features: 2 } as never), "linear: unknown option 'in_features' (did you mean 'inFeatures'?)"],
    ['linear, a typo', () => linear({ inFeatures: 3, outFeature: 2 } as never), "linear: unknown option 'outFeature' (did you mean 'outFeatures'?)"],
    [
      'embedding',
      () => embedding({ num_embeddings: 4, embedding_dim: 2 } as never),
      "embedding: unknown option 'num_embeddings' (did you mean 'numEmbeddings'?)",
    ],
    [
      'embedding, padding_idx',
      () => embedding({ numEmbeddings: 4, embeddingDim: 2, padding_idx: 0 } as never),
      "embedding: unknown option 'padding_idx' (did you mean 'paddingIdx'?)",
    ],
    [
      'layerNorm',
      () => layerNorm({ normalizedShape: 3, elementwise_affine: false } as never),
      "layerNorm: unknown option 'elementwise_affine' (did you mean 'elementwiseAffine'?)",
    ],
    ['dropout, nothing close', () => dropout({ inplace: true } as never), "dropout: unknown option 'inplace' (known options: p)"],
    [
      'linear, no options at all',
      () => linear(undefined as never),
      'linear: options must be an object (known options: inFeatures, outFeatures, bias, dtype, weightInit, biasInit), found nothing',
    ],
  ]
  it.each(cases)('%s', (_, fn, message) => {
    const e = errorOf(fn)
    expect(e).toBeInstanceOf(ArgumentError)
    expect(e.message).toBe(message)
  })
})

describe('loadStateDict takes the forms a PyTorch porter has at hand', () => {
  const template = (): Params => OrderedMap({ head: OrderedMap({ weight: zeros([2, 3]), bias: zeros([2]) }) }) as Params
  const w = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ])
  const b = tensor([7, 8])

  it('a plain object, a JS Map, a flat and a nested Immutable.js map', () => {
    const forms: [string, unknown][] = [
      ['plain object', { 'head.weight': w, 'head.bias': b }],
      ['null-prototype object', Object.assign(Object.create(null) as object, { 'head.weight': w, 'head.bias': b })],
      [
        'JS Map',
        new Map([
          ['head.weight', w],
          ['head.bias', b],
        ]),
      ],
      ['flat Immutable.js map', OrderedMap({ 'head.weight': w, 'head.bias': b })],
      ['nested Immutable.js map', OrderedMap({ head: OrderedMap({ bias: b, weight: w }) })],
    ]
    for (const [form, source] of forms) {
      const p = stateDict(loadStateDict(template(), source as never))
      expect([...p.keys()], form).toEqual(['head.weight', 'head.bias'])
      expect(p.get('head.bias')!.toArray(), form).toEqual([7, 8])
    }
  })

  it('a plain object with a missing and an unexpected key names both and links them', () => {
    const e = errorOf(() => loadStateDict(template(), { 'head.weigth': w, 'head.bias': b }))
    expect(e).toBeInstanceOf(StateDictError)
    expect(e.message).toContain("missing key(s): 'head.weight' (expected shape [2,3]; the checkpoint has 'head.weigth')")
    expect(e.message).toContain("unexpected key(s): 'head.weigth' (shape [2,3])")
    expect((e as StateDictError).missing).toEqual(['head.weight'])
  })

  it('refuses what is not a state_dict, and a value that is not a tensor, by name', () => {
    for (const bad of [[w, b], 'model.safetensors', null, w, new Uint8Array(8)]) {
      const e = errorOf(() => loadStateDict(template(), bad as never))
      expect(e).toBeInstanceOf(StateDictError)
      expect(e.message).toMatch(/^loadStateDict: the state_dict must be a Map, an Immutable.js Map or a plain object of tensors by name, found /)
    }
    expect(errorOf(() => loadStateDict(template(), { 'head.weight': [[1, 2, 3]], 'head.bias': b } as never)).message).toBe(
      "loadStateDict: 'head.weight' is an array, not a Tensor",
    )
    expect(errorOf(() => loadStateDict(template(), { 'head.weight': w, 'head.bias': b, extra: 3 } as never)).message).toContain(
      "unexpected key(s): 'extra' (number 3)",
    )
  })

  it("loads a float16 and a bfloat16 PyTorch checkpoint into float32 linear layers, giving PyTorch's outputs", () => {
    // Written by PyTorch 1.13 (packages/core/test/data/make_torch_dtypes.py).
    const read = (name: string) => loadSafetensors(new Uint8Array(readFileSync(new URL(`../../core/test/data/${name}`, import.meta.url))))
    const sd = read('torch-state-dict.safetensors')
    const io = read('torch-state-dict-io.safetensors')
    const layer = linear({ inFeatures: 3, outFeatures: 2 })
    for (const prefix of ['fp16', 'bf16']) {
      const own = Object.fromEntries([...sd.entries()].filter(([k]) => k.startsWith(`${prefix}.`)).map(([k, t]) => [k.slice(prefix.length + 1), t]))
      const p = loadStateDict(layer.init(0), own)
      expect((p.get('weight') as Tensor).dtype).toBe('float32')
      const y = layer.apply(p, io.get('x')!)
      const want = io.get(`${prefix}.y`)!
      expect(y.shape).toEqual(want.shape)
      // PyTorch's own float32 F.linear of the widened weights: equal up to float32 summation order.
      y.data.forEach((v, i) => expect(Math.abs(v - want.data[i]), `${prefix} ${i}`).toBeLessThan(1e-6 * (1 + Math.abs(want.data[i]))))
    }
  })
})

describe('losses refuse a non-Tensor argument and an unknown option key, by name', () => {
  const logits = tensor([[1, 2, 3]])
  const targets = tensor([2], { dtype: 'int32' })

  it('a plain array as input or target', () => {
    const cases: [() => unknown, string][] = [
      [() => mseLoss([1, 2] as never, tensor([1, 2])), 'mseLoss: input must be a Tensor, found an array; wrap it with tensor(...)'],
      [() => l1Loss(tensor([1, 2]), [1, 2] as never), 'l1Loss: target must be a Tensor, found an array'],
      [() => crossEntropy([[1, 2, 3]] as never, targets), 'crossEntropy: logits must be a Tensor, found an array'],
      [() => crossEntropy(logits, [2] as never), 'crossEntropy: targets must be a Tensor, found an array'],
      [() => nllLoss(logits, 2 as never), 'nllLoss: target must be a Tensor, found number 2'],
      [() => binaryCrossEntropyWithLogits(tensor([1]), [1] as never), 'binaryCrossEntropyWithLogits: target must be a Tensor'],
    ]
    for (const [fn, message] of cases) {
      const e = errorOf(fn)
      expect(e, message).toBeInstanceOf(ArgumentError)
      expect(e.message).toContain(message)
    }
  })

  it("PyTorch's snake_case options, which were ignored without a word", () => {
    expect(errorOf(() => crossEntropy(logits, targets, { label_smoothing: 0.1 } as never)).message).toBe(
      "crossEntropy: unknown option 'label_smoothing' (did you mean 'labelSmoothing'?)",
    )
    expect(errorOf(() => nllLoss(logits, targets, { ignore_index: 0 } as never)).message).toBe(
      "nllLoss: unknown option 'ignore_index' (did you mean 'ignoreIndex'?)",
    )
    expect(errorOf(() => binaryCrossEntropyWithLogits(tensor([1]), tensor([1]), { pos_weight: tensor([2]) } as never)).message).toBe(
      "binaryCrossEntropyWithLogits: unknown option 'pos_weight' (did you mean 'posWeight'?)",
    )
    expect(errorOf(() => mseLoss(tensor([1]), tensor([1]), { size_average: true } as never)).message).toBe(
      "mseLoss: unknown option 'size_average' (known options: reduction)",
    )
    expect(crossEntropy(logits, targets, { labelSmoothing: 0.1, reduction: 'sum' }).rank).toBe(0)
  })
})

describe("initialisers refuse PyTorch's spellings instead of misreading them", () => {
  it("kaimingUniform's mode 'fan_in' (taken as fanOut before) and unknown option keys", () => {
    // fanIn 25, fanOut 64 here: 'fan_in' gave the fanOut bound sqrt(3/64) * gain.
    expect(errorOf(() => kaimingUniform([64, 25], 0, { mode: 'fan_in' } as never)).message).toBe(
      "kaimingUniform: mode must be 'fanIn' or 'fanOut', got \"fan_in\" (did you mean 'fanIn'?)",
    )
    expect(errorOf(() => kaimingUniform([64, 25], 0, { negative_slope: 0.1 } as never)).message).toBe(
      "kaimingUniform: unknown option 'negative_slope' (known options: dtype, a, mode, nonlinearity)",
    )
    expect(errorOf(() => xavierUniform([4, 4], 0, { Gain: 2 } as never)).message).toBe("xavierUniform: unknown option 'Gain' (did you mean 'gain'?)")
    expect(errorOf(() => orthogonal([4, 4], 0, { gian: 2 } as never)).message).toBe("orthogonal: unknown option 'gian' (did you mean 'gain'?)")
    expect(kaimingUniform([64, 25], 0, { mode: 'fanOut', a: 1, nonlinearity: 'leaky_relu', dtype: 'float64' }).dtype).toBe('float64')
  })
})

describe('recurrent layers refuse sizes no tensor can hold, by the layer and before allocating (issue 17, defect 8)', () => {
  it('at construction: a parameter past the element cap names the layer and the parameter', () => {
    expect(() => lstm({ inputSize: 1e6, hiddenSize: 1e6 })).toThrow(
      /^lstm: parameter 'weight_ih_l0': shape \[4000000,1000000\] has 4000000000000 elements, more than the 2147483647/,
    )
    expect(() => gru({ inputSize: 4, hiddenSize: 30000, bidirectional: true, numLayers: 2 })).toThrow(/^gru: parameter 'weight_hh_l0'/)
  })
  it('at apply: per-step activations past the cap, for the fused and the composed cells', () => {
    const x = zeros([1e6, 3, 1])
    for (const [layer, name] of [
      [lstm({ inputSize: 1, hiddenSize: 1000 }), 'lstm'],
      [gru({ inputSize: 1, hiddenSize: 1000, fused: false }), 'gru'],
      [rnn({ inputSize: 1, hiddenSize: 1000, batchFirst: true }), 'rnn'],
    ] as const) {
      const shapeOfSteps = name === 'rnn' ? '\\[3,1000000,1000\\] \\(3000000000' : `\\[1000000,3,${name === 'lstm' ? 4000 : 3000}\\]`
      expect(() => layer.apply(layer.init(0), x)).toThrow(
        new RegExp(`^${name}: an input of shape \\[1000000,3,1\\] needs per-step activations of ${shapeOfSteps}`),
      )
    }
  })
})
