/**
 * TensorFlow.js in Node on its pure-JavaScript `cpu` backend or its `wasm` backend (SIMD;
 * Node gives it no threads). Loaded lazily so that graphgrad-only runs never import it.
 * @module
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type * as TF from '@tensorflow/tfjs-core'

/** The tfjs backends this benchmark measures. */
export type TfBackend = 'cpu' | 'wasm'

let loaded: Promise<typeof TF> | null = null
let loadedBackend: TfBackend | null = null

/** tfjs-core with `backend` selected and every gradient registered. One backend per process. */
export function loadTfjs(backend: TfBackend): Promise<typeof TF> {
  if (loadedBackend !== null && loadedBackend !== backend) throw new Error(`loadTfjs: this process already uses tfjs-${loadedBackend}, not ${backend}`)
  loadedBackend = backend
  loaded ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core')
    // tfjs-core's Node bundle registers no gradients (the `@tensorflow/tfjs` union package does
    // that); its per-file build does. That build is ESM with extensionless imports, which only
    // tsx's require resolves (plain Node's and vitest's do not). The registries are process globals.
    const { require: tsxRequire } = await import('tsx/cjs/api')
    tsxRequire('@tensorflow/tfjs-core/dist/register_all_gradients', import.meta.url)
    // The same for the chained methods (`t.flatten()`, ...) tfjs-layers calls on tensors: the
    // per-file build patches the process-global Tensor class the bundle also uses.
    tsxRequire('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops', import.meta.url)
    const require = createRequire(import.meta.url)
    if (backend === 'cpu') await import('@tensorflow/tfjs-backend-cpu')
    else {
      const wasm = await import('@tensorflow/tfjs-backend-wasm')
      // In Node the .wasm binaries are read from disk: point the loader at the package's dist folder.
      wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}/`)
    }
    // The cpu backend advises installing tfjs-node on its first use; keep the output clean.
    const warn = console.warn
    console.warn = () => {}
    try {
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend '${backend}' failed to initialise`)
      tf.tensor1d([0]).dispose()
    } finally {
      console.warn = warn
    }
    return tf
  })()
  return loaded
}
