/**
 * Helpers shared by the test suites: row-major index arithmetic for naive reference
 * implementations, and the one finite-difference check of vector-Jacobian products (with
 * the suites' usual fixed cotangent, {@link wave}, in {@link fdCheck}).
 */
import { type Tensor, mul, sum, tensor, vjp } from '@graphgrad/core'

/** Number of elements of a shape (1 for a scalar). */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

/** Row-major multi-index of flat position `i` in `shape`. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length)
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]
    i = Math.floor(i / shape[d])
  }
  return idx
}

/** Row-major flat position of multi-index `idx` in `shape`. */
export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + idx[d]
  return i
}

/** Options of {@link checkVjp}. */
export interface VjpCheckOptions {
  /** The fixed cotangent `r` for an output of the given shape; it makes the scalar `sum(f(...) * r)`. */
  cotangent: (shape: readonly number[]) => Tensor
  /** Central-difference step. */
  eps: number
  /** Each element must satisfy |analytic - numeric| <= atol + rtol |numeric|. */
  atol: number
  rtol: number
  /** Require `<` instead of `<=`. */
  strict?: boolean
  /** Prefix of the report (a case label). */
  label?: string
}

/**
 * Checks the VJP of `f` at float64 `inputs` against central differences of
 * `sum(f(...) * r)`, element by element. Returns null when every element passes, else a
 * report of the first failure naming the input, the element, the analytic and the numeric
 * value (or a gradient whose shape differs from its input's).
 */
export function checkVjp(f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: VjpCheckOptions): string | null {
  const { eps, atol, rtol } = options
  const prefix = options.label === undefined ? '' : `${options.label}: `
  const [out, pullback] = vjp(f, ...inputs)
  const r = options.cotangent(out.shape)
  const analytic = pullback(r) as Tensor[]
  const loss = (xs: Tensor[]): number => sum(mul(f(...xs), r)).item()
  for (let k = 0; k < inputs.length; k++) {
    const x = inputs[k]
    if (analytic[k].shape.join(',') !== x.shape.join(',')) {
      return `${prefix}input ${k}: gradient shape [${analytic[k].shape.join(',')}], input shape [${x.shape.join(',')}]`
    }
    const g = analytic[k].data
    const base = Float64Array.from(x.data)
    const at = (j: number, delta: number): number => {
      const d = base.slice()
      d[j] += delta
      return loss(inputs.map((y, m) => (m === k ? tensor(d, { shape: x.shape, dtype: 'float64' }) : y)))
    }
    for (let j = 0; j < base.length; j++) {
      const numeric = (at(j, eps) - at(j, -eps)) / (2 * eps)
      const err = Math.abs(g[j] - numeric)
      const bound = atol + rtol * Math.abs(numeric)
      if (!(options.strict === true ? err < bound : err <= bound)) {
        return `${prefix}input ${k} element ${j}: analytic ${g[j]}, numeric ${numeric}`
      }
    }
  }
  return null
}

/** A fixed, random-looking float64 tensor of `shape`: `sin(1.7 i + phase)` at flat position `i`. */
export function wave(shape: readonly number[], phase = 0.3): Tensor {
  return tensor(
    Float64Array.from({ length: sizeOf(shape) }, (_, i) => Math.sin(1.7 * i + phase)),
    { shape, dtype: 'float64' },
  )
}

/**
 * {@link checkVjp} with the cotangent {@link wave} and, unless given, step 1e-6, atol 1e-6 and
 * rtol 1e-5. `f` may itself take gradients (second-order checks): nothing here turns recording off.
 */
export function fdCheck(f: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], options: Partial<Omit<VjpCheckOptions, 'cotangent'>> = {}): string | null {
  return checkVjp(f, inputs, { cotangent: (s) => wave(s), eps: 1e-6, atol: 1e-6, rtol: 1e-5, ...options })
}
