/**
 * Helpers shared by the slice/join test files (slice.test.ts: forward values; slice-grad.test.ts:
 * gradients and errors): distinct-valued inputs, exact value checks, and slice-spec arbitraries.
 */
import { expect } from 'vitest'
import fc from 'fast-check'
import { type Tensor, tensor } from '@graphgrad/core'
import type { DType } from '@graphgrad/core'
import type { SliceArg, SliceRange } from '../src/ops/slice.ts'
import { sizeOf } from '../../../testdata/testing.ts'

/** Distinct values, so a read from the wrong position shows. */
export function distinct(shape: readonly number[], dtype: DType = 'float64', shift = 0): Tensor {
  const data = Array.from({ length: sizeOf(shape) }, (_, i) => (dtype === 'int32' ? i + shift : 1.25 * i - 3 + shift))
  return tensor(Float64Array.from(data), { shape, dtype })
}

/** Asserts `t` has exactly this shape and these values. */
export function expectValues(t: Tensor, shape: readonly number[], data: ArrayLike<number>): void {
  expect(t.shape).toEqual(shape)
  expect(Array.from(t._data)).toEqual(Array.from(data))
}

/** A shape of rank 0 to 4 with sizes up to 5. */
export const shapeArb = (minRank = 0, minDim = 0): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: minDim, max: 5 }), { minLength: minRank, maxLength: 4 })

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

/** A shape with a random slice spec for its leading axes (indices, ranges, whole axes). */
export const slicedArb = (minDim = 0): fc.Arbitrary<{ shape: number[]; spec: SliceArg[] }> =>
  shapeArb(0, minDim).chain((shape) =>
    fc.integer({ min: 0, max: shape.length }).chain((k) => fc.tuple(...shape.slice(0, k).map(argArb)).map((spec) => ({ shape, spec: spec as SliceArg[] }))),
  )
