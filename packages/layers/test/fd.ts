/**
 * Finite-difference gradient checks for the layer tests (float64, central differences),
 * independent of the gradcheck package.
 */
import { type GradCase, type Tensor, grad, sum, mul, tensor } from '@graphgrad/core'

/** The largest violation of |analytic - numeric| <= atol + rtol |numeric| over all inputs, or null. */
export function checkGradients(c: GradCase, options: { eps?: number; atol?: number; rtol?: number } = {}): string | null {
  const eps = options.eps ?? 1e-6
  const atol = options.atol ?? 1e-6
  const rtol = options.rtol ?? 1e-5
  // A random-looking fixed cotangent makes a scalar out of any output.
  const out0 = c.fn(...c.inputs)
  const r = tensor(Float64Array.from({ length: out0.size }, (_, i) => Math.sin(1.7 * i + 0.3) + 0.5), { shape: out0.shape, dtype: 'float64' })
  const scalar = (...xs: Tensor[]): Tensor => sum(mul(c.fn(...xs), r))
  const analytic = grad(scalar, { argnums: c.inputs.map((_, i) => i) })(...c.inputs) as Tensor[]
  for (let k = 0; k < c.inputs.length; k++) {
    const x = c.inputs[k]
    const base = Float64Array.from(x.data)
    const g = analytic[k].data
    for (let i = 0; i < base.length; i++) {
      const at = (v: number): number => {
        const d = base.slice()
        d[i] = v
        const xs = c.inputs.slice()
        xs[k] = tensor(d, { shape: x.shape, dtype: 'float64' })
        return scalar(...xs).item()
      }
      const numeric = (at(base[i] + eps) - at(base[i] - eps)) / (2 * eps)
      if (!(Math.abs(g[i] - numeric) <= atol + rtol * Math.abs(numeric))) {
        return `${c.label}: input ${k} element ${i}: analytic ${g[i]}, numeric ${numeric}`
      }
    }
  }
  return null
}
