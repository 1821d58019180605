/**
 * The memory-saving paths of the fused scan give the same numbers as the plain ones:
 * - a backward that releases the graph (valueAndGrad) lets the scan keep each chunk's dgx in
 *   the tape it has consumed; a retained graph (a vjp pullback, which may run again) keeps the
 *   tape intact: both must give identical gradients, and the pullback the same twice;
 * - a batch-first layer's outputs written batch-first by the scan equal the transposed
 *   time-major ones, values and gradients;
 * - the input projection computed a chunk of steps at a time equals the composed layer's.
 * T * B is over the 512 rows of one chunk, so several chunks (the last one partial) are crossed.
 */
import { describe, expect, it } from 'vitest'
import { type DType, type Tensor, mul, randn, sum, transpose, valueAndGrad, vjp } from '@graphgrad/core'
import { gru, lstm, rnn } from '../src/recurrent.ts'
import type { Params } from '../src/layer.ts'

const T = 300
const B = 2
const I = 2
const H = 3

const MAKERS = { lstm, gru, rnn } as const
type Kind = keyof typeof MAKERS

function layerOf(kind: Kind, dtype: DType, batchFirst: boolean, fused = true) {
  return MAKERS[kind]({ inputSize: I, hiddenSize: H, dtype, batchFirst, fused })
}

/** Loss weights and input for a layout: [T,B,*] or [B,T,*]. */
function data(dtype: DType, batchFirst: boolean): { x: Tensor; w: Tensor } {
  const x = randn([T, B, I], 1, { dtype })
  const w = randn([T, B, H], 2, { dtype })
  return batchFirst ? { x: transpose(x, 0, 1), w: transpose(w, 0, 1) } : { x, w }
}

function lossOf(kind: Kind, dtype: DType, batchFirst: boolean, fused = true): { loss: (p: Params, x: Tensor) => Tensor; params: Params; x: Tensor } {
  const layer = layerOf(kind, dtype, batchFirst, fused)
  const { x, w } = data(dtype, batchFirst)
  return { loss: (p, xs) => sum(mul(layer.apply(p, xs).output, w)), params: layer.init(3), x }
}

function arrays(grads: Params): Record<string, unknown> {
  return Object.fromEntries([...grads.entries()].map(([k, v]) => [k, v.toArray()]))
}

describe('lean fused scan paths', () => {
  for (const kind of ['lstm', 'gru', 'rnn'] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${kind} ${dtype}: released graph (dgx in the consumed tape) = retained graph, and a pullback runs twice alike`, () => {
        for (const batchFirst of [false, true]) {
          const { loss, params, x } = lossOf(kind, dtype, batchFirst)
          const [value, [gp, gx]] = valueAndGrad(loss, { argnums: [0, 1] })(params, x) as [Tensor, [Params, Tensor]]
          const [out, pullback] = vjp(loss, params, x)
          const once = pullback(randn([], 9, { dtype }).mul(0).add(1)) as [Params, Tensor]
          const twice = pullback(randn([], 9, { dtype }).mul(0).add(1)) as [Params, Tensor]
          expect(out.item()).toBe(value.item())
          expect(arrays(once[0])).toEqual(arrays(gp))
          expect(once[1].toArray()).toEqual(gx.toArray())
          expect(arrays(twice[0])).toEqual(arrays(gp))
          expect(twice[1].toArray()).toEqual(gx.toArray())
        }
      })
    }
    it(`${kind}: batch-first outputs from the scan = transposed time-major outputs, values and gradients`, () => {
      const tm = lossOf(kind, 'float64', false)
      const bf = lossOf(kind, 'float64', true)
      const [va, [pa, xa]] = valueAndGrad(tm.loss, { argnums: [0, 1] })(tm.params, tm.x) as [Tensor, [Params, Tensor]]
      const [vb, [pb, xb]] = valueAndGrad(bf.loss, { argnums: [0, 1] })(bf.params, bf.x) as [Tensor, [Params, Tensor]]
      // The loss sums the outputs in another order: equal up to rounding; everything else exactly.
      expect(Math.abs(vb.item() - va.item())).toBeLessThan(1e-12 * Math.abs(va.item()))
      expect(arrays(pb)).toEqual(arrays(pa))
      expect(transpose(xb, 0, 1).toArray()).toEqual(xa.toArray())
      const layer = layerOf(kind, 'float64', true)
      const r = layer.apply(bf.params, bf.x)
      expect(r.output.shape).toEqual([B, T, H])
      expect(transpose(r.output, 0, 1).toArray()).toEqual(layerOf(kind, 'float64', false).apply(tm.params, tm.x).output.toArray())
    })
    it(`${kind}: projection in chunks of steps = the composed layer (float64)`, () => {
      const fused = lossOf(kind, 'float64', true)
      const composed = lossOf(kind, 'float64', true, false)
      const [vf, gf] = valueAndGrad(fused.loss)(fused.params, fused.x) as [Tensor, Params]
      const [vc, gc] = valueAndGrad(composed.loss)(composed.params, composed.x) as [Tensor, Params]
      expect(Math.abs(vf.item() - vc.item())).toBeLessThan(1e-10 * Math.max(1, Math.abs(vc.item())))
      for (const [name, g] of gc as unknown as Map<string, Tensor>) {
        const a = (gf.get(name) as Tensor)._data
        const e = g._data
        for (let i = 0; i < e.length; i++) expect(Math.abs(a[i] - e[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(e[i])))
      }
    })
  }
})
