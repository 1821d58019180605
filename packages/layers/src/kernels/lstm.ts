/**
 * The fused LSTM cell's pointwise kernels (gate order i, f, g, o, as PyTorch):
 * `c_t = f * c_{t-1} + i * g`, `h_t = o * tanh(c_t)`. The cache holds the four activated
 * gates of every row.
 * @module
 */
import type { CellKernel } from './scan.ts'
import { sigmoidOf, tanhOf } from './approx.ts'

/** The LSTM cell kernel for {@link scanForward}. */
export const lstmKernel: CellKernel = {
  gates: 4,
  hasCell: true,
  cacheWidth: 4,
  backwardReadsH: false,
  dpreIsDgx: true,
  stepBias: false,
  forward(B, H, gx, gxAt, pre, _bhh, hs, cs, prevAt, nextAt, cache, cacheAt, approx) {
    const G = 4 * H
    for (let b = 0; b < B; b++) {
      const r = b * G
      const o = b * H
      for (let j = 0; j < H; j++) {
        const ii = r + j
        const fi = ii + H
        const gi = fi + H
        const oi = gi + H
        const i = sigmoidOf(gx[gxAt + ii] + pre[ii], approx)
        const f = sigmoidOf(gx[gxAt + fi] + pre[fi], approx)
        const g = tanhOf(gx[gxAt + gi] + pre[gi], approx)
        const og = sigmoidOf(gx[gxAt + oi] + pre[oi], approx)
        const c = f * cs[prevAt + o + j] + i * g
        cache[cacheAt + ii] = i
        cache[cacheAt + fi] = f
        cache[cacheAt + gi] = g
        cache[cacheAt + oi] = og
        cs[nextAt + o + j] = c
        hs[nextAt + o + j] = og * tanhOf(c, approx)
      }
    }
  },
  backward(B, H, cache, cacheAt, _hs, cs, prevAt, nextAt, dh, dc, dgx, dgxAt, dpre, dpreAt, dhPrev, dcPrev, approx) {
    const G = 4 * H
    for (let b = 0; b < B; b++) {
      const r = b * G
      const o = b * H
      for (let j = 0; j < H; j++) {
        const ii = r + j
        const fi = ii + H
        const gi = fi + H
        const oi = gi + H
        const i = cache[cacheAt + ii]
        const f = cache[cacheAt + fi]
        const g = cache[cacheAt + gi]
        const og = cache[cacheAt + oi]
        const tc = tanhOf(cs[nextAt + o + j], approx)
        const dhv = dh[o + j]
        const dct = dc[o + j] + dhv * og * (1 - tc * tc)
        const di = dct * g * i * (1 - i)
        const df = dct * cs[prevAt + o + j] * f * (1 - f)
        const dg = dct * i * (1 - g * g)
        const dO = dhv * tc * og * (1 - og)
        dgx[dgxAt + ii] = dpre[dpreAt + ii] = di
        dgx[dgxAt + fi] = dpre[dpreAt + fi] = df
        dgx[dgxAt + gi] = dpre[dpreAt + gi] = dg
        dgx[dgxAt + oi] = dpre[dpreAt + oi] = dO
        dcPrev[o + j] = dct * f
        dhPrev[o + j] = 0
      }
    }
  },
}
