import type { GradSpec } from '@graphgrad/core'
import { dropoutSpecs } from '../src/dropout.ts'
import { embeddingSpecs } from '../src/embedding.ts'
import { linearSpecs } from '../src/linear.ts'
import { lossSpecs } from '../src/losses.ts'
import { normSpecs } from '../src/norm.ts'
import { describeSpecs } from './fd.ts'

const specs: Record<string, GradSpec> = { ...linearSpecs, ...embeddingSpecs, ...normSpecs, ...dropoutSpecs, ...lossSpecs }

describeSpecs('gradient checks (finite differences, float64, random sizes and options)', specs, 'first', { numRuns: () => 25 })
describeSpecs('second-order gradient checks (the gradient itself against finite differences)', specs, 'second', { numRuns: () => 8 })
