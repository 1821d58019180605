/**
 * The fused LSTM cell's pointwise kernels (gate order i, f, g, o, as PyTorch):
 * `c_t = f * c_{t-1} + i * g`, `h_t = o * tanh(c_t)`. The cache holds the four activated
 * gates of every row.
 * @module
 */
import type { CellKernel } from './cell.ts'
import { sigmoidOf, tanhOf } from './approx.ts'

/** The LSTM cell kernel for the fused scan. */
export const lstmKernel: CellKernel = {
  gates: 4,
  hasCell: true,
  cacheWidth: 4,
  backwardReadsH: false,
  dpreIsDgx: true,
  stepBias: false,
  forward(B, H, { gx, pre, cPrev, hNext, cNext, cache }, approx) {
    const G = 4 * H
    for (let b = 0; b < B; b++) {
      const r = b * G
      const o = b * H
      for (let j = 0; j < H; j++) {
        const ii = r + j
        const fi = ii + H
        const gi = fi + H
        const oi = gi + H
        const i = sigmoidOf(gx[ii] + pre[ii], approx)
        const f = sigmoidOf(gx[fi] + pre[fi], approx)
        const g = tanhOf(gx[gi] + pre[gi], approx)
        const og = sigmoidOf(gx[oi] + pre[oi], approx)
        const c = f * cPrev[o + j] + i * g
        cache[ii] = i
        cache[fi] = f
        cache[gi] = g
        cache[oi] = og
        cNext[o + j] = c
        hNext[o + j] = og * tanhOf(c, approx)
      }
    }
  },
  backward(B, H, { cache, cPrev, cNext, dh, dc, dgx, dpre, dhPrev, dcPrev }, approx) {
    const G = 4 * H
    for (let b = 0; b < B; b++) {
      const r = b * G
      const o = b * H
      for (let j = 0; j < H; j++) {
        const ii = r + j
        const fi = ii + H
        const gi = fi + H
        const oi = gi + H
        const i = cache[ii]
        const f = cache[fi]
        const g = cache[gi]
        const og = cache[oi]
        const tc = tanhOf(cNext[o + j], approx)
        const dhv = dh[o + j]
        const dct = dc[o + j] + dhv * og * (1 - tc * tc)
        const di = dct * g * i * (1 - i)
        const df = dct * cPrev[o + j] * f * (1 - f)
        const dg = dct * i * (1 - g * g)
        const dO = dhv * tc * og * (1 - og)
        dgx[ii] = dpre[ii] = di
        dgx[fi] = dpre[fi] = df
        dgx[gi] = dpre[gi] = dg
        dgx[oi] = dpre[oi] = dO
        dcPrev[o + j] = dct * f
        dhPrev[o + j] = 0
      }
    }
  },
}
