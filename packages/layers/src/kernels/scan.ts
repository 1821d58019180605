/**
 * The time loop of a fused recurrent layer, over typed arrays only: for each step one GEMM
 * `h_{t-1} W_hh^T` and one call of the cell's pointwise kernel; backward runs the steps in
 * reverse with the cell's hand-written backward kernel, one GEMM per step for `dh_{t-1}`,
 * and a single GEMM over all steps for `dW_hh`.
 *
 * Variable lengths follow packed-sequence semantics: a row whose sequence is over at step t
 * keeps its state and emits zeros, so the forward direction stops at the row's own last
 * step and the reverse direction starts there.
 *
 * Everything here is Float64Array except the weight, which only GEMM reads (it packs any
 * dtype); so every loop is monomorphic.
 * @module
 */
import { ArgumentError } from '@graphgrad/core'
import { gemm } from './core.ts'

/**
 * The pointwise part of one recurrent cell, for one time step of B rows. Every array is
 * addressed through an offset (`…At`) into the scan's whole buffers, so the time loop
 * allocates nothing per step: `hs`/`cs` are [T+1, B, H] (the state before the step at
 * `prevAt`, the one after it at `nextAt`), `gx`/`dgx` [T, B, G*H], `cache` [T, B, cacheWidth*H].
 */
export interface CellKernel {
  /** Gate blocks of H in the projections: LSTM 4, GRU 3, RNN 1. */
  readonly gates: number
  /** Whether the state has a cell part `c` besides `h` (LSTM). */
  readonly hasCell: boolean
  /** Floats kept per row per step for backward, in units of H. */
  readonly cacheWidth: number
  /**
   * Whether `forward` adds an in-step b_hh to `pre` (GRU, whose reset gate multiplies it);
   * the other cells fold b_hh into `gx`, and a scan refuses to give them one.
   */
  readonly stepBias: boolean
  /**
   * One forward step. `gx` at `gxAt` [B,G*H] is the input projection (with folded biases),
   * `pre` [B,G*H] is `h_{t-1} W_hh^T`, `bhh` [G*H] the in-step bias or empty. Reads h_{t-1}
   * (and c_{t-1}) at `prevAt`, writes h_t (and c_t) at `nextAt` and the step's cache at `cacheAt`.
   */
  forward(B: number, H: number, gx: Float64Array, gxAt: number, pre: Float64Array, bhh: Float64Array,
    hs: Float64Array, cs: Float64Array, prevAt: number, nextAt: number, cache: Float64Array, cacheAt: number): void
  /**
   * One backward step from `dh`, `dc` (the cotangents of h_t, c_t, [B,H]): writes the
   * cotangents of `gx` (at `dgxAt`) and of `pre` (at `dpreAt`), the part of `dhPrev` that
   * does not go through W_hh, and `dcPrev`.
   */
  backward(B: number, H: number, cache: Float64Array, cacheAt: number, hs: Float64Array, cs: Float64Array, prevAt: number,
    nextAt: number, dh: Float64Array, dc: Float64Array, dgx: Float64Array, dgxAt: number, dpre: Float64Array, dpreAt: number,
    dhPrev: Float64Array, dcPrev: Float64Array): void
}

/** The sizes and the direction of one scan. */
export interface ScanShape {
  /** Time steps. */
  readonly T: number
  /** Batch rows. */
  readonly B: number
  /** Hidden size. */
  readonly H: number
  /** Walk t = T-1 .. 0. */
  readonly reverse: boolean
  /** Per-row sequence lengths in [1, T], or null when every row has T steps. */
  readonly lengths: Int32Array | null
}

/** What forward keeps for backward: the states in processing order and the cell caches. */
export interface ScanTape {
  /** [T+1, B, H]: slot s is the state before processing step s (slot 0 is h0). */
  readonly hs: Float64Array
  /** As `hs` for the cell state (empty for cells without one). */
  readonly cs: Float64Array
  /** [T, B, cacheWidth*H]. */
  readonly cache: Float64Array
}

/** The cotangents a scan's backward produces. */
export interface ScanGrads {
  /** [T, B, G*H], in time order. */
  readonly dgx: Float64Array
  /** [B, H]. */
  readonly dh0: Float64Array
  /** [B, H] (empty without cell state). */
  readonly dc0: Float64Array
  /** [G*H, H]. */
  readonly dw: Float64Array
  /** [G*H]: the sum of the `pre` cotangents, i.e. the gradient of a b_hh kept in the step. */
  readonly dbhh: Float64Array
}

/**
 * Which optional cotangents a backward computes (`dgx` and `dc0` always: the recursion
 * needs them anyway). A skipped one comes back empty, and its work is not done: the
 * `dW_hh` GEMM over all steps, the `dbhh` sum, the last step's `dh_{-1}` GEMM.
 */
export interface ScanNeeds {
  /** The cotangent of W_hh. */
  readonly dw: boolean
  /** The cotangent of an in-step b_hh (false when there is none). */
  readonly dbhh: boolean
  /** The cotangent of h0. */
  readonly dh0: boolean
}

const EMPTY = new Float64Array(0)

const ALL: ScanNeeds = { dw: true, dbhh: true, dh0: true }

function active(shape: ScanShape, t: number, b: number): boolean {
  return shape.lengths === null || t < shape.lengths[b]
}

/**
 * Runs the recurrence. `gx` is [T,B,G*H] in time order, `w` is W_hh [G*H, H] in any float
 * dtype, `bhh` [G*H] or empty. Writes `out` [T+S, B, H] (S = 2 with a cell state, else 1):
 * rows 0..T-1 the outputs h_t in time order (zero past a row's length), row T the final h,
 * row T+1 the final c.
 */
export function scanForward(k: CellKernel, shape: ScanShape, gx: Float64Array, h0: Float64Array, c0: Float64Array,
  w: Float32Array | Float64Array, bhh: Float64Array, out: Float64Array): ScanTape {
  const { T, B, H, reverse } = shape
  const GH = k.gates * H
  const BH = B * H
  const CW = k.cacheWidth * H
  const hs = new Float64Array((T + 1) * BH)
  const cs = k.hasCell ? new Float64Array((T + 1) * BH) : EMPTY
  const cache = new Float64Array(T * B * CW)
  const pre = new Float64Array(B * GH)
  if (bhh.length > 0 && !k.stepBias) throw new ArgumentError('scanForward: this cell folds b_hh into gx and takes no in-step bias')
  hs.set(h0)
  if (k.hasCell) cs.set(c0)
  for (let s = 0; s < T; s++) {
    const t = reverse ? T - 1 - s : s
    const prev = s * BH
    const next = prev + BH
    gemm(hs, prev, false, w, 0, true, pre, 0, B, GH, H)
    k.forward(B, H, gx, t * B * GH, pre, bhh, hs, cs, prev, next, cache, s * B * CW)
    for (let b = 0; b < B; b++) {
      const r = b * H
      if (active(shape, t, b)) {
        for (let j = 0; j < H; j++) out[t * BH + r + j] = hs[next + r + j]
      } else {
        for (let j = 0; j < H; j++) hs[next + r + j] = hs[prev + r + j]
        if (k.hasCell) for (let j = 0; j < H; j++) cs[next + r + j] = cs[prev + r + j]
      }
    }
  }
  out.set(hs.subarray(T * BH, (T + 1) * BH), T * BH)
  if (k.hasCell) out.set(cs.subarray(T * BH, (T + 1) * BH), (T + 1) * BH)
  return { hs, cs, cache }
}

/** Backpropagation through time of {@link scanForward}, from the cotangent `g` of its `out`. */
export function scanBackward(k: CellKernel, shape: ScanShape, tape: ScanTape, g: Float64Array, w: Float32Array | Float64Array, needs: ScanNeeds = ALL): ScanGrads {
  const { T, B, H, reverse } = shape
  const GH = k.gates * H
  const BH = B * H
  const CW = k.cacheWidth * H
  const { hs, cs, cache } = tape
  let dh = g.slice(T * BH, (T + 1) * BH)
  let dc = k.hasCell ? g.slice((T + 1) * BH, (T + 2) * BH) : EMPTY
  let dhPrev = new Float64Array(BH)
  let dcPrev = k.hasCell ? new Float64Array(BH) : EMPTY
  const through = new Float64Array(BH)
  const dgx = new Float64Array(T * B * GH)
  const dpreAll = new Float64Array(T * B * GH)
  for (let s = T - 1; s >= 0; s--) {
    const t = reverse ? T - 1 - s : s
    for (let b = 0; b < B; b++) {
      if (active(shape, t, b)) for (let j = b * H; j < (b + 1) * H; j++) dh[j] += g[t * BH + j]
    }
    const gxAt = t * B * GH
    const preAt = s * B * GH
    k.backward(B, H, cache, s * B * CW, hs, cs, s * BH, (s + 1) * BH, dh, dc, dgx, gxAt, dpreAll, preAt, dhPrev, dcPrev)
    for (let b = 0; b < B; b++) {
      if (active(shape, t, b)) continue
      // A finished row skipped this step: its cotangent passes straight through.
      dgx.fill(0, gxAt + b * GH, gxAt + (b + 1) * GH)
      dpreAll.fill(0, preAt + b * GH, preAt + (b + 1) * GH)
      for (let j = b * H; j < (b + 1) * H; j++) dhPrev[j] = dh[j]
      if (k.hasCell) for (let j = b * H; j < (b + 1) * H; j++) dcPrev[j] = dc[j]
    }
    // At s = 0 this GEMM only feeds dh0.
    if (s > 0 || needs.dh0) {
      gemm(dpreAll, preAt, false, w, 0, false, through, 0, B, H, GH)
      for (let j = 0; j < BH; j++) dhPrev[j] += through[j]
    }
    const dhNext = dhPrev
    dhPrev = dh
    dh = dhNext
    const dcNext = dcPrev
    dcPrev = dc
    dc = dcNext
  }
  const dw = needs.dw ? new Float64Array(GH * H) : EMPTY
  // dW_hh = sum over steps of dpre_s^T h_{s-1}: one GEMM over all T*B rows at once.
  if (needs.dw) gemm(dpreAll, 0, true, hs, 0, false, dw, 0, GH, H, T * B)
  const dbhh = needs.dbhh ? new Float64Array(GH) : EMPTY
  if (needs.dbhh) for (let r = 0; r < T * B; r++) for (let j = 0; j < GH; j++) dbhh[j] += dpreAll[r * GH + j]
  return { dgx, dh0: needs.dh0 ? dh : EMPTY, dc0: dc, dw, dbhh }
}
