/**
 * A float32 scan on the WebAssembly cell kernels against the same scan forced onto the
 * TypeScript kernels (`setCellBackend('js')`, the path every float32 scan took before): the
 * outputs, final states and every cotangent agree within float32 tolerance, on random sizes,
 * directions, layouts, sequence lengths and biases; a float64 scan is the TypeScript one
 * whatever the setting, bit for bit.
 */
import { afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CaseSampler } from '@graphgrad/core'
import { gemmBackend, setGemmBackend } from '@graphgrad/core/internal'
import type { CellKernel } from '../src/kernels/cell.ts'
import { cellBackendFor, setCellBackend } from '../src/kernels/cell-steps.ts'
import type { Floats } from '../src/kernels/copy.ts'
import { gruKernel } from '../src/kernels/gru.ts'
import { lstmKernel } from '../src/kernels/lstm.ts'
import { rnnReluKernel, rnnTanhKernel } from '../src/kernels/rnn.ts'
import { type ScanShape } from '../src/kernels/scan.ts'
import { scanBackward } from '../src/kernels/scan-backward.ts'
import { scanForward } from '../src/kernels/scan-forward.ts'

const CELLS: readonly [string, CellKernel][] = [
  ['lstm', lstmKernel],
  ['gru', gruKernel],
  ['rnn_tanh', rnnTanhKernel],
  ['rnn_relu', rnnReluKernel],
]

const gemmAtStart = gemmBackend()

afterEach(() => {
  setCellBackend('auto')
  setGemmBackend(gemmAtStart)
})

/** One random scan problem: its shape, inputs and cotangents, in `make`'s class. */
function problem(k: CellKernel, s: CaseSampler, make: (n: number) => Floats) {
  const [T, B, H] = [s.int(1, 6), s.coin(0.2) ? 1 : s.int(1, 4), s.coin(0.2) ? 1 : s.int(1, 9)]
  const GH = k.gates * H
  const draw = (n: number, scale: number): Floats => {
    const a = make(n)
    for (let i = 0; i < n; i++) a[i] = s.float(-scale, scale)
    return a
  }
  const lengths = s.coin(0.3) ? Int32Array.from({ length: B }, () => s.int(1, T)) : null
  const shape: ScanShape = { T, B, H, reverse: s.coin(), lengths, batchFirst: s.coin() }
  const bias = (on: boolean): Float64Array => (on ? Float64Array.from(draw(GH, 1)) : new Float64Array(0))
  const inputs = {
    gx: draw(T * B * GH, 2),
    h0: draw(B * H, 1),
    c0: k.hasCell ? draw(B * H, 1) : make(0),
    w: draw(GH * H, 0.8),
    bhh: bias(k.stepBias && s.coin(0.7)),
    bx: bias(s.coin(0.7)),
  }
  const cot = { output: draw(T * B * H, 1), h: s.coin(0.7) ? draw(B * H, 1) : null, c: k.hasCell && s.coin(0.7) ? draw(B * H, 1) : null }
  return { shape, inputs, cot, make, T, B, H }
}

/** Forward and backward of one problem on the backend in force; every result array. */
function run(k: CellKernel, p: ReturnType<typeof problem>): Record<string, Floats> {
  const { T, B, H, make } = p
  const out = { output: make(T * B * H), h: make(B * H), c: make(k.hasCell ? B * H : 0) }
  const tape = scanForward(k, p.shape, p.inputs, out)
  const needs = { dw: true, dbhh: p.inputs.bhh.length > 0, dh0: true, dbx: p.inputs.bx.length > 0 }
  const d = scanBackward(k, p.shape, tape, p.cot, p.inputs.w, needs)
  return { ...out, hs: tape.hs, cs: tape.cs, cache: tape.cache, ...d }
}

function expectClose(got: Floats, want: Floats, what: string): void {
  expect(got.length, what).toBe(want.length)
  let scale = 1
  for (const v of want) scale = Math.max(scale, Math.abs(v))
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `${what}[${i}]: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(2e-5 * scale)
}

describe('a float32 scan on the WASM cells = the scan on the TypeScript cells', () => {
  CELLS.forEach(([name, k], c) => {
    it(`${name}: outputs, tape and every cotangent`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const p = problem(k, new CaseSampler(seed), (n) => new Float32Array(n))
          setCellBackend('js')
          const want = run(k, p)
          setCellBackend('wasm')
          expect(cellBackendFor(k, p.inputs.h0)).toBe('wasm')
          const got = run(k, p)
          for (const key of Object.keys(want)) {
            // Empty results (no cell state, a cotangent not asked for) are a shared empty array.
            if (want[key].length > 0) expect(got[key], key).toBeInstanceOf(Float32Array)
            expectClose(got[key], want[key], `${name} ${key}`)
          }
        }),
        { seed: 1500 + c, numRuns: 40 },
      )
    })
  })

  it('a float64 scan runs the TypeScript kernels whatever the setting, with the same bits', () => {
    for (const [, k] of CELLS) {
      const p = problem(k, new CaseSampler(99), (n) => new Float64Array(n))
      setCellBackend('wasm')
      expect(cellBackendFor(k, p.inputs.h0)).toBe('js')
      const a = run(k, p)
      setCellBackend('js')
      const b = run(k, p)
      for (const key of Object.keys(a)) expect(Array.from(a[key]), key).toEqual(Array.from(b[key]))
    }
  })

  it("'auto' follows the GEMM: the TypeScript GEMM (as under a CSP that refuses WebAssembly) means the TypeScript cells", () => {
    const f32 = new Float32Array(1)
    setGemmBackend('js')
    expect(CELLS.map(([, k]) => cellBackendFor(k, f32))).toEqual(['js', 'js', 'js', 'js'])
    setGemmBackend('wasm')
    expect(CELLS.map(([, k]) => cellBackendFor(k, f32))).toEqual(['wasm', 'wasm', 'wasm', 'wasm'])
    setCellBackend('js')
    expect(cellBackendFor(lstmKernel, f32)).toBe('js')
  })

  it('setCellBackend refuses an unknown backend by name', () => {
    expect(() => setCellBackend('gpu' as 'js')).toThrow(/setCellBackend: unknown backend 'gpu'/)
  })
})
