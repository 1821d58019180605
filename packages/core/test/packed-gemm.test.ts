/**
 * Products with a B packed once (`packGemmB`) equal plain GEMM products bit for bit: the
 * same kernels run on the same panels. Covered: both transposes, both precisions, blockings
 * that split B into several column and depth panels, offsets, nested packed operands, plain
 * products (and memory growth) while a packed operand is resident, fallbacks (other precision,
 * swapped shapes, use after release), release order, and the js backend's dispatch.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createWasmGemm } from '../src/kernels/wasm/gemm.ts'
import { wasmSimdSupported } from '../src/kernels/wasm/support.ts'
import { gemmBackend, jsGemm, packGemmB, setGemmBackend, type GemmWithB } from '../src/kernels/matmul.ts'

function fill(F: Float32ArrayConstructor | Float64ArrayConstructor, n: number, seed: number): Float32Array | Float64Array {
  let x = seed >>> 0 || 1
  const out = new F(n)
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = ((x >>> 0) / 2 ** 32) * 2 - 1
  }
  return out
}

const wasm = wasmSimdSupported()
const BLOCKINGS = {
  default: undefined,
  tiny: { f32: { mr: 2, nr: 8, kc: 5, mc: 6, nc: 16 }, f64: { mr: 2, nr: 4, kc: 3, mc: 4, nc: 8 } },
}

describe.skipIf(!wasm)('wasm gemm with a packed B', () => {
  for (const [name, blocking] of Object.entries(BLOCKINGS)) {
    for (const F of [Float32Array, Float64Array]) {
      it(`${name} blocking, ${F.name}: equals the plain product bit for bit, with nested operands and plain products inside`, () => {
        const g = createWasmGemm(blocking === undefined ? {} : { blocking })
        for (const [M, N, K] of [
          [3, 37, 11],
          [32, 64, 20],
          [1, 5, 1],
        ]) {
          for (const transB of [false, true]) {
            for (const transA of [false, true]) {
              const b = fill(F, 4 + K * N, 1)
              const a = fill(F, 2 + M * K, 2)
              const want = new F(M * N)
              g(a, 2, transA, b, 4, transB, want, 0, M, N, K)
              const b2 = fill(F, N * K, 3)
              const pb = g.packGemmB(b, 4, transB, K, N)
              const out = new F(M * N + 3)
              pb.gemm(a, 2, transA, out, 3, M)
              // A nested packed operand, and a large plain product that grows memory, while b is resident.
              const pb2 = g.packGemmB(b2, 0, !transB, N, K)
              const o2 = new F(M * K)
              const a2 = fill(F, M * N, 4)
              pb2.gemm(a2, 0, false, o2, 0, M)
              const w2 = new F(M * K)
              g(a2, 0, false, b2, 0, !transB, w2, 0, M, K, N)
              expect(Array.from(o2)).toEqual(Array.from(w2))
              expect(() => pb.release()).toThrow('released in reverse order of packing')
              pb2.release()
              const big = fill(F, 300 * 300, 5)
              g(big, 0, false, big, 0, true, new F(300 * 300), 0, 300, 300, 300)
              const again = new F(M * N)
              pb.gemm(a, 2, transA, again, 0, M)
              pb.release()
              expect(Array.from(again)).toEqual(Array.from(out.subarray(3)))
              expect(Array.from(out.subarray(3))).toEqual(Array.from(want))
            }
          }
        }
      })
    }
  }

  it('falls back to the plain product where the panels do not fit: another precision, a swapped shape, a call after release', () => {
    const g = createWasmGemm()
    const [N, K] = [9, 7]
    const b = fill(Float32Array, K * N, 1)
    const pb = g.packGemmB(b, 0, false, K, N)
    const a64 = fill(Float64Array, 4 * K, 2)
    const got64 = new Float64Array(4 * N)
    const want64 = new Float64Array(4 * N)
    pb.gemm(a64, 0, false, got64, 0, 4)
    g(a64, 0, false, b, 0, false, want64, 0, 4, N, K)
    expect(Array.from(got64)).toEqual(Array.from(want64))
    // N = 1 is computed transposed by the plain GEMM: a packed B of one column falls back to it.
    const bCol = fill(Float32Array, K, 6)
    const pc = g.packGemmB(bCol, 0, false, K, 1)
    const ac = fill(Float32Array, 40 * K, 7)
    const gotc = new Float32Array(40)
    const wantc = new Float32Array(40)
    pc.gemm(ac, 0, false, gotc, 0, 40)
    g(ac, 0, false, bCol, 0, false, wantc, 0, 40, 1, K)
    expect(Array.from(gotc)).toEqual(Array.from(wantc))
    pc.release()
    pb.release()
    pb.release()
    const escaped: GemmWithB = pb.gemm
    const a = fill(Float32Array, 3 * K, 8)
    const got = new Float32Array(3 * N)
    const want = new Float32Array(3 * N)
    escaped(a, 0, false, got, 0, 3)
    g(a, 0, false, b, 0, false, want, 0, 3, N, K)
    expect(Array.from(got)).toEqual(Array.from(want))
  })
})

describe('packGemmB on the js backend', () => {
  const before = gemmBackend()
  afterEach(() => setGemmBackend(before))
  it('runs plain js GEMM products', () => {
    setGemmBackend('js')
    const [M, N, K] = [5, 6, 4]
    const a = fill(Float64Array, M * K, 1)
    const b = fill(Float64Array, N * K, 2)
    const want = new Float64Array(M * N)
    jsGemm(a, 0, false, b, 0, true, want, 0, M, N, K)
    const pb = packGemmB(b, 0, true, K, N)
    const got = new Float64Array(M * N)
    pb.gemm(a, 0, false, got, 0, M)
    pb.release()
    expect(Array.from(got)).toEqual(Array.from(want))
  })
})
