// The fused log-softmax against the composition it replaced (x - logsumexp(x)), over random
// shapes and axes in both float dtypes, and on the values where the composition had rules
// of its own: NaN, infinities, empty axes, int32 input.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { type Tensor, exp, grad, logSoftmax, logsumexp, mul, softmax, sub, sum, tensor } from '@graphgrad/core'

const composed = (x: Tensor, axis: number): Tensor => sub(x, logsumexp(x, axis, true))

const shapeAndAxis = fc
  .array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 })
  .chain((shape) =>
    fc.record({ shape: fc.constant(shape), axis: fc.integer({ min: -shape.length, max: shape.length - 1 }), seed: fc.integer({ min: 0, max: 1e9 }) }),
  )

function values(shape: readonly number[], seed: number): number[] {
  let s = seed >>> 0
  const n = shape.reduce((a, b) => a * b, 1)
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return (s / 2 ** 32) * 40 - 20
  })
}

describe('logSoftmax, fused', () => {
  it('agrees with x - logsumexp(x) in float64 (1e-12) and float32 (2e-6), any shape and axis', () => {
    fc.assert(
      fc.property(shapeAndAxis, ({ shape, axis, seed }) => {
        for (const [dtype, tol] of [
          ['float64', 1e-12],
          ['float32', 2e-6],
        ] as const) {
          const x = tensor(values(shape, seed), { shape, dtype })
          const y = logSoftmax(x, axis)
          expect(y.shape).toEqual(shape)
          expect(y.dtype).toBe(dtype)
          const want = composed(x, axis).data
          y.data.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want[i]))))
        }
      }),
      { numRuns: 60 },
    )
  })
  it('keeps the composition’s special values: NaN lines, infinite maxima, empty axes', () => {
    const x = tensor(
      [
        [NaN, 1, 2],
        [Infinity, 1, 2],
        [-Infinity, -Infinity, -Infinity],
        [-Infinity, 0, 0],
      ],
      { dtype: 'float64' },
    )
    const got = Array.from(logSoftmax(x).data)
    const want = Array.from(composed(x, -1).data)
    expect(got.map(String)).toEqual(want.map(String))
    expect(got.slice(0, 9).every((v, i) => (i === 4 || i === 5 ? v === -Infinity : Number.isNaN(v)))).toBe(true)
    expect(got.slice(9)).toEqual([-Infinity, -Math.LN2, -Math.LN2])
    expect(logSoftmax(tensor([], { shape: [2, 0], dtype: 'float32' }), 1).shape).toEqual([2, 0])
    expect(logSoftmax(tensor([], { shape: [0, 3], dtype: 'float32' }), 1).shape).toEqual([0, 3])
  })
  it('takes an int32 input as float32, as the composition did', () => {
    const y = logSoftmax(tensor([1, 2, 3], { dtype: 'int32' }))
    expect(y.dtype).toBe('float32')
    expect(sum(exp(y)).item()).toBeCloseTo(1, 6)
  })
  it('has the gradient g - softmax(x) * sum(g), and a gradient of that gradient', () => {
    const x = tensor(
      [
        [0.1, 0.5, -1],
        [2, -0.3, 0.7],
      ],
      { dtype: 'float64' },
    )
    const w = tensor(
      [
        [1, 2, 3],
        [-1, 0.5, 4],
      ],
      { dtype: 'float64' },
    )
    const f = (t: Tensor): Tensor => sum(mul(logSoftmax(t, 1), w))
    const g = grad(f)(x)
    const want = sub(w, mul(softmax(x, 1), sum(w, 1, true)))
    g.data.forEach((v, i) => expect(v).toBeCloseTo(want.data[i], 12))
    // d/dx of sum(g * w): the second derivative in the direction w, against the composition's.
    const second = grad((t: Tensor) => sum(mul(grad(f)(t), w)))(x)
    const fc2 = (t: Tensor): Tensor => sum(mul(composed(t, 1), w))
    const wantSecond = grad((t: Tensor) => sum(mul(grad(fc2)(t), w)))(x)
    second.data.forEach((v, i) => expect(v).toBeCloseTo(wantSecond.data[i], 12))
  })
})
