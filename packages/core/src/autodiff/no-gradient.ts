/**
 * The explicit "this op has no gradient" value. An op without a VJP says so, with the reason,
 * instead of passing `null`: a forgotten VJP is then a compile error, not silent zeros, and the
 * reason travels to the op registry, the gradcheck report and the errors of the transforms.
 * A leaf module (no value imports), so that every op family and the registry can share it.
 * @module
 */

/** Type-only brand: a plain `{ noGradient: '...' }` literal does not type-check, only {@link noGradient}'s result. */
declare const brand: unique symbol

/** An op without a gradient (comparisons, argmax, casts to int32), with the reason. */
export interface NoGradient {
  /** Why the op has no gradient, e.g. "piecewise constant". */
  readonly noGradient: string
  /** @internal The brand that makes this value come from {@link noGradient}. */
  readonly [brand]: true
}

/**
 * Declares that an op has no gradient, and why: pass it to `makeOutput` instead of a VJP
 * (its results never carry a graph node, so gradients through it are symbolic zeros) or use
 * it as the op's registry spec (the gradient check skips it and prints the reason).
 */
export function noGradient(reason: string): NoGradient {
  if (typeof reason !== 'string' || reason.length === 0) throw new TypeError('noGradient: give the reason the op has no gradient')
  return Object.freeze({ noGradient: reason }) as NoGradient
}

/** Whether `x` is a {@link noGradient} value (rather than a VJP function or a gradient-check spec). */
export function isNoGradient(x: unknown): x is NoGradient {
  return typeof x === 'object' && x !== null && typeof (x as { noGradient?: unknown }).noGradient === 'string'
}
