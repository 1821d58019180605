import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { existsSync, readFileSync } from 'node:fs'
import {
  ArgumentError,
  CaseSampler,
  DTypeError,
  ShapeError,
  type Tensor,
  grad,
  hasGradient,
  loadSafetensors,
  mul,
  registeredOps,
  square,
  sum,
  tensor,
  vjp,
  type DType,
} from '@graphgrad/core'
import { gather, indexAdd, indexSelect, oneHot, scatterAdd } from '../src/ops/indexing.ts'
import { checkVjp as checkVjpFd, ravel, sizeOf, unravel } from '../../../testdata/testing.ts'

// ---------------------------------------------------------------- helpers

const f64 = (data: ArrayLike<number>, shape: readonly number[]): Tensor => tensor(Float64Array.from(data), { shape })
const i32 = (data: ArrayLike<number>, shape: readonly number[]): Tensor => tensor(Int32Array.from(data), { shape })
/** Naive torch.gather. */
function refGather(x: Tensor, axis: number, index: Tensor): number[] {
  return Array.from({ length: index.size }, (_, o) => {
    const pos = unravel(o, index.shape)
    pos[axis] = index.data[o]
    return x.data[ravel(pos, x.shape)]
  })
}
/** Naive torch.scatter_add. */
function refScatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): number[] {
  const out = Array.from(x.data)
  for (let o = 0; o < index.size; o++) {
    const pos = unravel(o, index.shape)
    const v = src.data[ravel(pos, src.shape)]
    pos[axis] = index.data[o]
    out[ravel(pos, x.shape)] += v
  }
  return out
}
/** Naive index_select with an index of any shape. */
function refIndexSelect(x: Tensor, axis: number, index: Tensor): number[] {
  const shape = [...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)]
  return Array.from({ length: sizeOf(shape) }, (_, o) => {
    const pos = unravel(o, shape)
    const k = index.data[ravel(pos.slice(axis, axis + index.rank), index.shape)]
    return x.data[ravel([...pos.slice(0, axis), k, ...pos.slice(axis + index.rank)], x.shape)]
  })
}
/** Naive index_add with an index of any shape. */
function refIndexAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): number[] {
  const out = Array.from(x.data)
  for (let o = 0; o < src.size; o++) {
    const pos = unravel(o, src.shape)
    const k = index.data[ravel(pos.slice(axis, axis + index.rank), index.shape)]
    out[ravel([...pos.slice(0, axis), k, ...pos.slice(axis + index.rank)], x.shape)] += src.data[o]
  }
  return out
}

const hasRepeats = (index: Tensor): boolean => new Set(index.data).size < index.size

/** Finite-difference check of the VJP of `f` with this file's cotangent (a CaseSampler draw) and tolerances. */
function checkVjp(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed = 1, eps = 1e-6, tol = 1e-6): void {
  const cotangent = (shape: readonly number[]): Tensor => new CaseSampler(seed).values(shape)
  expect(checkVjpFd(f, inputs, { cotangent, eps, atol: tol, rtol: tol, strict: true })).toBeNull()
}

/** The gradient of `sum(f(x, ...)^2 * w)` with respect to the first input: nonlinear, so its own VJP exercises second derivatives. */
/** Asserts that `fn` throws an error of exactly `type` with exactly `message`. */
function expectError(fn: () => unknown, type: new (message: string) => Error, message: string): void {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(caught).toBeInstanceOf(type)
  expect((caught as Error).message).toBe(message)
}

function firstGradient(f: (...xs: Tensor[]) => Tensor, w: Tensor): (...xs: Tensor[]) => Tensor {
  return (...xs) => grad((x: Tensor) => sum(mul(square(f(x, ...xs.slice(1))), w)))(xs[0]) as Tensor
}

// ---------------------------------------------------------------- arbitraries

interface AxisCase {
  x: Tensor
  axis: number
  index: Tensor
}

const shapeArb = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 })

/** x, an axis, and an index of x's rank that is no larger than x off the axis, drawn from a small range (repeats). */
const gatherArb: fc.Arbitrary<AxisCase> = shapeArb.chain((xs) =>
  fc
    .integer({ min: 0, max: xs.length - 1 })
    .chain((axis) =>
      fc
        .tuple(...xs.map((d, i) => (i === axis ? fc.integer({ min: 1, max: d + 3 }) : fc.integer({ min: 1, max: d }))))
        .chain((is) =>
          fc
            .tuple(
              fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: sizeOf(xs), maxLength: sizeOf(xs) }),
              fc.array(fc.integer({ min: 0, max: xs[axis] - 1 }), { minLength: sizeOf(is), maxLength: sizeOf(is) }),
            )
            .map(([xv, iv]) => ({ x: f64(xv, xs), axis, index: i32(iv, is) })),
        ),
    ),
)

/** x, an axis, and an index of rank 0 to 3 with values along that axis. */
const selectArb: fc.Arbitrary<AxisCase> = shapeArb.chain((xs) =>
  fc
    .tuple(fc.integer({ min: 0, max: xs.length - 1 }), fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 }))
    .chain(([axis, is]) =>
      fc
        .tuple(
          fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: sizeOf(xs), maxLength: sizeOf(xs) }),
          fc.array(fc.integer({ min: 0, max: xs[axis] - 1 }), { minLength: sizeOf(is), maxLength: sizeOf(is) }),
        )
        .map(([xv, iv]) => ({ x: f64(xv, xs), axis, index: i32(iv, is) })),
    ),
)

// ---------------------------------------------------------------- forward

describe('indexing forward', () => {
  it('gather matches a naive reference (float64, float32, int32)', () => {
    fc.assert(
      fc.property(gatherArb, fc.constantFrom<DType>('float64', 'float32', 'int32'), ({ x, axis, index }, dtype) => {
        const xt = tensor(x.data, { shape: x.shape, dtype })
        const y = gather(xt, axis, index)
        expect(y.shape).toEqual(index.shape)
        expect(y.dtype).toBe(dtype)
        expect(Array.from(y.data)).toEqual(refGather(xt, axis, index))
      }),
      { numRuns: 200 },
    )
  })

  it('scatterAdd accumulates repeated indices like a naive reference, src may be larger than index', () => {
    fc.assert(
      fc.property(gatherArb, fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 4, maxLength: 4 }), ({ x, axis, index }, grow) => {
        const srcShape = index.shape.map((d, i) => d + grow[i])
        const src = f64(
          Array.from({ length: sizeOf(srcShape) }, (_, i) => i * 0.25 - 1),
          srcShape,
        )
        const y = scatterAdd(x, axis, index, src)
        expect(y.shape).toEqual(x.shape)
        const ref = refScatterAdd(x, axis, index, src)
        Array.from(y.data).forEach((v, i) => expect(v).toBeCloseTo(ref[i], 12))
      }),
      { numRuns: 200 },
    )
  })

  it('indexSelect replaces the axis by the index shape', () => {
    fc.assert(
      fc.property(selectArb, ({ x, axis, index }) => {
        const y = indexSelect(x, axis, index)
        expect(y.shape).toEqual([...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)])
        expect(Array.from(y.data)).toEqual(refIndexSelect(x, axis, index))
      }),
      { numRuns: 200 },
    )
  })

  it('indexAdd accumulates repeated indices like a naive reference', () => {
    fc.assert(
      fc.property(selectArb, ({ x, axis, index }) => {
        const shape = [...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)]
        const src = f64(
          Array.from({ length: sizeOf(shape) }, (_, i) => (i % 7) - 3),
          shape,
        )
        const y = indexAdd(x, axis, index, src)
        const ref = refIndexAdd(x, axis, index, src)
        Array.from(y.data).forEach((v, i) => expect(v).toBeCloseTo(ref[i], 12))
      }),
      { numRuns: 200 },
    )
  })

  it('gather and indexSelect on small literal cases (torch semantics)', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
    ])
    expect(
      gather(
        x,
        1,
        tensor(
          [
            [0, 0],
            [1, 0],
          ],
          { dtype: 'int32' },
        ),
      ).toArray(),
    ).toEqual([
      [1, 1],
      [4, 3],
    ])
    expect(gather(x, 0, tensor([[1, 1]], { dtype: 'int32' })).toArray()).toEqual([[3, 4]])
    expect(gather(x, -1, tensor([[1]], { dtype: 'int32' })).toArray()).toEqual([[2]])
    const w = tensor([
      [0, 1],
      [10, 11],
      [20, 21],
    ])
    expect(indexSelect(w, 0, tensor([[2, 0, 2]], { dtype: 'int32' })).toArray()).toEqual([
      [
        [20, 21],
        [0, 1],
        [20, 21],
      ],
    ])
    expect(indexSelect(w, 1, tensor(1, { dtype: 'int32' })).toArray()).toEqual([1, 11, 21])
    expect(indexAdd(tensor([0, 0, 0]), 0, tensor([2, 2, 0], { dtype: 'int32' }), tensor([1, 2, 4])).toArray()).toEqual([4, 0, 3])
    expect(scatterAdd(tensor([0, 0]), 0, tensor([1, 1, 1], { dtype: 'int32' }), tensor([1, 2, 4])).toArray()).toEqual([0, 7])
  })

  it('handles scalars and empty indices', () => {
    const s = tensor(5, { dtype: 'float64' })
    expect(gather(s, 0, tensor(0, { dtype: 'int32' })).item()).toBe(5)
    expect(indexSelect(s, 0, tensor([0, 0], { dtype: 'int32' })).toArray()).toEqual([5, 5])
    const empty = i32([], [0])
    expect(indexSelect(tensor([[1, 2]]), 0, empty).shape).toEqual([0, 2])
    expect(gather(tensor([[1, 2]]), 1, i32([], [1, 0])).shape).toEqual([1, 0])
    expect(oneHot(empty, 3).shape).toEqual([0, 3])
  })

  it('oneHot appends a class axis, float32 by default, with no gradient', () => {
    const y = oneHot(
      tensor(
        [
          [2, 0],
          [1, 2],
        ],
        { dtype: 'int32' },
      ),
      3,
    )
    expect(y.dtype).toBe('float32')
    expect(y.shape).toEqual([2, 2, 3])
    expect(y.toArray()).toEqual([
      [
        [0, 0, 1],
        [1, 0, 0],
      ],
      [
        [0, 1, 0],
        [0, 0, 1],
      ],
    ])
    expect(oneHot(tensor([1], { dtype: 'int32' }), 2, { dtype: 'int32' }).dtype).toBe('int32')
    expect(oneHot(tensor([1], { dtype: 'int32' }), 2, { dtype: 'float64' }).toArray()).toEqual([[0, 1]])
    const spec = registeredOps().find((e) => e.name === 'oneHot')
    expect(spec !== undefined && !hasGradient(spec.spec)).toBe(true)
  })

  it('does not modify its inputs', () => {
    const x = f64([1, 2, 3], [3])
    const idx = i32([0, 0], [2])
    scatterAdd(x, 0, idx, f64([5, 6], [2]))
    indexAdd(x, 0, idx, f64([5, 6], [2]))
    expect(Array.from(x.data)).toEqual([1, 2, 3])
  })

  it('embedding-sized lookups and gradients agree with the references', () => {
    const V = 50,
      D = 16
    const s = new CaseSampler(7)
    const w = s.values([V, D])
    const ids = s.indices([4, 30], 0, V)
    expect(hasRepeats(ids)).toBe(true)
    expect(Array.from(indexSelect(w, 0, ids).data)).toEqual(refIndexSelect(w, 0, ids))
    const g = s.values([4, 30, D])
    const got = indexAdd(f64(new Float64Array(V * D), [V, D]), 0, ids, g).data
    refIndexAdd(f64(new Float64Array(V * D), [V, D]), 0, ids, g).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 12))
  })
})

// ---------------------------------------------------------------- gradients

describe('indexing gradients', () => {
  it('gather VJP matches finite differences (repeated indices accumulate)', () => {
    fc.assert(
      fc.property(gatherArb, fc.integer(), ({ x, axis, index }, seed) => {
        checkVjp((t) => gather(t, axis, index), [x], seed)
      }),
      { numRuns: 40 },
    )
  })

  it('scatterAdd VJP matches finite differences in x and src', () => {
    fc.assert(
      fc.property(gatherArb, fc.boolean(), ({ x, axis, index }, grow) => {
        const srcShape = index.shape.map((d, i) => (grow && i === 0 ? d + 1 : d))
        const src = new CaseSampler(3).values(srcShape)
        checkVjp((t, u) => scatterAdd(t, axis, index, u), [x, src])
      }),
      { numRuns: 40 },
    )
  })

  it('indexSelect VJP matches finite differences; unselected rows get zero', () => {
    fc.assert(
      fc.property(selectArb, ({ x, axis, index }) => {
        checkVjp((t) => indexSelect(t, axis, index), [x])
      }),
      { numRuns: 40 },
    )
    const [, pull] = vjp((w: Tensor) => indexSelect(w, 0, i32([1, 1, 3], [3])), f64(new Float64Array(8), [4, 2]))
    expect((pull(f64([1, 2, 3, 4, 5, 6], [3, 2]))[0] as Tensor).toArray()).toEqual([
      [0, 0],
      [4, 6],
      [0, 0],
      [5, 6],
    ])
  })

  it('indexAdd VJP matches finite differences in x and src', () => {
    fc.assert(
      fc.property(selectArb, ({ x, axis, index }) => {
        const src = new CaseSampler(5).values([...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)])
        checkVjp((t, u) => indexAdd(t, axis, index, u), [x, src])
      }),
      { numRuns: 40 },
    )
  })

  it('second derivatives match finite differences of the first', () => {
    fc.assert(
      fc.property(gatherArb, ({ x, axis, index }) => {
        const w = new CaseSampler(11).values(index.shape)
        checkVjp(
          firstGradient((t) => gather(t, axis, index), w),
          [x],
          2,
          1e-5,
          1e-5,
        )
      }),
      { numRuns: 25 },
    )
    fc.assert(
      fc.property(selectArb, ({ x, axis, index }) => {
        const w = new CaseSampler(12).values([...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)])
        checkVjp(
          firstGradient((t) => indexSelect(t, axis, index), w),
          [x],
          3,
          1e-5,
          1e-5,
        )
      }),
      { numRuns: 25 },
    )
    // Through the scatter side: d/dsrc of sum(scatterAdd(x, src)^2 * w), then its VJP in src.
    fc.assert(
      fc.property(gatherArb, ({ x, axis, index }) => {
        const src = new CaseSampler(13).values(index.shape)
        const w = new CaseSampler(14).values(x.shape)
        checkVjp(
          firstGradient((u) => scatterAdd(x, axis, index, u), w),
          [src],
          4,
          1e-5,
          1e-5,
        )
        checkVjp(
          firstGradient(
            (u) =>
              indexAdd(
                x,
                0,
                i32(
                  Array.from({ length: 3 }, (_, i) => i % x.shape[0]),
                  [3],
                ),
                u,
              ),
            new CaseSampler(15).values(x.shape),
          ),
          [new CaseSampler(16).values([3, ...x.shape.slice(1)])],
          5,
          1e-5,
          1e-5,
        )
      }),
      { numRuns: 15 },
    )
  })

  it('registered specs draw repeated indices and pass the finite-difference check', () => {
    const names = ['gather', 'scatterAdd', 'indexSelect', 'indexAdd']
    const entries = registeredOps().filter((e) => names.includes(e.name))
    expect(entries.map((e) => e.name).sort()).toEqual([...names].sort())
    for (const e of entries) {
      expect(e.family).toBe('indexing')
      expect(e.kind).toBe('primitive')
      if (!hasGradient(e.spec)) throw new Error(`${e.name} has no gradient spec`)
      let repeats = 0
      for (let seed = 0; seed < 12; seed++) {
        const c = e.spec.sample(new CaseSampler(seed))
        expect(c.inputs.every((t) => t.dtype === 'float64')).toBe(true)
        expect(typeof c.label).toBe('string')
        checkVjp(c.fn, c.inputs, seed)
        // The index is closed over, so count hits instead: a gather's all-ones pullback, or a
        // scatter of ones into zeros, exceeds 1 somewhere only when an index repeats.
        let hits: Tensor
        if (c.inputs.length === 1) {
          const [out, pull] = vjp(c.fn, ...c.inputs)
          hits = pull(f64(new Float64Array(out.size).fill(1), out.shape))[0] as Tensor
        } else {
          const [into, src] = c.inputs
          hits = c.fn(f64(new Float64Array(into.size), into.shape), f64(new Float64Array(src.size).fill(1), src.shape))
        }
        if (Math.max(...hits.data) > 1) repeats++
      }
      expect(repeats).toBe(12)
    }
  })
})

// ---------------------------------------------------------------- PyTorch reference cases

function loadCase(name: string): Map<string, Tensor> {
  const bytes = new Uint8Array(readFileSync(new URL(`../../../testdata/reference/${name}`, import.meta.url)))
  return new Map(loadSafetensors(bytes).entries())
}

function expectClose(actual: Tensor, expected: Tensor): void {
  expect(actual.shape).toEqual(expected.shape)
  const a = actual.data,
    e = expected.data
  for (let i = 0; i < e.length; i++) expect(Math.abs(a[i] - e[i])).toBeLessThanOrEqual(1e-10 + 1e-8 * Math.abs(e[i]))
}

// The public fixtures by name; reference-ops.test.ts runs whatever ops cases the manifest has.
const hasPublicFixtures = existsSync(new URL('../../../testdata/reference/ops_58_gather_repeated.safetensors', import.meta.url))

describe.runIf(hasPublicFixtures)('PyTorch reference cases', () => {
  it('ops_58: torch.gather(a, 1, idx) with repeated indices', () => {
    const c = loadCase('ops_58_gather_repeated.safetensors')
    const idx = c.get('idx') as Tensor
    expect(idx.dtype).toBe('int32')
    const r = c.get('r_output') as Tensor
    const [out, pull] = vjp((a: Tensor) => gather(a, 1, idx), c.get('a') as Tensor)
    expectClose(out, c.get('output') as Tensor)
    expectClose(pull(r)[0] as Tensor, c.get('grad.a') as Tensor)
  })

  it('ops_59: F.embedding(idx, weight) = indexSelect(weight, 0, idx)', () => {
    const c = loadCase('ops_59_embedding_repeated.safetensors')
    const idx = c.get('idx') as Tensor
    expect(hasRepeats(idx)).toBe(true)
    const r = c.get('r_output') as Tensor
    const g = grad((w: Tensor) => sum(mul(indexSelect(w, 0, idx), r)))(c.get('weight') as Tensor) as Tensor
    expectClose(indexSelect(c.get('weight') as Tensor, 0, idx), c.get('output') as Tensor)
    expectClose(g, c.get('grad.weight') as Tensor)
  })
})

// ---------------------------------------------------------------- errors

describe('indexing errors', () => {
  const x = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ])
  const idx = (data: number[][]): Tensor => tensor(data, { dtype: 'int32' })

  it('refuses float indices', () => {
    expectError(() => gather(x, 0, tensor([[0]])), DTypeError, 'gather: index must be an int32 tensor, got float32')
    expectError(() => scatterAdd(x, 0, tensor([[0]], { dtype: 'float64' }), x), DTypeError, 'scatterAdd: index must be an int32 tensor, got float64')
    expectError(() => indexSelect(x, 0, tensor([0])), DTypeError, 'indexSelect: index must be an int32 tensor, got float32')
    expectError(() => indexAdd(x, 0, tensor([0]), tensor([[1, 2, 3]])), DTypeError, 'indexAdd: index must be an int32 tensor, got float32')
    expectError(() => oneHot(tensor([0]), 2), DTypeError, 'oneHot: index must be an int32 tensor, got float32')
  })

  it('refuses out-of-range and negative indices, naming op, axis, value and range', () => {
    expectError(
      () => gather(x, 1, idx([[0, 3]])),
      ArgumentError,
      'gather: index 3 is out of range for axis 1 of size 3 (input [2,3]); valid indices are in [0, 3)',
    )
    expectError(
      () => gather(x, 0, idx([[-1]])),
      ArgumentError,
      'gather: index -1 is out of range for axis 0 of size 2 (input [2,3]); valid indices are in [0, 2)',
    )
    expectError(
      () => scatterAdd(x, -1, idx([[5]]), x),
      ArgumentError,
      'scatterAdd: index 5 is out of range for axis 1 of size 3 (input [2,3]); valid indices are in [0, 3)',
    )
    expectError(
      () => indexSelect(x, 0, tensor([0, 2], { dtype: 'int32' })),
      ArgumentError,
      'indexSelect: index 2 is out of range for axis 0 of size 2 (input [2,3]); valid indices are in [0, 2)',
    )
    expectError(
      () => indexAdd(x, 1, tensor([-2], { dtype: 'int32' }), tensor([[1], [2]])),
      ArgumentError,
      'indexAdd: index -2 is out of range for axis 1 of size 3 (input [2,3]); valid indices are in [0, 3)',
    )
    expectError(
      () => oneHot(tensor([1, 4], { dtype: 'int32' }), 4),
      ArgumentError,
      'oneHot: index 4 is out of range for 4 classes; valid indices are in [0, 4)',
    )
  })

  it('refuses bad axes and class counts', () => {
    expectError(() => gather(x, 2, idx([[0]])), ArgumentError, 'gather: axis 2 is out of range for a tensor of rank 2')
    expectError(() => indexSelect(x, -3, tensor([0], { dtype: 'int32' })), ArgumentError, 'indexSelect: axis -3 is out of range for a tensor of rank 2')
    expectError(() => oneHot(tensor([0], { dtype: 'int32' }), 1.5), ArgumentError, 'oneHot: numClasses must be a non-negative integer, got 1.5')
  })

  it('refuses index shapes that do not fit, naming both shapes', () => {
    expectError(
      () => gather(x, 1, tensor([0], { dtype: 'int32' })),
      ShapeError,
      'gather: index of shape [1] does not fit input of shape [2,3] along axis 1: ranks 1 and 2 differ',
    )
    expectError(
      () => gather(x, 1, idx([[0], [0], [0]])),
      ShapeError,
      'gather: index of shape [3,1] does not fit input of shape [2,3] along axis 1: dimension 0 is 3 > 2',
    )
    expectError(
      () => scatterAdd(x, 0, idx([[0, 0, 0, 0]]), tensor([[1, 2, 3, 4]])),
      ShapeError,
      'scatterAdd: index of shape [1,4] does not fit input of shape [2,3] along axis 0: dimension 1 is 4 > 3',
    )
    expectError(
      () =>
        scatterAdd(
          x,
          0,
          idx([
            [0, 0],
            [1, 1],
            [0, 1],
          ]),
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ),
      ShapeError,
      'scatterAdd: index of shape [3,2] does not fit src of shape [2,2] along axis 0: dimension 0 is 3 > 2',
    )
    expectError(
      () => indexAdd(x, 0, tensor([1, 1], { dtype: 'int32' }), tensor([[1, 2, 3]])),
      ShapeError,
      'indexAdd: src of shape [1,3] does not match input [2,3] with index [2] along axis 0: expected src of shape [2,3]',
    )
  })

  it('refuses src of another dtype', () => {
    expectError(
      () => scatterAdd(x, 0, idx([[0]]), tensor([[1]], { dtype: 'float64' })),
      DTypeError,
      'scatterAdd: src has dtype float64 but the input has dtype float32',
    )
    expectError(
      () => indexAdd(x, 0, tensor([0], { dtype: 'int32' }), tensor([[1, 2, 3]], { dtype: 'float64' })),
      DTypeError,
      'indexAdd: src has dtype float64 but the input has dtype float32',
    )
  })
})
