/**
 * The fused Elman cell's pointwise kernels: `h_t = act(x_t U^T + h_{t-1} W^T + b)` with act
 * tanh or relu. Backward needs only h_t itself, so nothing is cached.
 * @module
 */
import type { CellKernel } from './scan.ts'
import { tanhOf } from './approx.ts'

function forwardWith(relu: boolean): CellKernel['forward'] {
  return (B, H, gx, gxAt, pre, _bhh, hs, _cs, _prevAt, nextAt, _cache, _cacheAt, approx) => {
    const n = B * H
    if (relu) {
      // NaN passes through, as core's relu.
      for (let i = 0; i < n; i++) {
        const a = gx[gxAt + i] + pre[i]
        hs[nextAt + i] = a > 0 ? a : a === a ? 0 : a
      }
    } else {
      for (let i = 0; i < n; i++) hs[nextAt + i] = tanhOf(gx[gxAt + i] + pre[i], approx)
    }
  }
}

function backwardWith(relu: boolean): CellKernel['backward'] {
  return (B, H, _cache, _cacheAt, hs, _cs, _prevAt, nextAt, dh, _dc, dgx, dgxAt, dpre, dpreAt, dhPrev) => {
    const n = B * H
    if (relu) {
      for (let i = 0; i < n; i++) dgx[dgxAt + i] = dpre[dpreAt + i] = hs[nextAt + i] > 0 ? dh[i] : 0
    } else {
      for (let i = 0; i < n; i++) {
        const h = hs[nextAt + i]
        dgx[dgxAt + i] = dpre[dpreAt + i] = dh[i] * (1 - h * h)
      }
    }
    dhPrev.fill(0)
  }
}

/** The Elman cell kernel with tanh, for {@link scanForward}. */
export const rnnTanhKernel: CellKernel = {
  gates: 1, hasCell: false, cacheWidth: 0, backwardReadsH: true, dpreIsDgx: true, stepBias: false,
  forward: forwardWith(false), backward: backwardWith(false),
}

/** The Elman cell kernel with relu, for {@link scanForward}. */
export const rnnReluKernel: CellKernel = {
  gates: 1, hasCell: false, cacheWidth: 0, backwardReadsH: true, dpreIsDgx: true, stepBias: false,
  forward: forwardWith(true), backward: backwardWith(true),
}
