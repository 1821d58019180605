/**
 * Feature detection for WebAssembly with 128-bit SIMD.
 * @module
 */
import { ModuleBuilder } from './module.ts'

let supported: boolean | undefined

/**
 * True when this engine compiles WebAssembly modules that use 128-bit SIMD (every current
 * browser and Node >= 16). Checked once, by validating a tiny module that adds two v128 loads.
 */
export function wasmSimdSupported(): boolean {
  if (supported === undefined) {
    try {
      const m = new ModuleBuilder()
      const { fn } = m.function('probe', ['i32'])
      const [p] = fn.params
      fn.get(p).load('v128').get(p).load('v128').op('f32x4.add').op('drop')
      supported = typeof WebAssembly === 'object' && WebAssembly.validate(m.encode())
    } catch {
      supported = false
    }
  }
  return supported
}
