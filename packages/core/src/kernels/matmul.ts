/**
 * Matrix multiplication: a packed, cache-blocked, register-blocked GEMM over typed arrays,
 * and the switch between it and the WebAssembly SIMD GEMM of `wasm/` ({@link setGemmBackend}).
 * The WASM one runs by default (measured 9x faster in float32, 4.5x in float64); the
 * TypeScript one here is the reference and the fallback where WebAssembly SIMD is missing.
 *
 * The structure is the classic one (Goto/BLIS): for each block of `nc` columns of op(B) and
 * `kc` rows of the shared dimension, op(B) is copied into a contiguous float64 panel; for
 * each block of `mc` rows of op(A), op(A) is copied likewise; then a micro-kernel multiplies
 * an `mr`-row sliver of the A panel by an `nr`-column sliver of the B panel, keeping the
 * `mr * nr` partial sums in local variables (registers) across the whole `kc` loop.
 *
 * Packing is where transposition and dtype are absorbed: it reads any strides from any
 * typed array (one generated copy per source dtype, see `specialize.ts`), so the micro-kernel
 * only ever sees Float64Array and accumulates in float64 whatever the inputs were.
 * Results are written in the output's dtype at the end.
 * @module
 */
import type { TensorData } from '../dtype.ts'
import { kindOf } from './elementwise.ts'
import { GEMM_MICRO, GEMM_PACK, GEMM_PACK_GENERIC } from './generated/gemm.ts'
import type { MicroKernel, PackKernel } from './signatures.ts'
import { dtypeKey } from './specialize.ts'
import { ArgumentError } from '../errors.ts'
import { type WasmGemm, createWasmGemm } from './wasm/gemm.ts'
import { wasmSupport } from './wasm/support.ts'
import { numThreads, onNumThreads } from '../threads.ts'

/** Tile and block sizes of a GEMM. */
export interface GemmBlocking {
  /** Rows of the register tile. */
  readonly mr: number
  /** Columns of the register tile. */
  readonly nr: number
  /** Depth of a packed panel (shared dimension per block): sized so slivers stay in L1. */
  readonly kc: number
  /** Rows of op(A) per packed block: sized so the A block stays in L2. */
  readonly mc: number
  /** Columns of op(B) per packed block. */
  readonly nc: number
}

/**
 * Chosen by measurement (CPU time, n = 256..1024, Node 20 on a 2-core x86-64 machine):
 * 4x3 and 3x4 tiles ran at about 6.7 GFLOP/s, 4x4 at 6.0 (16 accumulators spill V8's
 * 16 float registers), 2x4 at 5.5. Block sizes moved results by under 3%. 4 rows rather
 * than 4 columns because batch sizes (M) are often small powers of two.
 */
export const DEFAULT_BLOCKING: GemmBlocking = { mr: 4, nr: 3, kc: 256, mc: 64, nc: 2048 }

/**
 * Computes `out[M,N] = op(A) @ op(B)` where op transposes when its flag is set.
 * A is stored row-major as [M,K] (or [K,M] when `transA`) from `aOffset`, B as [K,N]
 * (or [N,K] when `transB`) from `bOffset`; the result is written row-major from `outOffset`.
 * Any mix of dtypes is accepted. Sums are accumulated in float64, except on the WASM backend
 * when A, B and the output are all float32: then in float32, as PyTorch does.
 */
export type Gemm = (
  a: TensorData,
  aOffset: number,
  transA: boolean,
  b: TensorData,
  bOffset: number,
  transB: boolean,
  out: TensorData,
  outOffset: number,
  M: number,
  N: number,
  K: number,
) => void

/**
 * `out[M,N] = op(A) @ op(B)` for the B (and its `transB`, K and N) fixed by {@link PackGemmB};
 * the other arguments as for {@link Gemm}.
 */
export type GemmWithB = (a: TensorData, aOffset: number, transA: boolean, out: TensorData, outOffset: number, M: number) => void

/** A B operand packed once for many products: `gemm` multiplies by it until `release()`. */
export interface PackedGemmB {
  /** A product with the packed B (after `release`, an ordinary one). */
  readonly gemm: GemmWithB
  /** Frees the packed copy. Operands are released in reverse order of packing (a stack). */
  release(): void
}

/**
 * Packs B (stored as for {@link Gemm}: [K,N], or [N,K] when `transB`) once for all the
 * products made with the result until its `release()`; B must not change meanwhile.
 */
export type PackGemmB = (b: TensorData, bOffset: number, transB: boolean, K: number, N: number) => PackedGemmB

// Both are generated (`generated/gemm.ts`, see `specialize.ts`): the packing once per source
// dtype, the micro-kernel once per register tile.
function packKernel(src: TensorData): PackKernel {
  return GEMM_PACK.get(dtypeKey('gemmPack', kindOf(src))) ?? GEMM_PACK_GENERIC
}

/**
 * The micro-kernel for an `mr` x `nr` tile: the accumulators are named locals, so V8 keeps
 * them in registers; edge tiles go through `tile` and are clipped. Only the tiles listed in
 * the generator (the default blocking's and the tests') exist; another one fails at its first
 * product, saying so (importing this module must not fail, the generator itself imports it).
 */
function microKernel(mr: number, nr: number): MicroKernel {
  const key = `gemmMicro:${mr}x${nr}`
  const kernel = GEMM_MICRO.get(key)
  if (kernel !== undefined) return kernel
  const tiles = [...GEMM_MICRO.keys()].map((k) => k.slice(k.indexOf(':') + 1)).join(', ')
  return () => {
    throw new ArgumentError(
      `createGemm: no generated micro-kernel for ${mr}x${nr} tiles (there are ${tiles}); add the tile to GEMM_TILES in scripts/kernel-gen/gemm.ts and run \`pnpm gen:kernels\``,
    )
  }
}

/** A scratch buffer that is kept between calls and only ever grows. */
class Scratch {
  private buf = new Float64Array(0)
  get(size: number): Float64Array {
    if (this.buf.length < size) this.buf = new Float64Array(Math.max(size, this.buf.length * 2))
    return this.buf
  }
}

/**
 * @internal Builds a GEMM with the given blocking, with its own scratch buffers (reused
 * across calls). The library uses {@link gemm}; other blockings exist for tuning.
 */
export function createGemm(blocking: GemmBlocking = DEFAULT_BLOCKING): Gemm {
  const { mr, nr, kc: KC, mc: MC, nc: NC } = blocking
  const micro = microKernel(mr, nr)
  const aPanel = new Scratch()
  const bPanel = new Scratch()
  const cBuffer = new Scratch()
  const tile = new Float64Array(mr * nr)

  return (a, aOffset, transA, b, bOffset, transB, out, outOffset, M, N, K) => {
    if (M === 0 || N === 0) return
    // float64 outputs are accumulated in place; the others through a float64 buffer.
    const direct = out instanceof Float64Array
    const C = direct ? out : cBuffer.get(M * N)
    const c0 = direct ? outOffset : 0
    if (K === 0) {
      C.fill(0, c0, c0 + M * N)
    } else {
      // op(A)(i,k) = a[aOffset + i*rsA + k*csA]; op(B)(k,j) = b[bOffset + k*rsB + j*csB].
      const rsA = transA ? 1 : K
      const csA = transA ? M : 1
      const rsB = transB ? 1 : N
      const csB = transB ? K : 1
      const packA = packKernel(a)
      const packB = packKernel(b)
      const Ap = aPanel.get(Math.min(MC + mr, M + mr) * Math.min(KC, K))
      const Bp = bPanel.get(Math.min(NC + nr, N + nr) * Math.min(KC, K))
      for (let jc = 0; jc < N; jc += NC) {
        const nc = Math.min(NC, N - jc)
        for (let pc = 0; pc < K; pc += KC) {
          const kc = Math.min(KC, K - pc)
          packB(b, bOffset + pc * rsB + jc * csB, csB, rsB, nc, kc, nr, Bp)
          for (let ic = 0; ic < M; ic += MC) {
            const mc = Math.min(MC, M - ic)
            packA(a, aOffset + ic * rsA + pc * csA, rsA, csA, mc, kc, mr, Ap)
            for (let jr = 0; jr < nc; jr += nr) {
              const nrr = Math.min(nr, nc - jr)
              for (let ir = 0; ir < mc; ir += mr) {
                micro(kc, Ap, ir * kc, Bp, jr * kc, C, c0 + (ic + ir) * N + jc + jr, N, Math.min(mr, mc - ir), nrr, pc === 0, tile)
              }
            }
          }
        }
      }
    }
    if (!direct) out.set(C.subarray(0, M * N), outOffset)
  }
}

/** The TypeScript GEMM: the reference, and the fallback where WebAssembly SIMD is missing. */
export const jsGemm: Gemm = createGemm()

/** Which GEMM runs: the WebAssembly SIMD kernels or the TypeScript ones. */
export type GemmBackend = 'wasm' | 'js'

let wasmGemm: WasmGemm | undefined
/** The backend in use, or null until the first product (or {@link setGemmBackend}) chooses one. */
let active: { readonly gemm: Gemm; readonly name: GemmBackend } | null = null

/**
 * Chooses the GEMM behind {@link gemm} (and so behind `matmul` and the fused recurrent layers):
 * `'wasm'` (WebAssembly 128-bit SIMD; throws if this engine lacks it or a Content-Security-Policy
 * forbids compiling it), `'js'` (the TypeScript kernels) or `'auto'` (wasm where it can run,
 * else js). The default is `'auto'`, unless the environment variable `GRAPHGRAD_GEMM` (where
 * `process.env` exists) names one of the three; the default is settled at the first product,
 * so importing never fails and a bad `GRAPHGRAD_GEMM` is reported there. The backends agree
 * within float tolerance: float32 products accumulate in float32 on wasm and in float64 on js;
 * everything else accumulates in float64 on both. The WASM kernels are compiled synchronously
 * at their first use (two modules of about 2.5 KB, under the 4 KB browsers allow on the main
 * thread). Under a Content-Security-Policy without `'wasm-unsafe-eval'`, `'auto'` detects the
 * refusal (by compiling a tiny probe module) and uses the TypeScript kernels, with the same results.
 */
export function setGemmBackend(backend: GemmBackend | 'auto'): void {
  active = choose(backend, 'setGemmBackend')
}

function choose(backend: string, who: string): { gemm: Gemm; name: GemmBackend } {
  if (backend !== 'wasm' && backend !== 'js' && backend !== 'auto') {
    throw new ArgumentError(`${who}: unknown backend '${backend}' (expected 'wasm', 'js' or 'auto')`)
  }
  const support = backend === 'js' ? 'ok' : wasmSupport()
  if (backend === 'wasm' && support === 'missing') throw new ArgumentError(`${who}: 'wasm' needs WebAssembly with 128-bit SIMD, which this engine lacks`)
  if (backend === 'wasm' && support === 'refused') {
    throw new ArgumentError(
      `${who}: 'wasm' cannot compile here: the page's Content-Security-Policy refuses WebAssembly (allow it with 'wasm-unsafe-eval', or use 'js')`,
    )
  }
  if (backend === 'js' || support !== 'ok') return { gemm: jsGemm, name: 'js' }
  wasmGemm ??= createWasmGemm({ fallback: jsGemm, threads: numThreads() })
  return { gemm: wasmGemm, name: 'wasm' }
}

// A new thread count gets a new WASM GEMM (the memory is shared or not from the start); B operands
// packed by the old one keep working on it, single-threaded.
onNumThreads((threads) => {
  if (wasmGemm === undefined || wasmGemm.threadCount() === threads) return
  wasmGemm.close()
  wasmGemm = createWasmGemm({ fallback: jsGemm, threads })
  if (active?.name === 'wasm') active = { gemm: wasmGemm, name: 'wasm' }
})

/** The backend in use, settling the default (see {@link setGemmBackend}) on first call. */
function current(): { readonly gemm: Gemm; readonly name: GemmBackend } {
  if (active === null) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env
    const value = env?.GRAPHGRAD_GEMM
    // A bad GRAPHGRAD_THREADS is reported here too, whichever the backend.
    numThreads()
    active = choose(value === undefined || value === '' ? 'auto' : value, `GRAPHGRAD_GEMM='${value}'`)
  }
  return active
}

/**
 * @internal The WASM GEMM's threads now, and how many parts of split products its workers have
 * run so far (0 before the WASM GEMM's first product, or on the js backend).
 */
export function gemmThreadStats(): { readonly threads: number; readonly partsByWorkers: number } {
  return { threads: wasmGemm?.threadCount() ?? 1, partsByWorkers: wasmGemm?.partsByWorkers() ?? 0 }
}

/** The backend {@link gemm} runs on now. */
export function gemmBackend(): GemmBackend {
  return current().name
}

/**
 * `out[M,N] = op(A) @ op(B)`, with op a transpose when its flag is set; see {@link Gemm}.
 * Runs on the backend {@link setGemmBackend} chose. Scratch memory is shared across calls,
 * so it is not reentrant (nothing here is async).
 */
export const gemm: Gemm = (a, aOffset, transA, b, bOffset, transB, out, outOffset, M, N, K) =>
  current().gemm(a, aOffset, transA, b, bOffset, transB, out, outOffset, M, N, K)

/**
 * {@link gemm} with a B operand used by many products, packed once (see {@link PackGemmB}):
 * a recurrent layer's W_hh, multiplied at every step. On the wasm backend the products skip
 * B's copy and packing and give results identical to {@link gemm}'s; on the js backend they
 * are plain {@link gemm} calls. Release it in a `finally`, in reverse order of packing.
 */
export const packGemmB: PackGemmB = (b, bOffset, transB, K, N) => {
  if (current().name === 'wasm' && wasmGemm !== undefined) return wasmGemm.packGemmB(b, bOffset, transB, K, N)
  return { gemm: (a, aOffset, transA, out, outOffset, M) => jsGemm(a, aOffset, transA, b, bOffset, transB, out, outOffset, M, N, K), release: () => {} }
}
