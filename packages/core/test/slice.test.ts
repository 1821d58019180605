// Forward values of slice, select, concat, stack, split and pad against naive references.
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { type Tensor, tensor } from '@graphgrad/core'
import type { DType } from '@graphgrad/core'
import { type SliceArg, type SliceRange, pad, select, slice } from '../src/ops/slice.ts'
import { concat, split, stack } from '../src/ops/join.ts'
import { ravel, sizeOf, unravel } from '../../../testdata/testing.ts'
import { distinct, expectValues, shapeArb, slicedArb } from './slice-helpers.ts'

/** The indices `start:stop:step` takes from an axis of size n, written as CPython's PySlice_AdjustIndices. */
function pyRange(n: number, r: SliceRange): number[] {
  const step = r.step ?? 1
  const adjust = (v: number | null | undefined, dflt: number): number => {
    if (v === null || v === undefined) return dflt
    if (v < 0) return Math.max(v + n, step < 0 ? -1 : 0)
    return v >= n ? (step < 0 ? n - 1 : n) : v
  }
  const start = adjust(r.start, step < 0 ? n - 1 : 0)
  const stop = adjust(r.stop, step < 0 ? -1 : n)
  const out: number[] = []
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i)
  return out
}

/** Naive slicing: the taken indices per axis, then every combination. */
function refSlice(x: Tensor, spec: readonly SliceArg[]): { shape: number[]; data: number[] } {
  const picks: number[][] = []
  const shape: number[] = []
  x.shape.forEach((n, d) => {
    const a = spec[d]
    if (a === undefined || a === null) {
      picks.push(Array.from({ length: n }, (_, i) => i))
      shape.push(n)
    } else if (typeof a === 'number') {
      picks.push([a < 0 ? a + n : a])
    } else {
      const p = pyRange(n, a)
      picks.push(p)
      shape.push(p.length)
    }
  })
  const data: number[] = []
  const counts = picks.map((p) => p.length)
  for (let i = 0; i < sizeOf(counts); i++) {
    const at = unravel(i, counts).map((j, d) => picks[d][j])
    data.push(x._data[ravel(at, x.shape)])
  }
  return { shape, data }
}

// ---------- forward values ----------

describe('slice: values', () => {
  it('matches Python slicing on random shapes and specs (negative steps and indices included)', () => {
    fc.assert(
      fc.property(slicedArb(), fc.constantFrom<DType>('float64', 'float32', 'int32'), ({ shape, spec }, dtype) => {
        const x = distinct(shape, dtype)
        const ref = refSlice(x, spec)
        const y = slice(x, spec)
        expectValues(y, ref.shape, ref.data)
        expect(y.dtype).toBe(dtype)
      }),
      { numRuns: 400 },
    )
  })

  it('follows the documented examples', () => {
    const x = distinct([2, 9])
    expectValues(slice(x, [null, { start: 1, stop: 6 }]), [2, 5], refSlice(x, [null, { start: 1, stop: 6 }]).data)
    expect(slice(x, [0, { start: 0, stop: 9, step: 2 }]).toArray()).toEqual([0, 2, 4, 6, 8].map((i) => 1.25 * i - 3))
    expect(slice(x, [-1, { step: -3 }]).toArray()).toEqual([17, 14, 11].map((i) => 1.25 * i - 3))
    expect(slice(x, [{ start: 5, stop: 1 }]).shape).toEqual([0, 9])
    expect(slice(x, [1, { start: -100, stop: 100, step: 4 }]).toArray()).toEqual([9, 13, 17].map((i) => 1.25 * i - 3))
    expect(slice(x, [{ start: 100, stop: -100, step: -1 }, 0]).toArray()).toEqual([9, 0].map((i) => 1.25 * i - 3))
  })

  it('takes missing trailing axes whole, returns x itself for an identity spec, and picks scalars', () => {
    const x = distinct([3, 4])
    expect(slice(x, [])).toBe(x)
    expect(slice(x, [null, {}])).toBe(x)
    expectValues(
      slice(x, [1]),
      [4],
      [4, 5, 6, 7].map((i) => 1.25 * i - 3),
    )
    expect(slice(x, [2, -1]).shape).toEqual([])
    expect(slice(x, [2, -1]).item()).toBe(1.25 * 11 - 3)
  })

  it('contiguous slices share storage without exposing the rest of it', () => {
    const x = distinct([4, 3])
    const y = slice(x, [{ start: 1, stop: 3 }])
    expect(y._data.buffer).toBe(x._data.buffer)
    expect(y.size).toBe(6)
    expect(Array.from(y.data)).toEqual([3, 4, 5, 6, 7, 8].map((i) => 1.25 * i - 3))
  })
})

describe('select: values', () => {
  it('equals the slice with one index and the axis removed', () => {
    const arb = shapeArb(1, 1).chain((shape) =>
      fc.integer({ min: -shape.length, max: shape.length - 1 }).chain((axis) => {
        const n = shape[axis < 0 ? axis + shape.length : axis]
        return fc.integer({ min: -n, max: n - 1 }).map((index) => ({ shape, axis, index }))
      }),
    )
    fc.assert(
      fc.property(arb, ({ shape, axis, index }) => {
        const x = distinct(shape)
        const a = axis < 0 ? axis + shape.length : axis
        const spec: SliceArg[] = [...new Array<null>(a).fill(null), index]
        const ref = refSlice(x, spec)
        expectValues(select(x, axis, index), ref.shape, ref.data)
      }),
      { numRuns: 200 },
    )
  })
})

describe('concat, stack, split: values', () => {
  const partsArb = shapeArb(1, 0).chain((base) =>
    fc
      .tuple(fc.integer({ min: 0, max: base.length - 1 }), fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([axis, sizes, negative]) => ({ base, axis, sizes, arg: negative ? axis - base.length : axis })),
  )

  it('concat matches a naive join over random shapes, axes and counts', () => {
    fc.assert(
      fc.property(partsArb, ({ base, axis, sizes, arg }) => {
        const xs = sizes.map((n, k) =>
          distinct(
            base.map((d, i) => (i === axis ? n : d)),
            'float64',
            100 * k,
          ),
        )
        const y = concat(xs, arg)
        const shape = base.map((d, i) => (i === axis ? sizes.reduce((a, b) => a + b, 0) : d))
        const ref = Array.from({ length: sizeOf(shape) }, (_, o) => {
          const idx = unravel(o, shape)
          let k = 0
          while (idx[axis] >= sizes[k]) idx[axis] -= sizes[k++]
          return xs[k]._data[ravel(idx, xs[k].shape)]
        })
        expectValues(y, shape, ref)
      }),
      { numRuns: 300 },
    )
  })

  it('concat promotes dtypes as binary ops do', () => {
    const i = tensor([[1, 2]], { dtype: 'int32' })
    const f = tensor([[0.5, 1.5]], { dtype: 'float32' })
    const d = tensor([[2.25, -1]], { dtype: 'float64' })
    expect(concat([i, i]).dtype).toBe('int32')
    expect(concat([i, f]).dtype).toBe('float32')
    expect(concat([i, f]).toArray()).toEqual([
      [1, 2],
      [0.5, 1.5],
    ])
    expect(concat([f, i, d], 1).dtype).toBe('float64')
    expect(concat([f, i, d], 1).toArray()).toEqual([[0.5, 1.5, 1, 2, 2.25, -1]])
    expect(concat([d])).toBe(d)
  })

  it('concat keeps negative zeros', () => {
    const z = tensor([-0, 0], { dtype: 'float64' })
    expect(Object.is(concat([z, z])._data[2], -0)).toBe(true)
  })

  it('stack puts tensor k at index k of the new axis', () => {
    const arb = fc
      .tuple(shapeArb(0, 1), fc.integer({ min: 1, max: 4 }))
      .chain(([shape, count]) => fc.integer({ min: -shape.length - 1, max: shape.length }).map((axis) => ({ shape, count, axis })))
    fc.assert(
      fc.property(arb, ({ shape, count, axis }) => {
        const xs = Array.from({ length: count }, (_, k) => distinct(shape, 'float64', 100 * k))
        const y = stack(xs, axis)
        const a = axis < 0 ? axis + shape.length + 1 : axis
        expect(y.shape).toEqual([...shape.slice(0, a), count, ...shape.slice(a)])
        xs.forEach((x, k) => expectValues(select(y, a, k), x.shape, x._data))
      }),
      { numRuns: 200 },
    )
  })

  it('split by a size follows torch.split (last piece smaller) and round-trips through concat', () => {
    const arb = shapeArb(1, 0).chain((shape) =>
      fc.tuple(fc.integer({ min: -shape.length, max: shape.length - 1 }), fc.integer({ min: 1, max: 6 })).map(([axis, size]) => ({ shape, axis, size })),
    )
    fc.assert(
      fc.property(arb, ({ shape, axis, size }) => {
        const x = distinct(shape)
        const a = axis < 0 ? axis + shape.length : axis
        const n = shape[a]
        const pieces = split(x, size, axis)
        expect(pieces.map((p) => p.shape[a])).toEqual(n === 0 ? [0] : Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size)))
        expectValues(concat(pieces, axis), shape, x._data)
      }),
      { numRuns: 200 },
    )
  })

  it('split by a list of sizes gives the slices in order', () => {
    const x = distinct([2, 6])
    const pieces = split(x, [1, 0, 3, 2], 1)
    expect(pieces.map((p) => p.shape)).toEqual([
      [2, 1],
      [2, 0],
      [2, 3],
      [2, 2],
    ])
    expectValues(pieces[2], [2, 3], refSlice(x, [null, { start: 1, stop: 4 }]).data)
    expectValues(pieces[3], [2, 2], refSlice(x, [null, { start: 4 }]).data)
    expect(split(x, 10).map((p) => p.shape)).toEqual([[2, 6]])
  })
})

describe('pad: values', () => {
  it('matches a naive pad over random shapes, widths and values', () => {
    const arb = shapeArb(0, 0).chain((shape) =>
      fc
        .tuple(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { maxLength: shape.length }),
          fc.constantFrom(0, -1.5, 7),
          fc.constantFrom<DType>('float64', 'float32', 'int32'),
        )
        .map(([widths, value, dtype]) => ({ shape, widths, value, dtype })),
    )
    fc.assert(
      fc.property(arb, ({ shape, widths, value, dtype }) => {
        const x = distinct(shape, dtype)
        const y = pad(x, widths, value)
        const out = shape.map((d, i) => d + (widths[i] ? widths[i][0] + widths[i][1] : 0))
        const ref = Array.from({ length: sizeOf(out) }, (_, o) => {
          const idx = unravel(o, out).map((j, i) => j - (widths[i]?.[0] ?? 0))
          return idx.every((j, i) => j >= 0 && j < shape[i]) ? x._data[ravel(idx, shape)] : dtype === 'int32' ? Math.trunc(value) : value
        })
        expectValues(y, out, ref)
        expect(y.dtype).toBe(dtype)
      }),
      { numRuns: 300 },
    )
  })
})
