/**
 * The fused cell ops agree with the cells composed from core ops, on outputs and gradients:
 * per cell, and for whole layers (the fused scan op versus the composed time loop) over
 * random sizes, layer counts, directions, lengths and options.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CaseSampler, type Tensor, mul, randn, sum, valueAndGrad } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import { type RecurrentKind, recurrentLayer, recurrentSpecs } from '../src/recurrent.ts'
import type { Params } from '../src/layer.ts'
import { compare } from './recurrent-util.ts'

const PAIRS: [string, string][] = [
  ['lstmCellFused', 'lstmCell'], ['gruCellFused', 'gruCell'], ['rnnCellFused', 'rnnCell'], ['rnnReluCellFused', 'rnnReluCell'],
  ['lstm', 'lstm_composed'], ['gru', 'gru_composed'], ['rnn_tanh', 'rnn_tanh_composed'], ['rnn_relu', 'rnn_relu_composed'],
]

function valueAndGrads(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], w: Tensor): [Tensor, Tensor[]] {
  let out: Tensor | null = null
  const [, g] = valueAndGrad((xs: Tensor[]) => {
    out = fn(...xs)
    return sum(mul(out, w))
  })(inputs)
  return [out as unknown as Tensor, g as Tensor[]]
}

describe('fused and composed recurrent cells agree', () => {
  for (const [fused, composed] of PAIRS) {
    it(`${fused} = ${composed} (outputs and gradients)`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          // The same seed draws the same case: the specs differ only in the cell they run.
          const a = recurrentSpecs[fused].sample(new CaseSampler(seed))
          const b = recurrentSpecs[composed].sample(new CaseSampler(seed))
          expect(a.label).toBe(b.label)
          const w = new CaseSampler(seed + 1).values(a.fn(...a.inputs).shape)
          const [ya, ga] = valueAndGrads(a.fn, a.inputs, w)
          const [yb, gb] = valueAndGrads(b.fn, b.inputs, w)
          expect(compare(ya, yb, 0).maxAbs, `${a.label}: outputs`).toBeLessThan(1e-12)
          ga.forEach((g, i) => expect(compare(g, gb[i], 0).maxAbs, `${a.label}: gradient of input ${i}`).toBeLessThan(1e-12))
        }),
        { numRuns: 60 },
      )
    })
  }
})

describe('fused and composed layers agree on a larger, odder configuration', () => {
  for (const kind of ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'] as RecurrentKind[]) {
    it(`${kind}: 3 layers, bidirectional, sequence-first, lengths, initial state`, () => {
      const o = { inputSize: 5, hiddenSize: 7, numLayers: 3, bidirectional: true, dtype: 'float64' as const }
      const fused = recurrentLayer(kind, o)
      const composed = recurrentLayer(kind, { ...o, fused: false })
      const params = fused.init(11)
      const x = randn([9, 4, 5], 12, { dtype: 'float64' })
      const h0 = randn([6, 4, 7], 13, { dtype: 'float64' })
      const c0 = randn([6, 4, 7], 14, { dtype: 'float64' })
      const lengths = [9, 3, 1, 6]
      const run = (layer: typeof fused) => {
        let out: Tensor[] = []
        const [, g] = valueAndGrad((m: OrderedMap<string, Tensor>) => {
          const p = m.remove('x').remove('h0').remove('c0') as unknown as Params
          const r = layer.apply(p, m.get('x') as Tensor, { h0: m.get('h0'), c0: kind === 'lstm' ? m.get('c0') : undefined, lengths })
          out = [r.output, r.hN, ...(r.cN === undefined ? [] : [r.cN])]
          return out.reduce((acc, t, i) => acc.add(sum(mul(t, randn(t.shape, 20 + i, { dtype: 'float64' })))), sum(mul(out[0], 0)))
        })(OrderedMap<string, Tensor>([['x', x], ['h0', h0], ['c0', c0]]).merge(params as OrderedMap<string, Tensor>))
        return { out, g: g as OrderedMap<string, Tensor> }
      }
      const a = run(fused)
      const b = run(composed)
      a.out.forEach((t, i) => expect(compare(t, b.out[i], 0).maxAbs).toBeLessThan(1e-12))
      for (const [name, t] of a.g) expect(compare(t, b.g.get(name) as Tensor, 0).maxAbs, name).toBeLessThan(1e-12)
    })
  }
})
