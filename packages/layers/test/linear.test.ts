import { describe, expect, it } from 'vitest'
import { OrderedMap } from 'immutable'
import { ArgumentError, DTypeError, type NestedArray, ShapeError, type Tensor, grad, key, mean, mul, sum, tensor, variance } from '@graphgrad/core'
import { referenceCases, referenceTensors, allcloseReport } from '../../../testdata/fixtures.ts'
import type { Params } from '../src/layer.ts'
import { linear } from '../src/linear.ts'
import { embedding } from '../src/embedding.ts'
import { applyDropout, dropout } from '../src/dropout.ts'
import { layerNorm } from '../src/norm.ts'

const f64 = (data: NestedArray, shape?: number[]): Tensor => tensor(data, { dtype: 'float64', shape })

describe('linear', () => {
  it('has PyTorch parameter names, shapes and default init bounds', () => {
    const layer = linear({ inFeatures: 16, outFeatures: 5 })
    const p = layer.init(0)
    expect([...p.keys()]).toEqual(['weight', 'bias'])
    const w = p.get('weight') as Tensor
    const b = p.get('bias') as Tensor
    expect(w.shape).toEqual([5, 16])
    expect(b.shape).toEqual([5])
    expect(w.dtype).toBe('float32')
    for (const v of [...w.data, ...b.data]) expect(Math.abs(v)).toBeLessThanOrEqual(0.25)
    expect(Math.max(...Array.from(w.data, Math.abs))).toBeGreaterThan(0.2)
    expect([...linear({ inFeatures: 2, outFeatures: 3, bias: false }).init(0).keys()]).toEqual(['weight'])
  })

  it('is reproducible from the seed', () => {
    const layer = linear({ inFeatures: 3, outFeatures: 2 })
    expect((layer.init(7).get('weight') as Tensor).toArray()).toEqual((layer.init(7).get('weight') as Tensor).toArray())
    expect((layer.init(7).get('weight') as Tensor).toArray()).not.toEqual((layer.init(8).get('weight') as Tensor).toArray())
  })

  it('computes x W^T + b over any leading dimensions', () => {
    const layer = linear({ inFeatures: 2, outFeatures: 3, dtype: 'float64' })
    const p = OrderedMap({
      weight: f64([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      bias: f64([0.5, -1, 0]),
    }) as Params
    expect(
      layer
        .apply(
          p,
          f64([
            [1, 1],
            [2, 0],
          ]),
        )
        .toArray(),
    ).toEqual([
      [3.5, 6, 11],
      [2.5, 5, 10],
    ])
    expect(layer.apply(p, f64([[[1, 1]], [[2, 0]]])).shape).toEqual([2, 1, 3])
    expect(layer.apply(p, f64([1, 1])).toArray()).toEqual([3.5, 6, 11])
  })

  it('refuses a wrong feature size, naming the shape', () => {
    const layer = linear({ inFeatures: 4, outFeatures: 2 })
    const p = layer.init(0)
    expect(() => layer.apply(p, tensor([[1, 2, 3]]))).toThrow(ShapeError)
    expect(() => layer.apply(p, tensor([[1, 2, 3]]))).toThrow(/linear: expected an input whose last dimension is inFeatures=4, got shape \[1,3\]/)
    expect(() => linear({ inFeatures: -1, outFeatures: 2 })).toThrow(ArgumentError)
    expect(() => layer.apply(OrderedMap() as Params, tensor([[1, 2, 3, 4]]))).toThrow(/parameter 'weight' is missing/)
  })
})

describe('embedding', () => {
  it('looks up rows for ids of any shape; N(0,1) init', () => {
    const layer = embedding({ numEmbeddings: 50, embeddingDim: 40 })
    const p = layer.init(1)
    const w = p.get('weight') as Tensor
    expect(w.shape).toEqual([50, 40])
    const m = mean(w).item()
    const v = variance(w).item()
    expect(Math.abs(m)).toBeLessThan(0.1)
    expect(Math.abs(v - 1)).toBeLessThan(0.1)
    const ids = tensor(
      [
        [0, 3],
        [3, 49],
      ],
      { dtype: 'int32' },
    )
    const y = layer.apply(p, ids)
    expect(y.shape).toEqual([2, 2, 40])
    expect(Array.from(y.data.slice(40, 80))).toEqual(Array.from(w.data.slice(120, 160)))
  })

  it('zeros the padding row at init and gives it no gradient, while using its value', () => {
    const layer = embedding({ numEmbeddings: 4, embeddingDim: 2, paddingIdx: -1, dtype: 'float64' })
    expect((layer.init(0).get('weight') as Tensor).toArray()).toContainEqual([0, 0])
    expect(((layer.init(0).get('weight') as Tensor).toArray() as number[][])[3]).toEqual([0, 0])
    const w = f64([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ])
    const ids = tensor([3, 1, 3, 1, 0], { dtype: 'int32' })
    const y = layer.apply(OrderedMap({ weight: w }) as Params, ids)
    expect((y.toArray() as number[][])[0]).toEqual([7, 8])
    const g = grad((wi: Tensor) => sum(layer.apply(OrderedMap({ weight: wi }) as Params, ids)))(w) as Tensor
    expect(g.toArray()).toEqual([
      [1, 1],
      [2, 2],
      [0, 0],
      [0, 0],
    ])
  })

  const embeddingCase = referenceCases('ops').find((k) => String(k.file).includes('embedding'))
  it.runIf(embeddingCase !== undefined)('matches the PyTorch embedding reference (repeated ids)', () => {
    const c = embeddingCase as NonNullable<typeof embeddingCase>
    const t = referenceTensors(c)
    const w = t.get('weight') as Tensor
    const idx = t.get('idx') as Tensor
    const layer = embedding({ numEmbeddings: w.shape[0], embeddingDim: w.shape[1], dtype: 'float64' })
    const r = t.get('r_output') as Tensor
    const out = layer.apply(OrderedMap({ weight: w }) as Params, idx)
    expect(allcloseReport('output', out, t.get('output') as Tensor, c.tolerance)).toBeNull()
    const g = grad((wi: Tensor) => sum(mul(layer.apply(OrderedMap({ weight: wi }) as Params, idx), r)))(w) as Tensor
    expect(allcloseReport('grad.weight', g, t.get('grad.weight') as Tensor, c.tolerance)).toBeNull()
  })

  it('refuses float ids, out-of-range ids and a bad paddingIdx, naming the value', () => {
    const layer = embedding({ numEmbeddings: 3, embeddingDim: 2 })
    const p = layer.init(0)
    expect(() => layer.apply(p, tensor([0, 1]))).toThrow(DTypeError)
    expect(() => layer.apply(p, tensor([0, 5], { dtype: 'int32' }))).toThrow(/id 5 is out of range for numEmbeddings=3/)
    expect(() => embedding({ numEmbeddings: 3, embeddingDim: 2, paddingIdx: 3 })).toThrow(/paddingIdx/)
  })
})

describe('dropout', () => {
  const x = tensor(
    Float64Array.from({ length: 1000 }, (_, i) => 1 + (i % 7)),
    { shape: [10, 100], dtype: 'float64' },
  )

  it('is the identity in eval mode (the default)', () => {
    const layer = dropout({ p: 0.5 })
    expect(layer.apply(layer.init(0), x)).toBe(x)
    expect(layer.apply(layer.init(0), x, { train: false, key: key(1) })).toBe(x)
  })

  it('zeros about p of the elements and scales the rest by 1/(1-p), reproducibly from the key', () => {
    const y = applyDropout(x, { p: 0.3, train: true, key: key(5) })
    let zeros = 0
    for (let i = 0; i < x.size; i++) {
      if (y.data[i] === 0) zeros++
      else expect(y.data[i]).toBeCloseTo(x.data[i] / 0.7, 12)
    }
    expect(zeros).toBeGreaterThan(220)
    expect(zeros).toBeLessThan(380)
    expect(Array.from(applyDropout(x, { p: 0.3, train: true, key: key(5) }).data)).toEqual(Array.from(y.data))
    expect(Array.from(applyDropout(x, { p: 0.3, train: true, key: key(6) }).data)).not.toEqual(Array.from(y.data))
    expect(Array.from(applyDropout(x, { p: 1, train: true, key: key(5) }).data).every((v) => v === 0)).toBe(true)
  })

  it('needs a key in training mode and a probability in [0, 1]', () => {
    expect(() => applyDropout(x, { p: 0.5, train: true })).toThrow(/needs a key/)
    expect(() => dropout({ p: 1.5 })).toThrow(ArgumentError)
  })
})

describe('layerNorm', () => {
  const layerNormCase = referenceCases('ops').find((k) => String(k.file).includes('layernorm'))
  it.runIf(layerNormCase !== undefined)('normalises over the trailing dims (biased variance, eps 1e-5), as PyTorch', () => {
    const c = layerNormCase as NonNullable<typeof layerNormCase>
    const t = referenceTensors(c)
    const a = t.get('a') as Tensor
    const layer = layerNorm({ normalizedShape: a.shape[a.rank - 1], dtype: 'float64' })
    const out = layer.apply(OrderedMap({ weight: t.get('g') as Tensor, bias: t.get('b') as Tensor }) as Params, a)
    expect(allcloseReport('output', out, t.get('output') as Tensor, c.tolerance)).toBeNull()
  })

  it('has weight ones and bias zeros, or none without elementwiseAffine, and checks the input shape', () => {
    const layer = layerNorm({ normalizedShape: [2, 3] })
    const p = layer.init(0)
    expect((p.get('weight') as Tensor).toArray()).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ])
    expect(layerNorm({ normalizedShape: 3, elementwiseAffine: false }).init(0).size).toBe(0)
    const y = layerNorm({ normalizedShape: 3, elementwiseAffine: false, dtype: 'float64' }).apply(OrderedMap() as Params, f64([[1, 2, 3]]))
    expect((y.toArray() as number[][])[0].map((v) => Number(v.toFixed(6)))).toEqual([-1.224736, 0, 1.224736])
    expect(() => layer.apply(p, tensor([[1, 2, 3]]))).toThrow(/trailing dimensions are \[2,3\], got shape \[1,3\]/)
  })
})
