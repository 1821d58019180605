/**
 * The forward walk of a fused recurrent scan (see `scan.ts` for what it shares with the
 * backward): per step, the hidden projection, the input projection's row, the cell's
 * pointwise kernel, then the outputs and the tape.
 * @module
 */
import { ArgumentError } from '@graphgrad/core'
import type { CellKernel, ForwardRows } from './cell.ts'
import { type CellSteps, type RowAlloc, forwardSteps } from './cell-steps.ts'
import { packGemmB, probeInside } from './core.ts'
import { type Floats, allocLike, copier } from './copy.ts'
import { EMPTY, type GxSource, type ScanOutputs, type ScanShape, type ScanTape, chunkSteps, finishedRows, outAt } from './scan.ts'

/** What a scan reads, in the model's dtype except the two small biases. */
export interface ScanInputs {
  /** [T,B,G*H] in time order, or a {@link GxSource} that computes it a chunk of steps at a time. */
  readonly gx: Floats | GxSource
  /** [B, H]: the initial h. */
  readonly h0: Floats
  /** [B, H]: the initial c (empty for cells without one). */
  readonly c0: Floats
  /** [G*H, H]: W_hh. */
  readonly w: Floats
  /** [G*H]: an in-step b_hh (GRU), else empty. */
  readonly bhh: Float64Array
  /** [G*H]: an input bias added to every step's gx here (so the biased projection is never stored), else empty. */
  readonly bx: Float64Array
}

/**
 * Runs the recurrence, writing `out` (allocated by the caller in the model's dtype). With
 * `keepTape` false (no gradient will be asked for) the returned tape is empty.
 */
export function scanForward(k: CellKernel, shape: ScanShape, inputs: ScanInputs, out: ScanOutputs, keepTape = true): ScanTape {
  const { T, B, H, reverse } = shape
  const BH = B * H
  if (inputs.bhh.length > 0 && !k.stepBias) throw new ArgumentError('scanForward: this cell folds b_hh into gx and takes no in-step bias')
  const model = out.output
  const tape = stateTape(k, shape, model, keepTape)
  const steps = forwardSteps(k, model, B, H, (alloc) => forwardRows(k, B, H, inputs.bhh, alloc))
  const rows = steps.rows
  const C = chunkSteps(T, B)
  const finished: number[] = []
  let hidden: ReturnType<typeof hiddenProjection> | null = null
  try {
    hidden = hiddenProjection(inputs.w, k.gates * H, H, B, model, rows.pre)
    const readGx = inputRows(k, shape, inputs, model, rows.gx, steps.loadBiased)
    const loadState = copier(tape.hs, rows.hPrev)
    const storeState = copier(rows.hNext, tape.hs)
    const storeCache = copier(rows.cache, tape.cache)
    copier(inputs.h0, tape.hs)(inputs.h0, 0, tape.hs, 0, BH)
    if (k.hasCell) copier(inputs.c0, tape.cs)(inputs.c0, 0, tape.cs, 0, BH)
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s
      const prev = tape.slotAt(s)
      const next = tape.slotAt(s + 1)
      hidden.project(tape.hs, prev)
      loadState(tape.hs, prev, rows.hPrev, 0, BH)
      if (k.hasCell) loadState(tape.cs, prev, rows.cPrev, 0, BH)
      readGx(t)
      steps.step()
      if (shape.batchFirst === true) for (let b = 0; b < B; b++) storeState(rows.hNext, b * H, model, outAt(shape, t, b), H)
      else storeState(rows.hNext, 0, model, t * BH, BH)
      holdFinished(shape, rows, model, t, finishedRows(shape, t, finished))
      storeState(rows.hNext, 0, tape.hs, next, BH)
      if (k.hasCell) storeState(rows.cNext, 0, tape.cs, next, BH)
      if (keepTape) storeCache(rows.cache, 0, tape.cache, s * rows.cache.length, rows.cache.length)
      // Once per chunk of steps, with the tape, the outputs and every scratch buffer live.
      if ((s + 1) % C === 0 || s === T - 1) probeInside('recurrent scan forward')
    }
  } finally {
    hidden?.release()
    steps.release()
  }
  const last = tape.slotAt(T)
  out.h.set(tape.hs.subarray(last, last + BH))
  if (k.hasCell) out.c.set(tape.cs.subarray(last, last + BH))
  return keepTape ? { hs: tape.hs, cs: tape.cs, cache: tape.cache } : { hs: EMPTY, cs: EMPTY, cache: EMPTY }
}

/**
 * The states and caches a forward keeps, and where state s lives. Without a tape (nobody will
 * differentiate) the state alternates between two slots and no cache is kept: two states of
 * memory instead of T+1, and none of the B*T*cacheWidth*H cache.
 */
function stateTape(k: CellKernel, shape: ScanShape, like: Floats, keepTape: boolean): ScanTape & { slotAt(s: number): number } {
  const { T, B, H } = shape
  const BH = B * H
  const slots = keepTape ? T + 1 : 2
  return {
    hs: allocLike(like, slots * BH),
    cs: k.hasCell ? allocLike(like, slots * BH) : EMPTY,
    cache: allocLike(like, keepTape ? T * B * k.cacheWidth * H : 0),
    slotAt: (s) => (keepTape ? s : s & 1) * BH,
  }
}

/** One step's rows, reused at every step (float64, or float32 in WASM memory: see `cell-steps.ts`). */
function forwardRows(k: CellKernel, B: number, H: number, bhh: Float64Array, alloc: RowAlloc): ForwardRows<Floats> {
  const BH = B * H
  const GH = k.gates * H
  const bias = alloc(k.stepBias ? GH : 0)
  if (bhh.length > 0) copier(bhh, bias)(bhh, 0, bias, 0, GH)
  return {
    gx: alloc(B * GH),
    pre: alloc(B * GH),
    bhh: bias,
    hPrev: alloc(BH),
    cPrev: alloc(k.hasCell ? BH : 0),
    hNext: alloc(BH),
    cNext: alloc(k.hasCell ? BH : 0),
    cache: alloc(B * k.cacheWidth * H),
  }
}

/**
 * `pre = h_{t-1} W_hh^T` into the step's row: computed in the model's dtype (float32 GEMM
 * kernels for a float32 model, as PyTorch's) and then read into a float64 row; it lands in
 * a row of the model's dtype directly. W_hh is packed once for all T steps.
 */
function hiddenProjection(w: Floats, GH: number, H: number, B: number, like: Floats, pre: Floats): { project(hs: Floats, at: number): void; release(): void } {
  const packed = packGemmB(w, 0, true, H, GH)
  const preT = like.constructor === pre.constructor ? pre : allocLike(like, B * GH)
  const load = preT === pre ? null : copier(preT, pre)
  return {
    project(hs, at) {
      packed.gemm(hs, at, false, preT, 0, B)
      if (load !== null) load(preT, 0, pre, 0, B * GH)
    },
    release: () => packed.release(),
  }
}

/**
 * Fills the step's gx row, with the input bias added, from the whole projection or from a
 * {@link GxSource} asked for one chunk of steps at a time (into one chunk's buffer).
 */
function inputRows(
  k: CellKernel,
  shape: ScanShape,
  inputs: ScanInputs,
  like: Floats,
  into: Floats,
  loadBiased: CellSteps<unknown>['loadBiased'],
): (t: number) => void {
  const { T, B, H } = shape
  const GH = k.gates * H
  const source = typeof inputs.gx === 'function' ? inputs.gx : null
  const C = chunkSteps(T, B)
  const data = source === null ? (inputs.gx as Floats) : allocLike(like, C * B * GH)
  const load = copier(data, into)
  const bx = inputs.bx
  let from = -1
  return (t) => {
    let at = t * B * GH
    if (source !== null) {
      const t0 = t - (t % C)
      if (t0 !== from) source(t0, Math.min(C, T - t0), data)
      from = t0
      at = (t - t0) * B * GH
    }
    if (bx.length > 0) loadBiased(data, at, into, B, GH, bx)
    else load(data, at, into, 0, B * GH)
  }
}

/** Rows whose sequence is over keep their previous state and emit zeros at step t. */
function holdFinished(shape: ScanShape, rows: ForwardRows<Floats>, output: Floats, t: number, finished: readonly number[]): void {
  const H = shape.H
  for (const b of finished) {
    rows.hNext.set(rows.hPrev.subarray(b * H, (b + 1) * H), b * H)
    if (rows.cNext.length > 0) rows.cNext.set(rows.cPrev.subarray(b * H, (b + 1) * H), b * H)
    output.fill(0, outAt(shape, t, b), outAt(shape, t, b) + H)
  }
}
