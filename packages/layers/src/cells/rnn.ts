/**
 * The Elman cell of the essay, `h_t = f(U x_t + W h_{t-1} + b)`, composed and fused.
 * In PyTorch's names U is `weight_ih` and W is `weight_hh`; `gx = x_t U^T + b_ih + b_hh`
 * is computed for all steps before the loop, so a step is `f(gx + h W^T)`.
 * @module
 */
import { ArgumentError, add, matmul, relu, tanh, transpose } from '@graphgrad/core'
import type { CaseSampler, GradSpec, Tensor } from '@graphgrad/core'
import { rnnReluKernel, rnnTanhKernel } from '../kernels/rnn.ts'
import { type CellFamily, type CellState, checkCellArgs, fusedStep } from './recurrence.ts'

/** The Elman network's nonlinearity. */
export type Nonlinearity = 'tanh' | 'relu'

function family(nonlinearity: Nonlinearity): CellFamily {
  const act = nonlinearity === 'tanh' ? tanh : relu
  return {
    name: `rnn_${nonlinearity}`,
    kernel: nonlinearity === 'tanh' ? rnnTanhKernel : rnnReluKernel,
    hiddenBiasInStep: false,
    step: (gx: Tensor, state: CellState, whh: Tensor): CellState => ({ h: act(add(gx, matmul(state.h, transpose(whh)))), c: null }),
  }
}

/** The Elman families (tanh and relu) for the recurrent layers. */
export const rnnFamilies: Readonly<Record<Nonlinearity, CellFamily>> = { tanh: family('tanh'), relu: family('relu') }

function familyOf(nonlinearity: Nonlinearity, op: string): CellFamily {
  const f = rnnFamilies[nonlinearity]
  if (f === undefined) throw new ArgumentError(`${op}: nonlinearity must be 'tanh' or 'relu', got '${String(nonlinearity)}'`)
  return f
}

/**
 * One Elman step composed from core ops: `f(gx + h W^T)` with f tanh or relu. `gx` [B,H] is
 * `x U^T + b`; `h` [B,H]; `whh` (W) [H,H]. Differentiable to any order.
 */
export function rnnCell(gx: Tensor, h: Tensor, whh: Tensor, nonlinearity: Nonlinearity = 'tanh'): Tensor {
  const f = familyOf(nonlinearity, 'rnnCell')
  checkCellArgs('rnnCell', 1, gx, h, null, whh, null)
  return f.step(gx, { h, c: null }, whh, null).h
}

/** The same step as {@link rnnCell} as one fused op (hand-written VJP; a derivative of higher order recomputes the step composed). */
export function rnnCellFused(gx: Tensor, h: Tensor, whh: Tensor, nonlinearity: Nonlinearity = 'tanh'): Tensor {
  const f = familyOf(nonlinearity, 'rnnCellFused')
  checkCellArgs('rnnCellFused', 1, gx, h, null, whh, null)
  return fusedStep(f, gx, { h, c: null }, whh, null).h
}

function cellSpec(cell: typeof rnnCell, nonlinearity: Nonlinearity): GradSpec {
  return {
    sample: (s: CaseSampler) => {
      const B = s.int(1, 3)
      const H = s.int(1, 4)
      // relu has a kink at 0: keep the projection away from it so finite differences hold.
      const gx = s.values([B, H], nonlinearity === 'relu' ? { avoid: [0], margin: 0.5 } : {})
      const inputs = [gx, s.values([B, H], { min: -0.3, max: 0.3 }), s.values([H, H], { min: -0.3, max: 0.3 })]
      return { inputs, fn: (x: Tensor, h: Tensor, w: Tensor) => cell(x, h, w, nonlinearity), label: `B=${B} H=${H} ${nonlinearity}` }
    },
  }
}

/** Gradient-check specs of the composed and the fused Elman cell, tanh and relu. */
export const rnnCellSpecs: Record<'rnnCell' | 'rnnCellFused' | 'rnnReluCell' | 'rnnReluCellFused', GradSpec> = {
  rnnCell: cellSpec(rnnCell, 'tanh'),
  rnnCellFused: cellSpec(rnnCellFused, 'tanh'),
  rnnReluCell: cellSpec(rnnCell, 'relu'),
  rnnReluCellFused: cellSpec(rnnCellFused, 'relu'),
}
