/**
 * The cell activations, exact or float32-accurate. Float64 models use the exact ones (as
 * core's `tanh` and `sigmoid` compute them, so fused and composed cells agree to rounding);
 * float32 models use a rational approximation of tanh that needs no call into the math
 * library: in the float32 scan the activations, not the GEMMs, were the largest cost.
 *
 * The approximation is Eigen's float tanh (a [13/6] rational function on [-7.9, 7.9],
 * clamped outside): its absolute error is under 3e-7 (a few float32 ulps near ±1), and
 * `sigmoid(x) = (1 + tanh(x/2)) / 2` inherits it (under 1.5e-7 absolute).
 *
 * These are the reference of the float32 cells and their fallback: where WebAssembly SIMD
 * runs, a float32 scan evaluates the same rational function in float32 lanes
 * (`wasm-cells-module.ts`), which agrees with this float64 evaluation to a few float32 ulps.
 * @module
 */
import { sigmoid } from './sigmoid.ts'

/** Past this |x| the approximation is clamped (where tanh is 1 to float32 precision). */
export const TANH_CLAMP = 7.90531110763549805

/** The numerator's coefficients, of c, c^3, ..., c^13 (Horner in c^2, times c). */
export const TANH_NUMERATOR = [
  4.89352455891786e-3, 6.37261928875436e-4, 1.48572235717979e-5, 5.12229709037114e-8, -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16,
] as const

/** The denominator's coefficients, of 1, c^2, ..., c^6. */
export const TANH_DENOMINATOR = [4.89352518554385e-3, 2.268434632439e-3, 1.18534705686654e-4, 1.19825839466702e-6] as const

const [a1, a3, a5, a7, a9, a11, a13] = TANH_NUMERATOR
const [b0, b2, b4, b6] = TANH_DENOMINATOR

/** tanh to float32 accuracy (absolute error < 3e-7), with arithmetic only. */
export function tanhApprox(x: number): number {
  const c = x > TANH_CLAMP ? TANH_CLAMP : x < -TANH_CLAMP ? -TANH_CLAMP : x
  const x2 = c * c
  const p = c * (a1 + x2 * (a3 + x2 * (a5 + x2 * (a7 + x2 * (a9 + x2 * (a11 + x2 * a13))))))
  const q = b0 + x2 * (b2 + x2 * (b4 + x2 * b6))
  // NaN passes through: the clamp comparisons are false for it, and p/q stays NaN.
  return p / q
}

/** The logistic function to float32 accuracy (absolute error < 1.5e-7), with arithmetic only. */
export function sigmoidApprox(x: number): number {
  return 0.5 + 0.5 * tanhApprox(0.5 * x)
}

/** tanh, approximated when `approx` (a float32 scan), else exact. */
export function tanhOf(x: number, approx: boolean): number {
  return approx ? tanhApprox(x) : Math.tanh(x)
}

/** The logistic function, approximated when `approx` (a float32 scan), else exact. */
export function sigmoidOf(x: number, approx: boolean): number {
  return approx ? sigmoidApprox(x) : sigmoid(x)
}
