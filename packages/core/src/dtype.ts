/**
 * The three dtypes and their typed-array storage.
 * @module
 */
import { DTypeError } from './errors.ts'

/** The element type of a tensor. */
export type DType = 'float32' | 'float64' | 'int32'

/** The typed array that stores a tensor of dtype `D`. */
export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : Int32Array

/** Any typed array a tensor can be stored in. */
export type TensorData = Float32Array | Float64Array | Int32Array

/** All dtypes, in promotion order (a later one wins). */
const DTYPES: readonly DType[] = ['int32', 'float32', 'float64']

/** Allocates a zero-filled typed array for `dtype`. */
export function allocate(dtype: DType, size: number): TensorData {
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


/** The dtype two operands are computed in: the wider of the two (NumPy-like, int32 < float32 < float64). */
export function promote(a: DType, b: DType): DType {
  return DTYPES.indexOf(a) >= DTYPES.indexOf(b) ? a : b
}

/** Throws a DTypeError unless `dtype` is one of the three. */
export function checkDType(dtype: unknown, where: string): DType {
  if (dtype === 'float32' || dtype === 'float64' || dtype === 'int32') return dtype
  throw new DTypeError(`${where}: unknown dtype '${String(dtype)}' (expected float32, float64 or int32)`)
}
