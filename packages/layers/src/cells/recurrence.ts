/**
 * One direction of one recurrent layer over a whole sequence, two ways:
 *
 * - fused: one graph op per layer and direction (`lstmScan`, ...) whose forward runs the
 *   cell's forward kernel at every step and whose VJP runs the cell's hand-written backward
 *   kernel in reverse (backpropagation through time in one node);
 * - composed: the cell built from core ops at every step, so backpropagation through time,
 *   and second derivatives, come from the autodiff itself.
 *
 * Both take the input projection of all steps, `gx` [T,B,G*H], computed by one matmul
 * before the loop, and give the same outputs.
 * @module
 */
import { ArgumentError, DTypeError, GradientError, ShapeError, Tensor, fmtShape, reshape, select, slice, stack, tensor, where } from '@graphgrad/core'
import type { DType } from '@graphgrad/core'
import { type CellKernel, type ScanShape, scanBackward, scanForward } from '../kernels/scan.ts'
import { isRecording, makeOutput } from './internal.ts'

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
}

/** The result of one direction: the outputs [T,B,H] and the final state. */
export interface ScanResult extends CellState {
  /** h_t at every step in time order, zero past each row's length. */
  readonly output: Tensor
}

function f64(x: Tensor): Float64Array {
  return x._data instanceof Float64Array ? x._data : new Float64Array(x._data)
}

/** The weight's data as stored: callers have checked it is float (checkCellArgs, the layer's dtype checks). */
function weightData(x: Tensor): Float32Array | Float64Array {
  return x._data as Float32Array | Float64Array
}

function asDType(data: Float64Array, dtype: DType): Float32Array | Float64Array {
  return dtype === 'float64' ? data : new Float32Array(data)
}

/**
 * The fused scan as one graph op: returns a packed [T+S, B, H] tensor (rows 0..T-1 the
 * outputs, row T the final h, row T+1 the final c when the cell has one). Its VJP is the
 * hand-written backward kernel; it gives first derivatives only.
 */
export function fusedScan(family: CellFamily, gx: Tensor, h0: Tensor, c0: Tensor | null, whh: Tensor, bhh: Tensor | null, options: ScanOptions = {}): Tensor {
  const k = family.kernel
  const [T, B] = gx.shape
  const H = h0.shape[1]
  const lengths = options.lengths ?? null
  const shape: ScanShape = { T, B, H, reverse: options.reverse === true, lengths: lengths === null ? null : Int32Array.from(lengths) }
  const S = k.hasCell ? 2 : 1
  const out = new Float64Array((T + S) * B * H)
  const w = weightData(whh)
  const empty = new Float64Array(0)
  const tape = scanForward(k, shape, f64(gx), f64(h0), c0 === null ? empty : f64(c0), w, bhh === null ? empty : f64(bhh), out)
  const inputs = [gx, h0, whh, ...(c0 === null ? [] : [c0]), ...(bhh === null ? [] : [bhh])]
  const grad = (data: Float64Array, like: Tensor): Tensor => new Tensor(asDType(data, like.dtype), like.shape)
  const op = `${family.name}Scan`
  // Positions of the optional inputs in `inputs` (and in `needs`).
  const c0At = c0 === null ? -1 : 3
  const bhhAt = bhh === null ? -1 : inputs.length - 1
  return makeOutput(op, inputs, asDType(out, gx.dtype), [T + S, B, H], (g, needs) => {
    // The backward kernel's results are constants: a recorded backward (a second derivative) would be silently wrong.
    if (isRecording()) throw new GradientError(`${op}: the fused recurrent op has first derivatives only; build the layer with { fused: false } (or use the composed cell) for higher orders`)
    const d = scanBackward(k, shape, tape, f64(g), w, { dh0: needs[1], dw: needs[2], dbhh: bhhAt >= 0 && needs[bhhAt] })
    const parts: (Tensor | null)[] = [needs[0] ? grad(d.dgx, gx) : null, needs[1] ? grad(d.dh0, h0) : null, needs[2] ? grad(d.dw, whh) : null]
    if (c0At >= 0) parts.push(needs[c0At] ? grad(d.dc0, c0 as Tensor) : null)
    if (bhhAt >= 0) parts.push(needs[bhhAt] ? grad(d.dbhh, bhh as Tensor) : null)
    return parts
  })
}

/** Splits the packed result of {@link fusedScan} into outputs and final state (views, no copies). */
function unpack(packed: Tensor, T: number, hasCell: boolean): ScanResult {
  return {
    output: slice(packed, [{ start: 0, stop: T }]),
    h: select(packed, 0, T),
    c: hasCell ? select(packed, 0, T + 1) : null,
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
export function composedScan(family: CellFamily, gx: Tensor, h0: Tensor, c0: Tensor | null, whh: Tensor, bhh: Tensor | null, options: ScanOptions = {}): ScanResult {
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
  return { output: stack(outputs, 0), h: state.h, c: state.c }
}

/** Runs one direction with the fused op or the composed cells. */
export function scan(family: CellFamily, fused: boolean, gx: Tensor, h0: Tensor, c0: Tensor | null, whh: Tensor, bhh: Tensor | null, options: ScanOptions = {}): ScanResult {
  if (!fused) return composedScan(family, gx, h0, c0, whh, bhh, options)
  return unpack(fusedScan(family, gx, h0, c0, whh, bhh, options), gx.shape[0], family.kernel.hasCell)
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
  const r = unpack(fusedScan(family, reshape(gx, [1, B, GH]), state.h, state.c, whh, bhh), 1, family.kernel.hasCell)
  return { h: r.h, c: r.c }
}
