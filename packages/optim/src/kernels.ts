/**
 * The optimizers' number crunching: plain loops over typed arrays, no Tensor here.
 *
 * Every kernel reads and writes Float64Array only. The optimizer driver hands float64
 * parameters and state over as they are (read only; outputs go to fresh arrays) and widens
 * float32 ones to float64 copies first, then rounds the outputs back to float32. So all
 * arithmetic happens in float64 and each kernel only ever sees one array class, which keeps
 * V8's code for it monomorphic (one loop fed both Float32Array and Float64Array runs about
 * 2x slower). Flags such as `nesterov` are loop invariant, so their branches cost nothing.
 *
 * The Adam family's kernel also runs on float32 data directly (see {@link perClass}): the
 * arithmetic is the same float64 arithmetic on the same values, and each stored result is
 * rounded once, so it gives exactly the widened path's float32 results without its copies.
 *
 * The update formulas follow torch.optim 1.13 operation by operation (same operand order),
 * so float64 results agree with PyTorch to a few ulps.
 *
 * These loops are the named optimizers' fused form of the transforms in transforms.ts and
 * scale-by.ts (weight decay, sign, moments, learning rate in one pass over the arrays instead
 * of one pass per transform; see chain.ts for why both exist). Their per-element arithmetic is
 * the transforms', so a change here needs the same change there: chain.test.ts compares a
 * chain with each named optimizer bit for bit.
 * @module
 */
import { kindOf } from '@graphgrad/core/internal'
import { PER_CLASS } from './kernels.generated.ts'

/** The float arrays a kernel may be specialised for. */
export type Floats = Float32Array | Float64Array

// The kernels generic over Floats, each with its generated per-class copies (`pnpm gen:kernels`
// writes kernels.generated.ts from this file's source). Keyed by the function itself, not its
// name, which a minifier may change.
const COPIES = new Map<unknown, { readonly float32: unknown; readonly float64: unknown }>([[adaptiveMomentKernel, PER_CLASS.adaptiveMomentKernel]])

/**
 * The copy of `kernel` (one of this file's kernels generic over {@link Floats}) written for
 * `like`'s array class, so that each copy stays monomorphic in V8 (one loop fed both
 * Float32Array and Float64Array runs about 2x slower). The copies are separate functions in
 * the source, generated from `kernel`'s own (`pnpm gen:kernels`), not compiled at run time.
 */
export function perClass<F extends (...args: never[]) => void>(kernel: F, like: Floats): F {
  const copies = COPIES.get(kernel)
  if (copies === undefined) {
    throw new Error(
      `perClass: no generated per-class copies of kernel '${kernel.name}': list it in COPIES (packages/optim/src/kernels.ts) and run \`pnpm gen:kernels\``,
    )
  }
  return (kindOf(like) === 'float32' ? copies.float32 : kindOf(like) === 'float64' ? copies.float64 : kernel) as F
}

/** Coefficients of {@link sgdKernel}. */
export interface SgdCoefficients {
  /** 1, or -1 to maximize. */
  readonly sign: number
  /** Learning rate. */
  readonly lr: number
  /** L2 penalty added to the gradient (coupled decay: `g + wd p`). */
  readonly weightDecay: number
  /** Momentum factor. */
  readonly momentum: number
  /** Dampening of the momentum. */
  readonly dampening: number
  /** Nesterov momentum. */
  readonly nesterov: boolean
}

/**
 * SGD with momentum. `buf` is the momentum buffer, or null on the first update with
 * momentum (then the buffer starts as the gradient, undamped, as in torch). `outBuf` is
 * written only when `momentum !== 0`.
 */
export function sgdKernel(p: Float64Array, g: Float64Array, buf: Float64Array | null, outP: Float64Array, outBuf: Float64Array, c: SgdCoefficients): void {
  const { sign, lr, weightDecay, momentum, dampening, nesterov } = c
  const useMomentum = momentum !== 0
  const first = buf === null
  const n = p.length
  for (let i = 0; i < n; i++) {
    const pi = p[i]
    let d = sign * g[i]
    if (weightDecay !== 0) d = d + weightDecay * pi
    if (useMomentum) {
      const b = first ? d : (buf as Float64Array)[i] * momentum + (1 - dampening) * d
      outBuf[i] = b
      d = nesterov ? d + momentum * b : b
    }
    outP[i] = pi + -lr * d
  }
}

/**
 * How the Adam-family kernel keeps its second moment `v`: `'squares'`,
 * `v = β2 v + (1 - β2) g²` (Adam, AdamW, NAdam, RAdam), or `'infinityNorm'`,
 * `v = max(β2 v, |g| + eps)` (Adamax).
 */
export type SecondMoment = 'squares' | 'infinityNorm'

/**
 * What the Adam-family kernel divides by: `'sqrt'`, `sqrt(v) / vScale + eps`; `'plain'`,
 * `v` itself (Adamax); `'none'`, 1 (RAdam while the variance is not yet tractable).
 */
type Denominator = 'sqrt' | 'plain' | 'none'

/** Coefficients of {@link adaptiveMomentKernel}. */
export interface AdaptiveCoefficients {
  /** 1, or -1 to maximize. */
  readonly sign: number
  /** L2 penalty added to the gradient (`g + wd p`); 0 for none. */
  readonly weightDecay: number
  /** Factor applied to the parameter before the update (decoupled decay `1 - lr wd`); 1 for none. */
  readonly decay: number
  /** First-moment decay β1. */
  readonly beta1: number
  /** Second-moment decay β2. */
  readonly beta2: number
  /** Added to the denominator. */
  readonly eps: number
  /** How `v` is kept. */
  readonly secondMoment: SecondMoment
  /** Keep the running maximum of `v` and divide by it (AMSGrad). */
  readonly amsgrad: boolean
  /** What the update divides by. */
  readonly denominator: Denominator
  /** Divisor of `sqrt(v)` in the `'sqrt'` denominator (`sqrt(1 - β2^t)` for Adam). */
  readonly vScale: number
  /** Coefficient of `g / denom` in the update (NAdam's look-ahead term; 0 otherwise). */
  readonly gradCoef: number
  /** Coefficient of `m / denom` in the update (`lr / (1 - β1^t)` for Adam). */
  readonly momentCoef: number
}

/**
 * One update of the Adam family:
 * `g' = sign g + wd p`, `m = β1 m + (1 - β1) g'`, `v` per {@link SecondMoment},
 * `vmax = max(vmax, v)` with AMSGrad, then
 * `p = decay p - gradCoef g' / denom - momentCoef m / denom`.
 * `vmax` / `outVmax` are used only when `amsgrad`.
 */
export function adaptiveMomentKernel<A extends Floats>(p: A, g: A, m: A, v: A, vmax: A, outP: A, outM: A, outV: A, outVmax: A, c: AdaptiveCoefficients): void {
  const { sign, weightDecay, decay, beta1, beta2, eps, secondMoment, amsgrad, denominator, vScale, gradCoef, momentCoef } = c
  const squares = secondMoment === 'squares'
  const sqrtDenom = denominator === 'sqrt'
  const plainDenom = denominator === 'plain'
  const n = p.length
  for (let i = 0; i < n; i++) {
    const pi = p[i]
    let gi = sign * g[i]
    if (weightDecay !== 0) gi = gi + weightDecay * pi
    const mi = m[i] * beta1 + (1 - beta1) * gi
    let vi: number
    if (squares) {
      vi = v[i] * beta2 + (1 - beta2) * gi * gi
    } else {
      const a = v[i] * beta2
      const b = Math.abs(gi) + eps
      vi = a >= b || a !== a ? a : b
    }
    outM[i] = mi
    outV[i] = vi
    let ve = vi
    if (amsgrad) {
      const old = vmax[i]
      ve = old >= vi || old !== old ? old : vi
      outVmax[i] = ve
    }
    const denom = sqrtDenom ? Math.sqrt(ve) / vScale + eps : plainDenom ? ve : 1
    let pn = decay === 1 ? pi : pi * decay
    if (gradCoef !== 0) pn = pn + (-gradCoef * gi) / denom
    outP[i] = pn + (-momentCoef * mi) / denom
  }
}

/** Coefficients of {@link rmspropKernel}. */
export interface RmspropCoefficients {
  /** 1, or -1 to maximize. */
  readonly sign: number
  /** Learning rate. */
  readonly lr: number
  /** Smoothing constant of the squared-gradient average. */
  readonly alpha: number
  /** Added to the denominator. */
  readonly eps: number
  /** L2 penalty added to the gradient (coupled decay: `g + wd p`). */
  readonly weightDecay: number
  /** Momentum factor. */
  readonly momentum: number
  /** Subtract the squared mean gradient. */
  readonly centered: boolean
}

/**
 * RMSprop: `sq = α sq + (1 - α) g²`; centered: `ga = α ga + (1 - α) g`,
 * `avg = sqrt(sq - ga²) + eps`, else `avg = sqrt(sq) + eps`; with momentum
 * `buf = μ buf + g / avg`, `p -= lr buf`, else `p -= lr g / avg`.
 * `ga`/`outGa` are used only when centered, `buf`/`outBuf` only when `momentum > 0`.
 */
export function rmspropKernel(
  p: Float64Array,
  g: Float64Array,
  sq: Float64Array,
  ga: Float64Array,
  buf: Float64Array,
  outP: Float64Array,
  outSq: Float64Array,
  outGa: Float64Array,
  outBuf: Float64Array,
  c: RmspropCoefficients,
): void {
  const { sign, lr, alpha, eps, weightDecay, momentum, centered } = c
  const useMomentum = momentum > 0
  const n = p.length
  for (let i = 0; i < n; i++) {
    const pi = p[i]
    let gi = sign * g[i]
    if (weightDecay !== 0) gi = gi + weightDecay * pi
    const s = sq[i] * alpha + (1 - alpha) * gi * gi
    outSq[i] = s
    let avg: number
    if (centered) {
      const a = ga[i] * alpha + (1 - alpha) * gi
      outGa[i] = a
      avg = Math.sqrt(s + -1 * a * a) + eps
    } else {
      avg = Math.sqrt(s) + eps
    }
    if (useMomentum) {
      const b = buf[i] * momentum + gi / avg
      outBuf[i] = b
      outP[i] = pi + -lr * b
    } else {
      outP[i] = pi + (-lr * gi) / avg
    }
  }
}

/** Coefficients of {@link adagradKernel}. */
export interface AdagradCoefficients {
  /** 1, or -1 to maximize. */
  readonly sign: number
  /** The decayed learning rate `lr / (1 + (t - 1) lrDecay)`. */
  readonly clr: number
  /** L2 penalty added to the gradient (coupled decay: `g + wd p`). */
  readonly weightDecay: number
  /** Added to the denominator. */
  readonly eps: number
}

/** Adagrad: `sum += g²`, `p -= clr g / (sqrt(sum) + eps)`. */
export function adagradKernel(p: Float64Array, g: Float64Array, sum: Float64Array, outP: Float64Array, outSum: Float64Array, c: AdagradCoefficients): void {
  const { sign, clr, weightDecay, eps } = c
  const n = p.length
  for (let i = 0; i < n; i++) {
    const pi = p[i]
    let gi = sign * g[i]
    if (weightDecay !== 0) gi = gi + weightDecay * pi
    const s = sum[i] + gi * gi
    outSum[i] = s
    outP[i] = pi + (-clr * gi) / (Math.sqrt(s) + eps)
  }
}

/** Coefficients of {@link lionKernel}. */
export interface LionCoefficients {
  /** 1, or -1 to maximize. */
  readonly sign: number
  /** Learning rate. */
  readonly lr: number
  /** Interpolation β1 between the momentum and the gradient in the update direction. */
  readonly beta1: number
  /** Decay β2 of the momentum. */
  readonly beta2: number
  /** Decoupled weight decay: `p *= 1 - lr wd`. */
  readonly weightDecay: number
}

/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"):
 * `p = p (1 - lr wd) - lr sign(β1 m + (1 - β1) g)`, then `m = β2 m + (1 - β2) g`.
 */
export function lionKernel(p: Float64Array, g: Float64Array, m: Float64Array, outP: Float64Array, outM: Float64Array, c: LionCoefficients): void {
  const { sign, lr, beta1, beta2, weightDecay } = c
  const decay = 1 - lr * weightDecay
  const n = p.length
  for (let i = 0; i < n; i++) {
    const gi = sign * g[i]
    const mi = m[i]
    const update = Math.sign(mi * beta1 + (1 - beta1) * gi)
    const pi = weightDecay === 0 ? p[i] : p[i] * decay
    outP[i] = pi + -lr * update
    outM[i] = mi * beta2 + (1 - beta2) * gi
  }
}

/** `sum |x|^q` (q = 1 and q = 2 take exact fast paths). */
export function sumAbsPow(x: Float64Array, q: number): number {
  let s = 0
  const n = x.length
  if (q === 2) for (let i = 0; i < n; i++) s += x[i] * x[i]
  else if (q === 1) for (let i = 0; i < n; i++) s += Math.abs(x[i])
  else for (let i = 0; i < n; i++) s += Math.abs(x[i]) ** q
  return s
}

/** `max |x|` (0 for an empty array; NaN if any element is NaN). */
export function maxAbs(x: Float64Array): number {
  let m = 0
  const n = x.length
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i])
    if (a > m || a !== a) m = a
    if (m !== m) return m
  }
  return m
}

/** `out = x * coef`. */
export function scaleKernel(x: Float64Array, coef: number, out: Float64Array): void {
  const n = x.length
  for (let i = 0; i < n; i++) out[i] = x[i] * coef
}

/** `out = min(max(x, lo), hi)`, NaN stays NaN. */
export function clampKernel(x: Float64Array, lo: number, hi: number, out: Float64Array): void {
  const n = x.length
  for (let i = 0; i < n; i++) {
    const v = x[i]
    out[i] = v < lo ? lo : v > hi ? hi : v
  }
}
