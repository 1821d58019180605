// Broadcasting and reductions against a plain index-by-index reference over random shapes.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  type Tensor,
  add,
  max,
  mean,
  min,
  mul,
  prod,
  randn,
  sub,
  sum,
  maximum,
  where,
  greater,
  argmax,
  argmin,
  variance,
  logsumexp,
  norm,
} from '@graphgrad/core'
import { ravel, unravel } from '../../../testdata/testing.ts'

/** Value of `t` at output index `idx` under NumPy broadcasting to an output of rank idx.length. */
function at(t: Tensor, idx: readonly number[]): number {
  const lead = idx.length - t.rank
  return t.data[
    ravel(
      t.shape.map((d, k) => (d === 1 ? 0 : idx[lead + k])),
      t.shape,
    )
  ]
}

const dim = fc.integer({ min: 1, max: 4 })
const shapeArb = fc.array(dim, { minLength: 0, maxLength: 4 })
// A broadcast pair: the second is the first with leading dims dropped and some dims set to 1.
const pairArb = shapeArb
  .chain((full) =>
    fc.tuple(
      fc.constant(full),
      fc.integer({ min: 0, max: full.length }),
      fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      fc.boolean(),
    ),
  )
  .map(([full, drop, ones, swap]) => {
    const part = full.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d))
    return swap ? [part, full] : [full, part]
  })

describe('broadcasting', () => {
  it('binary ops agree with the reference at every index', () => {
    fc.assert(
      fc.property(pairArb, fc.integer(), ([sa, sb], seed) => {
        const a = randn(sa, seed, { dtype: 'float64' })
        const b = randn(sb, seed + 1, { dtype: 'float64' })
        const outs = { add: add(a, b), sub: sub(a, b), mul: mul(a, b), maximum: maximum(a, b), where: where(greater(a, 0), a, b) }
        const ref = {
          add: (x: number, y: number) => x + y,
          sub: (x: number, y: number) => x - y,
          mul: (x: number, y: number) => x * y,
          maximum: Math.max,
          where: (x: number, y: number) => (x > 0 ? x : y),
        }
        const shape = outs.add.shape
        expect(shape.length).toBe(Math.max(sa.length, sb.length))
        for (const [name, out] of Object.entries(outs)) {
          for (let i = 0; i < out.size; i++) {
            const idx = unravel(i, shape)
            expect(out.data[i]).toBe(ref[name as keyof typeof ref](at(a, idx), at(b, idx)))
          }
        }
      }),
      { numRuns: 150 },
    )
  })
  it('float32 and float64 promote to float64, int32 and float32 to float32', () => {
    expect(add(randn([2], 1), randn([2], 1, { dtype: 'float64' })).dtype).toBe('float64')
    expect(mul(randn([2], 1), randn([2], 1).astype('int32')).dtype).toBe('float32')
  })
})

describe('reductions', () => {
  const caseArb = fc.array(dim, { minLength: 1, maxLength: 4 }).chain((shape) =>
    fc.tuple(
      fc.constant(shape),
      fc.subarray(
        shape.map((_, i) => i),
        { minLength: 1 },
      ),
      fc.boolean(),
      fc.integer(),
    ),
  )
  it('sum, mean, prod, max, min, var, logsumexp and norm agree with the reference', () => {
    fc.assert(
      fc.property(caseArb, ([shape, axes, keep, seed]) => {
        const x = randn(shape, seed, { dtype: 'float64' })
        const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d))
        const groups = new Map<number, number[]>()
        for (let i = 0; i < x.size; i++) {
          const idx = unravel(i, shape).map((v, d) => (axes.includes(d) ? 0 : v))
          const k = ravel(idx, outShape)
          groups.set(k, [...(groups.get(k) ?? []), x.data[i]])
        }
        const n = axes.reduce((acc, a) => acc * shape[a], 1)
        const refs: [Tensor, (v: number[]) => number][] = [
          [sum(x, axes, keep), (v) => v.reduce((a, b) => a + b, 0)],
          [mean(x, axes, keep), (v) => v.reduce((a, b) => a + b, 0) / n],
          [prod(x, axes, keep), (v) => v.reduce((a, b) => a * b, 1)],
          [max(x, axes, keep), (v) => Math.max(...v)],
          [min(x, axes, keep), (v) => Math.min(...v)],
          [
            variance(x, axes, { keepdims: keep, correction: 0 }),
            (v) => {
              const m = v.reduce((a, b) => a + b, 0) / n
              return v.reduce((a, b) => a + (b - m) ** 2, 0) / n
            },
          ],
          [logsumexp(x, axes, keep), (v) => Math.log(v.reduce((a, b) => a + Math.exp(b), 0))],
          [norm(x, 3, axes, keep), (v) => v.reduce((a, b) => a + Math.abs(b) ** 3, 0) ** (1 / 3)],
        ]
        for (const [out, ref] of refs) {
          expect(out.shape).toEqual(keep ? outShape : shape.filter((_, i) => !axes.includes(i)))
          for (let k = 0; k < out.size; k++) expect(out.data[k]).toBeCloseTo(ref(groups.get(k) as number[]), 10)
        }
      }),
      { numRuns: 150 },
    )
  })
  it('argmax and argmin take the first extremum along an axis', () => {
    const x = randn([3, 4], 0, { dtype: 'float64' })
    const a = argmax(x, 1)
    for (let r = 0; r < 3; r++) {
      const row = Array.from(x.data.slice(r * 4, r * 4 + 4))
      expect(a.data[r]).toBe(row.indexOf(Math.max(...row)))
      expect(argmin(x, 1).data[r]).toBe(row.indexOf(Math.min(...row)))
    }
    expect(argmax(x).item()).toBe(Array.from(x.data).indexOf(Math.max(...x.data)))
    expect(argmax(x, 0, true).shape).toEqual([1, 4])
  })
  it('logsumexp stays finite for huge inputs', () => {
    const x = mul(randn([4, 6], 3, { dtype: 'float64' }), 1000)
    for (const v of logsumexp(x, 1).data) expect(Number.isFinite(v)).toBe(true)
  })
  it('max propagates NaN as PyTorch does', () => {
    expect(max(add(randn([3], 1), randn([1], 2).mul(NaN))).item()).toBeNaN()
  })
})
