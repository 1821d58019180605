/**
 * Helpers shared by the safetensors test files (safetensors.test.ts: fixtures, layout and round
 * trips; safetensors-robustness.test.ts: malformed input and the atomic file writer).
 */
import { Tensor } from '../src/tensor.ts'

/** A file with the given header text (or object) and data bytes; `declared` overrides the header length field. */
export function file(header: string | object, data: ArrayLike<number> = [], declared?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header)
  const h = new TextEncoder().encode(text)
  const out = new Uint8Array(8 + h.length + data.length)
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(h.length), true)
  out.set(h, 8)
  out.set(data, 8 + h.length)
  return out
}

/** 1-D tensors of the given values. */
export const f64 = (...v: number[]): Tensor => new Tensor(new Float64Array(v), [v.length])
/** As {@link f64}, float32. */
export const f32 = (...v: number[]): Tensor => new Tensor(new Float32Array(v), [v.length])
/** As {@link f64}, int32. */
export const i32 = (...v: number[]): Tensor => new Tensor(new Int32Array(v), [v.length])
