// Shared by the WASM GEMM tests: seeded operands, a float64 reference product with its rounding
// bound, and the check of a product against it.
import { expect } from 'vitest'
import type { TensorData } from '../src/dtype.ts'

/** The element types the GEMM tests mix. */
export type Kind = 'float32' | 'float64' | 'int32'
/** The typed array of each kind. */
export const ARRAY = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const

/** Deterministic values in [-1, 1) (small integers for int32) from a seed. */
export function fill(kind: Kind, n: number, seed: number): TensorData {
  let x = seed >>> 0 || 1
  const out = new ARRAY[kind](n)
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    const u = (x >>> 0) / 2 ** 32
    out[i] = kind === 'int32' ? Math.floor(u * 19) - 9 : u * 2 - 1
  }
  return out
}

/** The exact-ish (float64) product and, per element, the sum of |a_ik b_kj| that bounds rounding error. */
export function reference(
  a: TensorData,
  ao: number,
  ta: boolean,
  b: TensorData,
  bo: number,
  tb: boolean,
  M: number,
  N: number,
  K: number,
): { value: number[]; abs: number[] } {
  const value: number[] = []
  const abs: number[] = []
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0
      let t = 0
      for (let k = 0; k < K; k++) {
        const p = a[ao + (ta ? k * M + i : i * K + k)] * b[bo + (tb ? j * K + k : k * N + j)]
        s += p
        t += Math.abs(p)
      }
      value.push(s)
      abs.push(t)
    }
  }
  return { value, abs }
}

/**
 * Checks `out` against the reference. float32 accumulation (all three arrays float32) may be off
 * by the classic bound K * 2^-24 * sum|a_ik b_kj| (doubled for slack) plus the final rounding;
 * float64 accumulation by the same bound with 2^-53, and int32 results must be exact.
 */
export function expectProduct(out: TensorData, offset: number, ref: { value: number[]; abs: number[] }, K: number, f32: boolean): void {
  const u = f32 ? 2 ** -24 : 2 ** -53
  for (let e = 0; e < ref.value.length; e++) {
    const actual = out[offset + e]
    const expected = out instanceof Int32Array ? ref.value[e] | 0 : ref.value[e]
    const tol = out instanceof Int32Array ? 0 : 2 * (K + 1) * u * ref.abs[e] + (out instanceof Float32Array ? 2 ** -24 : u) * Math.abs(expected)
    if (!(Math.abs(actual - expected) <= tol)) expect.fail(`element ${e}: ${actual} vs ${expected} (tolerance ${tol})`)
  }
}
