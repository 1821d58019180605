/**
 * The fused Elman cell's pointwise kernels: `h_t = act(x_t U^T + h_{t-1} W^T + b)` with act
 * tanh or relu. Backward needs only h_t itself, so nothing is cached.
 * @module
 */
import type { CellKernel } from './scan.ts'

function forwardWith(relu: boolean): CellKernel['forward'] {
  return (B, H, gx, pre, _hPrev, _cPrev, hOut) => {
    const n = B * H
    if (relu) {
      // NaN passes through, as core's relu.
      for (let i = 0; i < n; i++) {
        const a = gx[i] + pre[i]
        hOut[i] = a > 0 ? a : a === a ? 0 : a
      }
    } else {
      for (let i = 0; i < n; i++) hOut[i] = Math.tanh(gx[i] + pre[i])
    }
  }
}

function backwardWith(relu: boolean): CellKernel['backward'] {
  return (B, H, _cache, _hPrev, _cPrev, hNew, _cNew, dh, _dc, dgx, dpre, dhPrev) => {
    const n = B * H
    if (relu) {
      for (let i = 0; i < n; i++) dgx[i] = dpre[i] = hNew[i] > 0 ? dh[i] : 0
    } else {
      for (let i = 0; i < n; i++) dgx[i] = dpre[i] = dh[i] * (1 - hNew[i] * hNew[i])
    }
    dhPrev.fill(0)
  }
}

/** The Elman cell kernel with tanh, for {@link scanForward}. */
export const rnnTanhKernel: CellKernel = { gates: 1, hasCell: false, cacheWidth: 0, forward: forwardWith(false), backward: backwardWith(false) }

/** The Elman cell kernel with relu, for {@link scanForward}. */
export const rnnReluKernel: CellKernel = { gates: 1, hasCell: false, cacheWidth: 0, forward: forwardWith(true), backward: backwardWith(true) }
