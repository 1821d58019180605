/**
 * The GRU cell (PyTorch's gate order r, z, n), composed from core ops and fused.
 * `n = tanh(x_n + r * (W_hn h + b_hn))`: the reset gate multiplies the hidden projection
 * *including its bias*, so b_hh stays in the step while b_ih is folded into `gx`.
 * @module
 */
import { add, matmul, mul, sigmoid, split, sub, tanh, transpose } from '@graphgrad/core'
import type { CaseSampler, GradSpec, Tensor } from '@graphgrad/core'
import { gruKernel } from '../kernels/gru.ts'
import { type CellFamily, type CellState, checkCellArgs, fusedStep } from './recurrence.ts'

function composedStep(gx: Tensor, state: CellState, whh: Tensor, bhh: Tensor | null): CellState {
  const h = state.h
  const H = h.shape[1]
  const proj = matmul(h, transpose(whh))
  const [xr, xz, xn] = split(gx, H, 1)
  const [hr, hz, hn] = split(bhh === null ? proj : add(proj, bhh), H, 1)
  const r = sigmoid(add(xr, hr))
  const z = sigmoid(add(xz, hz))
  const n = tanh(add(xn, mul(r, hn)))
  // (1 - z) * n + z * h, written as PyTorch's kernel does.
  return { h: add(n, mul(z, sub(h, n))), c: null }
}

/** The GRU family for the recurrent layers. */
export const gruFamily: CellFamily = {
  name: 'gru',
  kernel: gruKernel,
  hiddenBiasInStep: true,
  step: composedStep,
}

/**
 * One GRU step composed from core ops: `[h_r, h_z, h_n] = h W_hh^T + b_hh`,
 * `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r h_n)`, `h' = (1 - z) n + z h`.
 * `gx` [B,3H] is `x W_ih^T + b_ih`; `h` [B,H]; `whh` [3H,H]; `bhh` [3H] or null.
 * Differentiable to any order.
 */
export function gruCell(gx: Tensor, h: Tensor, whh: Tensor, bhh: Tensor | null = null): Tensor {
  checkCellArgs('gruCell', 3, gx, h, null, whh, bhh)
  return composedStep(gx, { h, c: null }, whh, bhh).h
}

/** The same step as {@link gruCell} as one fused op (hand-written VJP; a derivative of higher order recomputes the step composed). */
export function gruCellFused(gx: Tensor, h: Tensor, whh: Tensor, bhh: Tensor | null = null): Tensor {
  checkCellArgs('gruCellFused', 3, gx, h, null, whh, bhh)
  return fusedStep(gruFamily, gx, { h, c: null }, whh, bhh).h
}

function cellSpec(cell: typeof gruCell): GradSpec {
  return {
    sample: (s: CaseSampler) => {
      const B = s.int(1, 3)
      const H = s.int(1, 4)
      const inputs = [s.values([B, 3 * H]), s.values([B, H]), s.values([3 * H, H], { min: -1, max: 1 }), s.values([3 * H], { min: -1, max: 1 })]
      return { inputs, fn: (gx: Tensor, h: Tensor, whh: Tensor, bhh: Tensor) => cell(gx, h, whh, bhh), label: `B=${B} H=${H}` }
    },
  }
}

/** Gradient-check specs of the composed and the fused GRU cell. */
export const gruCellSpecs: Record<'gruCell' | 'gruCellFused', GradSpec> = {
  gruCell: cellSpec(gruCell),
  gruCellFused: cellSpec(gruCellFused),
}
