import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CaseSampler } from '@graphgrad/core'
import type { GradSpec } from '@graphgrad/core'
import { dropoutSpecs } from '../src/dropout.ts'
import { embeddingSpecs } from '../src/embedding.ts'
import { linearSpecs } from '../src/linear.ts'
import { lossSpecs } from '../src/losses.ts'
import { normSpecs } from '../src/norm.ts'
import { checkGradients, checkSecondOrder } from './fd.ts'

const specs: Record<string, GradSpec> = { ...linearSpecs, ...embeddingSpecs, ...normSpecs, ...dropoutSpecs, ...lossSpecs }

describe('gradient checks (finite differences, float64, random sizes and options)', () => {
  for (const [name, spec] of Object.entries(specs)) {
    it(name, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const c = spec.sample(new CaseSampler(seed))
          for (const x of c.inputs) expect(x.dtype).toBe('float64')
          const report = checkGradients(c, { atol: spec.atol, rtol: spec.rtol })
          expect(report).toBeNull()
        }),
        { numRuns: 25 },
      )
    })
  }
})

describe('second-order gradient checks (the gradient itself against finite differences)', () => {
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.secondOrder === false) continue
    it(name, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const c = spec.sample(new CaseSampler(seed))
          expect(checkSecondOrder(c)).toBeNull()
        }),
        { numRuns: 8 },
      )
    })
  }
})
