/**
 * TensorFlow.js on its pure-JavaScript CPU backend, the baseline the groups compare with.
 * Loaded lazily so that `--only` a group without a tfjs side never pays for the import.
 * @module
 */
import { createRequire } from 'node:module'
import type * as TF from '@tensorflow/tfjs-core'

let loaded: Promise<typeof TF> | null = null

/** tfjs-core with the `cpu` backend selected (tfjs has no float64: its side runs float32 only). */
export function loadTfjs(): Promise<typeof TF> {
  loaded ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core')
    await import('@tensorflow/tfjs-backend-cpu')
    // tfjs-core's Node bundle registers no gradients (the `@tensorflow/tfjs` union package
    // does that). Its per-file build does it, and only loads through require (extensionless
    // imports); the registries are process globals, so the bundle sees them.
    createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients')
    // The CPU backend advises installing tfjs-node on its first write; keep the output clean.
    const warn = console.warn
    console.warn = () => {}
    try {
      await tf.setBackend('cpu')
      tf.tensor1d([0]).dispose()
    } finally {
      console.warn = warn
    }
    return tf
  })()
  return loaded
}
