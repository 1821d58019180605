/**
 * The fused GRU cell's pointwise kernels (gate order r, z, n, as PyTorch):
 * `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r * h_n)`, `h_t = (1 - z) * n + z * h_{t-1}`,
 * where `h_n = W_hn h_{t-1} + b_hn`: the reset gate multiplies the hidden bias too, which is
 * why b_hh stays in the step. The cache holds r, z, n and h_n of every row.
 * @module
 */
import type { CellKernel } from './scan.ts'
import { sigmoid } from './sigmoid.ts'

/** The GRU cell kernel for {@link scanForward}. */
export const gruKernel: CellKernel = {
  gates: 3,
  hasCell: false,
  cacheWidth: 4,
  forward(B, H, gx, pre, hPrev, _cPrev, hOut, _cOut, cache) {
    const G = 3 * H
    for (let b = 0; b < B; b++) {
      const r = b * G
      const q = b * 4 * H
      const o = b * H
      for (let j = 0; j < H; j++) {
        const rg = sigmoid(gx[r + j] + pre[r + j])
        const z = sigmoid(gx[r + H + j] + pre[r + H + j])
        const hn = pre[r + 2 * H + j]
        const n = Math.tanh(gx[r + 2 * H + j] + rg * hn)
        cache[q + j] = rg
        cache[q + H + j] = z
        cache[q + 2 * H + j] = n
        cache[q + 3 * H + j] = hn
        hOut[o + j] = (1 - z) * n + z * hPrev[o + j]
      }
    }
  },
  backward(B, H, cache, hPrev, _cPrev, _hNew, _cNew, dh, _dc, dgx, dpre, dhPrev) {
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
