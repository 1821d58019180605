/**
 * Independent scalar transcriptions of torch.optim's `_single_tensor_*` functions (1.13,
 * plus `maximize` and `decoupled_weight_decay` of later versions for NAdam and RAdam) and of
 * Lion's paper, over plain number arrays. Tests compare the package against these where no
 * PyTorch fixture exists (Adamax, NAdam, RAdam, Lion, and option combinations the fixtures
 * leave out).
 */

export type RefState = Record<string, number[] | number | null>
export type RefHyper = Record<string, any>

const zeros = (n: number): number[] => new Array<number>(n).fill(0)

/** Adam's first and second moments (`exp_avg`, `exp_avg_sq`), updated in `st`. */
function moments(st: RefState, g: number[], b1: number, b2: number): { m: number[]; v: number[] } {
  const m = ((st.exp_avg as number[]) ?? zeros(g.length)).map((x, i) => x * b1 + (1 - b1) * g[i])
  const v = ((st.exp_avg_sq as number[]) ?? zeros(g.length)).map((x, i) => x * b2 + (1 - b2) * g[i] * g[i])
  st.exp_avg = m
  st.exp_avg_sq = v
  return { m, v }
}

/** One update of parameter `p` with gradient `grad` at step `t` (from 1); returns the new parameter, mutating `st`. */
export function refStep(name: string, h: RefHyper, p: number[], grad: number[], st: RefState, t: number): number[] {
  const n = p.length
  let g = h.maximize === true ? grad.map((x) => -x) : grad.slice()
  const wd: number = h.weightDecay ?? 0
  switch (name) {
    case 'sgd': {
      if (wd !== 0) g = g.map((x, i) => x + wd * p[i])
      if (h.momentum !== 0) {
        let buf = st.momentum_buffer as number[] | null | undefined
        if (buf == null) buf = g.slice()
        else buf = buf.map((b, i) => b * h.momentum + (1 - h.dampening) * g[i])
        st.momentum_buffer = buf
        g = h.nesterov ? g.map((x, i) => x + h.momentum * (buf as number[])[i]) : buf.slice()
      }
      return p.map((x, i) => x + -h.lr * g[i])
    }
    case 'adam':
    case 'adamw': {
      const [b1, b2] = h.betas
      let q = p
      if (name === 'adamw') q = p.map((x) => x * (1 - h.lr * wd))
      else if (wd !== 0) g = g.map((x, i) => x + wd * p[i])
      const { m, v } = moments(st, g, b1, b2)
      const bc1 = 1 - b1 ** t
      const bc2s = Math.sqrt(1 - b2 ** t)
      let vv = v
      if (h.amsgrad) {
        vv = ((st.max_exp_avg_sq as number[]) ?? zeros(n)).map((x, i) => Math.max(x, v[i]))
        st.max_exp_avg_sq = vv
      }
      const stepSize = h.lr / bc1
      return q.map((x, i) => x + (-stepSize * m[i]) / (Math.sqrt(vv[i]) / bc2s + h.eps))
    }
    case 'adamax': {
      const [b1, b2] = h.betas
      if (wd !== 0) g = g.map((x, i) => x + wd * p[i])
      const m = ((st.exp_avg as number[]) ?? zeros(n)).map((x, i) => x * b1 + (1 - b1) * g[i])
      const u = ((st.exp_inf as number[]) ?? zeros(n)).map((x, i) => Math.max(x * b2, Math.abs(g[i]) + h.eps))
      st.exp_avg = m
      st.exp_inf = u
      const clr = h.lr / (1 - b1 ** t)
      return p.map((x, i) => x + (-clr * m[i]) / u[i])
    }
    case 'nadam': {
      const [b1, b2] = h.betas
      let q = p
      if (h.decoupledWeightDecay) q = p.map((x) => x * (1 - h.lr * wd))
      else if (wd !== 0) g = g.map((x, i) => x + wd * p[i])
      const bc2 = 1 - b2 ** t
      const mu = b1 * (1 - 0.5 * 0.96 ** (t * h.momentumDecay))
      const muNext = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * h.momentumDecay))
      const muProduct = ((st.mu_product as number | undefined) ?? 1) * mu
      st.mu_product = muProduct
      const muProductNext = muProduct * muNext
      const { m, v } = moments(st, g, b1, b2)
      const denom = v.map((x) => Math.sqrt(x / bc2) + h.eps)
      const p1 = q.map((x, i) => x + (((-h.lr * (1 - mu)) / (1 - muProduct)) * g[i]) / denom[i])
      return p1.map((x, i) => x + (((-h.lr * muNext) / (1 - muProductNext)) * m[i]) / denom[i])
    }
    case 'radam': {
      const [b1, b2] = h.betas
      let q = p
      if (h.decoupledWeightDecay) q = p.map((x) => x * (1 - h.lr * wd))
      else if (wd !== 0) g = g.map((x, i) => x + wd * p[i])
      const { m, v } = moments(st, g, b1, b2)
      const bc1 = 1 - b1 ** t
      const bc2 = 1 - b2 ** t
      const corrected = m.map((x) => x / bc1)
      const rhoInf = 2 / (1 - b2) - 1
      const rhoT = rhoInf - (2 * t * b2 ** t) / bc2
      if (rhoT > 5) {
        const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT))
        return q.map((x, i) => x - corrected[i] * h.lr * (Math.sqrt(bc2) / (Math.sqrt(v[i]) + h.eps)) * rect)
      }
      return q.map((x, i) => x - corrected[i] * h.lr)
    }
    case 'rmsprop': {
      if (wd !== 0) g = g.map((x, i) => x + wd * p[i])
      const a = h.alpha
      const sq = ((st.square_avg as number[]) ?? zeros(n)).map((x, i) => x * a + (1 - a) * g[i] * g[i])
      st.square_avg = sq
      let avg: number[]
      if (h.centered) {
        const ga = ((st.grad_avg as number[]) ?? zeros(n)).map((x, i) => x * a + (1 - a) * g[i])
        st.grad_avg = ga
        avg = sq.map((x, i) => Math.sqrt(x - ga[i] * ga[i]) + h.eps)
      } else {
        avg = sq.map((x) => Math.sqrt(x) + h.eps)
      }
      if (h.momentum > 0) {
        const buf = ((st.momentum_buffer as number[]) ?? zeros(n)).map((b, i) => b * h.momentum + g[i] / avg[i])
        st.momentum_buffer = buf
        return p.map((x, i) => x - h.lr * buf[i])
      }
      return p.map((x, i) => x + (-h.lr * g[i]) / avg[i])
    }
    case 'adagrad': {
      if (wd !== 0) g = g.map((x, i) => x + wd * p[i])
      const clr = h.lr / (1 + (t - 1) * h.lrDecay)
      const sum = ((st.sum as number[]) ?? new Array<number>(n).fill(h.initialAccumulatorValue)).map((s, i) => s + g[i] * g[i])
      st.sum = sum
      return p.map((x, i) => x + (-clr * g[i]) / (Math.sqrt(sum[i]) + h.eps))
    }
    case 'lion': {
      const [b1, b2] = h.betas
      const m = (st.exp_avg as number[]) ?? zeros(n)
      const out = p.map((x, i) => x * (1 - h.lr * wd) - h.lr * Math.sign(b1 * m[i] + (1 - b1) * g[i]))
      st.exp_avg = m.map((x, i) => b2 * x + (1 - b2) * g[i])
      return out
    }
    default:
      throw new Error(`no reference for ${name}`)
  }
}

/** torch's (or the paper's) defaults, to fill a reference configuration. */
export const REF_DEFAULTS: Record<string, RefHyper> = {
  sgd: { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false },
  adam: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false },
  adamw: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false },
  adamax: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, maximize: false },
  nadam: { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentumDecay: 4e-3, decoupledWeightDecay: false, maximize: false },
  radam: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, decoupledWeightDecay: false, maximize: false },
  rmsprop: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false },
  adagrad: { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false },
  lion: { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false },
}
