/**
 * The small pieces the optimizer driver (`createOptimizer`), the transform chain and the
 * update rules share: a parameter tree flattened to dotted names, a value described for an
 * error message, tensor data moved to and from the float arrays the kernels read and write
 * (state slots cast to their parameter's dtype), the checks of a parameter and its gradient,
 * and the tensors a rule's `init` makes for its slots.
 * @module
 */
import { isMap } from 'immutable'
import { ArgumentError, DTypeError, ShapeError, Tensor, type DType, flattenTree, fmtShape } from '@graphgrad/core'
import { describeValue } from '@graphgrad/core/internal'

/** The float arrays an update rule reads and writes. */
export type FloatArray = Float32Array | Float64Array

/** A flattened parameter tree: dotted names and their tensors, in the same order. */
export interface Named {
  readonly names: string[]
  readonly leaves: Tensor[]
}

/** Dotted names and tensors of a parameter tree (nested maps only), depth first; errors name the path. */
export function flattenNamed(tree: unknown, where: string, what: string): Named {
  if (!isMap(tree)) throw new ArgumentError(`${where}: ${what} must be an Immutable.js Map of tensors (nested maps allowed), got ${describeValue(tree)}`)
  const { leaves, paths } = flattenTree(tree, where, {
    arrays: false,
    refuse: (path, node) => new ArgumentError(`${where}: ${what} entry '${path}' is ${describeValue(node)}, not a Tensor or a Map of tensors`),
  })
  const seen = new Set<string>()
  for (const path of paths) {
    if (seen.has(path)) throw new ArgumentError(`${where}: two entries of ${what} are named '${path}' (a key containing '.' clashes with a nested map)`)
    seen.add(path)
  }
  return { names: paths, leaves }
}

/** The data of `t` as float64: the array itself for float64 (never to be written), else a widened copy. */
export function asFloat64(t: Tensor): Float64Array {
  return t._data instanceof Float64Array ? t._data : new Float64Array(t._data)
}

/** A tensor of `dtype` holding `data` (a fresh array, adopted without a copy when its class is the dtype's). */
export function fromData(data: FloatArray, dtype: DType, shape: readonly number[]): Tensor {
  if ((dtype === 'float64') === data instanceof Float64Array) return new Tensor(data, shape)
  return new Tensor(dtype === 'float64' ? new Float64Array(data) : new Float32Array(data), shape)
}

/** A slot's data in `dtype`'s class: the array itself when the slot already has that dtype (never to be written). */
export function slotIn(t: Tensor, dtype: 'float32' | 'float64'): FloatArray {
  if (t.dtype === dtype) return t._data as FloatArray
  return dtype === 'float64' ? new Float64Array(t._data) : new Float32Array(t._data)
}

/**
 * A state slot's data as float64, after casting it to `dtype` (a float32 slot of a float64
 * parameter is widened; a float64 one of a float32 parameter is rounded to float32 first),
 * as torch's `Optimizer.load_state_dict` casts the state to the parameter's dtype.
 */
export function slotInput(t: Tensor, dtype: 'float32' | 'float64'): Float64Array {
  if (t.dtype === dtype) return asFloat64(t)
  return dtype === 'float64' ? new Float64Array(t._data) : new Float64Array(new Float32Array(t._data))
}

/** The data of a slot the rule requires (the state check guarantees it is there), in the class `A` the caller was given. */
export function requiredSlot<A extends FloatArray = Float64Array>(slots: Readonly<Record<string, FloatArray | undefined>>, name: string): A {
  const data = slots[name]
  if (data === undefined) throw new ArgumentError(`optimizer: required state slot '${name}' is missing`)
  return data as A
}

/** Throws a DTypeError for an int32 tensor (optimizers work on float32 and float64). */
export function checkFloat(t: Tensor, where: string, what: string): void {
  if (t.dtype === 'int32') throw new DTypeError(`${where}: ${what} has dtype int32; optimizers work on float32 and float64 tensors`)
}

/** The gradient of parameter `n` (`p`), checked: present, float, and of the parameter's shape. */
export function gradientOf(grads: ReadonlyMap<string, Tensor>, n: string, p: Tensor, where: string): Tensor {
  const g = grads.get(n)
  if (g === undefined) throw new ArgumentError(`${where}: grads has no gradient for parameter '${n}'`)
  checkFloat(p, where, `parameter '${n}'`)
  checkFloat(g, where, `the gradient of '${n}'`)
  if (g.shape.length !== p.shape.length || g.shape.some((d, i) => d !== p.shape[i])) {
    throw new ShapeError(`${where}: the gradient of '${n}' has shape ${fmtShape(g.shape)}, but the parameter has shape ${fmtShape(p.shape)}`)
  }
  return g
}

/** A tensor shaped and typed like `p` (float32 or float64) filled with `value`. */
export function fullLike(p: Tensor, value: number): Tensor {
  const data = p.dtype === 'float64' ? new Float64Array(p.size) : new Float32Array(p.size)
  if (value !== 0) data.fill(value)
  return new Tensor(data, p.shape)
}

/** A 0-d float64 tensor holding `value` (a per-parameter scalar slot). */
export function scalarSlot(value: number): Tensor {
  return new Tensor(new Float64Array([value]), [])
}
