/**
 * The time loop of a fused recurrent layer, over typed arrays only: what its forward
 * (`scan-forward.ts`) and its backward (`scan-backward.ts`) share. For each step there is one
 * GEMM `h_{t-1} W_hh^T` and one call of the cell's pointwise kernel (`cell.ts`); backward runs
 * the steps in reverse with the cell's hand-written backward kernel, one GEMM per step for
 * `dh_{t-1}`, and one GEMM per chunk of steps for `dW_hh`.
 *
 * Variable lengths follow packed-sequence semantics: a row whose sequence is over at step t
 * keeps its state and emits zeros, so the forward direction stops at the row's own last
 * step and the reverse direction starts there.
 *
 * W_hh is packed once per walk (`packGemmB`) for its T step products, which run in the
 * model's dtype (float32 GEMM kernels for a float32 model, accumulating in float32 as
 * PyTorch's do; float64 for a float64 model). The tape (states, cell caches) and the results
 * are kept in the model's dtype, so a float32 model stores float32 activations, as PyTorch
 * does. The cell kernels only ever see the rows of one step (scratch reused across steps):
 * float64 for the TypeScript kernels, float32 in the WASM cells' memory for a float32 model
 * where they run (`cell-steps.ts`), filled and drained by copy kernels per array class
 * (`copy.ts`; a memcpy where the classes agree). So every loop is monomorphic, nothing is
 * allocated per step, and a float64 model computes exactly what the float64 kernels give.
 *
 * The memory the scan saves, each trick in one place:
 * - the input projection is computed a chunk of steps at a time (`GxSource`, in the forward)
 *   and its cotangent handed on a chunk at a time (`DgxSink`, in the backward), so neither
 *   exists for all steps;
 * - a forward that nobody will differentiate keeps two state slots, no tape (`scan-forward.ts`);
 * - the backward's per-chunk buffers (dgx, dpre, the partial dW_hh) reuse the tape stretch the
 *   walk has consumed when the graph is released after it (`chunkBuffers` in `scan-backward.ts`).
 * @module
 */
import type { Floats } from './copy.ts'

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
   * Lay the outputs out as [B, T, H] (row b*T + t) instead of [T, B, H] (row t*B + b), so
   * that a batch-first layer needs no transposed copy.
   */
  readonly batchFirst?: boolean
}

/**
 * Computes the input projection of the time steps [t0, t0+n) into `into`, as [n, B, G*H] in
 * time order. The forward asks for one chunk of steps at a time, so the projection of the
 * whole sequence ([T, B, G*H], as large as the tape's gate cache) never exists at once.
 */
export type GxSource = (t0: number, n: number, into: Floats) => void

/**
 * Takes the cotangent of gx for the time steps [t0, t0+n) ([n,B,G*H] in time order, from
 * `dgx[at]`) as the backward walk completes them. The array is reused for the next chunk.
 */
export type DgxSink = (dgx: Floats, at: number, t0: number, n: number) => void

/**
 * What forward keeps for backward, in the model's dtype: the states in processing order and
 * the cell caches. These are the layer's saved activations: per (batch, time) position,
 * `cacheWidth` x H cache floats (LSTM: the 4 activated gates; GRU: 4) and the states (LSTM:
 * c_t and h_t; GRU and RNN: h_t), i.e. B*T*H*(4+2) floats for an LSTM, 12.0 MiB at B = 32,
 * T = 64, H = 256 in float32. Besides them a training step holds the layer's outputs
 * (B*T*H, which the next layer reads) and, during the backward walk, their cotangent and one
 * chunk of scratch rows.
 */
export interface ScanTape {
  /** [T+1, B, H]: slot s is the state before processing step s (slot 0 is h0). */
  readonly hs: Floats
  /** As `hs` for the cell state (empty for cells without one). */
  readonly cs: Floats
  /** [T, B, cacheWidth*H]. */
  readonly cache: Floats
}

/** The results of a scan's forward, in the model's dtype. */
export interface ScanOutputs {
  /** h_t at every step, zero past a row's length: [T,B,H], or [B,T,H] with `batchFirst`. */
  readonly output: Floats
  /** [B, H]: the final h (each row's at its own last step). */
  readonly h: Floats
  /** [B, H]: the final c (empty for cells without one). */
  readonly c: Floats
}

/** The cotangents of a scan's results; `null` is a symbolic zero (a result nobody used). */
export interface ScanCotangents {
  /** Of {@link ScanOutputs.output}, in its layout. */
  readonly output: Floats | null
  /** Of the final h. */
  readonly h: Floats | null
  /** Of the final c. */
  readonly c: Floats | null
}

/** The cotangents a scan's backward produces, in the tape's dtype (`dw` in the weight's). */
export interface ScanGrads {
  /** [T, B, G*H], in time order (empty when a sink took it in chunks). */
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

/** A zero-length array, for every "none" (no cell state, no bias, a skipped cotangent). */
export const EMPTY = new Float64Array(0)

/** Rows of gx or dgx handled at once: enough for efficient GEMMs, small next to the tape. */
const CHUNK_ROWS = 512

/** Time steps per chunk of gx (forward) or dgx (backward). */
export function chunkSteps(T: number, B: number): number {
  return Math.min(T, Math.ceil(CHUNK_ROWS / B))
}

/** Where output row (t, b) starts in a scan's `output`, in the shape's layout. */
export function outAt(shape: ScanShape, t: number, b: number): number {
  return (shape.batchFirst === true ? b * shape.T + t : t * shape.B + b) * shape.H
}

/** Rows whose sequence is over at step t (they keep their state and emit zeros); empty for full length. */
export function finishedRows(shape: ScanShape, t: number, into: number[]): number[] {
  into.length = 0
  if (shape.lengths !== null) for (let b = 0; b < shape.B; b++) if (t >= shape.lengths[b]) into.push(b)
  return into
}
