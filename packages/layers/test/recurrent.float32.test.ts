/**
 * The float32 path of the fused scan: its tape and results stay float32, its activations
 * are the float32-accurate approximations, and it agrees with the float64 path (the exact
 * one, itself checked against the composed cells and PyTorch) within float32 tolerance.
 * Also the pieces it is built from: the approximations and the copy kernels; and the
 * forward without a tape (nothing recorded) giving the same numbers as with one, and the
 * chunked backward of long sequences.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CaseSampler, type Tensor, astype, mul, noGrad, randn, sum, valueAndGrad } from '@graphgrad/core'
import type { OrderedMap } from 'immutable'
import { recurrentLayer, recurrentSpecs } from '../src/recurrent.ts'
import type { Params } from '../src/layer.ts'
import { compare } from './recurrent-util.ts'
import { sigmoidApprox, tanhApprox } from '../src/kernels/approx.ts'
import { sigmoid } from '../src/kernels/sigmoid.ts'
import { adder, biasedRowLoader, copier } from '../src/kernels/copy.ts'
import { scanForward } from '../src/kernels/scan-forward.ts'
import { scanBackward } from '../src/kernels/scan-backward.ts'
import { lstmKernel } from '../src/kernels/lstm.ts'

describe('float32-accurate activations', () => {
  it('tanhApprox is within 3e-7 of Math.tanh everywhere, and keeps NaN', () => {
    let worst = 0
    for (let x = -20; x <= 20; x += 1 / 1024) worst = Math.max(worst, Math.abs(tanhApprox(x) - Math.tanh(x)))
    for (const x of [Infinity, -Infinity, 1e300, -1e300, 1e-300, 0]) worst = Math.max(worst, Math.abs(tanhApprox(x) - Math.tanh(x)))
    expect(worst).toBeLessThan(3e-7)
    expect(tanhApprox(NaN)).toBeNaN()
    // Odd, and exact at 0.
    expect(tanhApprox(0)).toBe(0)
    expect(tanhApprox(-0.3)).toBe(-tanhApprox(0.3))
  })

  it('sigmoidApprox is within 1.5e-7 of the exact logistic function', () => {
    let worst = 0
    for (let x = -40; x <= 40; x += 1 / 512) worst = Math.max(worst, Math.abs(sigmoidApprox(x) - sigmoid(x)))
    expect(worst).toBeLessThan(1.5e-7)
    expect(sigmoidApprox(NaN)).toBeNaN()
  })
})

describe('scan copy kernels', () => {
  const src64 = Float64Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3)
  const src32 = Float32Array.from(src64)
  for (const [name, src] of [
    ['float32', src32],
    ['float64', src64],
  ] as const) {
    for (const [dname, make] of [
      ['float32', (n: number) => new Float32Array(n)],
      ['float64', (n: number) => new Float64Array(n)],
    ] as const) {
      it(`copy and add ${name} -> ${dname} as a plain loop does`, () => {
        const a = make(30)
        copier(src, a)(src, 5, a, 2, 20)
        const want = make(30)
        for (let i = 0; i < 20; i++) want[2 + i] = src[5 + i]
        expect(Array.from(a)).toEqual(Array.from(want))
        adder(src, a)(src, 0, a, 0, 30)
        for (let i = 0; i < 30; i++) want[i] += src[i]
        expect(Array.from(a)).toEqual(Array.from(want))
      })
    }
    for (const [dstName, makeDst] of [
      ['float64', (n: number) => new Float64Array(n)],
      ['float32', (n: number) => new Float32Array(n)],
    ] as const) {
      it(`biased row load from ${name} into ${dstName} adds the bias to every row`, () => {
        const bias = Float64Array.from([0.5, -1, 2])
        const dst = makeDst(12)
        biasedRowLoader(src, dst)(src, 3, dst, 4, 3, bias)
        const want = makeDst(12)
        for (let i = 0; i < 12; i++) want[i] = src[3 + i] + bias[i % 3]
        expect(Array.from(dst)).toEqual(Array.from(want))
      })
    }
  }
})

function lossAndGrads(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], w: Tensor): [Tensor, Tensor[]] {
  let out: Tensor | null = null
  const [, g] = valueAndGrad((xs: Tensor[]) => {
    out = fn(...xs)
    return sum(mul(out, astype(w, out.dtype)))
  })(inputs)
  return [out as unknown as Tensor, g as Tensor[]]
}

describe('float32 layers agree with float64 layers', () => {
  for (const kind of ['lstm', 'gru', 'rnn_tanh', 'rnn_relu']) {
    it(`${kind}: outputs and gradients within float32 tolerance`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const c = recurrentSpecs[kind].sample(new CaseSampler(seed))
          const w = new CaseSampler(seed + 1).values(c.fn(...c.inputs).shape)
          const [y64, g64] = lossAndGrads(c.fn, c.inputs, w)
          const [y32, g32] = lossAndGrads(
            c.fn,
            c.inputs.map((x) => astype(x, 'float32')),
            w,
          )
          expect(y32.dtype).toBe('float32')
          expect(compare(y32, y64, 1e-4).excess, `${c.label}: outputs`).toBeLessThan(1e-5)
          g32.forEach((g, i) => {
            expect(g.dtype).toBe('float32')
            expect(compare(g, g64[i], 1e-4).excess, `${c.label}: gradient of input ${i}`).toBeLessThan(1e-5)
          })
        }),
        { numRuns: 40 },
      )
    })
  }

  it('a float32 scan keeps its tape and its cotangents in float32', () => {
    const [T, B, H] = [3, 2, 4]
    const GH = 4 * H
    const f = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + 0.7 * i) * 0.5)
    const shape = { T, B, H, reverse: false, lengths: null }
    const out = { output: new Float32Array(T * B * H), h: new Float32Array(B * H), c: new Float32Array(B * H) }
    const tape = scanForward(
      lstmKernel,
      shape,
      { gx: f(T * B * GH, 1), h0: f(B * H, 2), c0: f(B * H, 3), w: f(GH * H, 4), bhh: new Float64Array(0), bx: Float64Array.from(f(GH, 5)) },
      out,
    )
    expect([tape.hs, tape.cs, tape.cache].every((a) => a instanceof Float32Array)).toBe(true)
    const g = f((T + 2) * B * H, 6)
    const cotangents = { output: g.subarray(0, T * B * H), h: g.subarray(T * B * H, (T + 1) * B * H), c: g.subarray((T + 1) * B * H) }
    const d = scanBackward(lstmKernel, shape, tape, cotangents, f(GH * H, 4), { dw: true, dbhh: false, dh0: true, dbx: true })
    expect([d.dgx, d.dh0, d.dc0, d.dw, d.dbx].every((a) => a instanceof Float32Array)).toBe(true)
    // The input bias's cotangent is the sum of gx's over all steps and rows.
    for (let j = 0; j < GH; j++) {
      let s = 0
      for (let r = 0; r < T * B; r++) s += d.dgx[r * GH + j]
      expect(d.dbx[j]).toBeCloseTo(s, 5)
    }
  })
})

describe('a forward that records nothing keeps no tape and gives the same numbers', () => {
  for (const kind of ['lstm', 'gru', 'rnn_tanh']) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${kind} ${dtype}`, () => {
        fc.assert(
          fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
            const c = recurrentSpecs[kind].sample(new CaseSampler(seed))
            const inputs = c.inputs.map((x) => astype(x, dtype))
            let recorded: Tensor | null = null
            valueAndGrad((xs: Tensor[]) => {
              recorded = c.fn(...xs)
              return sum(recorded)
            })(inputs)
            const plain = noGrad(() => c.fn(...inputs))
            expect(Array.from(plain._data), c.label).toEqual(Array.from((recorded as unknown as Tensor)._data))
          }),
          { numRuns: 25 },
        )
      })
    }
  }
})

describe('long sequences: the fused backward hands dgx over in chunks of steps', () => {
  // B * T well past the chunk size (512 rows), with a partial chunk, both directions and lengths.
  for (const kind of ['lstm', 'gru'] as const) {
    it(`${kind}: fused = composed over 300 steps`, () => {
      const o = { inputSize: 2, hiddenSize: 3, bidirectional: true, dtype: 'float64' as const }
      const fused = recurrentLayer(kind, o)
      const composed = recurrentLayer(kind, { ...o, fused: false })
      const params = fused.init(5) as OrderedMap<string, Tensor>
      const x = randn([300, 2, 2], 6, { dtype: 'float64' })
      const w = randn([300, 2, 6], 7, { dtype: 'float64' })
      const run = (layer: typeof fused) =>
        valueAndGrad((m: OrderedMap<string, Tensor>) =>
          sum(mul(layer.apply(m.remove('x') as unknown as Params, m.get('x') as Tensor, { lengths: [300, 257] }).output, w)),
        )(params.set('x', x))
      const [va, ga] = run(fused)
      const [vb, gb] = run(composed)
      expect(Math.abs(va.item() - vb.item())).toBeLessThan(1e-10)
      for (const [name, t] of ga as OrderedMap<string, Tensor>)
        expect(compare(t, (gb as OrderedMap<string, Tensor>).get(name) as Tensor, 0).maxAbs, name).toBeLessThan(1e-10)
    })
  }
})
