/**
 * Finite-difference gradient checks (float64) of the recurrent layers through whole unrolled
 * sequences, over random sizes, layer counts, lengths and options (fast-check drives the
 * seed of each spec's sampler), and of every cell, fused and composed; second derivatives
 * of the composed cells.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CaseSampler, type Tensor, concat, grad, mul, reshape, sum } from '@graphgrad/core'
import { recurrentSpecs } from '../src/recurrent.ts'
import { fdCheck } from '../../../testdata/testing.ts'

const isCell = (name: string): boolean => name.includes('Cell')

describe('recurrent gradient checks', () => {
  for (const [name, spec] of Object.entries(recurrentSpecs)) {
    it(`${name}: gradient matches finite differences`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const c = spec.sample(new CaseSampler(seed))
          expect(fdCheck(c.fn, c.inputs, { atol: spec.atol ?? 1e-6, rtol: spec.rtol ?? 1e-5, label: c.label })).toBeNull()
        }),
        { numRuns: isCell(name) ? 40 : 25 },
      )
    })
  }

  for (const [name, spec] of Object.entries(recurrentSpecs)) {
    if (spec.secondOrder === false) continue
    it(`${name}: second derivatives match finite differences of the gradient`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const c = spec.sample(new CaseSampler(seed))
          const probe = c.fn(...c.inputs)
          const w = probe
          // The gradient of sum(f * f(x0)) as a function of the inputs: its own gradient is the Hessian-vector product.
          const g = (...xs: Tensor[]): Tensor => {
            const gs = grad((...ys: Tensor[]) => sum(mul(c.fn(...ys), w)), { argnums: xs.map((_, i) => i) })(...xs) as Tensor[]
            return concat(
              gs.map((t) => reshape(t, [-1])),
              0,
            )
          }
          expect(fdCheck(g, c.inputs, { eps: 1e-5, atol: 1e-5, rtol: 1e-4, label: c.label })).toBeNull()
        }),
        { numRuns: isCell(name) ? 10 : 4 },
      )
    })
  }
})
