/**
 * Loss functions with PyTorch's definitions (`torch.nn.functional`): the class dimension is
 * dim 1 for inputs of rank >= 2 (dim 0 for rank 1), targets are class indices (int32) or
 * probabilities (float), and `reduction` is `'mean'` (default), `'sum'` or `'none'`.
 * @module
 */
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  abs,
  add,
  div,
  fmtShape,
  logSoftmax,
  mul,
  neg,
  softplus,
  square,
  sub,
  sum,
  tensor,
  unsqueeze,
  where,
} from '@graphgrad/core'
import type { CaseSampler, GradSpec, Tensor } from '@graphgrad/core'
import { checkInput, checkOptions } from './compose.ts'
import { classAxisOf, classWeight, indexTerms, keepValid, reduceWeighted, targetMask } from './class-targets.ts'

/** How per-element losses are combined: PyTorch's `reduction`. */
export type Reduction = 'none' | 'mean' | 'sum'

/** Options shared by every loss. */
export interface ReductionOptions {
  /** `'mean'` (default), `'sum'`, or `'none'` for the per-element losses. */
  reduction?: Reduction
}

/** Options of {@link nllLoss}. */
export interface NllLossOptions extends ReductionOptions {
  /** A target value that contributes nothing, nor to the mean's divisor (default -100). */
  ignoreIndex?: number
  /** A weight per class, shape `[C]`; the mean then divides by the summed weights of the targets. */
  weight?: Tensor
  /**
   * The class dimension. Default PyTorch's: 1 for inputs of rank >= 2, 0 for rank 1. Pass
   * `-1` for the common `[B, T, C]` logits with `[B, T]` targets (PyTorch needs a transpose).
   */
  classAxis?: number
}

/** Options of {@link crossEntropy}, as `F.cross_entropy`'s. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Mixes the target with the uniform distribution over classes: ε in [0, 1] (default 0). */
  labelSmoothing?: number
}

/**
 * Refuses an input or target that is not a Tensor (a plain array would fail deep inside an op)
 * and an option key the loss does not know (PyTorch's `label_smoothing`, which would otherwise
 * be ignored without a word), naming the loss.
 */
function checkArgs<T extends object>(
  op: string,
  args: readonly [unknown, unknown],
  names: readonly [string, string],
  options: T,
  known: Readonly<Record<keyof T, true>>,
): void {
  checkInput(args[0], op, names[0])
  checkInput(args[1], op, names[1])
  checkOptions(options, known, op)
}

const NLL_KEYS = { reduction: true, ignoreIndex: true, weight: true, classAxis: true } as const satisfies Record<keyof NllLossOptions, true>

function reductionOf(options: ReductionOptions, op: string): Reduction {
  const r = options.reduction ?? 'mean'
  if (r !== 'none' && r !== 'mean' && r !== 'sum') throw new ArgumentError(`${op}: reduction must be 'none', 'mean' or 'sum', got '${String(r)}'`)
  return r
}

function reduce(x: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return x
  return reduction === 'sum' ? sum(x) : div(sum(x), x.size)
}

function checkTarget(target: Tensor, op: string): void {
  if (target.dtype !== 'int32') throw new DTypeError(`${op}: target must hold int32 class indices, got ${target.dtype}`)
}

function checkFloatInput(input: Tensor, what: string, op: string): void {
  if (input.dtype === 'int32') throw new DTypeError(`${op}: ${what} must be float32 or float64, got int32`)
}

/**
 * Negative log-likelihood, as `F.nll_loss`: `input` holds log-probabilities (`[N, C]`,
 * `[N, C, d1, ...]` or `[C]`), `target` int32 class indices of the input's shape without the
 * class dimension. Targets equal to `ignoreIndex` are skipped, also in the mean's divisor.
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  const op = 'nllLoss'
  checkArgs(op, [input, target], ['input', 'target'], options, NLL_KEYS)
  const reduction = reductionOf(options, op)
  const c = classAxisOf(input, options, op)
  checkFloatInput(input, 'input', op)
  checkTarget(target, op)
  if (options.weight !== undefined) classWeight(options.weight, input, c, op)
  const { nll, wt } = indexTerms(input, targetMask(input, target, c, options, op), c, options.weight)
  return reduceWeighted(options.weight === undefined ? nll : mul(nll, wt), wt, reduction)
}

/**
 * Cross-entropy between logits and targets, as `F.cross_entropy`: `logits` is `[N, C]`,
 * `[N, C, d1, ...]` or `[C]` (class dimension 1, or 0 for rank 1; see `classAxis`), and
 * `targets` either int32 class indices of the logits' shape without the class dimension,
 * or class probabilities (float) of the logits' shape.
 *
 * With class indices, `labelSmoothing` ε gives `(1-ε) nll + ε/C * (-sum_c logp_c)`, ignored
 * targets add nothing, and the mean divides by the number (or summed weights) of the
 * targets that count. With probabilities, the target becomes `(1-ε) p + ε/C`, the mean
 * divides by the number of samples, and an `ignoreIndex` >= 0 is an error (as PyTorch's).
 *
 * The logits of ignored targets are never read: non-finite values there leave the loss and
 * every gradient finite, and their gradient is 0 (PyTorch's log_softmax backward gives NaN on
 * a row of all -inf even when its target is ignored).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy'
  checkArgs(op, [logits, targets], ['logits', 'targets'], options, { ...NLL_KEYS, labelSmoothing: true })
  const reduction = reductionOf(options, op)
  const c = classAxisOf(logits, options, op)
  const eps = options.labelSmoothing ?? 0
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new ArgumentError(`${op}: labelSmoothing must be in [0, 1], got ${String(eps)}`)
  checkFloatInput(logits, 'logits', op)
  const numClasses = logits.shape[c]
  const w = options.weight === undefined ? undefined : classWeight(options.weight, logits, c, op)
  if (targets.dtype !== 'int32') {
    const ignore = options.ignoreIndex
    if (ignore !== undefined && ignore >= 0) {
      throw new ArgumentError(
        `${op}: ignoreIndex (${ignore}) is not supported for probability (floating point) targets, as PyTorch's "ignore_index is not supported for floating point target"; pass int32 class indices to ignore some`,
      )
    }
    return probabilityCrossEntropy(logSoftmax(logits, c), targets, c, eps, w, reduction, op)
  }
  const m = targetMask(logits, targets, c, options, op)
  // Ignored slices are replaced before the softmax too, so that their gradient is 0, not NaN.
  const logp = logSoftmax(m.anyIgnored ? where(unsqueeze(m.valid, c), logits, 0) : logits, c)
  const terms = indexTerms(logp, m, c, options.weight)
  const wt = terms.wt
  const nll = reduceWeighted(w === undefined ? terms.nll : mul(terms.nll, wt), wt, reduction)
  if (eps === 0) return nll
  const smooth = keepValid(neg(sum(w === undefined ? logp : mul(logp, w), c)), m)
  return add(mul(nll, 1 - eps), mul(reduceWeighted(smooth, wt, reduction), eps / numClasses))
}

function probabilityCrossEntropy(logp: Tensor, target: Tensor, c: number, eps: number, w: Tensor | undefined, reduction: Reduction, op: string): Tensor {
  if (target.rank !== logp.rank || target.shape.some((d, i) => d !== logp.shape[i])) {
    throw new ShapeError(
      `${op}: probability targets must have the logits' shape ${fmtShape(logp.shape)}, got ${fmtShape(target.shape)} (class indices must be int32)`,
    )
  }
  const numClasses = logp.shape[c]
  const p = eps === 0 ? target : add(mul(target, 1 - eps), eps / numClasses)
  const terms = mul(logp, w === undefined ? p : mul(p, w))
  const losses = neg(sum(terms, c))
  if (reduction === 'mean') return div(sum(losses), numClasses === 0 ? 0 : logp.size / numClasses)
  return reduce(losses, reduction)
}

function checkSameShape(input: Tensor, target: Tensor, op: string): void {
  if (input.rank !== target.rank || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new ShapeError(`${op}: input of shape ${fmtShape(input.shape)} and target of shape ${fmtShape(target.shape)} differ; they must have the same shape`)
  }
}

/** Mean squared error, as `F.mse_loss`: `(input - target)^2`, reduced. Shapes must be equal. */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkArgs('mseLoss', [input, target], ['input', 'target'], options, { reduction: true })
  checkSameShape(input, target, 'mseLoss')
  return reduce(square(sub(input, target)), reductionOf(options, 'mseLoss'))
}

/** Mean absolute error, as `F.l1_loss`: `|input - target|`, reduced. Shapes must be equal. */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  checkArgs('l1Loss', [input, target], ['input', 'target'], options, { reduction: true })
  checkSameShape(input, target, 'l1Loss')
  return reduce(abs(sub(input, target)), reductionOf(options, 'l1Loss'))
}

/** Options of {@link binaryCrossEntropyWithLogits}, as `F.binary_cross_entropy_with_logits`'s. */
export interface BceWithLogitsOptions extends ReductionOptions {
  /** A weight per element, broadcast against the input. */
  weight?: Tensor
  /** A weight of the positive term per class (broadcast along the last dimension). */
  posWeight?: Tensor
}

/**
 * Binary cross-entropy on logits, as `F.binary_cross_entropy_with_logits`, computed stably:
 * `(1 - t) x + (1 + (pw - 1) t) softplus(-x)`, times `weight`, reduced. Shapes must be equal.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BceWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits'
  checkArgs(op, [input, target], ['input', 'target'], options, { reduction: true, weight: true, posWeight: true })
  checkSameShape(input, target, op)
  const reduction = reductionOf(options, op)
  // softplus is exact (no linear cut-off) up to 40, where log1p(e^-x) is below float64's resolution.
  const spNeg = softplus(neg(input), { threshold: 40 })
  const logWeight = options.posWeight === undefined ? spNeg : mul(add(mul(sub(options.posWeight, 1), target), 1), spNeg)
  let losses = add(mul(sub(1, target), input), logWeight)
  if (options.weight !== undefined) losses = mul(losses, options.weight)
  return reduce(losses, reduction)
}

/** A float64 tensor of `shape` with each slice along `axis` a probability vector (softmax of random values). */
function probabilities(s: CaseSampler, shape: readonly number[], axis: number): Tensor {
  const x = s.values(shape)
  const e = x.data.map(Math.exp)
  const sums = sum(tensor(e, { shape, dtype: 'float64' }), axis, true)
  return div(tensor(e, { shape, dtype: 'float64' }), sums)
}

/** Logits `[N, C, d...]` (or `[C]`), a class axis and int32 targets with some set to ignoreIndex. */
function classCase(s: CaseSampler, ignoreIndex: number | undefined) {
  // A class index as ignoreIndex needs another class, so that one target can count.
  const numClasses = s.int(ignoreIndex !== undefined && ignoreIndex >= 0 ? 2 : 1, 4)
  const rank = s.int(1, 3)
  const shape = rank === 1 ? [numClasses] : [s.int(1, 3), numClasses, ...s.shape({ maxRank: rank - 2, minRank: rank - 2, maxDim: 3 })]
  const c = rank === 1 ? 0 : 1
  const logits = s.values(shape, { min: -3, max: 3 })
  const tshape = shape.filter((_, i) => i !== c)
  const t = s.indices(tshape, 0, numClasses)
  if (ignoreIndex === undefined) return { logits, targets: t, numClasses, c }
  const data = Int32Array.from(t.data)
  // Keep the first target so the mean's divisor is not zero (all ignored gives NaN, as PyTorch).
  if (data[0] === ignoreIndex) data[0] = ignoreIndex === 0 ? 1 : 0
  for (let i = 1; i < data.length; i++) if (s.coin(0.3)) data[i] = ignoreIndex
  return { logits, targets: tensor(data, { shape: tshape }), numClasses, c }
}

const reductions: readonly Reduction[] = ['mean', 'sum', 'none']

/** Gradient-check specs of the losses: several option combinations each. */
export const lossSpecs: Record<string, GradSpec> = {
  crossEntropy: {
    sample: (s) => {
      const reduction = s.pick(reductions)
      const labelSmoothing = s.pick([0, 0, 0.1, 0.3])
      const ignoreIndex = s.pick([undefined, -100, 0])
      const { logits, targets, numClasses } = classCase(s, ignoreIndex)
      const weight = s.coin(0.3) ? s.values([numClasses], { min: 0.5, max: 2 }) : undefined
      const options: CrossEntropyOptions = { reduction, labelSmoothing, ignoreIndex, weight }
      return {
        inputs: [logits],
        fn: (x: Tensor) => crossEntropy(x, targets, options),
        label: `${fmtShape(logits.shape)} ${reduction} ls=${labelSmoothing} ignore=${ignoreIndex ?? 'none'}${weight ? ' weighted' : ''}`,
      }
    },
  },
  crossEntropyProbabilities: {
    sample: (s) => {
      const reduction = s.pick(reductions)
      const labelSmoothing = s.pick([0, 0.2])
      const shape = s.coin(0.5) ? [s.int(1, 3), s.int(1, 4)] : [s.int(1, 3), s.int(1, 4), s.int(1, 3)]
      const logits = s.values(shape, { min: -3, max: 3 })
      const target = probabilities(s, shape, 1)
      return {
        inputs: [logits, target],
        fn: (x: Tensor, t: Tensor) => crossEntropy(x, t, { reduction, labelSmoothing }),
        label: `${fmtShape(shape)} probabilities ${reduction} ls=${labelSmoothing}`,
      }
    },
  },
  crossEntropyClassLast: {
    sample: (s) => {
      const shape = [s.int(1, 3), s.int(1, 4), s.int(1, 4)]
      const logits = s.values(shape, { min: -3, max: 3 })
      const targets = s.indices(shape.slice(0, 2), 0, shape[2])
      return { inputs: [logits], fn: (x: Tensor) => crossEntropy(x, targets, { classAxis: -1, labelSmoothing: 0.1 }), label: `${fmtShape(shape)} classAxis -1` }
    },
  },
  nllLoss: {
    sample: (s) => {
      const reduction = s.pick(reductions)
      const ignoreIndex = s.pick([undefined, -100, 1])
      const { logits, targets, numClasses } = classCase(s, ignoreIndex)
      const weight = s.coin(0.3) ? s.values([numClasses], { min: 0.5, max: 2 }) : undefined
      return {
        inputs: [logits],
        fn: (x: Tensor) => nllLoss(x, targets, { reduction, ignoreIndex, weight }),
        label: `${fmtShape(logits.shape)} ${reduction} ignore=${ignoreIndex ?? 'none'}`,
      }
    },
  },
  mseLoss: {
    sample: (s) => {
      const shape = s.shape()
      const reduction = s.pick(reductions)
      const [x, t] = [s.values(shape), s.values(shape)]
      return { inputs: [x, t], fn: (a: Tensor, b: Tensor) => mseLoss(a, b, { reduction }), label: `${fmtShape(shape)} ${reduction}` }
    },
  },
  l1Loss: {
    sample: (s) => {
      const shape = s.shape()
      const reduction = s.pick(reductions)
      const t = s.values(shape)
      // Keep input - target away from 0, the kink of |.|.
      const x = add(t, s.values(shape, { avoid: [0], margin: 0.2 }))
      return { inputs: [x, t], fn: (a: Tensor, b: Tensor) => l1Loss(a, b, { reduction }), label: `${fmtShape(shape)} ${reduction}` }
    },
  },
  binaryCrossEntropyWithLogits: {
    sample: (s) => {
      const shape = s.shape({ minRank: 1 })
      const reduction = s.pick(reductions)
      const x = s.values(shape, { min: -4, max: 4 })
      const t = s.values(shape, { min: 0, max: 1 })
      const weight = s.coin(0.3) ? s.values(shape, { min: 0.5, max: 2 }) : undefined
      const posWeight = s.coin(0.3) ? s.values([shape[shape.length - 1]], { min: 0.5, max: 3 }) : undefined
      const fn = (a: Tensor, b: Tensor): Tensor => binaryCrossEntropyWithLogits(a, b, { reduction, weight, posWeight })
      return { inputs: [x, t], fn, label: `${fmtShape(shape)} ${reduction}${weight ? ' weight' : ''}${posWeight ? ' posWeight' : ''}` }
    },
  },
}
