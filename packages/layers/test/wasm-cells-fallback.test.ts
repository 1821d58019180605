/**
 * Where WebAssembly SIMD cannot run (an engine without it, or a Content-Security-Policy that
 * refuses to compile), a float32 scan falls back to the TypeScript cell kernels: core's
 * `wasmSupport` (and the GEMM backend its 'auto' picks from it) is mocked to say so, and the
 * TypeScript kernel is seen doing every step.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type * as CoreInternal from '@graphgrad/core/internal'
import type { WasmSupport } from '@graphgrad/core/internal'
import { cellBackendFor, setCellBackend } from '../src/kernels/cell-steps.ts'
import { lstmKernel } from '../src/kernels/lstm.ts'
import { scanForward } from '../src/kernels/scan-forward.ts'

const engine = vi.hoisted(() => ({ support: 'ok' as WasmSupport }))

vi.mock('@graphgrad/core/internal', async (original) => ({
  ...(await original<typeof CoreInternal>()),
  wasmSupport: () => engine.support,
  gemmBackend: () => (engine.support === 'ok' ? 'wasm' : 'js'),
}))

afterEach(() => {
  engine.support = 'ok'
  setCellBackend('auto')
  vi.restoreAllMocks()
})

/** Runs a small float32 LSTM scan forward and counts the TypeScript kernel's steps. */
function typescriptSteps(): number {
  const spy = vi.spyOn(lstmKernel, 'forward')
  const [T, B, H] = [3, 2, 5]
  const f = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5)
  const out = { output: new Float32Array(T * B * H), h: new Float32Array(B * H), c: new Float32Array(B * H) }
  const inputs = { gx: f(T * B * 4 * H), h0: f(B * H), c0: f(B * H), w: f(4 * H * H), bhh: new Float64Array(0), bx: new Float64Array(0) }
  scanForward(lstmKernel, { T, B, H, reverse: false, lengths: null }, inputs, out)
  expect(out.output.every(Number.isFinite)).toBe(true)
  return spy.mock.calls.length
}

describe('without WebAssembly the float32 scan runs the TypeScript cells', () => {
  for (const support of ['missing', 'refused'] as const) {
    it(`wasm ${support}: 'auto' picks the TypeScript kernels, and 'wasm' is refused by name`, () => {
      engine.support = support
      expect(cellBackendFor(lstmKernel, new Float32Array(1))).toBe('js')
      expect(typescriptSteps()).toBe(3)
      expect(() => setCellBackend('wasm')).toThrow(new RegExp(`setCellBackend: 'wasm' cannot run here \\(WebAssembly SIMD is ${support}\\)`))
    })
  }

  it('with WebAssembly, the TypeScript kernel does no step of a float32 scan', () => {
    expect(cellBackendFor(lstmKernel, new Float32Array(1))).toBe('wasm')
    expect(typescriptSteps()).toBe(0)
  })
})
