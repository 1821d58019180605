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

/**
 * The parts C is cut into for `threads` threads: none (null) below `minMacs` multiply-adds or
 * with one thread; else whole tiles along the longer side, about `perThread` parts per thread,
 * so that a thread slowed by other work on its core is made up for by the others claiming more.
 */
export function planParts(
  blk: WasmBlocking,
  m: number,
  n: number,
  K: number,
  threads: number,
  minMacs: number,
  perThread: number,
): { readonly byColumns: boolean; readonly ranges: readonly (readonly [number, number])[] } | null {
  if (threads <= 1 || m * n * K < minMacs) return null
  const byColumns = n >= m
  const [size, tile] = byColumns ? [n, blk.nr] : [m, blk.mr]
  const tiles = Math.ceil(size / tile)
  const count = Math.min(tiles, threads * perThread, MAX_CHUNKS)
  if (count < 2) return null
  const ranges: [number, number][] = []
  for (let c = 0; c < count; c++) ranges.push([Math.round((c * tiles) / count) * tile, Math.min(size, Math.round(((c + 1) * tiles) / count) * tile)])
  return { byColumns, ranges }
}

/** The kernel calls of one part, as the int32 words the pool reads (see `pool.ts`). */
export function recordCalls(blk: WasmBlocking, E: number, at: BlockPlace, p: Part, n: number, K: number): number[] {
  const words: number[] = []
  const call =
    (op: number) =>
    (...args: number[]): void => {
      words.push(op, ...args)
      for (let i = args.length + 1; i < CALL_WORDS; i++) words.push(0)
    }
  blockLoops([call(0), call(1), call(2)], blk, E, at, p, n, K)
  return words
}
