/**
 * Special functions that Math lacks.
 * @module
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI)

/**
 * The error function to full double precision.
 * Uses erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!, whose terms are all
 * positive (no cancellation); past |x| = 6 erf is 1 to double precision.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x
  const a = Math.abs(x)
  if (a >= 6) return x > 0 ? 1 : -1
  const x2 = 2 * a * a
  let term = a
  let sum = a
  for (let n = 0; n < 200; n++) {
    term *= x2 / (2 * n + 3)
    sum += term
    if (term < sum * 1e-17) break
  }
  const r = TWO_OVER_SQRT_PI * Math.exp(-a * a) * sum
  return x < 0 ? -r : r
}
