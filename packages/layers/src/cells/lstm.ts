/**
 * The LSTM cell (PyTorch's gate order i, f, g, o), composed from core ops and fused.
 * Both take the input projection of the step, `gx = x_t W_ih^T + b_ih + b_hh` [B,4H], so
 * the x-projection of all steps can be one matmul before the time loop; the four gate
 * projections of h are one matmul per step.
 * @module
 */
import { add, concat, matmul, mul, sigmoid, split, tanh, transpose } from '@graphgrad/core'
import type { CaseSampler, GradSpec, Tensor } from '@graphgrad/core'
import { lstmKernel } from '../kernels/lstm.ts'
import { type CellFamily, type CellState, checkCellArgs, fusedStep } from './recurrence.ts'

/** An LSTM state after one step. */
export interface LSTMState {
  /** Hidden state `h_t` [B, H]. */
  readonly h: Tensor
  /** Cell state `c_t` [B, H]. */
  readonly c: Tensor
}

function composedStep(gx: Tensor, state: CellState, whh: Tensor): CellState {
  const H = state.h.shape[1]
  const [ai, af, ag, ao] = split(add(gx, matmul(state.h, transpose(whh))), H, 1)
  const c = add(mul(sigmoid(af), state.c as Tensor), mul(sigmoid(ai), tanh(ag)))
  return { h: mul(sigmoid(ao), tanh(c)), c }
}

/** The LSTM family for the recurrent layers. */
export const lstmFamily: CellFamily = {
  name: 'lstm',
  kernel: lstmKernel,
  hiddenBiasInStep: false,
  step: composedStep,
}

/**
 * One LSTM step composed from core ops: `[i, f, g, o] = gx + h W_hh^T`, `c' = σ(f) c + σ(i) tanh(g)`,
 * `h' = σ(o) tanh(c')`. `gx` [B,4H] is the input projection with both biases; `h`, `c` [B,H];
 * `whh` [4H,H]. Differentiable to any order.
 */
export function lstmCell(gx: Tensor, h: Tensor, c: Tensor, whh: Tensor): LSTMState {
  checkCellArgs('lstmCell', 4, gx, h, c, whh, null)
  return composedStep(gx, { h, c }, whh) as LSTMState
}

/**
 * The same step as {@link lstmCell} as one fused op: one forward kernel and a hand-written
 * VJP (a derivative of higher order recomputes the step composed).
 */
export function lstmCellFused(gx: Tensor, h: Tensor, c: Tensor, whh: Tensor): LSTMState {
  checkCellArgs('lstmCellFused', 4, gx, h, c, whh, null)
  return fusedStep(lstmFamily, gx, { h, c }, whh, null) as LSTMState
}

function cellSpec(cell: typeof lstmCell): GradSpec {
  return {
    sample: (s: CaseSampler) => {
      const B = s.int(1, 3)
      const H = s.int(1, 4)
      const inputs = [s.values([B, 4 * H]), s.values([B, H]), s.values([B, H]), s.values([4 * H, H], { min: -1, max: 1 })]
      const fn = (gx: Tensor, h: Tensor, c: Tensor, whh: Tensor): Tensor => {
        const r = cell(gx, h, c, whh)
        return concat([r.h, r.c], 1)
      }
      return { inputs, fn, label: `B=${B} H=${H}` }
    },
  }
}

/** Gradient-check specs of the composed and the fused LSTM cell. */
export const lstmCellSpecs: Record<'lstmCell' | 'lstmCellFused', GradSpec> = {
  lstmCell: cellSpec(lstmCell),
  lstmCellFused: cellSpec(lstmCellFused),
}
