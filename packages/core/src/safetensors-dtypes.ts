/**
 * The safetensors dtypes graphgrad reads, and how each one's little-endian bytes become a
 * graphgrad tensor's data: F32, F64 and I32 as they are; I64 narrowed to int32 with a range
 * check; BOOL, U8, I8 and I16 widened to int32; F16 and BF16 widened to float32. Every
 * widening is exact: each half and bfloat16 value (subnormals, infinities and NaN included)
 * is a float32 value, and each 8- or 16-bit integer an int32 one.
 * @module
 */
import type { TensorData } from './dtype.ts'

/** Bytes per element of each dtype tag graphgrad reads. */
export const ITEM_SIZE: Readonly<Record<string, number>> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }

// Typed arrays use the platform byte order; the format is little-endian, so swap on the (rare) big-endian hosts.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * Decodes `len` bytes at `start` as `tag` (a key of {@link ITEM_SIZE}) into a fresh typed
 * array that does not alias `bytes`. A value that graphgrad cannot store (an I64 outside the
 * int32 range, a BOOL byte other than 0 or 1) is returned as a message naming it instead.
 */
export function decodeData(bytes: Uint8Array, start: number, len: number, tag: string): TensorData | string {
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, len)
  switch (tag) {
    case 'I64':
      return decodeI64(view)
    case 'F16':
      return decodeF16(view)
    case 'BF16': {
      // bfloat16 is the high half of a float32: shifting its bits up is exact, NaN payloads included.
      const bits = new Uint32Array(len / 2)
      for (let i = 0; i < bits.length; i++) bits[i] = view.getUint16(2 * i, true) << 16
      return new Float32Array(bits.buffer)
    }
    case 'I16': {
      const out = new Int32Array(len / 2)
      for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true)
      return out
    }
    case 'I8':
      return Int32Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + start, len))
    case 'U8':
      return Int32Array.from(bytes.subarray(start, start + len))
    case 'BOOL': {
      const raw = bytes.subarray(start, start + len)
      // PyTorch and NumPy write a bool as the byte 0 or 1; anything else is corruption, not truth.
      const bad = raw.findIndex((b) => b > 1)
      return bad < 0 ? Int32Array.from(raw) : `BOOL byte ${raw[bad]} at flat index ${bad} is neither 0 nor 1`
    }
    default: {
      // F32, F64, I32. Copy into a fresh buffer: the data need not be aligned for a typed-array view, and the tensor must not alias the caller's bytes.
      const copy = new Uint8Array(len)
      copy.set(bytes.subarray(start, start + len))
      const itemSize = ITEM_SIZE[tag]
      if (!LITTLE_ENDIAN) swapBytes(copy, itemSize)
      return tag === 'F32' ? new Float32Array(copy.buffer) : tag === 'F64' ? new Float64Array(copy.buffer) : new Int32Array(copy.buffer)
    }
  }
}

function decodeI64(view: DataView): Int32Array | string {
  const out = new Int32Array(view.byteLength / 8)
  for (let i = 0; i < out.length; i++) {
    const lo = view.getInt32(8 * i, true)
    // The value fits in int32 exactly when the high word is the sign extension of the low word.
    if (view.getInt32(8 * i + 4, true) !== lo >> 31) {
      return `I64 value ${view.getBigInt64(8 * i, true)} at flat index ${i} is outside the int32 range graphgrad stores integers in`
    }
    out[i] = lo
  }
  return out
}

/**
 * IEEE 754 binary16 to binary32, bit by bit (no float arithmetic, which could change a NaN):
 * sign, 5 exponent bits (bias 15), 10 fraction bits.
 */
function decodeF16(view: DataView): Float32Array {
  const bits = new Uint32Array(view.byteLength / 2)
  for (let i = 0; i < bits.length; i++) bits[i] = halfToFloatBits(view.getUint16(2 * i, true))
  return new Float32Array(bits.buffer)
}

/** The float32 bit pattern of the binary16 value with bit pattern `h`. */
function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16
  const exp = (h >> 10) & 0x1f
  let frac = h & 0x3ff
  if (exp === 0x1f) {
    // Infinity, or NaN with its payload shifted up and quieted, bit for bit what PyTorch's Tensor.float() gives.
    return (sign | 0x7f800000 | (frac === 0 ? 0 : 0x400000 | (frac << 13))) >>> 0
  }
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (frac << 13)) >>> 0 // normal: rebias 15 -> 127
  if (frac === 0) return sign >>> 0 // signed zero
  // Subnormal, frac * 2^-24: normalise so the leading 1 becomes float32's implicit bit.
  let e = 113 // the float32 biased exponent of 2^-14, the smallest normal half
  while ((frac & 0x400) === 0) {
    frac <<= 1
    e--
  }
  return (sign | (e << 23) | ((frac & 0x3ff) << 13)) >>> 0
}

/** Reverses each `itemSize`-byte group of `b` in place (little- to big-endian or back). */
export function swapBytes(b: Uint8Array, itemSize: number): void {
  for (let i = 0; i < b.length; i += itemSize) b.subarray(i, i + itemSize).reverse()
}
