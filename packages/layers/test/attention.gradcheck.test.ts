// Finite-difference property tests of the attention, transformer, normalisation and positional
// layers: their gradient-check specs over random sizes and options (seeded, so a failure
// reproduces), first order and second order.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CaseSampler, type GradSpec } from '@graphgrad/core'
import { attentionSpecs } from '../src/attention.ts'
import { batchNormSpecs } from '../src/batch-norm.ts'
import { positionalSpecs } from '../src/positional.ts'
import { recurrentAttentionSpecs } from '../src/recurrent-attention.ts'
import { transformerSpecs } from '../src/transformer.ts'
import { checkGradients, checkSecondOrder } from './fd.ts'

const specs: Record<string, GradSpec> = { ...attentionSpecs, ...recurrentAttentionSpecs, ...batchNormSpecs, ...positionalSpecs, ...transformerSpecs }
// The transformer layers have ~100 parameters: fewer runs keep the suite quick.
const runs = (name: string, n: number): number => (name.startsWith('transformer') ? Math.ceil(n / 3) : n)

describe('attention and normalisation: gradients against finite differences (float64)', () => {
  for (const [name, spec] of Object.entries(specs)) {
    it(name, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const c = spec.sample(new CaseSampler(seed))
          for (const x of c.inputs) expect(x.dtype).toBe('float64')
          expect(checkGradients(c, { atol: spec.atol, rtol: spec.rtol })).toBeNull()
        }),
        { numRuns: runs(name, 20), seed: 15 },
      )
    })
  }
})

describe('attention and normalisation: second-order gradients against finite differences', () => {
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.secondOrder === false) continue
    it(name, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const c = spec.sample(new CaseSampler(seed))
          expect(checkSecondOrder(c)).toBeNull()
        }),
        { numRuns: runs(name, 5), seed: 16 },
      )
    })
  }
})
