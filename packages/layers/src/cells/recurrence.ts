/**
 * One direction of one recurrent layer over a whole sequence, two ways:
 *
 * - fused: one graph op per layer and direction (`lstmScan`, ...) whose forward runs the
 *   cell's forward kernel at every step and whose VJP runs the cell's hand-written backward
 *   kernel in reverse (backpropagation through time in one node);
 * - composed: the cell built from core ops at every step, so backpropagation through time,
 *   and second derivatives, come from the autodiff itself.
 *
 * Both take the input projection of all steps, `gx` [T,B,G*H] (one matmul before the
 * loop), or the layer input x with W_ih and the input bias (`inputWeight`, `inputBias`):
 * then the fused op computes the projection itself, one GEMM per chunk of steps, and holds
 * gx and dgx only a chunk at a time (dgx inside the tape stretch the backward walk has
 * consumed, when the graph is released after it), and writes batch-first outputs directly
 * when asked (`batchFirst`), which keeps a float32 layer's memory near its saved
 * activations (defined at `ScanTape` in `kernels/scan.ts`). Both give the same outputs.
 * @module
 */
import { ArgumentError, DTypeError, GradientError, ShapeError, Tensor, add, fmtShape, matmul, reshape, select, slice, stack, tensor, transpose, where } from '@graphgrad/core'
import { type CellKernel, type DgxSink, type GxSource, type ScanShape, scanBackward, scanForward } from '../kernels/scan.ts'
import { type Floats, adder, allocLike } from '../kernels/copy.ts'
import { gemm, isRecording, makeOutput, vjpIsLastUse } from './internal.ts'

/** A recurrent state: h, and c for cells that carry one. */
export interface CellState {
  /** Hidden state [B, H]. */
  readonly h: Tensor
  /** Cell state [B, H] (LSTM), else null. */
  readonly c: Tensor | null
}

/** Everything a layer needs to know about one cell family. */
export interface CellFamily {
  /** Name used in op names and errors (`lstm`, `gru`, `rnn_tanh`, `rnn_relu`). */
  readonly name: string
  /** The fused kernels (and the gate count, and whether there is a cell state). */
  readonly kernel: CellKernel
  /** True when b_hh must stay inside the step (GRU: the reset gate multiplies it) instead of being folded into the input projection. */
  readonly hiddenBiasInStep: boolean
  /** One step composed from core ops: `gx` [B,G*H], `whh` [G*H,H], `bhh` [G*H] or null. */
  step(gx: Tensor, state: CellState, whh: Tensor, bhh: Tensor | null): CellState
}

/** Direction and lengths of one scan. */
export interface ScanOptions {
  /** Walk the sequence backwards (the reverse direction of a bidirectional layer). */
  readonly reverse?: boolean
  /** Per-row lengths in [1, T] (already checked), or null/undefined for full length. */
  readonly lengths?: readonly number[] | null
  /**
   * A bias [G*H] added to `gx` at every step (the folded input biases). The fused op adds
   * it inside the time loop, so the biased projection [T,B,G*H] is never stored.
   */
  readonly inputBias?: Tensor | null
  /**
   * W_ih [G*H, I]: when given, the scan's first argument is the layer input x [T,B,I] and
   * the projection `gx = x W_ih^T` is part of the scan. The fused op computes gx one chunk
   * of steps at a time (one GEMM each) during its forward, and takes dgx a chunk at a time
   * during its backward, where the weight and input cotangents are two GEMMs per chunk.
   */
  readonly inputWeight?: Tensor | null
  /** Return the outputs as [B,T,H] instead of [T,B,H] (the fused op writes them so: no transposed copy). */
  readonly batchFirst?: boolean
}

/** The result of one direction: the outputs [T,B,H] (or [B,T,H]) and the final state. */
export interface ScanResult extends CellState {
  /** h_t at every step, zero past each row's length: [T,B,H], or [B,T,H] with `batchFirst`. */
  readonly output: Tensor
}

/** A float tensor's data: callers have checked the dtype (checkCellArgs, the layer's dtype checks). */
function floats(x: Tensor): Floats {
  return x._data as Floats
}

function f64(x: Tensor): Float64Array {
  return x._data instanceof Float64Array ? x._data : new Float64Array(x._data)
}

/**
 * The fused scan as one graph op: returns a packed [(T+S)*B, H] tensor (the first T*B rows
 * the outputs, [T,B,H] or with `batchFirst` [B,T,H]; then B rows of final h, and B rows of
 * final c when the cell has one). Its VJP is the hand-written backward kernel; it gives
 * first derivatives only.
 */
function fusedScan(family: CellFamily, gx: Tensor, h0: Tensor, c0: Tensor | null, whh: Tensor, bhh: Tensor | null, options: ScanOptions = {}): Tensor {
  const k = family.kernel
  const [T, B] = gx.shape
  const H = h0.shape[1]
  const wih = options.inputWeight ?? null
  const lengths = options.lengths ?? null
  const shape: ScanShape = { T, B, H, reverse: options.reverse === true, lengths: lengths === null ? null : Int32Array.from(lengths), batchFirst: options.batchFirst === true }
  const S = k.hasCell ? 2 : 1
  const gxData = wih === null ? floats(gx) : projector(gx, wih)
  const out = allocLike(floats(gx), (T + S) * B * H)
  const w = floats(whh)
  const empty = new Float64Array(0)
  // The tape stays in the model's dtype; only the small in-step bias is read as float64.
  const bx = options.inputBias ?? null
  const inputs = [gx, h0, whh, ...(c0 === null ? [] : [c0]), ...(bhh === null ? [] : [bhh]), ...(bx === null ? [] : [bx]), ...(wih === null ? [] : [wih])]
  // Without a recorded graph (noGrad, or no input needs a gradient) backward never runs: keep no tape.
  const keepTape = isRecording() && inputs.some((x) => x.requiresGrad)
  const tape = scanForward(k, shape, gxData, floats(h0), c0 === null ? empty : floats(c0), w, bhh === null ? empty : f64(bhh), out, bx === null ? empty : f64(bx), keepTape)
  const grad = (data: Floats, like: Tensor): Tensor => new Tensor(data, like.shape)
  const op = `${family.name}Scan`
  // Positions of the optional inputs in `inputs` (and in `needs`).
  const c0At = c0 === null ? -1 : 3
  const bhhAt = bhh === null ? -1 : 3 + (c0 === null ? 0 : 1)
  const bxAt = bx === null ? -1 : 3 + (c0 === null ? 0 : 1) + (bhh === null ? 0 : 1)
  const wihAt = wih === null ? -1 : inputs.length - 1
  return makeOutput(op, inputs, out, [(T + S) * B, H], (g, needs) => {
    // The backward kernel's results are constants: a recorded backward (a second derivative) would be silently wrong.
    if (isRecording()) throw new GradientError(`${op}: the fused recurrent op has first derivatives only; build the layer with { fused: false } (or use the composed cell) for higher orders`)
    const back = wih === null ? null : projectionBackward(gx, wih, needs[0], needs[wihAt])
    const d = scanBackward(k, shape, tape, floats(g), w, { dh0: needs[1], dw: needs[2], dbhh: bhhAt >= 0 && needs[bhhAt], dbx: bxAt >= 0 && needs[bxAt] }, back === null ? null : back.sink, vjpIsLastUse())
    const dInput = !needs[0] ? null : back === null ? grad(d.dgx, gx) : back.dx
    const parts: (Tensor | null)[] = [dInput, needs[1] ? grad(d.dh0, h0) : null, needs[2] ? grad(d.dw, whh) : null]
    if (c0At >= 0) parts.push(needs[c0At] ? grad(d.dc0, c0 as Tensor) : null)
    if (bhhAt >= 0) parts.push(needs[bhhAt] ? grad(d.dbhh, bhh as Tensor) : null)
    if (bxAt >= 0) parts.push(needs[bxAt] ? grad(d.dbx, bx as Tensor) : null)
    if (wihAt >= 0) parts.push(back !== null && needs[wihAt] ? back.dw : null)
    return parts
  })
}

/** `x W^T` for x [T,B,I] and W [G*H,I], the input projection, as a source of chunks of steps: one GEMM per chunk. */
function projector(x: Tensor, w: Tensor): GxSource {
  const [, B, I] = x.shape
  const GH = w.shape[0]
  const xData = floats(x)
  const wData = floats(w)
  return (t0, n, into) => gemm(xData, t0 * B * I, false, wData, 0, true, into, 0, n * B, GH, I)
}

/**
 * The backward of the projection `gx = x W^T`: a sink for the scan's dgx chunks that adds
 * each chunk's share to `dx = dgx W` ([T,B,I]) and `dw = dgx^T x` ([G*H,I]), one GEMM each.
 */
function projectionBackward(x: Tensor, w: Tensor, needX: boolean, needW: boolean): { sink: DgxSink; dx: Tensor | null; dw: Tensor | null } {
  const [T, B, I] = x.shape
  const GH = w.shape[0]
  const xData = floats(x)
  const wData = floats(w)
  const dx = allocLike(xData, needX ? T * B * I : 0)
  const dw = allocLike(wData, needW ? GH * I : 0)
  const part = allocLike(wData, needW ? GH * I : 0)
  const addInto = adder(part, dw)
  let first = true
  const sink: DgxSink = (dgx, at, t0, n) => {
    if (needX) gemm(dgx, at, false, wData, 0, false, dx, t0 * B * I, n * B, I, GH)
    if (needW) {
      gemm(dgx, at, true, xData, t0 * B * I, false, first ? dw : part, 0, GH, I, n * B)
      if (!first) addInto(part, 0, dw, 0, GH * I)
    }
    first = false
  }
  // No tensor for a gradient nobody needs (its buffer is empty, which a Tensor refuses).
  return { sink, dx: needX ? new Tensor(dx, x.shape) : null, dw: needW ? new Tensor(dw, w.shape) : null }
}

/** Splits the packed result of {@link fusedScan} into outputs and final state (views, no copies). */
function unpack(packed: Tensor, T: number, B: number, hasCell: boolean, batchFirst: boolean): ScanResult {
  const H = packed.shape[1]
  const rows = (from: number, n: number): Tensor => slice(packed, [{ start: from, stop: from + n }])
  return {
    output: reshape(rows(0, T * B), batchFirst ? [B, T, H] : [T, B, H]),
    h: rows(T * B, B),
    c: hasCell ? rows((T + 1) * B, B) : null,
  }
}

/** Rows still inside their sequence at step t, as an int32 [B,1] mask; null when all are. */
function activeMask(lengths: readonly number[] | null | undefined, t: number): Tensor | null {
  if (lengths === null || lengths === undefined || lengths.every((n) => t < n)) return null
  return tensor(Int32Array.from(lengths, (n) => (t < n ? 1 : 0)), { shape: [lengths.length, 1], dtype: 'int32' })
}

/**
 * The composed scan: the family's composed cell at every step. A finished row keeps its
 * state (`where` with the step's mask) and emits zeros, as packed sequences give.
 */
function composedScan(family: CellFamily, gxIn: Tensor, h0: Tensor, c0: Tensor | null, whh: Tensor, bhh: Tensor | null, options: ScanOptions = {}): ScanResult {
  const wih = options.inputWeight ?? null
  const [T0, B0] = gxIn.shape
  const projected = wih === null ? gxIn : reshape(matmul(reshape(gxIn, [T0 * B0, gxIn.shape[2]]), transpose(wih)), [T0, B0, wih.shape[0]])
  const gx = options.inputBias === undefined || options.inputBias === null ? projected : add(projected, options.inputBias)
  const T = gx.shape[0]
  let state: CellState = { h: h0, c: c0 }
  const outputs: Tensor[] = new Array(T)
  for (let s = 0; s < T; s++) {
    const t = options.reverse === true ? T - 1 - s : s
    const next = family.step(select(gx, 0, t), state, whh, bhh)
    const mask = activeMask(options.lengths, t)
    if (mask === null) {
      state = next
      outputs[t] = next.h
    } else {
      const c = state.c === null || next.c === null ? null : where(mask, next.c, state.c)
      state = { h: where(mask, next.h, state.h), c }
      outputs[t] = where(mask, next.h, 0)
    }
  }
  const output = stack(outputs, 0)
  return { output: options.batchFirst === true ? transpose(output, 0, 1) : output, h: state.h, c: state.c }
}

/** Runs one direction with the fused op or the composed cells. */
export function scan(family: CellFamily, fused: boolean, gx: Tensor, h0: Tensor, c0: Tensor | null, whh: Tensor, bhh: Tensor | null, options: ScanOptions = {}): ScanResult {
  if (!fused) return composedScan(family, gx, h0, c0, whh, bhh, options)
  return unpack(fusedScan(family, gx, h0, c0, whh, bhh, options), gx.shape[0], gx.shape[1], family.kernel.hasCell, options.batchFirst === true)
}

/**
 * Checks the arguments of a single-step cell (`gx` [B,G*H], `h` and `c` [B,H], `whh`
 * [G*H,H], `bhh` [G*H]): shapes, and one float dtype for all.
 */
export function checkCellArgs(op: string, gates: number, gx: Tensor, h: Tensor, c: Tensor | null, whh: Tensor, bhh: Tensor | null): void {
  for (const [name, x] of [['gx', gx], ['h', h], ['c', c], ['whh', whh], ['bhh', bhh]] as const) {
    if (x !== null && !(x instanceof Tensor)) throw new ArgumentError(`${op}: ${name} must be a Tensor`)
  }
  if (h.rank !== 2) throw new ShapeError(`${op}: h must have shape [batch, hidden], got ${fmtShape(h.shape)}`)
  const [B, H] = h.shape
  const want = (name: string, x: Tensor | null, shape: number[]): void => {
    if (x !== null && !shapesEqual(x.shape, shape)) throw new ShapeError(`${op}: ${name} must have shape ${fmtShape(shape)} for h of shape ${fmtShape(h.shape)}, got ${fmtShape(x.shape)}`)
  }
  want('gx', gx, [B, gates * H])
  want('c', c, [B, H])
  want('whh', whh, [gates * H, H])
  want('bhh', bhh, [gates * H])
  for (const x of [gx, h, c, whh, bhh]) {
    if (x !== null && x.dtype !== h.dtype) throw new DTypeError(`${op}: all arguments must have one float dtype, got ${x.dtype} and ${h.dtype}`)
  }
  if (h.dtype === 'int32') throw new DTypeError(`${op}: expected float32 or float64 tensors, got int32`)
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

/** One step of the fused op: `gx` [B,G*H] is run as a sequence of length 1. */
export function fusedStep(family: CellFamily, gx: Tensor, state: CellState, whh: Tensor, bhh: Tensor | null): CellState {
  const [B, GH] = gx.shape
  const r = unpack(fusedScan(family, reshape(gx, [1, B, GH]), state.h, state.c, whh, bhh), 1, B, family.kernel.hasCell, false)
  return { h: r.h, c: r.c }
}
