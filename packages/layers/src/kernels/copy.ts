/**
 * Block copies between the scan's tape (in the model's dtype) and its float64 scratch rows:
 * one compiled copy per (source, destination) array class, so each loop is monomorphic and
 * a float32 model pays one conversion per element read or written, with no allocation.
 * @module
 */
import { compileKernel, dtypeKey, kindOf } from '@graphgrad/core/internal'

/** The float arrays a scan reads and writes. */
export type Floats = Float32Array | Float64Array

/** `dst[dstAt .. dstAt+n) = src[srcAt .. srcAt+n)`, converting to the destination's class. */
export type CopyKernel = (src: Floats, srcAt: number, dst: Floats, dstAt: number, n: number) => void

/** `dst[dstAt .. dstAt+n) += src[srcAt .. srcAt+n)`. */
export type AddKernel = CopyKernel

/** The copy kernel specialised for `src`'s and `dst`'s array classes. */
export function copier(src: Floats, dst: Floats): CopyKernel {
  return compileKernel<CopyKernel>(dtypeKey('scanCopy', kindOf(src), kindOf(dst)), ['src', 'srcAt', 'dst', 'dstAt', 'n'],
    'for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i];')
}

/** The add-into kernel specialised for `src`'s and `dst`'s array classes. */
export function adder(src: Floats, dst: Floats): AddKernel {
  return compileKernel<AddKernel>(dtypeKey('scanAdd', kindOf(src), kindOf(dst)), ['src', 'srcAt', 'dst', 'dstAt', 'n'],
    'for (let i = 0; i < n; i++) dst[dstAt + i] += src[srcAt + i];')
}

/** `dst[r*width + j] = src[srcAt + r*width + j] + bias[j]` for r < rows, j < width: a step's input projection with the input bias added. */
export type BiasedRowsKernel = (src: Floats, srcAt: number, dst: Float64Array, rows: number, width: number, bias: Float64Array) => void

/** The biased row load specialised for `src`'s array class. */
export function biasedRowLoader(src: Floats): BiasedRowsKernel {
  return compileKernel<BiasedRowsKernel>(dtypeKey('scanBiasedRows', kindOf(src)), ['src', 'srcAt', 'dst', 'rows', 'width', 'bias'], `
    for (let r = 0, i = 0; r < rows; r++) {
      for (let j = 0; j < width; j++, i++) dst[i] = src[srcAt + i] + bias[j];
    }`)
}

/** A zeroed array of `like`'s class (the model's dtype). */
export function allocLike(like: Floats, n: number): Floats {
  return like instanceof Float32Array ? new Float32Array(n) : new Float64Array(n)
}
