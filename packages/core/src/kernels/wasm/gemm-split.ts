/**
 * The WASM GEMM's loops over cache blocks, for the whole of C or for one part of it, and the
 * split of a large product into such parts for the thread pool (`pool.ts`).
 *
 * Why the result does not depend on the split: a C element's value is fixed by the sequence of
 * depth blocks (`pc`, steps of `kc` from 0) that `macro` accumulates into it, each block
 * summed in order by the register tile, lanes independent of one another. A part of C is a
 * range of whole tile rows or whole tile columns, and the loops below run the same depth blocks
 * for every element of any part; which thread runs a part, how the parts are cut, and which
 * columns or rows share a packed block change only where packed copies lie, never a value.
 * @module
 */
import type { WasmBlocking } from './gemm-module.ts'
import { CALL_WORDS, type ChunkKernels, MAX_CHUNKS } from './pool.ts'

const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m

/** Where a product's operands lie in linear memory (bytes), as the loops read them. */
export interface BlockPlace {
  /** op'(A')'s copy, and its element strides: op'(A')(i,k) = A'[i*rsA + k*csA]. */
  readonly aRaw: number
  readonly rsA: number
  readonly csA: number
  /** op'(B')'s copy (unused with resident panels), and its strides: op'(B')(k,j) = B'[k*rsB + j*csB]. */
  readonly bRaw: number
  readonly rsB: number
  readonly csB: number
  /** Where op(B)'s packed panels already lie for all of it (packGemmB), or -1 to pack them per block. */
  readonly bResident: number
  /** C, rows `ldc` elements apart. */
  readonly c: number
  readonly ldc: number
}

/** A part of C: rows [i0, i1) by columns [j0, j1), and its packing scratch (bytes). */
export interface Part {
  readonly i0: number
  readonly i1: number
  readonly j0: number
  readonly j1: number
  readonly aPack: number
  readonly bPack: number
}

/** Where the packed panel of B's columns from `jc` and depth from `pc` lies, in elements from the packed operand's start (panels in loop order). */
export function panelAt(blk: WasmBlocking, N: number, K: number, jc: number, pc: number): number {
  return jc * K + roundUp(Math.min(blk.nc, N - jc), blk.nr) * pc
}

/**
 * The Goto/BLIS loops for the part `p` of the `n`-column, depth-`K` product placed at `at`,
 * calling `k` (the kernels themselves, or a recorder of calls). Column blocks follow the whole
 * product's `nc` grid, so that a part can use resident panels.
 */
export function blockLoops(k: ChunkKernels, blk: WasmBlocking, E: number, at: BlockPlace, p: Part, n: number, K: number): void {
  const [packA, packB, macro] = k
  const { nr, kc: KC, mc: MC, nc: NC } = blk
  for (let jb = Math.floor(p.j0 / NC) * NC; jb < p.j1; jb += NC) {
    const lo = Math.max(jb, p.j0)
    const nc = Math.min(jb + NC, p.j1) - lo
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc)
      let panel = p.bPack
      if (at.bResident < 0) packB(at.bRaw + (pc * at.rsB + lo * at.csB) * E, at.csB * E, at.rsB * E, nc, kc, p.bPack)
      else panel = at.bResident + (panelAt(blk, n, K, jb, pc) + (lo - jb) * kc) * E
      for (let ic = p.i0; ic < p.i1; ic += MC) {
        const mc = Math.min(MC, p.i1 - ic)
        packA(at.aRaw + (ic * at.rsA + pc * at.csA) * E, at.rsA * E, at.csA * E, mc, kc, p.aPack)
        macro(mc, nc, kc, p.aPack, panel, nr * kc * E, nr * E, at.c + (ic * at.ldc + lo) * E, at.ldc * E, pc === 0 ? 1 : 0)
      }
    }
  }
}

/** Cuts [0, size) into about `count` ranges of whole `tile`s. */
function ranges(size: number, tile: number, count: number): [number, number][] {
  const tiles = Math.ceil(size / tile)
  const n = Math.min(tiles, count)
  return Array.from({ length: n }, (_, c) => [Math.round((c * tiles) / n) * tile, Math.min(size, Math.round(((c + 1) * tiles) / n) * tile)])
}

/** A recorder of kernel calls as the int32 words the pool reads (see `pool.ts`), and the words so far. */
function recorder(): { readonly kernels: ChunkKernels; readonly words: number[] } {
  const words: number[] = []
  const call =
    (op: number) =>
    (...args: number[]): void => {
      words.push(op, ...args)
      for (let i = args.length + 1; i < CALL_WORDS; i++) words.push(0)
    }
  return { kernels: [call(0), call(1), call(2)], words }
}

/** How a product runs on the pool: jobs one after the other, each a list of parts' call words; scratch from `base` up to `end` (bytes). */
export interface SplitPlan {
  readonly jobs: readonly (readonly number[][])[]
  readonly end: number
}

/** When op(A) has at least this many rows, B is packed once by all threads and C split by rows: nothing is packed twice. */
const ROWS_FOR_SHARED_B = 128

/**
 * How the product placed at `at` runs on `threads` threads, with its scratch from byte `base`
 * up: null (one thread) below `minMacs` multiply-adds. About `perThread` parts per thread, so
 * that a thread slowed by other work on its core is made up for by the others claiming more.
 * With B packed already (packGemmB), or few rows, one job splits the longer side of C (each part
 * packs its own A block, or B panel, again). Else two: the threads pack B's panels by columns
 * into one packed copy, then compute C by rows from it.
 */
export function planSplit(
  blk: WasmBlocking,
  E: number,
  at: BlockPlace,
  m: number,
  n: number,
  K: number,
  base: number,
  threads: number,
  minMacs: number,
  perThread: number,
): SplitPlan | null {
  if (threads <= 1 || m * n * K < minMacs) return null
  const count = Math.min(threads * perThread, MAX_CHUNKS)
  const kc = Math.min(blk.kc, K)
  const align16 = (bytes: number): number => roundUp(bytes, 16)
  const aBytes = (rows: number): number => align16(roundUp(Math.min(blk.mc, rows), blk.mr) * kc * E)
  const record = (place: BlockPlace, p: Part): number[] => {
    const r = recorder()
    blockLoops(r.kernels, blk, E, place, p, n, K)
    return r.words
  }
  const start = align16(base)
  if (at.bResident < 0 && m >= ROWS_FOR_SHARED_B) {
    const packed = start
    const scratch = align16(packed + roundUp(n, blk.nr) * K * E)
    const packing = ranges(n, blk.nr, count).map(([j0, j1]) => {
      const r = recorder()
      for (let jb = Math.floor(j0 / blk.nc) * blk.nc; jb < j1; jb += blk.nc) {
        const lo = Math.max(jb, j0)
        for (let pc = 0; pc < K; pc += blk.kc) {
          const depth = Math.min(blk.kc, K - pc)
          const dst = packed + (panelAt(blk, n, K, jb, pc) + (lo - jb) * depth) * E
          r.kernels[1](at.bRaw + (pc * at.rsB + lo * at.csB) * E, at.csB * E, at.rsB * E, Math.min(jb + blk.nc, j1) - lo, depth, dst)
        }
      }
      return r.words
    })
    const rows = ranges(m, blk.mr, count)
    const a = aBytes(Math.max(...rows.map(([i0, i1]) => i1 - i0)))
    const place = { ...at, bResident: packed }
    const computing = rows.map(([i0, i1], c) => record(place, { i0, i1, j0: 0, j1: n, aPack: scratch + c * a, bPack: -1 }))
    return { jobs: [packing, computing], end: scratch + rows.length * a }
  }
  const byColumns = n >= m
  const parts = byColumns ? ranges(n, blk.nr, count) : ranges(m, blk.mr, count)
  if (parts.length < 2) return null
  const widest = Math.max(...parts.map(([lo, hi]) => hi - lo))
  const a = aBytes(byColumns ? m : widest)
  const b = at.bResident < 0 ? align16(roundUp(Math.min(blk.nc, byColumns ? widest : n), blk.nr) * kc * E) : 0
  const calls = parts.map(([lo, hi], c) => {
    const [i0, i1, j0, j1] = byColumns ? [0, m, lo, hi] : [lo, hi, 0, n]
    return record(at, { i0, i1, j0, j1, aPack: start + c * (a + b), bPack: start + c * (a + b) + a })
  })
  return { jobs: [calls], end: start + parts.length * (a + b) }
}
