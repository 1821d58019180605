/**
 * The fused GRU cell's pointwise kernels (gate order r, z, n, as PyTorch):
 * `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r * h_n)`, `h_t = (1 - z) * n + z * h_{t-1}`,
 * where `h_n = W_hn h_{t-1} + b_hn`: the reset gate multiplies the hidden bias too, which is
 * why b_hh stays in the step. The cache holds r, z, n and h_n of every row.
 * @module
 */
import type { CellKernel } from './cell.ts'
import { sigmoidOf, tanhOf } from './approx.ts'

/** The GRU cell kernel for the fused scan. */
export const gruKernel: CellKernel = {
  gates: 3,
  hasCell: false,
  cacheWidth: 4,
  backwardReadsH: true,
  dpreIsDgx: false,
  stepBias: true,
  forward(B, H, { gx, pre, bhh, hPrev, hNext, cache }, approx) {
    const G = 3 * H
    // The layer gives b_hh or nothing; a missing bias reads as zeros.
    const biased = bhh.length > 0
    for (let b = 0; b < B; b++) {
      const r = b * G
      const q = b * 4 * H
      const o = b * H
      for (let j = 0; j < H; j++) {
        const rg = sigmoidOf(gx[r + j] + (pre[r + j] + (biased ? bhh[j] : 0)), approx)
        const z = sigmoidOf(gx[r + H + j] + (pre[r + H + j] + (biased ? bhh[H + j] : 0)), approx)
        const hn = pre[r + 2 * H + j] + (biased ? bhh[2 * H + j] : 0)
        const n = tanhOf(gx[r + 2 * H + j] + rg * hn, approx)
        cache[q + j] = rg
        cache[q + H + j] = z
        cache[q + 2 * H + j] = n
        cache[q + 3 * H + j] = hn
        hNext[o + j] = (1 - z) * n + z * hPrev[o + j]
      }
    }
  },
  backward(B, H, { cache, hPrev, dh, dgx, dpre, dhPrev }) {
    const G = 3 * H
    for (let b = 0; b < B; b++) {
      const r = b * G
      const q = b * 4 * H
      const o = b * H
      for (let j = 0; j < H; j++) {
        const rg = cache[q + j]
        const z = cache[q + H + j]
        const n = cache[q + 2 * H + j]
        const hn = cache[q + 3 * H + j]
        const dhv = dh[o + j]
        const dan = dhv * (1 - z) * (1 - n * n)
        const dar = dan * hn * rg * (1 - rg)
        const daz = dhv * (hPrev[o + j] - n) * z * (1 - z)
        dgx[r + j] = dpre[r + j] = dar
        dgx[r + H + j] = dpre[r + H + j] = daz
        dgx[r + 2 * H + j] = dan
        dpre[r + 2 * H + j] = dan * rg
        dhPrev[o + j] = dhv * z
      }
    }
  },
}
