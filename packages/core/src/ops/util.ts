/**
 * Argument checks and small conversions shared by the op families.
 * @module
 */
import { GraphgradError } from '../errors.ts'
import { type DType, allocate } from '../dtype.ts'
import { Tensor } from '../tensor.ts'

/** A tensor, or a plain number that broadcasts as a scalar. */
export type TensorLike = Tensor | number

/** @internal Throws unless `x` is a Tensor, naming the op and the argument. */
export function checkTensor(x: unknown, op: string, arg = 'input'): Tensor {
  if (x instanceof Tensor) return x
  throw new GraphgradError(`${op}: ${arg} must be a Tensor, got ${x === null ? 'null' : typeof x}`)
}

// Shared by every scalar made here: a frozen shape is taken as it is, not copied.
const SCALAR_SHAPE: readonly number[] = Object.freeze([])

/** @internal A 0-d tensor holding `value` in `dtype`. */
function scalar(value: number, dtype: DType): Tensor {
  const data = allocate(dtype, 1)
  data[0] = value
  return new Tensor(data, SCALAR_SHAPE)
}

/** @internal Turns a number into a scalar of the other operand's dtype (float32 if a fraction meets int32). */
export function toTensor(x: TensorLike, like: TensorLike, op: string, arg: string): Tensor {
  if (typeof x !== 'number') return checkTensor(x, op, arg)
  const other = like instanceof Tensor ? like.dtype : 'float32'
  // A number an int32 cannot hold exactly (a fraction, or past 2^31) is computed in float.
  const fitsInt32 = Number.isInteger(x) && x >= -0x80000000 && x <= 0x7fffffff
  const dtype = other === 'int32' && !fitsInt32 ? (Number.isInteger(x) ? 'float64' : 'float32') : other
  return scalar(x, dtype)
}
