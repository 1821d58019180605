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
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  Tensor,
  add,
  fmtShape,
  matmul,
  mul,
  reshape,
  select,
  stack,
  sum,
  tensor,
  transpose,
  vjp,
  where,
} from '@graphgrad/core'
import type { CellKernel } from '../kernels/cell.ts'
import { type DgxSink, EMPTY, type GxSource, type ScanOutputs, type ScanShape } from '../kernels/scan.ts'
import { scanForward } from '../kernels/scan-forward.ts'
import { scanBackward } from '../kernels/scan-backward.ts'
import { type Floats, adder, allocLike } from '../kernels/copy.ts'
import { type OutputData, gemm, isRecording, makeOutputs, vjpIsLastUse } from './internal.ts'

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

/** The fused op's tensor inputs by name; an optional one is null when the layer has none. */
interface FusedInputs {
  readonly gx: Tensor
  readonly h0: Tensor
  readonly whh: Tensor
  readonly c0: Tensor | null
  readonly bhh: Tensor | null
  readonly bx: Tensor | null
  readonly wih: Tensor | null
}

type InputName = keyof FusedInputs

/**
 * The fused scan as one graph op with two or three results: the outputs ([T,B,H], or with
 * `batchFirst` [B,T,H]), the final h and, for a cell with one, the final c. Its VJP runs the
 * hand-written backward kernel, skipping the work of a result nobody used; a recorded backward
 * (a second derivative, a jvp) differentiates the composed cells instead ({@link recomputedVjp}).
 */
function fusedScan(family: CellFamily, gx: Tensor, h0: Tensor, c0: Tensor | null, whh: Tensor, bhh: Tensor | null, options: ScanOptions = {}): ScanResult {
  const k = family.kernel
  const [T, B] = gx.shape
  const H = h0.shape[1]
  const lengths = options.lengths ?? null
  const batchFirst = options.batchFirst === true
  const shape: ScanShape = { T, B, H, reverse: options.reverse === true, lengths: lengths === null ? null : Int32Array.from(lengths), batchFirst }
  const named: FusedInputs = { gx, h0, whh, c0, bhh, bx: options.inputBias ?? null, wih: options.inputWeight ?? null }
  // The graph node's inputs are the named ones present, in this order; the VJP finds each by name.
  const names = (Object.keys(named) as InputName[]).filter((n) => named[n] !== null)
  const inputs = names.map((n) => named[n] as Tensor)
  const { wih, bx } = named
  const model = floats(gx)
  const out: ScanOutputs = { output: allocLike(model, T * B * H), h: allocLike(model, B * H), c: k.hasCell ? allocLike(model, B * H) : EMPTY }
  // Without a recorded graph (noGrad, or no input needs a gradient) backward never runs: keep no tape.
  const keepTape = isRecording() && inputs.some((x) => x.requiresGrad)
  const tape = scanForward(
    k,
    shape,
    {
      gx: wih === null ? model : projector(gx, wih),
      h0: floats(h0),
      c0: c0 === null ? EMPTY : floats(c0),
      w: floats(whh),
      bhh: bhh === null ? EMPTY : f64(bhh),
      bx: bx === null ? EMPTY : f64(bx),
    },
    out,
    keepTape,
  )
  const results: OutputData[] = [
    { data: out.output, shape: batchFirst ? [B, T, H] : [T, B, H] },
    { data: out.h, shape: [B, H] },
  ]
  if (k.hasCell) results.push({ data: out.c, shape: [B, H] })
  const op = `${family.name}Scan`
  const [output, h, c] = makeOutputs(
    op,
    inputs,
    results,
    (gs, needs) => {
      if (isRecording()) return recomputedVjp(family, named, names, options, gs)
      const need = (n: InputName): boolean => needs[names.indexOf(n)] === true
      const back = wih === null ? null : projectionBackward(gx, wih, need('gx'), need('wih'))
      const data = (g: Tensor | null | undefined): Floats | null => (g === null || g === undefined ? null : floats(g))
      const d = scanBackward(
        k,
        shape,
        tape,
        { output: data(gs[0]), h: data(gs[1]), c: data(gs[2]) },
        floats(whh),
        { dh0: need('h0'), dw: need('whh'), dbhh: need('bhh'), dbx: need('bx') },
        back === null ? null : back.sink,
        vjpIsLastUse(),
      )
      const grads: Record<InputName, Floats | Tensor | null> = {
        gx: back === null ? d.dgx : back.dx,
        h0: d.dh0,
        whh: d.dw,
        c0: d.dc0,
        bhh: d.dbhh,
        bx: d.dbx,
        wih: back === null ? null : back.dw,
      }
      return names.map((n) => {
        const g = grads[n]
        if (!need(n) || g === null) return null
        return g instanceof Tensor ? g : new Tensor(g, (named[n] as Tensor).shape)
      })
    },
    { inputs: names, reverse: shape.reverse, batchFirst, lengths },
  )
  return { output, h, c: k.hasCell ? c : null }
}

/**
 * The fused op's VJP in a recorded backward: the kernels' cotangents would be constants there,
 * so the scan is recomputed with the composed cells (recorded) and the cotangents are pulled
 * back through that. Slower than the fused backward, but every order of derivative (and jvp,
 * which differentiates a backward) sees the same function the fused forward computed.
 */
function recomputedVjp(
  family: CellFamily,
  named: FusedInputs,
  names: readonly InputName[],
  options: ScanOptions,
  gs: readonly (Tensor | null)[],
): (Tensor | null)[] {
  const inputs = names.map((n) => named[n] as Tensor)
  const [, pullback] = vjp(
    (...xs: Tensor[]) => {
      const at = (n: InputName): Tensor | null => (names.includes(n) ? xs[names.indexOf(n)] : null)
      const r = composedScan(family, at('gx') as Tensor, at('h0') as Tensor, at('c0'), at('whh') as Tensor, at('bhh'), {
        ...options,
        inputBias: at('bx'),
        inputWeight: at('wih'),
      })
      // The scalar whose gradient is the VJP: each used result against its cotangent.
      let total: Tensor | null = null
      for (const [k, y] of [r.output, r.h, r.c].entries()) {
        const g = gs[k]
        if (g === null || g === undefined || y === null) continue
        const term = sum(mul(y, g))
        total = total === null ? term : add(total, term)
      }
      return total ?? sum(mul(r.h, 0))
    },
    ...inputs,
  )
  return pullback(tensor(1, { dtype: named.gx.dtype })) as Tensor[]
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

/** Rows still inside their sequence at step t, as an int32 [B,1] mask; null when all are. */
function activeMask(lengths: readonly number[] | null | undefined, t: number): Tensor | null {
  if (lengths === null || lengths === undefined || lengths.every((n) => t < n)) return null
  return tensor(
    Int32Array.from(lengths, (n) => (t < n ? 1 : 0)),
    { shape: [lengths.length, 1], dtype: 'int32' },
  )
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
export function scan(
  family: CellFamily,
  fused: boolean,
  gx: Tensor,
  h0: Tensor,
  c0: Tensor | null,
  whh: Tensor,
  bhh: Tensor | null,
  options: ScanOptions = {},
): ScanResult {
  return fused ? fusedScan(family, gx, h0, c0, whh, bhh, options) : composedScan(family, gx, h0, c0, whh, bhh, options)
}

/**
 * Checks the arguments of a single-step cell (`gx` [B,G*H], `h` and `c` [B,H], `whh`
 * [G*H,H], `bhh` [G*H]): shapes, and one float dtype for all.
 */
export function checkCellArgs(op: string, gates: number, gx: Tensor, h: Tensor, c: Tensor | null, whh: Tensor, bhh: Tensor | null): void {
  for (const [name, x] of [
    ['gx', gx],
    ['h', h],
    ['c', c],
    ['whh', whh],
    ['bhh', bhh],
  ] as const) {
    if (x !== null && !(x instanceof Tensor)) throw new ArgumentError(`${op}: ${name} must be a Tensor`)
  }
  if (h.rank !== 2) throw new ShapeError(`${op}: h must have shape [batch, hidden], got ${fmtShape(h.shape)}`)
  const [B, H] = h.shape
  const want = (name: string, x: Tensor | null, shape: number[]): void => {
    if (x !== null && !shapesEqual(x.shape, shape))
      throw new ShapeError(`${op}: ${name} must have shape ${fmtShape(shape)} for h of shape ${fmtShape(h.shape)}, got ${fmtShape(x.shape)}`)
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
  const r = fusedScan(family, reshape(gx, [1, B, GH]), state.h, state.c, whh, bhh)
  return { h: r.h, c: r.c }
}
