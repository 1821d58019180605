/**
 * Block copies between the scan's tape (in the model's dtype) and its scratch rows (float64,
 * or float32 for the WASM cell kernels): one copy per (source, destination) array class, so
 * each loop is monomorphic and a float32 model on the TypeScript kernels pays one conversion
 * per element read or written, with no allocation. The copies are
 * generated into `generated.ts` (`pnpm gen:kernels`; see core's `kernels/specialize.ts`).
 *
 * The kernel types are declared as methods' are, so that their parameters compare
 * bivariantly and a table of them can hold the copies written for concrete array classes.
 * @module
 */
import { dtypeKey, kindOf } from '@graphgrad/core/internal'
import { SCAN_ADD, SCAN_BIASED_ROWS, SCAN_COPY, SCAN_GENERIC } from './generated.ts'

/** The float arrays a scan reads and writes. */
export type Floats = Float32Array | Float64Array

/** `dst[dstAt .. dstAt+n) = src[srcAt .. srcAt+n)`, converting to the destination's class. */
export type CopyKernel = { k(src: Floats, srcAt: number, dst: Floats, dstAt: number, n: number): void }['k']

/** `dst[dstAt .. dstAt+n) += src[srcAt .. srcAt+n)`. */
export type AddKernel = CopyKernel

/**
 * The copy kernel specialised for `src`'s and `dst`'s array classes: `TypedArray.set` (a
 * memcpy) when they are the same (4-7 µs for 32K float32 against 70 µs for the element loop,
 * Node 20), a converting loop otherwise.
 */
export function copier(src: Floats, dst: Floats): CopyKernel {
  if (src.constructor === dst.constructor) return memcpy
  return SCAN_COPY.get(dtypeKey('scanCopy', kindOf(src), kindOf(dst))) ?? SCAN_GENERIC.copy
}

function memcpy(src: Floats, srcAt: number, dst: Floats, dstAt: number, n: number): void {
  dst.set(src.subarray(srcAt, srcAt + n), dstAt)
}

/** The add-into kernel specialised for `src`'s and `dst`'s array classes. */
export function adder(src: Floats, dst: Floats): AddKernel {
  return SCAN_ADD.get(dtypeKey('scanAdd', kindOf(src), kindOf(dst))) ?? SCAN_GENERIC.add
}

/** `dst[r*width + j] = src[srcAt + r*width + j] + bias[j]` for r < rows, j < width: a step's input projection with the input bias added. */
export type BiasedRowsKernel = { k(src: Floats, srcAt: number, dst: Floats, rows: number, width: number, bias: Float64Array): void }['k']

/** The biased row load specialised for `src`'s and `dst`'s array classes. */
export function biasedRowLoader(src: Floats, dst: Floats): BiasedRowsKernel {
  return SCAN_BIASED_ROWS.get(dtypeKey('scanBiasedRows', kindOf(src), kindOf(dst))) ?? SCAN_GENERIC.biasedRows
}

/** A zeroed array of `like`'s class (the model's dtype). */
export function allocLike(like: Floats, n: number): Floats {
  return like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n)
}
