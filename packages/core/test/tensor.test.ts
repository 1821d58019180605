import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  Tensor,
  arange,
  astype,
  eye,
  full,
  key,
  linspace,
  ones,
  onesLike,
  rand,
  randint,
  randn,
  splitKey,
  foldIn,
  tensor,
  uniform,
  zeros,
  zerosLike,
} from '@graphgrad/core'

describe('creation', () => {
  it('infers shape and dtype from nested arrays', () => {
    const t = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(t.shape).toEqual([2, 3])
    expect(t.dtype).toBe('float32')
    expect(t.size).toBe(6)
    expect(t.toArray()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(tensor(3.5, { dtype: 'float64' }).item()).toBe(3.5)
    expect(tensor(3.5).shape).toEqual([])
  })
  it('takes typed arrays with a shape and copies them', () => {
    const src = new Float64Array([1, 2, 3, 4])
    const t = tensor(src, { shape: [2, 2] })
    src[0] = 99
    expect(t.dtype).toBe('float64')
    expect(t.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ])
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32')
  })
  it('never exposes its storage: .data is a copy', () => {
    const t = tensor([1, 2, 3])
    const d = t.data
    d[0] = 100
    expect(t.toArray()).toEqual([1, 2, 3])
  })
  it('has a frozen shape: a cast cannot change it, in any tensor that shares it', () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ])
    const y = x.tanh().add(1) // ops pass their input's shape on
    expect(Object.isFrozen(x.shape)).toBe(true)
    expect(() => {
      ;(x.shape as number[])[0] = 5
    }).toThrow(TypeError)
    expect(() => (y.shape as number[]).push(1)).toThrow(TypeError)
    expect(x.shape).toEqual([2, 3])
    expect(y.shape).toEqual([2, 3])
    expect(y.toArray()).toHaveLength(2)
  })
  it("copies a caller's shape array instead of freezing it", () => {
    const shape = [2, 2]
    const t = new Tensor(new Float32Array(4), shape)
    shape[0] = 1
    expect(Object.isFrozen(shape)).toBe(false)
    expect(t.shape).toEqual([2, 2])
    expect(tensor([1, 2], { shape }).shape).toEqual([1, 2])
  })
  it('fills, ranges and identity', () => {
    expect(zeros([2]).toArray()).toEqual([0, 0])
    expect(ones([1, 2], { dtype: 'int32' }).toArray()).toEqual([[1, 1]])
    expect(full([2], 7).toArray()).toEqual([7, 7])
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4])
    expect(arange(1, 2, 0.25, { dtype: 'float64' }).toArray()).toEqual([1, 1.25, 1.5, 1.75])
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1])
    expect(linspace(0, 1, 5, { dtype: 'float64' }).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1])
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ])
    const x = tensor([[1.5]], { dtype: 'float64' })
    expect(zerosLike(x).dtype).toBe('float64')
    expect(onesLike(x).toArray()).toEqual([[1]])
  })
  it('casts with astype (float to int truncates toward zero)', () => {
    const t = tensor([-1.7, 2.9])
    expect(astype(t, 'int32').toArray()).toEqual([-1, 2])
    expect(t.astype('float64').dtype).toBe('float64')
  })
})

describe('bad input to creation', () => {
  it('rejects ragged arrays', () => expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested array/))
  it('rejects a shape that does not match the data length', () =>
    expect(() => tensor(new Float32Array(5), { shape: [2, 3] })).toThrow(/shape \[2,3\] needs 6 elements but the data has 5/))
  it('the Tensor constructor refuses a size that is negative, fractional or past the cap, even with no data', () => {
    const none = new Float32Array(0)
    expect(() => new Tensor(none, [1e20, 0])).toThrow(
      /Tensor: shape \[100000000000000000000,0\] has a dimension of 100000000000000000000, more than the 2147483647/,
    )
    expect(() => new Tensor(none, [-1, 0])).toThrow(/Tensor: shape \[-1,0\] has an invalid size -1/)
    expect(() => new Tensor(none, [1.5, 0])).toThrow(/Tensor: shape \[1.5,0\] has an invalid size 1.5/)
    expect(() => new Tensor(none, Object.freeze([NaN, 0]))).toThrow(ArgumentError)
    expect(() => new Tensor(none, 'ab' as never)).toThrow(/Tensor: shape must be an array/)
    expect(new Tensor(none, [1e6, 0]).shape).toEqual([1e6, 0])
  })
  it('rejects negative and non-integer sizes', () => {
    expect(() => zeros([2, -1])).toThrow(ArgumentError)
    expect(() => zeros([2, -1])).toThrow(/invalid size -1/)
    expect(() => ones([1.5])).toThrow(/invalid size 1.5/)
    expect(() => zeros([Infinity])).toThrow(/invalid size Infinity/)
  })
  it('rejects unknown dtypes', () => {
    expect(() => zeros([2], { dtype: 'float16' as never })).toThrow(DTypeError)
    expect(() => zeros([2], { dtype: 'float16' as never })).toThrow(/unknown dtype 'float16'/)
  })
  it('rejects item() of a non-scalar', () => expect(() => tensor([1, 2]).item()).toThrow(/has 2 elements, expected exactly 1/))
  it('rejects a zero step in arange', () => expect(() => arange(0, 1, 0)).toThrow(/step must not be zero/))
  it('names the op for shape errors', () => expect(() => tensor([1, 2]).add(tensor([1, 2, 3]))).toThrow(ShapeError))
})

describe('seeded randomness', () => {
  it('gives the same numbers for the same seed and different ones otherwise', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (seed) => {
        expect(randn([8], seed).toArray()).toEqual(randn([8], seed).toArray())
        expect(randn([8], seed).toArray()).not.toEqual(randn([8], seed + 1).toArray())
      }),
      { numRuns: 50 },
    )
  })
  it('is pinned: rand and randint give these exact values for their seeds (checked in Node)', () => {
    // A change here breaks reproducibility of every seeded run. This test runs in Node only;
    // rand and randint use only 32-bit integer arithmetic, exact float64 scaling and Math.floor,
    // which ECMAScript specifies exactly, so other engines should agree, but none is run here.
    expect(Array.from(rand([3], 0, { dtype: 'float64' }).data)).toEqual([0.5018829923770312, 0.4490386874357669, 0.8299471518163056])
    expect(Array.from(randint(0, 10, [5], 7).data)).toEqual([3, 7, 8, 6, 5])
  })
  it('draws within range with sensible statistics', () => {
    const u = Array.from(uniform([20000], -2, 3, key(1), { dtype: 'float64' }).data)
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-2)
    expect(Math.max(...u)).toBeLessThan(3)
    const n = Array.from(randn([20000], 2, { dtype: 'float64' }).data)
    const mean = n.reduce((a, b) => a + b, 0) / n.length
    const v = n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length
    expect(Math.abs(mean)).toBeLessThan(0.03)
    expect(Math.abs(v - 1)).toBeLessThan(0.05)
    const r = randint(3, 6, [1000], 3).data
    expect(new Set(r)).toEqual(new Set([3, 4, 5]))
  })
  it('splits keys into independent streams', () => {
    const [a, b] = splitKey(key(5))
    expect(randn([4], a).toArray()).not.toEqual(randn([4], b).toArray())
    expect(randn([4], foldIn(5, 1)).toArray()).toEqual(randn([4], foldIn(key(5), 1)).toArray())
  })
})

describe('printing', () => {
  it('prints like PyTorch', () => {
    expect(
      tensor([
        [1, 2],
        [3, 4],
      ]).toString(),
    ).toBe('tensor([[1., 2.],\n        [3., 4.]])')
    expect(tensor([0.5, -1.25], { dtype: 'float64' }).toString()).toBe('tensor([ 0.5000, -1.2500], dtype=float64)')
    expect(tensor([1, 2], { dtype: 'int32' }).toString()).toBe('tensor([1, 2], dtype=int32)')
    expect(tensor(2.5).toString()).toBe('tensor(2.5000)')
    expect(tensor([1e-6, 1]).toString()).toBe('tensor([1.0000e-06, 1.0000e+00])')
    expect(tensor([NaN, 1]).toString()).toBe('tensor([nan,  1.])')
  })
  it('summarises large tensors', () => {
    const s = zeros([2000]).toString()
    expect(s).toBe('tensor([0., 0., 0.,  ..., 0., 0., 0.])') // PyTorch's ' ...', with its space
  })
  it('is a Tensor instance with a rank', () => {
    const t = zeros([2, 3, 4])
    expect(t).toBeInstanceOf(Tensor)
    expect(t.rank).toBe(3)
  })
})

describe('console.log of a tensor', () => {
  it('shows the repr, not the fields', async () => {
    const { inspect } = await import('node:util')
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    )
    expect(inspect(x)).toBe(x.toString())
    expect(inspect({ w: x })).toContain('tensor(')
    expect(inspect(x)).not.toContain('_data')
  })
})
