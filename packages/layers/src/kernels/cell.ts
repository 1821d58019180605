/**
 * What a fused recurrent cell gives the scan: its sizes and the pointwise math of one time
 * step, forward and backward, over the rows of that step. The scan (`scan-forward.ts`,
 * `scan-backward.ts`) owns the time loop, the tape, the GEMMs and every memory trick; a cell
 * only reads and writes the named rows it is handed, so it cannot depend on where they live.
 * These TypeScript kernels are the reference; a float32 scan runs their WebAssembly twins
 * (`wasm-cells.ts`) over float32 rows where it can (`cell-steps.ts` chooses).
 * @module
 */
import type { Floats } from './copy.ts'

/**
 * The rows one forward step works on, each an array of the step's B batch rows (row b of a
 * `[B, W]` array is `[b*W, (b+1)*W)`): float64 for the TypeScript kernels, float32 views of
 * linear memory for the WebAssembly ones.
 */
export interface ForwardRows<A extends Floats = Float64Array> {
  /** [B, G*H]: the input projection `x_t W_ih^T` with the folded biases. */
  readonly gx: A
  /** [B, G*H]: the hidden projection `h_{t-1} W_hh^T`. */
  readonly pre: A
  /** [G*H]: the in-step hidden bias (GRU; zeros for a GRU without one), else empty. */
  readonly bhh: A
  /** [B, H]: h_{t-1}. */
  readonly hPrev: A
  /** [B, H]: c_{t-1} (empty for cells without a cell state). */
  readonly cPrev: A
  /** [B, H]: written with h_t. */
  readonly hNext: A
  /** [B, H]: written with c_t (empty for cells without a cell state). */
  readonly cNext: A
  /** [B, cacheWidth*H]: written with what the backward step needs besides the states. */
  readonly cache: A
}

/** The rows one backward step works on: the forward step's rows as saved, and the cotangents. */
export interface BackwardRows<A extends Floats = Float64Array> {
  /** [B, cacheWidth*H]: the forward step's cache. */
  readonly cache: A
  /** [B, H]: h_{t-1} (loaded only for a cell with `backwardReadsH`). */
  readonly hPrev: A
  /** [B, H]: h_t (likewise). */
  readonly hNext: A
  /** [B, H]: c_{t-1} (empty without a cell state). */
  readonly cPrev: A
  /** [B, H]: c_t (empty without a cell state). */
  readonly cNext: A
  /** [B, H]: the cotangent of h_t. */
  readonly dh: A
  /** [B, H]: the cotangent of c_t (empty without a cell state). */
  readonly dc: A
  /** [B, G*H]: written with the cotangent of `gx`. */
  readonly dgx: A
  /** [B, G*H]: written with the cotangent of `pre` (what flows into W_hh and h_{t-1}). */
  readonly dpre: A
  /** [B, H]: written with the part of h_{t-1}'s cotangent that does not go through W_hh. */
  readonly dhPrev: A
  /** [B, H]: written with c_{t-1}'s cotangent (empty without a cell state). */
  readonly dcPrev: A
}

/** The pointwise part of one recurrent cell, for one time step of B rows. */
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
  /** Whether `backward` reads `hPrev`/`hNext` (GRU, RNN); LSTM's reads only its cache and c, so the scan skips loading h. */
  readonly backwardReadsH: boolean
  /**
   * Whether `forward` adds an in-step b_hh to `pre` (GRU, whose reset gate multiplies it);
   * the other cells fold b_hh into `gx`, and a scan refuses to give them one.
   */
  readonly stepBias: boolean
  /**
   * One forward step: h_t (and c_t) and the cache from the projections and the previous state.
   * `approx`: use the float32-accurate activations of `approx.ts` (a float32 scan).
   */
  forward(B: number, H: number, rows: ForwardRows, approx: boolean): void
  /** One backward step: the cotangents of gx, pre, h_{t-1} (its part outside W_hh) and c_{t-1}. */
  backward(B: number, H: number, rows: BackwardRows, approx: boolean): void
}
