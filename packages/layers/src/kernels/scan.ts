/**
 * The time loop of a fused recurrent layer, over typed arrays only: for each step one GEMM
 * `h_{t-1} W_hh^T` and one call of the cell's pointwise kernel; backward runs the steps in
 * reverse with the cell's hand-written backward kernel, one GEMM per step for `dh_{t-1}`,
 * and one GEMM per chunk of steps (all steps unless a caller takes dgx in chunks) for
 * `dW_hh`. An input bias is added to each step's projection here and its cotangent summed
 * here, so the biased projection is never stored.
 *
 * Variable lengths follow packed-sequence semantics: a row whose sequence is over at step t
 * keeps its state and emits zeros, so the forward direction stops at the row's own last
 * step and the reverse direction starts there.
 *
 * The input projection is asked for a chunk of steps at a time ({@link GxSource}), and dgx
 * is handed on a chunk at a time ({@link DgxSink}), so neither ever exists for all steps.
 * W_hh is packed once per walk (`packGemmB`) for its T step products, which run in the
 * model's dtype (float32 GEMM kernels for a float32 model, accumulating in float32 as
 * PyTorch's do; float64 for a float64 model).
 *
 * The tape (states, cell caches) and the results are kept in the model's dtype, so a float32
 * model stores float32 activations, as PyTorch does; the cell kernels only ever see float64
 * rows of one step (scratch reused across steps), filled and drained by copy kernels
 * compiled per array class (`copy.ts`). So every loop is monomorphic, nothing is allocated
 * per step, and a float64 model computes exactly what the float64 kernels give.
 * @module
 */
import { ArgumentError } from '@graphgrad/core'
import { gemm, packGemmB, probeInside } from './core.ts'
import { type Floats, adder, allocLike, biasedRowLoader, copier } from './copy.ts'

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
   * Whether `backward` writes the same cotangent to `dgx` and `dpre` (LSTM, RNN; not GRU,
   * whose reset gate scales the hidden projection): then the scan keeps one of them.
   */
  readonly dpreIsDgx: boolean
  /** Whether `backward` reads `hs` (GRU, RNN); LSTM's reads only its cache and `cs`, so the scan skips loading h. */
  readonly backwardReadsH: boolean
  /**
   * Whether `forward` adds an in-step b_hh to `pre` (GRU, whose reset gate multiplies it);
   * the other cells fold b_hh into `gx`, and a scan refuses to give them one.
   */
  readonly stepBias: boolean
  /**
   * One forward step. `gx` at `gxAt` [B,G*H] is the input projection (with folded biases),
   * `pre` [B,G*H] is `h_{t-1} W_hh^T`, `bhh` [G*H] the in-step bias or empty. Reads h_{t-1}
   * (and c_{t-1}) at `prevAt`, writes h_t (and c_t) at `nextAt` and the step's cache at `cacheAt`.
   * `approx`: use the float32-accurate activations of `approx.ts` (a float32 scan).
   */
  forward(B: number, H: number, gx: Float64Array, gxAt: number, pre: Float64Array, bhh: Float64Array,
    hs: Float64Array, cs: Float64Array, prevAt: number, nextAt: number, cache: Float64Array, cacheAt: number, approx: boolean): void
  /**
   * One backward step from `dh`, `dc` (the cotangents of h_t, c_t, [B,H]): writes the
   * cotangents of `gx` (at `dgxAt`) and of `pre` (at `dpreAt`), the part of `dhPrev` that
   * does not go through W_hh, and `dcPrev`. `approx` as in `forward`.
   */
  backward(B: number, H: number, cache: Float64Array, cacheAt: number, hs: Float64Array, cs: Float64Array, prevAt: number,
    nextAt: number, dh: Float64Array, dc: Float64Array, dgx: Float64Array, dgxAt: number, dpre: Float64Array, dpreAt: number,
    dhPrev: Float64Array, dcPrev: Float64Array, approx: boolean): void
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
  /**
   * Lay the outputs of `out` out as [B, T, H] (row b*T + t) instead of [T, B, H] (row t*B + b),
   * so that a batch-first layer needs no transposed copy; the final states follow them either way.
   */
  readonly batchFirst?: boolean
}

/**
 * Computes the input projection of the time steps [t0, t0+n) into `into`, as [n, B, G*H] in
 * time order. {@link scanForward} asks for one chunk of steps at a time, so the projection of
 * the whole sequence ([T, B, G*H], as large as the tape's gate cache) never exists at once.
 */
export type GxSource = (t0: number, n: number, into: Floats) => void

/**
 * What forward keeps for backward, in the dtype of the scan's `out`: the states in processing
 * order and the cell caches. These are the layer's saved activations: per (batch, time)
 * position, `cacheWidth` x H cache floats (LSTM: the 4 activated gates; GRU: 4) and the states
 * (LSTM: c_t and h_t; GRU and RNN: h_t), i.e. B*T*H*(4+2) floats for an LSTM, 12.0 MiB at
 * B = 32, T = 64, H = 256 in float32. Besides them a training step holds the layer's outputs
 * (B*T*H, which the next layer reads) and, during the backward walk, their cotangent and one
 * chunk of scratch rows; a forward without a recorded graph keeps two state slots only.
 */
export interface ScanTape {
  /** [T+1, B, H]: slot s is the state before processing step s (slot 0 is h0). */
  readonly hs: Floats
  /** As `hs` for the cell state (empty for cells without one). */
  readonly cs: Floats
  /** [T, B, cacheWidth*H]. */
  readonly cache: Floats
}

/** The cotangents a scan's backward produces, in the tape's dtype (`dw` in the weight's). */
export interface ScanGrads {
  /** [T, B, G*H], in time order. */
  readonly dgx: Floats
  /** [B, H]. */
  readonly dh0: Floats
  /** [B, H] (empty without cell state). */
  readonly dc0: Floats
  /** [G*H, H]. */
  readonly dw: Floats
  /** [G*H]: the sum of the `pre` cotangents, i.e. the gradient of a b_hh kept in the step. */
  readonly dbhh: Floats
  /** [G*H]: the sum of the `gx` cotangents, i.e. the gradient of the input bias `bx`. */
  readonly dbx: Floats
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
  /** The cotangent of the input bias (false when there is none; default false). */
  readonly dbx?: boolean
}

const EMPTY = new Float64Array(0)

/** Rows of gx or dgx handled at once: enough for efficient GEMMs, small next to the tape. */
const CHUNK_ROWS = 512

/** Time steps per chunk of gx (forward) or dgx (backward). */
function chunkSteps(T: number, B: number): number {
  return Math.min(T, Math.ceil(CHUNK_ROWS / B))
}

/** Where output row (t, b) starts in a scan's `out`, in the shape's layout. */
function outAt(shape: ScanShape, t: number, b: number): number {
  return (shape.batchFirst === true ? b * shape.T + t : t * shape.B + b) * shape.H
}

const ALL: ScanNeeds = { dw: true, dbhh: true, dh0: true, dbx: true }

/** Rows whose sequence is over at step t (they keep their state and emit zeros); empty for full length. */
function finishedRows(shape: ScanShape, t: number, into: number[]): number[] {
  into.length = 0
  if (shape.lengths !== null) for (let b = 0; b < shape.B; b++) if (t >= shape.lengths[b]) into.push(b)
  return into
}

/**
 * Runs the recurrence. `gx` is [T,B,G*H] in time order, or a {@link GxSource} that computes
 * it a chunk of steps at a time; `w` is W_hh [G*H, H], `bhh` [G*H] or empty, `bx` [G*H] or
 * empty: an input bias added to every step's `gx` here, so the biased projection is never
 * stored. Writes `out` [(T+S)*B, H] (S = 2 with a cell state, else 1): the first T*B rows
 * the outputs h_t (zero past a row's length) as [T,B,H], or [B,T,H] with `shape.batchFirst`;
 * then B rows of final h, and B rows of final c. The tape is kept in `out`'s dtype; with
 * `keepTape` false (no gradient will be asked for) only two state slots are kept, no cache,
 * and the returned tape is empty.
 */
export function scanForward(k: CellKernel, shape: ScanShape, gx: Floats | GxSource, h0: Floats, c0: Floats,
  w: Floats, bhh: Float64Array, out: Floats, bx: Float64Array = EMPTY, keepTape = true): ScanTape {
  const { T, B, H, reverse } = shape
  const GH = k.gates * H
  const BH = B * H
  const BC = B * k.cacheWidth * H
  if (bhh.length > 0 && !k.stepBias) throw new ArgumentError('scanForward: this cell folds b_hh into gx and takes no in-step bias')
  // Without a tape, the state alternates between two slots.
  const slot = (s: number): number => (keepTape ? s : s & 1) * BH
  const hs = allocLike(out, (keepTape ? T + 1 : 2) * BH)
  const cs = k.hasCell ? allocLike(out, (keepTape ? T + 1 : 2) * BH) : EMPTY
  const cache = allocLike(out, keepTape ? T * BC : 0)
  // One step's float64 rows: h and c as [prev; next], the projections, the cache.
  const hS = new Float64Array(2 * BH)
  const cS = k.hasCell ? new Float64Array(2 * BH) : EMPTY
  const gxS = new Float64Array(B * GH)
  const pre = new Float64Array(B * GH)
  // h_{t-1} W_hh^T is computed in the model's dtype (float32 GEMM kernels for a float32 model,
  // as PyTorch's), then read into the float64 row; a float64 model's lands there directly.
  const preT = out instanceof Float64Array ? pre : allocLike(out, B * GH)
  const loadPre = preT === pre ? null : copier(preT, pre)
  const cacheS = new Float64Array(BC)
  // A source fills one chunk of C steps at a time into gxData; else gxData is all of gx.
  const source = typeof gx === 'function' ? gx : null
  const C = chunkSteps(T, B)
  const gxData = source === null ? (gx as Floats) : allocLike(out, C * B * GH)
  let gxFrom = -1
  const load = copier(hs, hS)
  const store = copier(hS, hs)
  const loadGx = copier(gxData, gxS)
  const loadBiasedGx = biasedRowLoader(gxData)
  copier(h0, hs)(h0, 0, hs, 0, BH)
  if (k.hasCell) copier(c0, cs)(c0, 0, cs, 0, BH)
  const approx = out instanceof Float32Array
  const finished: number[] = []
  // W_hh is packed once for all T steps.
  const packed = packGemmB(w, 0, true, H, GH)
  const stepGemm = packed.gemm
  try {
    for (let s = 0; s < T; s++) {
      const t = reverse ? T - 1 - s : s
      const prev = slot(s)
      const next = slot(s + 1)
      stepGemm(hs, prev, false, preT, 0, B)
      if (loadPre !== null) loadPre(preT, 0, pre, 0, B * GH)
      load(hs, prev, hS, 0, BH)
      if (k.hasCell) load(cs, prev, cS, 0, BH)
      let gxAt = t * B * GH
      if (source !== null) {
        const t0 = t - (t % C)
        if (t0 !== gxFrom) source(t0, Math.min(C, T - t0), gxData)
        gxFrom = t0
        gxAt = (t - t0) * B * GH
      }
      if (bx.length > 0) loadBiasedGx(gxData, gxAt, gxS, B, GH, bx)
      else loadGx(gxData, gxAt, gxS, 0, B * GH)
      k.forward(B, H, gxS, 0, pre, bhh, hS, cS, 0, BH, cacheS, 0, approx)
      if (shape.batchFirst === true) for (let b = 0; b < B; b++) store(hS, BH + b * H, out, outAt(shape, t, b), H)
      else store(hS, BH, out, t * BH, BH)
      for (const b of finishedRows(shape, t, finished)) {
        const r = b * H
        for (let j = r; j < r + H; j++) {
          hS[BH + j] = hS[j]
          if (k.hasCell) cS[BH + j] = cS[j]
        }
        out.fill(0, outAt(shape, t, b), outAt(shape, t, b) + H)
      }
      store(hS, BH, hs, next, BH)
      if (k.hasCell) store(cS, BH, cs, next, BH)
      if (keepTape) store(cacheS, 0, cache, s * BC, BC)
      // Once per chunk of steps, with the tape, the outputs and every scratch buffer live.
      if ((s + 1) % C === 0 || s === T - 1) probeInside('recurrent scan forward')
    }
  } finally {
    packed.release()
  }
  out.set(hs.subarray(slot(T), slot(T) + BH), T * BH)
  if (k.hasCell) out.set(cs.subarray(slot(T), slot(T) + BH), (T + 1) * BH)
  return keepTape ? { hs, cs, cache } : { hs: EMPTY, cs: EMPTY, cache: EMPTY }
}

/**
 * Takes the cotangent of gx for the time steps [t0, t0+n) ([n,B,G*H] in time order, from
 * `dgx[at]`) as the backward walk completes them. The array is reused for the next chunk.
 */
export type DgxSink = (dgx: Floats, at: number, t0: number, n: number) => void

/**
 * Backpropagation through time of {@link scanForward}, from the cotangent `g` of its `out`.
 * Without a `sink`, `dgx` comes back whole; with one, it is handed over in chunks of steps
 * (and comes back empty), so the whole [T,B,G*H] cotangent never exists at once.
 * `consumeTape`: the tape is not used again (the graph is released after this backward), so
 * the cache stretch of a chunk the walk has read can hold that chunk's dgx (forward
 * direction, a cell whose cache is at least as wide as its gates, with a sink): no dgx buffer.
 */
export function scanBackward(k: CellKernel, shape: ScanShape, tape: ScanTape, g: Floats, w: Floats, needs: ScanNeeds = ALL,
  sink: DgxSink | null = null, consumeTape = false): ScanGrads {
  const { T, B, H, reverse } = shape
  const GH = k.gates * H
  const BH = B * H
  const BC = B * k.cacheWidth * H
  const { hs, cs, cache } = tape
  const readG = copier(g, EMPTY)
  const addG = adder(g, EMPTY)
  let dh = new Float64Array(BH)
  let dc = k.hasCell ? new Float64Array(BH) : EMPTY
  readG(g, T * BH, dh, 0, BH)
  if (k.hasCell) readG(g, (T + 1) * BH, dc, 0, BH)
  let dhPrev = new Float64Array(BH)
  let dcPrev = k.hasCell ? new Float64Array(BH) : EMPTY
  const through = new Float64Array(BH)
  const hS = new Float64Array(2 * BH)
  const cS = k.hasCell ? new Float64Array(2 * BH) : EMPTY
  const cacheS = new Float64Array(BC)
  const dgxS = new Float64Array(B * GH)
  const dpreS = new Float64Array(B * GH)
  // dpre W_hh in the model's dtype, as in the forward (`preT`); a float64 model's uses the float64 rows directly.
  const wide = hs instanceof Float64Array
  const dpreT = wide ? EMPTY : allocLike(hs, B * GH)
  const throughT = wide ? through : allocLike(hs, BH)
  const storeT = copier(dpreS, dpreT)
  const dbhh = new Float64Array(needs.dbhh ? GH : 0)
  const dbx = new Float64Array(needs.dbx === true ? GH : 0)
  const load = copier(hs, hS)
  const store = copier(dgxS, hs)
  // Steps per chunk; chunk c holds processing steps [s0, s0 + C), flushed when the walk reaches s0.
  const C = sink === null ? T : chunkSteps(T, B)
  // In the cache, the chunk [s0, s1) keeps step s's dgx at (s1 - s) slots of B*G*H below the end
  // of its stretch: at or above s*BC, which the walk has read, since BC >= B*G*H.
  const inCache = consumeTape && sink !== null && !reverse && k.cacheWidth >= k.gates
  const dgx = inCache ? cache : allocLike(hs, C * B * GH)
  // dW_hh needs the chunk's dpre in processing order; dgx is it when the two agree and the walk is forward.
  const dpreIsDgx = k.dpreIsDgx && !reverse
  const dpreAll = !needs.dw ? EMPTY : dpreIsDgx ? dgx : allocLike(hs, C * B * GH)
  const dw = needs.dw ? allocLike(w, GH * H) : EMPTY
  // Each later chunk's share of dW_hh is computed apart, then added to dw: in the tape stretch of
  // the chunks already done when the cache is being consumed and that stretch is large enough
  // (it is of the model's dtype, as w is), else in a buffer of its own (made at first need).
  let dwPart = EMPTY as Floats
  const addInto = adder(dw, dw)
  const approx = hs instanceof Float32Array
  const finished: number[] = []
  const packed = packGemmB(w, 0, false, GH, H)
  const stepGemm = packed.gemm
  try {
    for (let s = T - 1; s >= 0; s--) {
      const t = reverse ? T - 1 - s : s
      const s0 = s - (s % C)
      const s1 = Math.min(T, s0 + C)
      const tMin = reverse ? T - s1 : s0
      const base = inCache ? s1 * BC - (s1 - s0) * B * GH : 0
      finishedRows(shape, t, finished)
      if (finished.length === 0 && shape.batchFirst !== true) addG(g, t * BH, dh, 0, BH)
      else for (let b = 0; b < B; b++) if (!finished.includes(b)) addG(g, outAt(shape, t, b), dh, b * H, H)
      load(cache, s * BC, cacheS, 0, BC)
      if (k.backwardReadsH) load(hs, s * BH, hS, 0, 2 * BH)
      if (k.hasCell) load(cs, s * BH, cS, 0, 2 * BH)
      k.backward(B, H, cacheS, 0, hS, cS, 0, BH, dh, dc, dgxS, 0, dpreS, 0, dhPrev, dcPrev, approx)
      for (const b of finished) {
        // A finished row skipped this step: its cotangent passes straight through.
        dgxS.fill(0, b * GH, (b + 1) * GH)
        dpreS.fill(0, b * GH, (b + 1) * GH)
        for (let j = b * H; j < (b + 1) * H; j++) dhPrev[j] = dh[j]
        if (k.hasCell) for (let j = b * H; j < (b + 1) * H; j++) dcPrev[j] = dc[j]
      }
      store(dgxS, 0, dgx, base + (t - tMin) * B * GH, B * GH)
      if (dpreAll !== EMPTY && !dpreIsDgx) store(dpreS, 0, dpreAll, (s - s0) * B * GH, B * GH)
      if (needs.dbhh) sumRows(dpreS, B, GH, dbhh)
      if (needs.dbx === true) sumRows(dgxS, B, GH, dbx)
      // At s = 0 this GEMM only feeds dh0.
      if (s > 0 || needs.dh0) {
        if (wide) stepGemm(dpreS, 0, false, through, 0, B)
        else {
          storeT(dpreS, 0, dpreT, 0, B * GH)
          stepGemm(dpreT, 0, false, throughT, 0, B)
        }
        for (let j = 0; j < BH; j++) dhPrev[j] += throughT[j]
      }
      const dhNext = dhPrev
      dhPrev = dh
      dh = dhNext
      const dcNext = dcPrev
      dcPrev = dc
      dc = dcNext
      if (s !== s0) continue
      // The chunk is complete. dW_hh = sum over steps of dpre_s^T h_{s-1}: one GEMM over all its rows.
      if (sink !== null) sink(dgx, base, tMin, s1 - s0)
      if (needs.dw) {
        const first = s1 === T
        const spare = inCache && (T - s1) * BC >= GH * H
        if (!first && !spare && dwPart === EMPTY) dwPart = allocLike(w, GH * H)
        const part = first ? dw : spare ? cache : dwPart
        const partAt = first || !spare ? 0 : s1 * BC
        gemm(dpreAll, dpreIsDgx ? base : 0, true, hs, s0 * BH, false, part, partAt, GH, H, (s1 - s0) * B)
        if (!first) addInto(part, partAt, dw, 0, GH * H)
      }
      // Every scratch buffer of the walk is live here: the point a peak-memory probe must see.
      probeInside('recurrent scan backward')
    }
  } finally {
    packed.release()
  }
  return { dgx: sink === null ? dgx : EMPTY, dh0: needs.dh0 ? like(hs, dh) : EMPTY, dc0: like(hs, dc), dw, dbhh: like(hs, dbhh), dbx: like(hs, dbx) }
}

/** `into[j] += sum over r < rows of m[r * width + j]`. */
function sumRows(m: Float64Array, rows: number, width: number, into: Float64Array): void {
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) into[j] += m[r * width + j]
}

/** `data` in the class of `model` (itself when they already agree). */
function like(model: Floats, data: Float64Array): Floats {
  return model instanceof Float64Array ? data : Float32Array.from(data)
}
