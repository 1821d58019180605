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
 * @internal Compiles the source that `body()` returns (a function body over `params`) once
 * per distinct `key`, returning the same function on later calls. `body` is a thunk so
 * that the hot path (a cache hit) builds no source text.
 */
export function compileKernel<F>(key: string, params: readonly string[], body: string | (() => string)): F {
  let fn = cache.get(key)
  if (fn === undefined) {
    // The sourceURL names the kernel in profiles and stack traces (otherwise all are 'anonymous').
    fn = new Function(...params, `${typeof body === 'string' ? body : body()}\n//# sourceURL=kernel/${key}`)
    cache.set(key, fn)
  }
  return fn as F
}

/** @internal A cache key naming the dtypes a kernel copy is specialised for. */
export function dtypeKey(name: string, a: DType, b?: DType, c?: DType, d?: DType): string {
  return name + ':' + a + (b === undefined ? '' : ',' + b) + (c === undefined ? '' : ',' + c) + (d === undefined ? '' : ',' + d)
}
