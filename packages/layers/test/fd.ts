/**
 * Finite-difference gradient checks for the layer tests (float64, central differences),
 * independent of the gradcheck package: the shared check of testdata/testing.ts with the
 * layer tests' cotangent and default tolerances.
 */
import { type GradCase, type Tensor, grad, mul, sum, tensor } from '@graphgrad/core'
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
