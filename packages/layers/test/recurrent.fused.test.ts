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
import { scanForward } from '../src/kernels/scan-forward.ts'
import { scanBackward } from '../src/kernels/scan-backward.ts'
import { lstmKernel } from '../src/kernels/lstm.ts'
import { gruKernel } from '../src/kernels/gru.ts'

const PAIRS: [string, string][] = [
  ['lstmCellFused', 'lstmCell'],
  ['gruCellFused', 'gruCell'],
  ['rnnCellFused', 'rnnCell'],
  ['rnnReluCellFused', 'rnnReluCell'],
  ['lstm', 'lstm_composed'],
  ['gru', 'gru_composed'],
  ['rnn_tanh', 'rnn_tanh_composed'],
  ['rnn_relu', 'rnn_relu_composed'],
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
        })(
          OrderedMap<string, Tensor>([
            ['x', x],
            ['h0', h0],
            ['c0', c0],
          ]).merge(params as OrderedMap<string, Tensor>),
        )
        return { out, g: g as OrderedMap<string, Tensor> }
      }
      const a = run(fused)
      const b = run(composed)
      a.out.forEach((t, i) => expect(compare(t, b.out[i], 0).maxAbs).toBeLessThan(1e-12))
      for (const [name, t] of a.g) expect(compare(t, b.g.get(name) as Tensor, 0).maxAbs, name).toBeLessThan(1e-12)
    })
  }
})

describe('the fused backward does only the work its cotangents need', () => {
  const T = 4
  const B = 3
  const H = 2
  const shape = { T, B, H, reverse: false, lengths: Int32Array.from([4, 2, 1]) }
  const draw = (n: number, seed: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Math.sin(seed + 1.3 * i) * 0.7)
  for (const [name, k] of [
    ['lstm', lstmKernel],
    ['gru', gruKernel],
  ] as const) {
    it(`${name}: skipped cotangents come back empty, the others unchanged`, () => {
      const GH = k.gates * H
      const S = k.hasCell ? 2 : 1
      const w = draw(GH * H, 1)
      const bhh = k === gruKernel ? draw(GH, 2) : new Float64Array(0)
      const state = k.hasCell ? draw(B * H, 4) : new Float64Array(0)
      const out = { output: new Float64Array(T * B * H), h: new Float64Array(B * H), c: new Float64Array(k.hasCell ? B * H : 0) }
      const tape = scanForward(k, shape, { gx: draw(T * B * GH, 3), h0: draw(B * H, 5), c0: state, w, bhh, bx: new Float64Array(0) }, out)
      const gAll = draw((T + S) * B * H, 6)
      const g = { output: gAll.subarray(0, T * B * H), h: gAll.subarray(T * B * H, (T + 1) * B * H), c: k.hasCell ? gAll.subarray((T + 1) * B * H) : null }
      const all = scanBackward(k, shape, tape, g, w)
      const none = scanBackward(k, shape, tape, g, w, { dw: false, dbhh: false, dh0: false })
      expect(Array.from(none.dgx)).toEqual(Array.from(all.dgx))
      expect([none.dw.length, none.dbhh.length, none.dh0.length]).toEqual([0, 0, 0])
      expect(Array.from(none.dc0)).toEqual(Array.from(all.dc0))
      expect(all.dw.length).toBe(GH * H)
      expect(all.dbhh.length).toBe(GH)
      expect(all.dh0.length).toBe(B * H)
      const some = scanBackward(k, shape, tape, g, w, { dw: true, dbhh: false, dh0: true })
      expect([Array.from(some.dw), Array.from(some.dh0), some.dbhh.length]).toEqual([Array.from(all.dw), Array.from(all.dh0), 0])
    })
  }

  it('refuses an in-step b_hh for a cell that folds it into gx', () => {
    const GH = lstmKernel.gates * H
    const out = { output: new Float64Array(T * B * H), h: new Float64Array(B * H), c: new Float64Array(B * H) }
    const run = (): unknown =>
      scanForward(
        lstmKernel,
        shape,
        { gx: draw(T * B * GH, 3), h0: draw(B * H, 5), c0: draw(B * H, 4), w: draw(GH * H, 1), bhh: draw(GH, 2), bx: new Float64Array(0) },
        out,
      )
    expect(run).toThrow('scanForward: this cell folds b_hh into gx and takes no in-step bias')
  })

  it('layers give the same gradients when only some inputs need one', () => {
    const layer = recurrentLayer('gru', { inputSize: 2, hiddenSize: 3, dtype: 'float64' })
    const p = layer.init(3)
    const x = randn([4, 2, 2], 4, { dtype: 'float64' })
    const h0 = randn([1, 2, 3], 5, { dtype: 'float64' })
    const loss = (xx: Tensor, hh: Tensor, q: Params): Tensor =>
      sum(mul(layer.apply(q, xx, { h0: hh, lengths: [4, 2] }).output, randn([4, 2, 3], 6, { dtype: 'float64' })))
    const [, [gx, gh, gp]] = valueAndGrad((xs: [Tensor, Tensor, Params]) => loss(...xs))([x, h0, p]) as [Tensor, [Tensor, Tensor, Params]]
    const [, onlyX] = valueAndGrad((xx: Tensor) => loss(xx, h0, p))(x)
    const [, onlyH] = valueAndGrad((hh: Tensor) => loss(x, hh, p))(h0)
    const [, onlyP] = valueAndGrad((q: Params) => loss(x, h0, q))(p)
    expect((onlyX as Tensor).toArray()).toEqual(gx.toArray())
    expect((onlyH as Tensor).toArray()).toEqual(gh.toArray())
    for (const [n, t] of gp as unknown as Iterable<[string, Tensor]>) expect(((onlyP as Params).get(n) as Tensor).toArray()).toEqual(t.toArray())
  })
})
