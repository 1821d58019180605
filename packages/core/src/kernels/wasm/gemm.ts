/**
 * The WebAssembly SIMD GEMM: the driver around the kernels of `gemm-module.ts`.
 *
 * Per call, A and B are copied as stored (one `TypedArray.set` each: a memcpy, or a
 * conversion for other dtypes) into the module's linear memory; then the Goto/BLIS loops run
 * over cache blocks: a `kc` x `nc` panel of op(B) is packed (always: reading a row-major B in
 * place measured 40% slower even at M = 32, its rows being 4 KiB apart and so sharing cache
 * sets), an `mc` x `kc` block of op(A) is packed, and `macro` runs the register tiles. C lives
 * in linear memory with rows and columns padded to whole tiles; its rows are moved together
 * and it is copied out with one more `set`. A narrow C (N = 1, a matrix-vector product) is
 * computed as C^T = op(B)^T op(A)^T, so that the 16-wide tiles run along the long side.
 * Memory is grown on demand and reused by later calls; it never shrinks.
 *
 * `packGemmB` packs a B operand once into the bottom of linear memory (a stack of such
 * operands; every product's scratch lies above it) for many products with it, as a recurrent
 * layer multiplies by W_hh at every step: those products skip B's copy and packing, and run
 * the very same kernels on the very same panels, so their results are identical.
 *
 * With `threads` above 1 the memory is a shared one, and products of at least
 * `WASM_SPLIT_MIN_MACS` multiply-adds are cut into parts of C (`gemm-split.ts`) that the
 * worker pool (`pool.ts`) runs beside the calling thread; the copies in and out stay on the
 * calling thread, which owns the operands. Results are identical to one thread's, bit for bit.
 *
 * Precision: when A, B and the output are all float32 the f32x4 kernels run and sums are
 * accumulated in float32, as PyTorch and BLAS do (rounding error grows like K * 2^-24 times
 * the sum of |a_ik * b_kj|). Any float64 or int32 operand or output selects the f64x2 kernels,
 * which accumulate in float64 as the TypeScript GEMM does. Where the engine has relaxed SIMD
 * (Node 22+, current browsers) the kernels multiply-add with `relaxed_madd`, fused on hardware
 * with FMA: within the same error bound, but not bit-identical to the plain kernels (Node 20).
 * @module
 */
import type { TensorData } from '../../dtype.ts'
import type { Gemm, GemmWithB, PackGemmB, PackedGemmB } from '../matmul.ts'
import { type GemmExports, type Precision, type WasmBlocking, gemmModuleBytes } from './gemm-module.ts'
import { type BlockPlace, blockLoops, panelAt, planSplit } from './gemm-split.ts'
import { type ChunkKernels, type GemmPool, createGemmPool, threadsUnavailable } from './pool.ts'
import { wasmRelaxedSimdSupported } from './support.ts'

/**
 * Tile and block sizes per precision, chosen by measurement (CPU time, best of interleaved
 * runs, Node 20, 3.6 GHz AMD EPYC, 2026-12-07). The f32 micro-kernel alone on cache-resident
 * blocks: 2x16 tiles ran at ~42 GFLOP/s with the depth loop not unrolled, 45 / 46 / 47 with
 * ku = 2 / 4 / 8 (ku = 16 would pass the 4 KB module budget), 4x8 at 46 with ku = 8; with
 * relaxed_madd 2x16 at ~53 and 3x12 at ~54, and 5x8 and 3x16 fell to 21-26. V8 has 15 SIMD
 * registers to give, and it loads all of a step's operands first: a step's loads, the
 * accumulators and one product must fit (2x16: 4 + 2 + 8 + 1). Whole products (512, 1024)
 * ran the same with relaxed 2x16, 3x12 and 4x8 (48-50), so both kernels share the tile.
 * f64 2x8: ~18.8 GFLOP/s at n = 512 not unrolled, 20.4 with ku = 8. Block sizes moved results
 * by under 10% (an earlier round, not measured again).
 */
export const WASM_BLOCKING: Readonly<Record<Precision, WasmBlocking>> = {
  f32: { mr: 2, nr: 16, kc: 256, mc: 64, nc: 2048, ku: 8 },
  f64: { mr: 2, nr: 8, kc: 256, mc: 64, nc: 1024, ku: 8 },
}

/** Options of {@link createWasmGemm}. */
export interface WasmGemmOptions {
  /** Blocking per precision (defaults: {@link WASM_BLOCKING}). */
  readonly blocking?: Partial<Record<Precision, WasmBlocking>>
  /**
   * Whether the kernels multiply-add with relaxed SIMD's `relaxed_madd` (default: where the engine
   * has it, {@link wasmRelaxedSimdSupported}). Its results may differ from the plain kernels' in the
   * last bits (one rounding per step where the hardware fuses).
   */
  readonly relaxed?: boolean
  /** Most linear memory to use, in bytes (default and ceiling {@link WASM_GEMM_MAX_BYTES}). */
  readonly maxBytes?: number
  /** Runs the products that do not fit in `maxBytes` of linear memory; without it they throw. */
  readonly fallback?: Gemm
  /**
   * Threads that share a product (default 1: no workers, an unshared memory). Above 1, and
   * where threads can run (see `threadsUnavailable`), the memory is a shared one and products
   * of at least `splitMinMacs` multiply-adds are cut into parts that workers run beside the caller.
   */
  readonly threads?: number
  /** The smallest product (M * N * K) that is split across threads (default 2^21: see `WASM_SPLIT_MIN_MACS`). */
  readonly splitMinMacs?: number
}

/**
 * Products of fewer multiply-adds (M * N * K) stay on the calling thread. Measured with packed B
 * on 2 threads against 1 (Node 20, 2-core EPYC shared with other work, min of interleaved runs):
 * 1.0M multiply-adds 0.92-1.04x, 2.1M 1.20x, 4.2M 1.47x, 8.4M 1.43-1.45x.
 */
const WASM_SPLIT_MIN_MACS = 2 ** 21
/** Parts per thread of a split product: more lets the others make up for a thread slowed by other work; fewer packs less twice. */
const PARTS_PER_THREAD = 2

const PAGE = 65536
/** Linear memory beyond this (bytes) is not requested: wasm32 memories stop at 4 GiB and engines often earlier. */
const WASM_GEMM_MAX_BYTES = 2 ** 31

interface Kernel {
  readonly exports: GemmExports
  /** packA, packB and macro, as the part loops call them. */
  readonly kernels: ChunkKernels
  readonly blocking: WasmBlocking
}

/** Where a product's pieces lie in linear memory (bytes), and the padded row length of C (elements). */
interface Layout {
  readonly aRaw: number
  readonly bRaw: number
  readonly aPack: number
  readonly bPack: number
  readonly c: number
  readonly ldc: number
  /** Where a transposed copy of C goes, when the product is computed as C^T. */
  readonly t: number
  readonly end: number
}

const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m
const align16 = (bytes: number): number => roundUp(bytes, 16)

/** The pieces of one product, from byte `base` up; with `residentB` B is already packed elsewhere (no room for it). */
function layout(E: number, b: WasmBlocking, M: number, N: number, K: number, swapped: boolean, base: number, residentB: boolean): Layout {
  const ldc = roundUp(N, b.nr)
  const kc = Math.min(b.kc, K)
  const aRaw = align16(base)
  const bRaw = align16(aRaw + M * K * E)
  const aPack = align16(bRaw + (residentB ? 0 : K * N * E))
  const bPack = align16(aPack + roundUp(Math.min(b.mc, M), b.mr) * kc * E)
  const c = align16(bPack + (residentB ? 0 : roundUp(Math.min(b.nc, N), b.nr) * kc * E))
  const t = align16(c + roundUp(M, b.mr) * ldc * E)
  return { aRaw, bRaw, aPack, bPack, c, ldc, t, end: swapped ? t + M * N * E : t }
}

function precisionOf(a: TensorData, b: TensorData, out: TensorData): Precision {
  return a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array ? 'f32' : 'f64'
}

/**
 * Whether to compute C^T = op(B)^T op(A)^T instead: tiles are `nr` wide, so a narrow C (a
 * matrix-vector product, N = 1) would waste most of each tile; transposed, the long side is
 * the wide one.
 */
function shouldSwap(b: WasmBlocking, M: number, N: number): boolean {
  return roundUp(N, b.mr) * roundUp(M, b.nr) < 0.8 * roundUp(M, b.mr) * roundUp(N, b.nr)
}

/** A typed array's elements [from, from + n) without allocating a view when that is all of it. */
function span(x: TensorData, from: number, n: number): TensorData {
  return from === 0 && x.length === n ? x : x.subarray(from, from + n)
}

/** A WASM GEMM, its way to multiply many times by one packed B, and its thread pool's controls. */
export type WasmGemm = Gemm & {
  readonly packGemmB: PackGemmB
  /** Threads its products use (1 where threads cannot run, whatever was asked; 1 after `close`). */
  threadCount(): number
  /** Resolves once the pool's workers (started at the first split product) are all ready; at once without a pool. */
  started(): Promise<void>
  /** Parts of products run by workers so far. */
  partsByWorkers(): number
  /** Stops the workers; later products run on the calling thread alone, with the same results. */
  close(): void
}

/**
 * Builds a WASM SIMD GEMM with its own linear memory (kept and grown across calls). Throws
 * when WebAssembly SIMD is unavailable; {@link wasmSimdSupported} says beforehand. Accepts
 * any mix of dtypes (see the module comment for the precision rule). Not reentrant.
 */
export function createWasmGemm(options: WasmGemmOptions = {}): WasmGemm {
  const relaxed = options.relaxed ?? wasmRelaxedSimdSupported()
  if (relaxed && !wasmRelaxedSimdSupported()) throw new RangeError('wasm gemm: relaxed kernels asked for, but this engine has no relaxed SIMD')
  const blocking = { ...WASM_BLOCKING, ...options.blocking }
  const maxBytes = Math.min(options.maxBytes ?? WASM_GEMM_MAX_BYTES, WASM_GEMM_MAX_BYTES)
  for (const p of ['f32', 'f64'] as const) {
    const { mr, nr, mc, nc } = blocking[p]
    if (mc % mr !== 0 || nc % nr !== 0)
      throw new RangeError(`wasm gemm: ${p} blocking needs mc a multiple of mr and nc of nr, got ${JSON.stringify(blocking[p])}`)
  }
  const minMacs = options.splitMinMacs ?? WASM_SPLIT_MIN_MACS
  // Threads share the memory, which must then be a shared one (with a maximum); one thread keeps today's unshared memory.
  let threads = Math.max(1, options.threads ?? 1)
  let shared = threads > 1 && threadsUnavailable() === null
  let memory: WebAssembly.Memory | undefined
  try {
    if (shared) memory = new WebAssembly.Memory({ initial: 1, maximum: Math.max(1, Math.floor(maxBytes / PAGE)), shared })
  } catch {
    // Some engines refuse to reserve a large shared memory (iOS Safari 16, 32-bit Chrome): one thread then.
    shared = false
  }
  if (memory === undefined) {
    shared = false
    memory = new WebAssembly.Memory({ initial: 1 })
  }
  if (!shared) threads = 1
  let pool: GemmPool | null = null
  const modules = new Map<Precision, WebAssembly.Module>()
  const kernels = new Map<Precision, Kernel>()
  let f32 = new Float32Array(memory.buffer)
  let f64 = new Float64Array(memory.buffer)
  let i32 = new Int32Array(memory.buffer)
  // Bytes at the bottom of memory held by packed B operands (packGemmB, a stack).
  let resident = 0

  const module = (p: Precision): WebAssembly.Module => {
    let m = modules.get(p)
    if (m === undefined) {
      m = new WebAssembly.Module(gemmModuleBytes(p, blocking[p], { shared, relaxed }))
      modules.set(p, m)
    }
    return m
  }

  /** The pool, started on first need; null when workers cannot be created here, which leaves every product on the calling thread from then on. */
  const startPool = (): GemmPool | null => {
    if (pool === null && threads > 1) {
      pool = createGemmPool(memory, [module('f32'), module('f64')], threads)
      if (pool === null) threads = 1
    }
    return pool
  }

  const kernel = (p: Precision): Kernel => {
    let k = kernels.get(p)
    if (k === undefined) {
      const x = new WebAssembly.Instance(module(p), { env: { memory } }).exports as unknown as GemmExports
      k = { exports: x, kernels: [x.packA, x.packB, x.macro], blocking: blocking[p] }
      kernels.set(p, k)
    }
    return k
  }

  /** Grows memory to `bytes` (by at least half, so growth is rare); false when that is not possible. */
  const reserve = (bytes: number): boolean => {
    if (bytes > maxBytes) return false
    const have = memory.buffer.byteLength
    if (bytes > have) {
      try {
        memory.grow(Math.ceil((Math.min(maxBytes, Math.max(bytes, have * 1.5)) - have) / PAGE))
      } catch {
        return false
      }
    }
    if (f32.buffer !== memory.buffer) {
      f32 = new Float32Array(memory.buffer)
      f64 = new Float64Array(memory.buffer)
      i32 = new Int32Array(memory.buffer)
    }
    return true
  }

  /**
   * Runs the product placed at `at` split into parts on the pool's threads (see `planSplit`),
   * with their scratch and lists of calls from byte `base` up; false (nothing done) when it is
   * not split: one thread, a product under the threshold, or no room in memory.
   */
  const split = (precision: Precision, at: BlockPlace, base: number, m: number, n: number, K: number): boolean => {
    const E = precision === 'f32' ? 4 : 8
    const plan = planSplit(blocking[precision], E, at, m, n, K, base, threads, minMacs, PARTS_PER_THREAD)
    if (plan === null) return false
    const { kernels: k } = kernel(precision)
    if (startPool() === null) return false
    // Per job: a table of [start, end) word indices per part, then the parts' words.
    const tables: number[] = []
    let w = align16(plan.end) / 4
    for (const job of plan.jobs) {
      tables.push(w * 4)
      w += 2 * job.length + job.reduce((sum, c) => sum + c.length, 0)
    }
    if (!reserve(w * 4)) return false
    plan.jobs.forEach((job, j) => {
      const table = tables[j] / 4
      let at = table + 2 * job.length
      job.forEach((c, i) => {
        i32[table + 2 * i] = at
        i32.set(c, at)
        at += c.length
        i32[table + 2 * i + 1] = at
      })
    })
    plan.jobs.forEach((job, j) => pool?.run(precision === 'f32' ? 0 : 1, tables[j], job.length, k, i32))
    return true
  }

  /**
   * The loops over cache blocks and the copy out, for a product laid out as `L` whose A is in
   * place at `L.aRaw`: B is packed per panel from `L.bRaw`, or read from its resident panels
   * at `bResident` (bytes; -1 for none).
   */
  const product = (
    precision: Precision,
    L: Layout,
    m: number,
    n: number,
    K: number,
    ta: boolean,
    tb: boolean,
    bResident: number,
    swap: boolean,
    out: TensorData,
    outOffset: number,
  ): void => {
    const { exports: x, kernels: k, blocking: blk } = kernel(precision)
    const E = precision === 'f32' ? 4 : 8
    // op'(A')(i,k) = A'[i*rsA + k*csA]; op'(B')(k,j) = B'[k*rsB + j*csB] (element strides).
    const at: BlockPlace = { aRaw: L.aRaw, rsA: ta ? 1 : K, csA: ta ? m : 1, bRaw: L.bRaw, rsB: tb ? 1 : n, csB: tb ? K : 1, bResident, c: L.c, ldc: L.ldc }
    if (!split(precision, at, L.end, m, n, K)) blockLoops(k, blk, E, at, { i0: 0, i1: m, j0: 0, j1: n, aPack: L.aPack, bPack: L.bPack }, n, K)
    let result = L.c
    if (swap) {
      x.transpose(L.c, L.ldc * E, m, n, L.t)
      result = L.t
    } else if (L.ldc !== n) {
      x.compact(L.c, L.ldc * E, n * E, m)
    }
    const view = precision === 'f32' ? f32 : f64
    out.set(view.subarray(result / E, result / E + m * n), outOffset)
  }

  const gemm: Gemm = (a, aOffset, transA, b, bOffset, transB, out, outOffset, M, N, K) => {
    if (M === 0 || N === 0) return
    if (K === 0) {
      out.fill(0, outOffset, outOffset + M * N)
      return
    }
    const precision = precisionOf(a, b, out)
    const { blocking: blk } = kernel(precision)
    const E = precision === 'f32' ? 4 : 8
    const swap = shouldSwap(blk, M, N)
    // The product computed: C' = op'(A') op'(B') with C' = C, or C^T = op(B)^T op(A)^T.
    const [m, n] = swap ? [N, M] : [M, N]
    const L = layout(E, blk, m, n, K, swap, resident, false)
    if (!reserve(L.end)) {
      if (options.fallback === undefined)
        throw new RangeError(`wasm gemm: the product [${M},${K}]x[${K},${N}] needs ${L.end} bytes of linear memory, over the ${maxBytes}-byte limit`)
      options.fallback(a, aOffset, transA, b, bOffset, transB, out, outOffset, M, N, K)
      return
    }
    const view = precision === 'f32' ? f32 : f64
    view.set(span(swap ? b : a, swap ? bOffset : aOffset, m * K), L.aRaw / E)
    view.set(span(swap ? a : b, swap ? aOffset : bOffset, K * n), L.bRaw / E)
    // A' is B^T when swapped, stored as B is: transposing op(B) flips its flag (likewise B').
    product(precision, L, m, n, K, swap ? !transB : transA, swap ? !transA : transB, -1, swap, out, outOffset)
  }

  const packGemmB: PackGemmB = (b, bOffset, transB, K, N) => {
    const plain: GemmWithB = (a, aOffset, transA, out, outOffset, M) => gemm(a, aOffset, transA, b, bOffset, transB, out, outOffset, M, N, K)
    const unpacked: PackedGemmB = { gemm: plain, release: () => {} }
    if (N === 0 || K === 0) return unpacked
    const precision: Precision = b instanceof Float32Array ? 'f32' : 'f64'
    const { exports: x, blocking: blk } = kernel(precision)
    const E = precision === 'f32' ? 4 : 8
    const start = align16(resident)
    const end = align16(start + roundUp(N, blk.nr) * K * E)
    // B's raw copy goes just above its packed panels while they are packed.
    if (!reserve(end + K * N * E)) return unpacked
    ;(precision === 'f32' ? f32 : f64).set(span(b, bOffset, K * N), end / E)
    const rsB = transB ? 1 : N
    const csB = transB ? K : 1
    for (let jc = 0; jc < N; jc += blk.nc) {
      for (let pc = 0; pc < K; pc += blk.kc) {
        x.packB(end + (pc * rsB + jc * csB) * E, csB * E, rsB * E, Math.min(blk.nc, N - jc), Math.min(blk.kc, K - pc), start + panelAt(blk, N, K, jc, pc) * E)
      }
    }
    const below = resident
    resident = end
    let live = true
    const packed: GemmWithB = (a, aOffset, transA, out, outOffset, M) => {
      if (M === 0) return
      // Anything the packed panels do not fit (another precision, a product better swapped, a call after release) runs as usual.
      if (!live || precisionOf(a, b, out) !== precision || shouldSwap(blk, M, N)) return plain(a, aOffset, transA, out, outOffset, M)
      const L = layout(E, blk, M, N, K, false, resident, true)
      if (!reserve(L.end)) return plain(a, aOffset, transA, out, outOffset, M)
      ;(precision === 'f32' ? f32 : f64).set(span(a, aOffset, M * K), L.aRaw / E)
      product(precision, L, M, N, K, transA, transB, start, false, out, outOffset)
    }
    const release = (): void => {
      if (!live) return
      if (resident !== end) throw new RangeError('wasm gemm: packed B operands must be released in reverse order of packing')
      live = false
      resident = below
    }
    return { gemm: packed, release }
  }

  const control = {
    packGemmB,
    threadCount: () => threads,
    started: async (): Promise<void> => {
      await startPool()?.started()
    },
    partsByWorkers: () => pool?.chunksByWorkers() ?? 0,
    close: (): void => {
      pool?.close()
      pool = null
      threads = 1
    },
  }
  return Object.assign(gemm, control)
}
