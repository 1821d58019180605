/**
 * The fused Elman cell's pointwise kernels: `h_t = act(x_t U^T + h_{t-1} W^T + b)` with act
 * tanh or relu. Backward needs only h_t itself, so nothing is cached.
 * @module
 */
import type { CellKernel } from './cell.ts'
import { tanhOf } from './approx.ts'

function forwardWith(relu: boolean): CellKernel['forward'] {
  return (B, H, { gx, pre, hNext }, approx) => {
    const n = B * H
    if (relu) {
      // NaN passes through, as core's relu.
      for (let i = 0; i < n; i++) {
        const a = gx[i] + pre[i]
        hNext[i] = a > 0 ? a : a === a ? 0 : a
      }
    } else {
      for (let i = 0; i < n; i++) hNext[i] = tanhOf(gx[i] + pre[i], approx)
    }
  }
}

function backwardWith(relu: boolean): CellKernel['backward'] {
  return (B, H, { hNext, dh, dgx, dpre, dhPrev }) => {
    const n = B * H
    if (relu) {
      for (let i = 0; i < n; i++) dgx[i] = dpre[i] = hNext[i] > 0 ? dh[i] : 0
    } else {
      for (let i = 0; i < n; i++) {
        const h = hNext[i]
        dgx[i] = dpre[i] = dh[i] * (1 - h * h)
      }
    }
    dhPrev.fill(0)
  }
}

/** The Elman cell kernel with relu or tanh: both differ only in their pointwise loops. */
function elmanKernel(relu: boolean): CellKernel {
  return {
    gates: 1,
    hasCell: false,
    cacheWidth: 0,
    backwardReadsH: true,
    dpreIsDgx: true,
    stepBias: false,
    forward: forwardWith(relu),
    backward: backwardWith(relu),
  }
}

/** The Elman cell kernel with tanh, for the fused scan. */
export const rnnTanhKernel: CellKernel = elmanKernel(false)

/** The Elman cell kernel with relu, for the fused scan. */
export const rnnReluKernel: CellKernel = elmanKernel(true)
