/**
 * Kernel specialisation. V8 optimises a loop for the typed-array classes it has seen; one
 * loop fed both Float32Array and Float64Array runs about 2x slower. So each elementwise
 * kernel is built from a source template, once per (operation, input dtype, output dtype),
 * and each copy only ever sees one array class. The templates inline the scalar expression,
 * so the hot loop has no call and no closure per element.
 * @module
 */
import type { DType } from '../dtype.ts'

const cache = new Map<string, unknown>()

/**
 * @internal Compiles `body` (JavaScript source of a function's body over `params`) once per
 * distinct `key`, returning the same function on later calls.
 */
export function compileKernel<F>(key: string, params: readonly string[], body: string): F {
  let fn = cache.get(key)
  if (fn === undefined) {
    fn = new Function(...params, body)
    cache.set(key, fn)
  }
  return fn as F
}

/** @internal A cache key naming the dtypes a kernel copy is specialised for. */
export function dtypeKey(name: string, ...dtypes: DType[]): string {
  return `${name}:${dtypes.join(',')}`
}
