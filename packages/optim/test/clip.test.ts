import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { OrderedMap } from 'immutable'
import { Tensor, type TensorTree } from '@graphgrad/core'
import { clipGradNorm, clipGradValue } from '../src/index.ts'
import { f32, f64, snapshot } from './helpers.ts'

const data = (t: unknown): number[] => Array.from((t as Tensor)._data)

describe('clipGradNorm', () => {
  it('computes p-norms over all gradients together and scales by min(maxNorm / (norm + 1e-6), 1)', () => {
    const grads = OrderedMap({ a: f64([3, -4]), b: f64([12]) })
    for (const [q, norm] of [
      [2, 13],
      [1, 19],
      [3, Math.cbrt(27 + 64 + 1728)],
      [Infinity, 12],
    ] as const) {
      const { grads: out, totalNorm } = clipGradNorm(grads, 1, q)
      expect(totalNorm).toBeCloseTo(norm, 12)
      const coef = 1 / (norm + 1e-6)
      expect(data(out.get('a'))[1]).toBeCloseTo(-4 * coef, 15)
      expect(data(out.get('b'))[0]).toBeCloseTo(12 * coef, 15)
    }
    const { grads: same } = clipGradNorm(grads, 100)
    expect(snapshot(same)).toEqual(snapshot(grads))
  })

  it('keeps tree structure and dtypes, and never mutates its input', () => {
    const grads = OrderedMap<TensorTree>({ layer: OrderedMap({ w: f32([1, 2, 2], [3, 1]) }), list: [f64([0.5])] })
    const before = snapshot(grads)
    const { grads: out, totalNorm } = clipGradNorm(grads as never, 1) as { grads: typeof grads; totalNorm: number }
    expect(snapshot(grads)).toEqual(before)
    expect(totalNorm).toBeCloseTo(Math.sqrt(9.25), 6)
    const w = (out.get('layer') as OrderedMap<string, Tensor>).get('w') as Tensor
    expect(w.dtype).toBe('float32')
    expect(w.shape).toEqual([3, 1])
    expect(Array.isArray(out.get('list'))).toBe(true)
  })

  it('the clipped norm is at most maxNorm (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.double({ min: 0.01, max: 50, noNaN: true }),
        fc.constantFrom(1, 2, 3.5, Infinity),
        (values, maxNorm, q) => {
          const { grads: out } = clipGradNorm(OrderedMap({ g: f64(values) }), maxNorm, q)
          const { totalNorm: after } = clipGradNorm(out, Infinity, q)
          expect(after).toBeLessThanOrEqual(maxNorm * (1 + 1e-12))
        },
      ),
    )
  })

  it('non-finite norms and bad arguments', () => {
    const grads = OrderedMap({ g: f64([1, Infinity]) })
    expect(clipGradNorm(grads, 1).totalNorm).toBe(Infinity)
    expect(() => clipGradNorm(grads, 1, 2, { errorIfNonfinite: true })).toThrow(/clipGradNorm: the total norm of order 2 of the gradients is Infinity/)
    expect(() => clipGradNorm(grads, -1)).toThrow(/maxNorm must be a number >= 0/)
    expect(() => clipGradNorm(grads, 1, 0)).toThrow(/normType must be a positive number or Infinity/)
    expect(() => clipGradNorm(OrderedMap({ i: new Tensor(new Int32Array(1), [1]) }), 1)).toThrow(/gradients must be float32 or float64/)
    expect(clipGradNorm(OrderedMap<string, Tensor>(), 1).totalNorm).toBe(0)
  })
})

describe('clipGradValue', () => {
  it('clamps every element to [-v, v]', () => {
    const grads = OrderedMap({ a: f64([-3, 0.5, 2]), b: f32([1.5]) })
    const out = clipGradValue(grads, 1)
    expect(data(out.get('a'))).toEqual([-1, 0.5, 1])
    expect(out.get('b')?.dtype).toBe('float32')
    expect(data(out.get('b'))).toEqual([1])
    expect(data(grads.get('a'))).toEqual([-3, 0.5, 2])
    expect(() => clipGradValue(grads, -1)).toThrow(/clipGradValue: clipValue must be a number >= 0/)
  })
})
