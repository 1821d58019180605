/**
 * Feature detection for WebAssembly with 128-bit SIMD.
 * @module
 */
import { ModuleBuilder } from './module.ts'

/**
 * Whether the WASM GEMM can run here: `'ok'`; `'missing'` when the engine has no WebAssembly
 * with 128-bit SIMD; `'refused'` when it has, but refuses to compile modules (a page whose
 * Content-Security-Policy lacks `'wasm-unsafe-eval'`).
 */
export type WasmSupport = 'ok' | 'missing' | 'refused'

let support: WasmSupport | undefined

/**
 * Checks once, by validating and then compiling a tiny module that adds two v128 loads:
 * validation needs no permission, compilation is what a Content-Security-Policy forbids, so
 * the two steps tell a missing feature from a refused one.
 */
export function wasmSupport(): WasmSupport {
  if (support === undefined) {
    let bytes: Uint8Array<ArrayBuffer> | undefined
    try {
      const m = new ModuleBuilder()
      const { fn } = m.function('probe', ['i32'])
      const [p] = fn.params
      fn.get(p).load('v128').get(p).load('v128').op('f32x4.add').op('drop')
      bytes = m.encode()
      support = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? 'ok' : 'missing'
    } catch {
      support = 'missing'
    }
    if (support === 'ok' && bytes !== undefined) {
      try {
        void new WebAssembly.Module(bytes)
      } catch {
        support = 'refused'
      }
    }
  }
  return support
}

/** True when the WASM GEMM can run here (see {@link wasmSupport}). */
export function wasmSimdSupported(): boolean {
  return wasmSupport() === 'ok'
}

let relaxed: boolean | undefined

/**
 * Whether the engine has relaxed SIMD (Node 22+, current browsers; Node 20 only behind
 * `--experimental-wasm-relaxed-simd`): checked once by validating a tiny module with an
 * `f32x4.relaxed_madd`. Validation needs no permission; compiling is {@link wasmSupport}'s concern.
 */
export function wasmRelaxedSimdSupported(): boolean {
  if (relaxed === undefined) {
    try {
      const m = new ModuleBuilder()
      const { fn } = m.function('probe', ['i32'])
      const [p] = fn.params
      fn.get(p).load('v128').get(p).load('v128').get(p).load('v128').op('f32x4.relaxed_madd').op('drop')
      relaxed = typeof WebAssembly === 'object' && WebAssembly.validate(m.encode())
    } catch {
      relaxed = false
    }
  }
  return relaxed
}
