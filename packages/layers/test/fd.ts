/**
 * Finite-difference gradient checks for the layer tests (float64, central differences),
 * independent of the gradcheck package: the shared check of testdata/testing.ts with the
 * layer tests' cotangent and default tolerances, and the suites that run it on the specs.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CaseSampler, type GradCase, type GradSpec, type Tensor, grad, mul, sum, tensor } from '@graphgrad/core'
import { checkVjp } from '../../../testdata/testing.ts'

/** The first violation of |analytic - numeric| <= atol + rtol |numeric| over all inputs, or null. */
export function checkGradients(c: GradCase, options: { eps?: number; atol?: number; rtol?: number } = {}): string | null {
  // A random-looking fixed cotangent makes a scalar out of any output.
  const cotangent = (shape: readonly number[]): Tensor => {
    const n = shape.reduce((a, b) => a * b, 1)
    return tensor(
      Float64Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + 0.3) + 0.5),
      { shape, dtype: 'float64' },
    )
  }
  return checkVjp(c.fn, c.inputs, { cotangent, eps: options.eps ?? 1e-6, atol: options.atol ?? 1e-6, rtol: options.rtol ?? 1e-5, label: c.label })
}

/**
 * The second-order check: the gradient of `sum(c.fn(...) * r)` (r a fixed cotangent) as a
 * function of the inputs, itself against central differences.
 */
export function checkSecondOrder(c: GradCase): string | null {
  const out = c.fn(...c.inputs)
  const r = tensor(
    Float64Array.from({ length: out.size }, (_, i) => Math.cos(0.9 * i) + 0.2),
    { shape: out.shape, dtype: 'float64' },
  )
  const first = (...xs: Tensor[]): Tensor => grad((...ys: Tensor[]) => sum(mul(c.fn(...ys), r)))(...xs) as Tensor
  return checkGradients({ inputs: c.inputs, fn: first, label: c.label }, { atol: 1e-5, rtol: 1e-4 })
}

/**
 * A describe block `title` with one test per spec: the first-order check (every input
 * float64, the spec's tolerances) or the second-order one ({@link checkSecondOrder}; a spec
 * with `secondOrder: false` has none) on cases sampled from random seeds by fast-check,
 * `numRuns(name)` of them; `seed` fixes fast-check's choice.
 */
export function describeSpecs(
  title: string,
  specs: Readonly<Record<string, GradSpec>>,
  order: 'first' | 'second',
  options: { numRuns: (name: string) => number; seed?: number },
): void {
  describe(title, () => {
    for (const [name, spec] of Object.entries(specs)) {
      if (order === 'second' && spec.secondOrder === false) continue
      it(name, () => {
        fc.assert(
          fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
            const c = spec.sample(new CaseSampler(seed))
            if (order === 'second') {
              expect(checkSecondOrder(c)).toBeNull()
              return
            }
            for (const x of c.inputs) expect(x.dtype).toBe('float64')
            expect(checkGradients(c, { atol: spec.atol, rtol: spec.rtol })).toBeNull()
          }),
          { numRuns: options.numRuns(name), ...(options.seed === undefined ? {} : { seed: options.seed }) },
        )
      })
    }
  })
}
