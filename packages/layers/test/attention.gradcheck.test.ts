// Finite-difference property tests of the attention, transformer, normalisation and positional
// layers: their gradient-check specs over random sizes and options (seeded, so a failure
// reproduces), first order and second order.
import type { GradSpec } from '@graphgrad/core'
import { attentionSpecs } from '../src/attention.ts'
import { batchNormSpecs } from '../src/batch-norm.ts'
import { positionalSpecs } from '../src/positional.ts'
import { recurrentAttentionSpecs } from '../src/recurrent-attention.ts'
import { transformerSpecs } from '../src/transformer.ts'
import { describeSpecs } from './fd.ts'

const specs: Record<string, GradSpec> = { ...attentionSpecs, ...recurrentAttentionSpecs, ...batchNormSpecs, ...positionalSpecs, ...transformerSpecs }
// The transformer layers have ~100 parameters: fewer runs keep the suite quick.
const runs = (name: string, n: number): number => (name.startsWith('transformer') ? Math.ceil(n / 3) : n)

describeSpecs('attention and normalisation: gradients against finite differences (float64)', specs, 'first', { numRuns: (name) => runs(name, 20), seed: 15 })
describeSpecs('attention and normalisation: second-order gradients against finite differences', specs, 'second', { numRuns: (name) => runs(name, 5), seed: 16 })
