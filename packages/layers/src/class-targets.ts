/**
 * How the classification losses read class-index targets: the class axis, per-class weights
 * shaped to broadcast along it, the mask of targets that count (`ignoreIndex`), and the
 * gathered log-probabilities and weights of the target classes.
 * @module
 */
import { ArgumentError, ShapeError, astype, div, fmtShape, gather, indexSelect, neg, reshape, squeeze, sum, tensor, unsqueeze, where } from '@graphgrad/core'
import type { Tensor } from '@graphgrad/core'
import type { NllLossOptions, Reduction } from './losses.ts'

/** The class axis of `input`: `classAxis` when given (negative counts from the end), else dim 1 (dim 0 for rank 1), as PyTorch. */
export function classAxisOf(input: Tensor, options: NllLossOptions, op: string): number {
  if (input.rank === 0) throw new ShapeError(`${op}: input must have a class dimension, got a scalar`)
  const a = options.classAxis
  if (a === undefined) return input.rank === 1 ? 0 : 1
  if (!Number.isInteger(a) || a < -input.rank || a >= input.rank) {
    throw new ArgumentError(`${op}: classAxis ${a} is out of range for an input of rank ${input.rank} (shape ${fmtShape(input.shape)})`)
  }
  return a < 0 ? a + input.rank : a
}

/** `weight` shaped to broadcast along the class axis of `input`. */
export function classWeight(weight: Tensor, input: Tensor, c: number, op: string): Tensor {
  if (weight.rank !== 1 || weight.shape[0] !== input.shape[c]) {
    throw new ShapeError(`${op}: weight must have shape [${input.shape[c]}] (one per class), got ${fmtShape(weight.shape)}`)
  }
  return reshape(
    weight,
    input.shape.map((d, i) => (i === c ? d : 1)),
  )
}

/** Which targets count: int32 1 where the target counts, 0 where it equals ignoreIndex. */
export interface TargetMask {
  /** The targets with ignored ones replaced by class 0, so gathers stay in range. */
  safe: Tensor
  /** int32 0/1 of the target's shape, for `where`. */
  valid: Tensor
  /** Whether some target is ignored. */
  anyIgnored: boolean
}

/** Checks class-index targets against the input (shape, int32, range) and marks the ones that count. */
export function targetMask(input: Tensor, target: Tensor, c: number, options: NllLossOptions, op: string): TargetMask {
  const numClasses = input.shape[c]
  const expected = input.shape.filter((_, i) => i !== c)
  if (target.rank !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(
      `${op}: target of shape ${fmtShape(target.shape)} does not match input ${fmtShape(input.shape)} with class dimension ${c}: expected a target of shape ${fmtShape(expected)}`,
    )
  }
  const ignore = options.ignoreIndex ?? -100
  const data = target.data
  const safe = new Int32Array(data.length)
  const valid = new Int32Array(data.length)
  let anyIgnored = false
  for (let i = 0; i < data.length; i++) {
    const t = data[i]
    if (t === ignore) {
      anyIgnored = true
      continue
    }
    if (t < 0 || t >= numClasses) {
      throw new ArgumentError(
        `${op}: target ${t} (at flat position ${i}) is out of range for ${numClasses} classes; targets must be in [0, ${numClasses}) or equal ignoreIndex (${ignore})`,
      )
    }
    safe[i] = t
    valid[i] = 1
  }
  return { safe: tensor(safe, { shape: target.shape }), valid: tensor(valid, { shape: target.shape }), anyIgnored }
}

/**
 * `value` where the target counts and 0 where it is ignored. A `where`, not a product with a
 * 0/1 mask: an ignored entry is never read, so a non-finite value there (NaN * 0 = NaN) or an
 * infinite cotangent (the 0/0 mean of all-ignored targets) cannot leak into loss or gradient.
 */
export function keepValid(value: Tensor, m: TargetMask): Tensor {
  return m.anyIgnored ? where(m.valid, value, 0) : value
}

/** The per-target terms of an index-target loss: the target class's log-probability and weight. */
export interface IndexTerms {
  /** negative log-probability of each target (+0 where ignored, as PyTorch), shape of the target. */
  nll: Tensor
  /** each target's weight: its class weight, or 1; 0 where ignored. */
  wt: Tensor
}

/** `weight` ([C]) was already checked against `logp` by {@link classWeight}. */
export function indexTerms(logp: Tensor, m: TargetMask, c: number, weight: Tensor | undefined): IndexTerms {
  // Ignored entries pick class 0, and keepValid then drops them (their gradient is 0).
  const nll = keepValid(neg(squeeze(gather(logp, c, unsqueeze(m.safe, c)), c)), m)
  const wt = weight === undefined ? astype(m.valid, logp.dtype) : keepValid(indexSelect(weight, 0, m.safe), m)
  return { nll, wt }
}

/** Reduces per-target losses; the mean divides by the summed target weights (the count of non-ignored targets without weights), as PyTorch. */
export function reduceWeighted(losses: Tensor, wt: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return losses
  return reduction === 'sum' ? sum(losses) : div(sum(losses), sum(wt))
}
