/**
 * The three dtypes and their typed-array storage.
 * @module
 */
import { DTypeError, ShapeError } from './errors.ts'
import { MAX_ELEMENTS } from './shape.ts'

/** The element type of a tensor. */
export type DType = 'float32' | 'float64' | 'int32'

/** The typed array that stores a tensor of dtype `D`. */
export type TypedArrayFor<D extends DType> = D extends 'float32' ? Float32Array : D extends 'float64' ? Float64Array : Int32Array

/** Any typed array a tensor can be stored in. */
export type TensorData = Float32Array | Float64Array | Int32Array

/** All dtypes, in promotion order (a later one wins). */
const DTYPES: readonly DType[] = ['int32', 'float32', 'float64']

/**
 * Allocates a zero-filled typed array for `dtype`. A size past {@link MAX_ELEMENTS} is refused
 * here too, as a last line of defence: every op checks its result shape first and names
 * itself, so this message (naming no op) means an op missed its check.
 */
export function allocate(dtype: DType, size: number): TensorData {
  if (!(Number.isInteger(size) && size >= 0 && size <= MAX_ELEMENTS)) {
    throw new ShapeError(`allocate: cannot allocate ${size} elements of ${String(dtype)} (at most ${MAX_ELEMENTS}, a non-negative integer)`)
  }
  switch (dtype) {
    case 'float32':
      return new Float32Array(size)
    case 'float64':
      return new Float64Array(size)
    case 'int32':
      return new Int32Array(size)
    default:
      throw new DTypeError(`unknown dtype '${String(dtype)}' (expected float32, float64 or int32)`)
  }
}

/** The dtype whose storage is `data`. */
export function dtypeOfData(data: TensorData): DType {
  if (data instanceof Float32Array) return 'float32'
  if (data instanceof Float64Array) return 'float64'
  if (data instanceof Int32Array) return 'int32'
  throw new DTypeError(`unsupported typed array ${Object.prototype.toString.call(data)} (expected Float32Array, Float64Array or Int32Array)`)
}

/** The values an int32 holds: [-2^31, 2^31 - 1]. */
const INT32_MIN = -0x80000000
const INT32_MAX = 0x7fffffff

/**
 * Whether `v` survives being stored in an int32: finite and, truncated toward zero (as a cast
 * does, and as PyTorch's), within int32's range. Typed arrays would wrap it modulo 2^32
 * instead (and store NaN as 0) without a word.
 */
export function fitsInt32(v: number): boolean {
  const t = Math.trunc(v)
  return t >= INT32_MIN && t <= INT32_MAX
}

/** The DTypeError for a value that does not fit int32, naming `where`. */
export function int32Overflow(where: string, v: number, what = 'value'): DTypeError {
  return new DTypeError(
    `${where}: ${what} ${v} does not fit int32 (finite, in [${INT32_MIN}, ${INT32_MAX}] after truncation toward zero); use a float dtype for it`,
  )
}

/** Throws unless every value of `data` fits int32 (see {@link fitsInt32}), naming the first that does not. */
export function checkInt32Values(data: ArrayLike<number>, where: string): void {
  for (let i = 0; i < data.length; i++) if (!fitsInt32(data[i])) throw int32Overflow(where, data[i])
}

/** The dtype two operands are computed in: the wider of the two (NumPy-like, int32 < float32 < float64). */
export function promote(a: DType, b: DType): DType {
  return DTYPES.indexOf(a) >= DTYPES.indexOf(b) ? a : b
}

/** Throws a DTypeError unless `dtype` is one of the three. */
export function checkDType(dtype: unknown, where: string): DType {
  if (dtype === 'float32' || dtype === 'float64' || dtype === 'int32') return dtype
  throw new DTypeError(`${where}: unknown dtype '${String(dtype)}' (expected float32, float64 or int32)`)
}
