// The WASM GEMM's micro-kernel variants: tile shapes, depth unrolling (ku) and the relaxed-SIMD
// (fused multiply-add) kernels, each against the TypeScript GEMM; unrolling must not change a
// single bit, and relaxed kernels must stay within float32's rounding bound.
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { SOURCE_NODE_FLAGS } from '../../../scripts/source-condition.ts'
import { WASM_BLOCKING, createWasmGemm } from '../src/kernels/wasm/gemm.ts'
import { type WasmBlocking, gemmModuleBytes } from '../src/kernels/wasm/gemm-module.ts'
import { wasmRelaxedSimdSupported } from '../src/kernels/wasm/support.ts'
import { jsGemm } from '../src/kernels/matmul.ts'
import { ARRAY, expectProduct, fill, reference } from './gemm-helpers.ts'

// Sizes at and around the tile widths (16, 8, 4) and block edges, besides random ones.
const EDGE = [1, 15, 17, 33]
const size = fc.oneof(fc.constantFrom(...EDGE), fc.integer({ min: 1, max: 40 }))

/** f32 and f64 blockings whose small blocks make modest shapes cross every block and unroll boundary. */
const VARIANTS: [string, WasmBlocking, WasmBlocking][] = [
  ['default', WASM_BLOCKING.f32, WASM_BLOCKING.f64],
  ['2x16 ku=8, depth blocks of 11', { mr: 2, nr: 16, kc: 11, mc: 6, nc: 32, ku: 8 }, { mr: 2, nr: 8, kc: 11, mc: 6, nc: 16, ku: 8 }],
  ['4x8 ku=3', { mr: 4, nr: 8, kc: 7, mc: 8, nc: 16, ku: 3 }, { mr: 4, nr: 4, kc: 5, mc: 8, nc: 8, ku: 3 }],
  ['3x12 ku=5', { mr: 3, nr: 12, kc: 13, mc: 9, nc: 24, ku: 5 }, { mr: 3, nr: 6, kc: 9, mc: 6, nc: 12, ku: 2 }],
  ['1x4 ku=2', { mr: 1, nr: 4, kc: 4, mc: 3, nc: 8, ku: 2 }, { mr: 1, nr: 2, kc: 3, mc: 2, nc: 4, ku: 2 }],
]

type Case = { M: number; N: number; K: number; ta: boolean; tb: boolean; f64: boolean; seed: number }

const caseArb = fc.record({ M: size, N: size, K: size, ta: fc.boolean(), tb: fc.boolean(), f64: fc.boolean(), seed: fc.integer() })

function operands({ M, N, K, f64, seed }: Case): { a: Float32Array | Float64Array; b: Float32Array | Float64Array } {
  const kind = f64 ? 'float64' : 'float32'
  return { a: fill(kind, M * K, seed) as Float32Array | Float64Array, b: fill(kind, K * N, seed + 1) as Float32Array | Float64Array }
}

/** Checks a product against the TypeScript GEMM's, within the rounding bound of its precision. */
function expectLikeJs(c: Case, out: Float32Array | Float64Array): void {
  const { a, b } = operands(c)
  const js = new ARRAY[c.f64 ? 'float64' : 'float32'](c.M * c.N)
  jsGemm(a, 0, c.ta, b, 0, c.tb, js, 0, c.M, c.N, c.K)
  expectProduct(out, 0, { value: [...js], abs: reference(a, 0, c.ta, b, 0, c.tb, c.M, c.N, c.K).abs }, c.K, !c.f64)
}

function run(g: ReturnType<typeof createWasmGemm>, c: Case): Float32Array | Float64Array {
  const { a, b } = operands(c)
  const out = new ARRAY[c.f64 ? 'float64' : 'float32'](c.M * c.N)
  g(a, 0, c.ta, b, 0, c.tb, out, 0, c.M, c.N, c.K)
  return out
}

describe('wasm gemm micro-kernel variants (plain SIMD)', () => {
  for (const [name, f32, f64] of VARIANTS) {
    it(`matches the TypeScript GEMM for all transpositions, float32 and float64 (${name})`, () => {
      const g = createWasmGemm({ relaxed: false, blocking: { f32, f64 } })
      fc.assert(
        fc.property(caseArb, (c) => expectLikeJs(c, run(g, c))),
        { numRuns: 150 },
      )
    })
  }

  it('gives bit-identical results whatever the unrolling (the order of operations is kept)', () => {
    const unrolled = [1, 2, 5, 8].map((ku) =>
      createWasmGemm({ relaxed: false, blocking: { f32: { mr: 2, nr: 16, kc: 19, mc: 6, nc: 32, ku }, f64: { mr: 2, nr: 8, kc: 19, mc: 6, nc: 16, ku } } }),
    )
    fc.assert(
      fc.property(caseArb, (c) => {
        const [first, ...rest] = unrolled.map((g) => run(g, c))
        for (const other of rest) expect(new Uint8Array(other.buffer)).toEqual(new Uint8Array(first.buffer))
      }),
      { numRuns: 150 },
    )
  })

  it('rejects an unroll factor that is not a positive integer', () => {
    for (const ku of [0, -1, 1.5]) expect(() => gemmModuleBytes('f32', { ...WASM_BLOCKING.f32, ku })).toThrow(`wasm gemm: ku=${ku} is not a positive integer`)
  })

  it('keeps the relaxed modules under the 4 KB budget too', () => {
    for (const p of ['f32', 'f64'] as const) expect(gemmModuleBytes(p, WASM_BLOCKING[p], { relaxed: true }).length).toBeLessThan(4096)
  })
})

describe('wasm gemm relaxed-SIMD kernels', () => {
  it('are detected as the engine validates them, and asked for without support they are refused by name', () => {
    const bytes = gemmModuleBytes('f32', WASM_BLOCKING.f32, { relaxed: true })
    expect(wasmRelaxedSimdSupported()).toBe(WebAssembly.validate(bytes))
    if (!wasmRelaxedSimdSupported())
      expect(() => createWasmGemm({ relaxed: true })).toThrow('wasm gemm: relaxed kernels asked for, but this engine has no relaxed SIMD')
    // The plain kernels never carry a relaxed instruction, so they build everywhere.
    expect(WebAssembly.validate(gemmModuleBytes('f32', WASM_BLOCKING.f32))).toBe(true)
  })

  it('agree with the TypeScript GEMM within float32 rounding, plain and packed B alike (in a Node with relaxed SIMD)', () => {
    const cases = fc.sample(caseArb, { numRuns: 120, seed: 13 })
    // The recurrent layers' per-step product, with B packed once.
    const packed: Case = { M: 32, N: 1024, K: 256, ta: false, tb: false, f64: false, seed: 7 }
    const input = JSON.stringify(
      [...cases, packed].map((c) => ({ ...c, ...operands(c) })),
      (_, v: unknown) => (ArrayBuffer.isView(v) ? [...(v as Float32Array)] : v),
    )
    const gemmUrl = new URL('../src/kernels/wasm/gemm.ts', import.meta.url).href
    const supportUrl = new URL('../src/kernels/wasm/support.ts', import.meta.url).href
    const child = `
      const { createWasmGemm } = await import(${JSON.stringify(gemmUrl)})
      const { wasmRelaxedSimdSupported } = await import(${JSON.stringify(supportUrl)})
      const chunks = []
      for await (const chunk of process.stdin) chunks.push(chunk)
      const cases = JSON.parse(Buffer.concat(chunks).toString())
      const g = createWasmGemm({ relaxed: true })
      const out = cases.map((c) => {
        const T = c.f64 ? Float64Array : Float32Array
        const a = T.from(c.a), b = T.from(c.b), o = new T(c.M * c.N), p = new T(c.M * c.N)
        g(a, 0, c.ta, b, 0, c.tb, o, 0, c.M, c.N, c.K)
        const packed = g.packGemmB(b, 0, c.tb, c.K, c.N)
        packed.gemm(a, 0, c.ta, p, 0, c.M)
        packed.release()
        return { plain: [...o], packed: [...p] }
      })
      console.log(JSON.stringify({ supported: wasmRelaxedSimdSupported(), out }))`
    // Node 20 has relaxed SIMD only behind this flag; later engines have it by default.
    const flags = wasmRelaxedSimdSupported() ? [] : ['--experimental-wasm-relaxed-simd']
    const stdout = execFileSync(process.execPath, [...flags, ...SOURCE_NODE_FLAGS, '--input-type=module', '-e', child], {
      input,
      encoding: 'utf8',
      maxBuffer: 2 ** 28,
    })
    const result = JSON.parse(stdout) as { supported: boolean; out: { plain: number[]; packed: number[] }[] }
    expect(result.supported).toBe(true)
    ;[...cases, packed].forEach((c, i) => {
      const { plain, packed: viaPacked } = result.out[i]
      expectLikeJs(c, new ARRAY[c.f64 ? 'float64' : 'float32'](plain))
      // Packed operands run the very same kernels on the very same panels.
      expect(viaPacked).toEqual(plain)
    })
  })
})
