import { describe, expect, it } from 'vitest'
import { OrderedMap } from 'immutable'
import { ArgumentError, Tensor, add, grad, key, relu, square, sum, tensor, valueAndGrad } from '@graphgrad/core'
import type { ApplyOptions, Params } from '../src/layer.ts'
import { compose, lambda, sequential } from '../src/compose.ts'
import { dropout } from '../src/dropout.ts'
import { embedding } from '../src/embedding.ts'
import { linear } from '../src/linear.ts'
import { layerNorm } from '../src/norm.ts'
import { crossEntropy } from '../src/losses.ts'
import { stateDict } from '../src/checkpoint.ts'

describe('sequential', () => {
  it('chains layers, names them 0, 1, ... and matches applying them by hand', () => {
    const a = linear({ inFeatures: 3, outFeatures: 4, dtype: 'float64' })
    const b = linear({ inFeatures: 4, outFeatures: 2, dtype: 'float64' })
    const model = sequential([a, lambda(relu), b])
    const p = model.init(0)
    expect([...stateDict(p).keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias'])
    const x = tensor(
      [
        [1, 2, 3],
        [-1, 0, 1],
      ],
      { dtype: 'float64' },
    )
    const byHand = b.apply(p.get('2') as Params, relu(a.apply(p.get('0') as Params, x)))
    expect(model.apply(p, x).toArray()).toEqual(byHand.toArray())
  })

  it('takes named layers and passes train/key (a key per sub-layer) down', () => {
    const model = sequential({ drop1: dropout({ p: 0.5 }), drop2: dropout({ p: 0.5 }) })
    const x = tensor(
      Float64Array.from({ length: 200 }, () => 1),
      { shape: [200], dtype: 'float64' },
    )
    expect(model.apply(model.init(0), x)).toBe(x)
    const y = model.apply(model.init(0), x, { train: true, key: key(3) })
    const vals = new Set(Array.from(y.data))
    expect([...vals].sort()).toEqual([0, 4])
    expect(() => model.apply(model.init(0), x, { train: true })).toThrow(/needs a key/)
    expect(() => sequential([])).toThrow(ArgumentError)
  })
})

/** A parameter tree's nested keys, in order, with each leaf's shape and dtype. */
function structure(tree: unknown): unknown {
  if (tree instanceof Tensor) return [[...tree.shape], tree.dtype]
  expect(OrderedMap.isOrderedMap(tree), `not a tensor or an OrderedMap: ${String(tree)}`).toBe(true)
  return [...(tree as OrderedMap<string, unknown>).entries()].map(([k, v]) => [k, structure(v)])
}

describe('compose', () => {
  const build = () =>
    compose(
      {
        embed: embedding({ numEmbeddings: 6, embeddingDim: 4, paddingIdx: 0, dtype: 'float64' }),
        norm: layerNorm({ normalizedShape: 4, dtype: 'float64' }),
        drop: dropout({ p: 0.2 }),
        head: linear({ inFeatures: 4, outFeatures: 6, dtype: 'float64' }),
      },
      (m, ids: Tensor, options?: ApplyOptions) => {
        const h = m.norm(m.embed(ids))
        return m.head(add(h, m.drop(h)), { train: options?.train })
      },
    )

  it('nests parameters under the sub-layer names (PyTorch state_dict names)', () => {
    const model = build()
    const p = model.init(1)
    expect([...stateDict(p).keys()]).toEqual(['embed.weight', 'norm.weight', 'norm.bias', 'head.weight', 'head.bias'])
    expect((p.getIn(['head', 'weight']) as Tensor).shape).toEqual([6, 4])
    // Sub-layers draw from different keys.
    expect(Array.from((p.getIn(['head', 'weight']) as Tensor).data)).not.toEqual(Array.from((model.init(2).getIn(['head', 'weight']) as Tensor).data))
  })

  it("trains end to end: gradients in the parameters' structure, equal to finite differences", () => {
    const model = build()
    const p = model.init(1)
    const ids = tensor(
      [
        [1, 2, 0],
        [3, 3, 5],
      ],
      { dtype: 'int32' },
    )
    const targets = tensor(
      [
        [2, 0, -100],
        [1, 5, 4],
      ],
      { dtype: 'int32' },
    )
    // A fixed key: the dropout mask is the same on every call, so the loss is a smooth function of the parameters.
    const loss = (params: Params): Tensor => crossEntropy(model.apply(params, ids, { train: true, key: key(0) }), targets, { classAxis: -1 })
    const [value, g] = valueAndGrad(loss)(p)
    expect(value.item()).toBe(loss(p).item())
    const gp = g as Params
    // Structure: the same nested maps (the dropout's empty one included), keys in the same
    // order, each leaf a tensor of its parameter's shape and dtype.
    expect(structure(gp)).toEqual(structure(p))
    expect(structure(p)).toEqual([
      ['embed', [['weight', [[6, 4], 'float64']]]],
      [
        'norm',
        [
          ['weight', [[4], 'float64']],
          ['bias', [[4], 'float64']],
        ],
      ],
      ['drop', []],
      [
        'head',
        [
          ['weight', [[6, 4], 'float64']],
          ['bias', [[6], 'float64']],
        ],
      ],
    ])
    const flatP = stateDict(p)
    const flatG = stateDict(gp)
    // grad gives the same gradients as valueAndGrad.
    const g2 = stateDict(grad(loss)(p) as Params)
    expect([...g2.keys()]).toEqual([...flatG.keys()])
    for (const [name, t] of flatG) expect(Array.from((g2.get(name) as Tensor).data), name).toEqual(Array.from(t.data))
    // Values: every entry against central finite differences of the loss (float64 throughout).
    // The embedding's padding row (id 0) is the exception: by design (as PyTorch) it gets a zero
    // gradient although the loss depends on its value.
    const eps = 1e-6
    let checked = 0
    for (const [name, t] of flatP) {
      const path = name.split('.')
      const analytic = (flatG.get(name) as Tensor).data
      const base = Float64Array.from(t.data)
      const at = (i: number, delta: number): number => {
        const d = Float64Array.from(base)
        d[i] += delta
        return loss(p.setIn(path, tensor(d, { shape: t.shape, dtype: 'float64' })) as Params).item()
      }
      for (let i = 0; i < base.length; i++) {
        const where = `${name}[${i}]`
        if (name === 'embed.weight' && i < 4) {
          expect(analytic[i], where).toBe(0)
          continue
        }
        const numeric = (at(i, eps) - at(i, -eps)) / (2 * eps)
        expect(Math.abs(analytic[i] - numeric), `${where}: analytic ${analytic[i]} vs numeric ${numeric}`).toBeLessThan(1e-7 + 1e-5 * Math.abs(numeric))
        checked++
      }
    }
    expect(checked).toBe(6 * 4 - 4 + 4 + 4 + 6 * 4 + 6)
    // Not vacuous: the gradient is far from zero (row 4 of the embedding, an id that never occurs, is exactly zero).
    const ge = (gp.getIn(['embed', 'weight']) as Tensor).toArray() as number[][]
    expect(ge[4]).toEqual([0, 0, 0, 0])
    expect(sum(square(gp.getIn(['head', 'weight']) as Tensor)).item()).toBeGreaterThan(1e-2)
    expect(sum(square(gp.getIn(['embed', 'weight']) as Tensor)).item()).toBeGreaterThan(1e-4)
  })

  it('names a missing sub-layer and refuses dotted names', () => {
    const model = build()
    const p = model.init(0).delete('head')
    expect(() => model.apply(p, tensor([1], { dtype: 'int32' }))).toThrow(/no parameters for sub-layer 'head'/)
    expect(() => compose({ 'a.b': linear({ inFeatures: 1, outFeatures: 1 }) }, (m, x: Tensor) => m['a.b'](x))).toThrow(ArgumentError)
    expect(OrderedMap.isOrderedMap(model.init(0))).toBe(true)
  })
})

describe('compose with a recurrent layer', () => {
  it('gives PyTorch state_dict names like lstm.weight_ih_l0 and head.bias', async () => {
    const { lstm } = await import('../src/recurrent.ts')
    const model = compose({ lstm: lstm({ inputSize: 3, hiddenSize: 4, batchFirst: true }), head: linear({ inFeatures: 4, outFeatures: 2 }) }, (m, x: Tensor) =>
      m.head(m.lstm(x).output),
    )
    const p = model.init(0)
    expect([...stateDict(p).keys()]).toEqual(['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0', 'head.weight', 'head.bias'])
    expect(model.apply(p, tensor(new Float32Array(2 * 5 * 3).fill(0.1), { shape: [2, 5, 3] })).shape).toEqual([2, 5, 2])
  })
})

describe('registeredLayers', () => {
  it('lists every layer and loss spec with family and kind', async () => {
    const { registeredLayers } = await import('../src/index.ts')
    const entries = registeredLayers()
    const names = entries.map((e) => e.name)
    for (const n of ['linear', 'embedding', 'layerNorm', 'dropoutTrain', 'crossEntropy', 'nllLoss', 'mseLoss', 'l1Loss', 'binaryCrossEntropyWithLogits'])
      expect(names).toContain(n)
    expect(new Set(names).size).toBe(names.length)
    expect(entries.find((e) => e.name === 'crossEntropy')?.kind).toBe('loss')
    expect(entries.some((e) => e.family === 'recurrent')).toBe(true)
  })
})
