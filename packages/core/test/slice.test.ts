import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { existsSync, readFileSync } from 'node:fs'
import {
  ArgumentError, CaseSampler, GraphgradError, ShapeError, Tensor, arange, grad, jvp, loadSafetensors, mul, registeredOps,
  sum, tensor, valueAndGrad,
} from '@graphgrad/core'
import type { DType, TensorTree } from '@graphgrad/core'
import { type SliceArg, type SliceRange, pad, select, slice } from '../src/ops/slice.ts'
import { concat, split, stack } from '../src/ops/join.ts'
import { checkVjp as checkVjpFd, ravel, sizeOf, unravel } from '../../../testdata/testing.ts'

// ---------- helpers ----------

/** Distinct values, so a read from the wrong position shows. */
function distinct(shape: readonly number[], dtype: DType = 'float64', shift = 0): Tensor {
  const data = Array.from({ length: sizeOf(shape) }, (_, i) => (dtype === 'int32' ? i + shift : 1.25 * i - 3 + shift))
  return tensor(Float64Array.from(data), { shape, dtype })
}

/** Deterministic pseudo-random float64 values in [-1, 1). */
function noise(shape: readonly number[], seed: number): Tensor {
  let s = (seed * 2654435761) >>> 0 || 1
  const data = Float64Array.from({ length: sizeOf(shape) }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return (s / 2 ** 32) * 2 - 1
  })
  return tensor(data, { shape })
}

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

function expectValues(t: Tensor, shape: readonly number[], data: ArrayLike<number>): void {
  expect(t.shape).toEqual(shape)
  expect(Array.from(t._data)).toEqual(Array.from(data))
}

function asTensor(t: TensorTree): Tensor {
  if (!(t instanceof Tensor)) throw new Error('expected a tensor gradient')
  return t
}

/** Finite-difference check of the VJP of `f` with this file's cotangent (`noise`) and tolerances. */
function checkVjp(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed = 1, h = 1e-4, tol = 1e-7): void {
  expect(checkVjpFd(f, inputs, { cotangent: (shape) => noise(shape, seed), eps: h, atol: tol, rtol: tol })).toBeNull()
}

function expectThrows(fn: () => unknown, cls: new (...args: never[]) => Error, message: string): void {
  expect(fn).toThrow(cls)
  expect(fn).toThrow(message)
}

// ---------- arbitraries ----------

const shapeArb = (minRank = 0, minDim = 0): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: minDim, max: 5 }), { minLength: minRank, maxLength: 4 })

const rangeArb = (n: number): fc.Arbitrary<SliceRange> =>
  fc.record(
    {
      start: fc.option(fc.integer({ min: -n - 3, max: n + 3 })),
      stop: fc.option(fc.integer({ min: -n - 3, max: n + 3 })),
      step: fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0),
    },
    { requiredKeys: [] },
  )

const argArb = (n: number): fc.Arbitrary<SliceArg> =>
  n > 0 ? fc.oneof(fc.constant(null), fc.integer({ min: -n, max: n - 1 }), rangeArb(n)) : fc.oneof(fc.constant(null), rangeArb(n))

const slicedArb = (minDim = 0): fc.Arbitrary<{ shape: number[]; spec: SliceArg[] }> =>
  shapeArb(0, minDim).chain((shape) =>
    fc.integer({ min: 0, max: shape.length }).chain((k) =>
      fc.tuple(...shape.slice(0, k).map(argArb)).map((spec) => ({ shape, spec: spec as SliceArg[] })),
    ),
  )

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
    expectValues(slice(x, [1]), [4], [4, 5, 6, 7].map((i) => 1.25 * i - 3))
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
    fc.tuple(
      fc.integer({ min: 0, max: base.length - 1 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      fc.boolean(),
    ).map(([axis, sizes, negative]) => ({ base, axis, sizes, arg: negative ? axis - base.length : axis })),
  )

  it('concat matches a naive join over random shapes, axes and counts', () => {
    fc.assert(
      fc.property(partsArb, ({ base, axis, sizes, arg }) => {
        const xs = sizes.map((n, k) => distinct(base.map((d, i) => (i === axis ? n : d)), 'float64', 100 * k))
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
    expect(concat([i, f]).toArray()).toEqual([[1, 2], [0.5, 1.5]])
    expect(concat([f, i, d], 1).dtype).toBe('float64')
    expect(concat([f, i, d], 1).toArray()).toEqual([[0.5, 1.5, 1, 2, 2.25, -1]])
    expect(concat([d])).toBe(d)
  })

  it('concat keeps negative zeros', () => {
    const z = tensor([-0, 0], { dtype: 'float64' })
    expect(Object.is(concat([z, z])._data[2], -0)).toBe(true)
  })

  it('stack puts tensor k at index k of the new axis', () => {
    const arb = fc.tuple(shapeArb(0, 1), fc.integer({ min: 1, max: 4 })).chain(([shape, count]) =>
      fc.integer({ min: -shape.length - 1, max: shape.length }).map((axis) => ({ shape, count, axis })),
    )
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
        expect(pieces.map((p) => p.shape[a])).toEqual(
          n === 0 ? [0] : Array.from({ length: Math.ceil(n / size) }, (_, i) => Math.min(size, n - i * size)),
        )
        expectValues(concat(pieces, axis), shape, x._data)
      }),
      { numRuns: 200 },
    )
  })

  it('split by a list of sizes gives the slices in order', () => {
    const x = distinct([2, 6])
    const pieces = split(x, [1, 0, 3, 2], 1)
    expect(pieces.map((p) => p.shape)).toEqual([[2, 1], [2, 0], [2, 3], [2, 2]])
    expectValues(pieces[2], [2, 3], refSlice(x, [null, { start: 1, stop: 4 }]).data)
    expectValues(pieces[3], [2, 2], refSlice(x, [null, { start: 4 }]).data)
    expect(split(x, 10).map((p) => p.shape)).toEqual([[2, 6]])
  })
})

describe('pad: values', () => {
  it('matches a naive pad over random shapes, widths and values', () => {
    const arb = shapeArb(0, 0).chain((shape) =>
      fc.tuple(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), { maxLength: shape.length }),
        fc.constantFrom(0, -1.5, 7),
        fc.constantFrom<DType>('float64', 'float32', 'int32'),
      ).map(([widths, value, dtype]) => ({ shape, widths, value, dtype })),
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

// ---------- gradients ----------

describe('gradients against central differences (float64)', () => {
  it('slice, with random steps and indices', () => {
    fc.assert(
      fc.property(slicedArb(1), fc.integer(), ({ shape, spec }, seed) => {
        checkVjp((t) => slice(t, spec), [noise(shape, seed)], seed)
      }),
      { numRuns: 60 },
    )
  })

  it('select, concat, stack, split and pad', () => {
    const a = noise([2, 3, 4], 1)
    const b = noise([2, 1, 4], 2)
    const c = noise([2, 2, 4], 3)
    checkVjp((t) => select(t, 1, -1), [a])
    checkVjp((x, y, z) => concat([x, y, z], 1), [a, b, c])
    checkVjp((x, y) => concat([x, y], -1), [noise([3, 2], 4), noise([3, 5], 5)])
    checkVjp((x, y) => stack([x, y], 2), [a, noise([2, 3, 4], 6)])
    checkVjp((x) => concat(split(x, [1, 0, 3], 2).map((p, i) => mul(p, i + 2)), 2), [noise([2, 3, 4], 7)])
    checkVjp((x) => concat(split(x, 2, 1).map((p, i) => mul(p, i - 1.5)), 1), [noise([2, 5], 8)])
    checkVjp((x) => pad(x, [[1, 0], [2, 3]], 0.5), [noise([2, 3, 2], 9)])
  })

  it('concat sends the gradient back in each input dtype', () => {
    const f = tensor([[1, 2]], { dtype: 'float32' })
    const d = tensor([[3, 4, 5]], { dtype: 'float64' })
    const [ga, gb] = (grad((x: Tensor, y: Tensor) => sum(mul(concat([x, y], 1), arange(5, undefined, 1, { dtype: 'float64' }))), {
      argnums: [0, 1],
    })(f, d) as TensorTree[]).map(asTensor)
    expect(ga.dtype).toBe('float32')
    expect(ga.toArray()).toEqual([[0, 1]])
    expect(gb.toArray()).toEqual([[2, 3, 4]])
  })

  it('every registered slice/join spec passes the local check', () => {
    const names = ['slice', 'select', 'pad', 'concat', 'stack', 'split']
    const entries = registeredOps().filter((e) => names.includes(e.name))
    expect(entries.map((e) => `${e.name}:${e.kind}`).sort()).toEqual(
      ['concat:primitive', 'pad:primitive', 'select:composite', 'slice:primitive', 'split:composite', 'stack:composite'],
    )
    for (const e of entries) {
      if (!('sample' in e.spec)) throw new Error(`${e.name} has no gradient spec`)
      for (let seed = 0; seed < 25; seed++) {
        const c = e.spec.sample(new CaseSampler(seed))
        expect(c.inputs.every((x) => x.dtype === 'float64')).toBe(true)
        expect(c.fn(...c.inputs).size).toBeGreaterThan(0)
        checkVjp(c.fn, c.inputs, seed)
      }
    }
  })
})

describe('higher derivatives', () => {
  const spec: SliceArg[] = [{ start: -1, stop: 0, step: -2 }, { start: 1, stop: 6, step: 2 }]
  const x = noise([5, 7], 11)
  const v = noise([5, 7], 12)
  const taken = (): boolean[] => {
    const picked = new Set(Array.from(slice(distinct([5, 7], 'int32'), spec)._data))
    return Array.from({ length: 35 }, (_, i) => picked.has(i))
  }

  it('grad of sum(slice(x)^3) and its second derivative', () => {
    const f = (t: Tensor): Tensor => sum(slice(t, spec).pow(3))
    const g1 = asTensor(grad(f)(x) as TensorTree)
    const mask = taken()
    expect(Array.from(g1._data)).toEqual(mask.map((m, i) => (m ? 3 * x._data[i] ** 2 : 0)))
    const hv = asTensor(grad((t: Tensor) => sum(mul(asTensor(grad(f)(t) as TensorTree), v)))(x) as TensorTree)
    hv._data.forEach((h, i) => expect(h).toBeCloseTo(mask[i] ? 6 * x._data[i] * v._data[i] : 0, 12))
    // The same Hessian-vector product against differences of the first gradient.
    checkVjp((t) => asTensor(grad(f)(t) as TensorTree), [x], 3, 1e-5, 1e-6)
  })

  it('third derivative and jvp go through the scatter and back', () => {
    const f = (t: Tensor): Tensor => sum(slice(t, spec).pow(3))
    const inner = (t: Tensor): Tensor => sum(mul(asTensor(grad(f)(t) as TensorTree), v))
    const third = asTensor(grad((t: Tensor) => sum(mul(asTensor(grad(inner)(t) as TensorTree), v)))(x) as TensorTree)
    const mask = taken()
    third._data.forEach((h, i) => expect(h).toBeCloseTo(mask[i] ? 6 * v._data[i] ** 2 : 0, 12))
    const [y, tangent] = jvp((t: Tensor) => slice(t, spec), [x], [v])
    expectValues(y, [2, 3], slice(x, spec)._data)
    expectValues(tangent, [2, 3], slice(v, spec)._data)
  })

  it('second derivatives through pad and concat', () => {
    const a = noise([2, 3], 21)
    const b = noise([2, 2], 22)
    checkVjp((t) => asTensor(grad((s: Tensor) => sum(pad(s, [[1, 1], [0, 2]], 3).pow(3)))(t) as TensorTree), [a], 4, 1e-5, 1e-6)
    checkVjp(
      (s, t) => asTensor(grad((u: Tensor) => sum(concat([u, t], 1).pow(3)))(s) as TensorTree),
      [a, b], 5, 1e-5, 1e-6,
    )
  })
})

// The public fixture by name; reference-ops.test.ts runs whatever ops cases the manifest has.
const ops60 = new URL('../../../testdata/reference/ops_60_cat_slice_step.safetensors', import.meta.url)

describe.runIf(existsSync(ops60))('reference: ops_60_cat_slice_step', () => {
  it('matches PyTorch for output, grad.a and grad.b', () => {
    const bytes = readFileSync(ops60)
    const ref = loadSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    const get = (name: string): Tensor => {
      const t = ref.get(name)
      if (t === undefined) throw new Error(`missing ${name}`)
      return t
    }
    const model = (a: Tensor, b: Tensor): Tensor => {
      const c = concat([a, b], 1)
      return mul(slice(c, [null, { start: 1, stop: 6 }]), slice(c, [null, { start: 0, stop: 9, step: 2 }]))
    }
    const output = model(get('a'), get('b'))
    const [, grads] = valueAndGrad((a: Tensor, b: Tensor) => sum(mul(model(a, b), get('r_output'))), { argnums: [0, 1] })(get('a'), get('b'))
    const [ga, gb] = (grads as TensorTree[]).map(asTensor)
    const close = (got: Tensor, want: Tensor): void => {
      expect(got.shape).toEqual(want.shape)
      expect(got.dtype).toBe('float64')
      want._data.forEach((w, i) => expect(Math.abs(got._data[i] - w)).toBeLessThanOrEqual(1e-10 + 1e-8 * Math.abs(w)))
    }
    close(output, get('output'))
    close(ga, get('grad.a'))
    close(gb, get('grad.b'))
  })
})

// ---------- errors ----------

describe('errors', () => {
  const x = distinct([2, 3])

  it('slice', () => {
    expectThrows(() => slice(x, [null, { step: 0 }]), ArgumentError, 'slice: step of axis 1 must not be zero')
    expectThrows(() => slice(x, [null, 3]), ArgumentError, 'slice: index 3 is out of range for axis 1 of size 3')
    expectThrows(() => slice(x, [-3]), ArgumentError, 'slice: index -3 is out of range for axis 0 of size 2')
    expectThrows(() => slice(x, [0, 0, 0]), ArgumentError, 'slice: 3 entries given for a tensor of rank 2 ([2,3])')
    expectThrows(() => slice(x, [0.5]), ArgumentError, 'slice: index for axis 0 must be an integer, got 0.5')
    expectThrows(() => slice(x, [null, { start: 1.5 }]), ArgumentError, 'slice: start of axis 1 must be an integer, got 1.5')
    expectThrows(() => slice(x, [{ stop: Number.NaN }]), ArgumentError, 'slice: stop of axis 0 must be an integer, got NaN')
    expectThrows(() => slice(x, [{ step: 0.5 }]), ArgumentError, 'slice: step of axis 0 must be an integer, got 0.5')
    expectThrows(() => slice(x, 1 as unknown as SliceArg[]), ArgumentError, 'slice: the spec must be an array with one entry per leading axis, got 1')
    expectThrows(() => slice([1] as unknown as Tensor, []), GraphgradError, 'slice: input must be a Tensor, got object')
  })

  it('select', () => {
    expectThrows(() => select(x, 1, 3), ArgumentError, 'select: index 3 is out of range for axis 1 of size 3')
    expectThrows(() => select(x, -1, -4), ArgumentError, 'select: index -4 is out of range for axis 1 of size 3')
    expectThrows(() => select(x, 2, 0), ArgumentError, 'select: axis 2 is out of range for a tensor of rank 2')
    expectThrows(() => select(tensor(1), 0, 0), ArgumentError, 'select: cannot select from a scalar (shape [])')
  })

  it('concat', () => {
    const y = distinct([2, 4])
    expectThrows(() => concat([]), ArgumentError, 'concat: expected at least one tensor, got an empty array')
    expectThrows(() => concat([x, 1 as unknown as Tensor]), GraphgradError, 'concat: tensor 1 must be a Tensor, got number')
    expectThrows(() => concat([x, tensor(1)]), ShapeError, 'concat: tensor 1 is a scalar (shape []), which cannot be concatenated; unsqueeze it or use stack')
    expectThrows(() => concat([x, y, distinct([2, 3, 1])], 1), ShapeError, 'concat: tensor 2 has shape [2,3,1] of rank 3, but tensor 0 has shape [2,3] of rank 2')
    expectThrows(() => concat([x, y], 0), ShapeError, 'concat: cannot join tensor 1 of shape [2,4] to tensor 0 of shape [2,3] along axis 0: dimension 1 is 4 vs 3')
    expectThrows(() => concat([x, y], 2), ArgumentError, 'concat: axis 2 is out of range for a tensor of rank 2')
  })

  it('stack', () => {
    expectThrows(() => stack([x, x, distinct([3, 2])]), ShapeError, 'stack: tensor 2 has shape [3,2] but tensor 0 has shape [2,3]; all shapes must match')
    expectThrows(() => stack([]), ArgumentError, 'stack: expected at least one tensor, got an empty array')
    expectThrows(() => stack([x], 3), ArgumentError, 'stack: axis 3 is out of range for a tensor of rank 3')
  })

  it('split', () => {
    expectThrows(() => split(x, 0), ArgumentError, 'split: piece size must be a positive integer, got 0')
    expectThrows(() => split(x, 1.5), ArgumentError, 'split: piece size must be a positive integer, got 1.5')
    expectThrows(() => split(x, [1, 1], 1), ArgumentError, 'split: sizes [1,1] sum to 2, but axis 1 of [2,3] has size 3')
    expectThrows(() => split(x, [3, -1], 1), ArgumentError, 'split: sizes [3,-1] must be non-negative integers')
    expectThrows(() => split(tensor(1), 1), ArgumentError, 'split: cannot split a scalar (shape [])')
    expectThrows(() => split(x, 1, -3), ArgumentError, 'split: axis -3 is out of range for a tensor of rank 2')
  })

  it('pad', () => {
    expectThrows(() => pad(x, [[0, -1]]), ArgumentError, 'pad: widths for axis 0 must be two non-negative integers [before, after], got [0,-1]')
    expectThrows(() => pad(x, [[0, 0], [1.5, 0]]), ArgumentError, 'pad: widths for axis 1 must be two non-negative integers [before, after], got [1.5,0]')
    expectThrows(() => pad(x, [[0, 0], [1] as unknown as [number, number]]), ArgumentError, 'pad: widths for axis 1 must be two non-negative integers [before, after], got [1]')
    expectThrows(() => pad(x, [[0, 0], [0, 0], [0, 0]]), ArgumentError, 'pad: 3 width pairs given for a tensor of rank 2 ([2,3])')
  })
})
