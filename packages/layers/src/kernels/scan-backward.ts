/**
 * Backpropagation through time of `scanForward` (see `scan.ts` for what the two share):
 * the steps in reverse, each adding its output's cotangent, running the cell's backward
 * kernel and sending `dpre` back through W_hh; each completed chunk of steps hands its dgx on
 * and adds its share of `dW_hh` in one GEMM.
 * @module
 */
import type { BackwardRows, CellKernel } from './cell.ts'
import { type RowAlloc, backwardSteps } from './cell-steps.ts'
import { gemm, packGemmB, probeInside } from './core.ts'
import { type Floats, adder, allocLike, copier } from './copy.ts'
import {
  EMPTY,
  type DgxSink,
  type ScanCotangents,
  type ScanGrads,
  type ScanNeeds,
  type ScanShape,
  type ScanTape,
  chunkSteps,
  finishedRows,
  outAt,
} from './scan.ts'

const ALL: ScanNeeds = { dw: true, dbhh: true, dh0: true, dbx: true }

/**
 * The backward of a scan, from the cotangents of its results (`null` ones are zeros).
 * Without a `sink`, `dgx` comes back whole; with one, it is handed over in chunks of steps
 * (and comes back empty), so the whole [T,B,G*H] cotangent never exists at once.
 * `consumeTape`: the tape is not used again (the graph is released after this backward), so
 * its consumed stretches may hold the walk's buffers (see {@link chunkBuffers}).
 */
export function scanBackward(
  k: CellKernel,
  shape: ScanShape,
  tape: ScanTape,
  cotangents: ScanCotangents,
  w: Floats,
  needs: ScanNeeds = ALL,
  sink: DgxSink | null = null,
  consumeTape = false,
): ScanGrads {
  const { T, B, H, reverse } = shape
  const GH = k.gates * H
  const BH = B * H
  const steps = backwardSteps(k, tape.hs, B, H, (alloc) => backwardRows(k, B, H, alloc))
  const rows = steps.rows
  seed(cotangents.h, rows.dh)
  if (k.hasCell) seed(cotangents.c, rows.dc)
  const addOutput = outputCotangent(shape, cotangents.output, rows.dh)
  const dbhh = new Float64Array(needs.dbhh ? GH : 0)
  const dbx = new Float64Array(needs.dbx === true ? GH : 0)
  const finished: number[] = []
  let hidden: ReturnType<typeof hiddenTranspose> | null = null
  try {
    hidden = hiddenTranspose(w, GH, H, B, tape.hs, rows)
    const chunks = chunkBuffers(k, shape, tape, w, needs.dw, sink, consumeTape, rows.dgx)
    const loadTape = copier(tape.hs, rows.cache)
    for (let s = T - 1; s >= 0; s--) {
      const t = reverse ? T - 1 - s : s
      finishedRows(shape, t, finished)
      addOutput(t, finished, rows.dh)
      loadTape(tape.cache, s * rows.cache.length, rows.cache, 0, rows.cache.length)
      // h_{s-1} and h_s are adjacent in the tape and in the rows' buffer: one copy.
      if (k.backwardReadsH) loadTape(tape.hs, s * BH, rows.hBoth, 0, 2 * BH)
      if (k.hasCell) loadTape(tape.cs, s * BH, rows.cBoth, 0, 2 * BH)
      steps.step()
      passThroughFinished(rows, k.gates, H, finished)
      chunks.keep(s, t, rows.dgx, rows.dpre)
      if (needs.dbhh) steps.sumRows(rows.dpre, B, GH, dbhh)
      if (needs.dbx === true) steps.sumRows(rows.dgx, B, GH, dbx)
      // At s = 0 this GEMM only feeds dh0.
      if (s > 0 || needs.dh0) hidden.addInto(rows.dhPrev)
      rows.stepBack()
      if (chunks.completes(s)) {
        chunks.flush(s)
        // Every scratch buffer of the walk is live here: the point a peak-memory probe must see.
        probeInside('recurrent scan backward')
      }
    }
    return {
      dgx: chunks.whole,
      dh0: needs.dh0 ? like(tape.hs, rows.dh) : EMPTY,
      dc0: like(tape.hs, rows.dc),
      dw: chunks.dw,
      dbhh: like(tape.hs, dbhh),
      dbx: like(tape.hs, dbx),
    }
  } finally {
    hidden?.release()
    steps.release()
  }
}

/** {@link BackwardRows} with the state rows as halves of one buffer, and the step-to-step swap. */
interface WalkRows extends BackwardRows<Floats> {
  dh: Floats
  dc: Floats
  dhPrev: Floats
  dcPrev: Floats
  /** [2, B, H]: hPrev then hNext. */
  readonly hBoth: Floats
  /** [2, B, H]: cPrev then cNext (empty without a cell state). */
  readonly cBoth: Floats
  /** Moves one step back: the cotangents of step t's inputs become those of step t-1's results. */
  stepBack(): void
}

/** One step's rows, reused at every step (float64, or float32 in WASM memory: see `cell-steps.ts`). */
function backwardRows(k: CellKernel, B: number, H: number, alloc: RowAlloc): WalkRows {
  const BH = B * H
  const hBoth = alloc(2 * BH)
  const cBoth = alloc(k.hasCell ? 2 * BH : 0)
  const state = (): Floats => alloc(k.hasCell ? BH : 0)
  return {
    cache: alloc(B * k.cacheWidth * H),
    hBoth,
    cBoth,
    hPrev: hBoth.subarray(0, BH),
    hNext: hBoth.subarray(BH),
    cPrev: cBoth.subarray(0, k.hasCell ? BH : 0),
    cNext: cBoth.subarray(k.hasCell ? BH : 0),
    dh: alloc(BH),
    dc: state(),
    dgx: alloc(B * k.gates * H),
    dpre: alloc(B * k.gates * H),
    dhPrev: alloc(BH),
    dcPrev: state(),
    stepBack() {
      const dh = this.dhPrev
      this.dhPrev = this.dh
      this.dh = dh
      const dc = this.dcPrev
      this.dcPrev = this.dc
      this.dc = dc
    },
  }
}

/** Starts a final state's cotangent from the given one (zeros for a final state nobody used). */
function seed(g: Floats | null, into: Floats): void {
  if (g !== null) copier(g, into)(g, 0, into, 0, into.length)
}

/** Adds the cotangent of step t's output rows to dh, except rows already finished (they emitted a constant zero). */
function outputCotangent(shape: ScanShape, g: Floats | null, dhLike: Floats): (t: number, finished: readonly number[], dh: Floats) => void {
  if (g === null) return () => {}
  const { B, H } = shape
  const addG = adder(g, dhLike)
  return (t, finished, dh) => {
    if (finished.length === 0 && shape.batchFirst !== true) addG(g, t * B * H, dh, 0, B * H)
    else for (let b = 0; b < B; b++) if (!finished.includes(b)) addG(g, outAt(shape, t, b), dh, b * H, H)
  }
}

/**
 * `dhPrev += dpre W_hh`, with the product in the model's dtype as in the forward (straight
 * from the rows when they are in the model's dtype). W_hh is packed once for the walk.
 */
function hiddenTranspose(
  w: Floats,
  GH: number,
  H: number,
  B: number,
  like: Floats,
  rows: BackwardRows<Floats>,
): { addInto(dhPrev: Floats): void; release(): void } {
  const packed = packGemmB(w, 0, false, GH, H)
  const direct = like.constructor === rows.dpre.constructor
  const dpreT = direct ? EMPTY : allocLike(like, B * GH)
  const through = direct ? allocLike(rows.dpre, B * H) : allocLike(like, B * H)
  const narrow = copier(rows.dpre, dpreT)
  const add = adder(through, rows.dhPrev)
  return {
    addInto(dhPrev) {
      if (direct) packed.gemm(rows.dpre, 0, false, through, 0, B)
      else {
        narrow(rows.dpre, 0, dpreT, 0, B * GH)
        packed.gemm(dpreT, 0, false, through, 0, B)
      }
      add(through, 0, dhPrev, 0, dhPrev.length)
    },
    release: () => packed.release(),
  }
}

/** A finished row skipped this step: its cotangent passes straight through, and its gates get none. */
function passThroughFinished(rows: WalkRows, gates: number, H: number, finished: readonly number[]): void {
  const GH = gates * H
  for (const b of finished) {
    rows.dgx.fill(0, b * GH, (b + 1) * GH)
    rows.dpre.fill(0, b * GH, (b + 1) * GH)
    rows.dhPrev.set(rows.dh.subarray(b * H, (b + 1) * H), b * H)
    if (rows.dc.length > 0) rows.dcPrev.set(rows.dc.subarray(b * H, (b + 1) * H), b * H)
  }
}

/** Where the walk keeps a chunk's dgx and dpre, and how a completed chunk is flushed. */
interface ChunkBuffers {
  /** Stores processing step s's (time t's) dgx and dpre rows. */
  keep(s: number, t: number, dgx: Floats, dpre: Floats): void
  /** Whether processing step s completes its chunk (the walk goes down, so s is the chunk's first). */
  completes(s: number): boolean
  /** The chunk starting at s is complete: hands its dgx to the sink and adds its share of dW_hh. */
  flush(s: number): void
  /** dgx of every step, in time order, when there is no sink (else empty). */
  readonly whole: Floats
  /** dW_hh [G*H, H] (empty when not needed). */
  readonly dw: Floats
}

/**
 * The walk's per-chunk buffers, and the memory each saves. Chunk [s0, s1) of processing
 * steps is flushed when the walk reaches s0; C steps per chunk with a sink, all T without.
 * - dgx (time order): a buffer of one chunk. When the tape is consumed, the walk is forward,
 *   a sink takes dgx and the cache is at least as wide as the gates, it is the cache stretch
 *   the walk has just read instead (step s's dgx at (s1 - s) slots of B*G*H below the end of
 *   the chunk's stretch, at or above s's own cache, already read): saves C*B*G*H.
 * - dpre (processing order, for dW_hh): the dgx rows themselves when the cell writes the same
 *   values to both and the walk is forward (so processing order is time order): saves C*B*G*H.
 * - dW_hh: the last chunk of the walk (the first flushed) writes dw itself; each later one
 *   computes its share apart and adds it, in the cache stretch of the chunks already flushed
 *   when the tape is consumed and that stretch is large enough, else in a buffer made at first
 *   need: saves G*H*H.
 */
function chunkBuffers(
  k: CellKernel,
  shape: ScanShape,
  tape: ScanTape,
  w: Floats,
  needDw: boolean,
  sink: DgxSink | null,
  consumeTape: boolean,
  stepRows: Floats,
): ChunkBuffers {
  const { T, B, H, reverse } = shape
  const GH = k.gates * H
  const BC = B * k.cacheWidth * H
  const C = sink === null ? T : chunkSteps(T, B)
  const inCache = consumeTape && sink !== null && !reverse && k.cacheWidth >= k.gates
  const dgx = inCache ? tape.cache : allocLike(tape.hs, C * B * GH)
  const dpreIsDgx = k.dpreIsDgx && !reverse
  const dpre = !needDw ? EMPTY : dpreIsDgx ? dgx : allocLike(tape.hs, C * B * GH)
  const dw = needDw ? allocLike(w, GH * H) : EMPTY
  let dwPart: Floats = EMPTY
  const addDw = adder(dw, dw)
  const store = copier(stepRows, tape.hs)
  const startOf = (s: number): number => s - (s % C)
  const endOf = (s0: number): number => Math.min(T, s0 + C)
  const base = (s0: number): number => (inCache ? endOf(s0) * BC - (endOf(s0) - s0) * B * GH : 0)
  const firstTime = (s0: number): number => (reverse ? T - endOf(s0) : s0)
  return {
    keep(s, t, dgxRow, dpreRow) {
      const s0 = startOf(s)
      store(dgxRow, 0, dgx, base(s0) + (t - firstTime(s0)) * B * GH, B * GH)
      if (dpre !== EMPTY && !dpreIsDgx) store(dpreRow, 0, dpre, (s - s0) * B * GH, B * GH)
    },
    completes: (s) => s === startOf(s),
    flush(s0) {
      const s1 = endOf(s0)
      if (sink !== null) sink(dgx, base(s0), firstTime(s0), s1 - s0)
      if (!needDw) return
      // dW_hh = sum over steps of dpre_s^T h_{s-1}: one GEMM over the chunk's rows.
      const first = s1 === T
      const spare = inCache && (T - s1) * BC >= GH * H
      if (!first && !spare && dwPart === EMPTY) dwPart = allocLike(w, GH * H)
      const part = first ? dw : spare ? tape.cache : dwPart
      const partAt = first || !spare ? 0 : s1 * BC
      gemm(dpre, dpreIsDgx ? base(s0) : 0, true, tape.hs, s0 * B * H, false, part, partAt, GH, H, (s1 - s0) * B)
      if (!first) addDw(part, partAt, dw, 0, GH * H)
    },
    whole: sink === null ? dgx : EMPTY,
    dw,
  }
}

/** `data` in the class of `model`: itself when both are float64, else a copy (float32 rows live in a WASM arena that is reused). */
function like(model: Floats, data: Floats): Floats {
  if (model instanceof Float32Array) return Float32Array.from(data)
  return data instanceof Float64Array ? data : Float64Array.from(data)
}
