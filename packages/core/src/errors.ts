/**
 * Error classes thrown by graphgrad. Every message names the op (or file) and the
 * offending shapes or values, so a user can fix the call without reading our source.
 * @module
 */

/** Base class of every error graphgrad throws on purpose. */
export class GraphgradError extends Error {
  constructor(message: string) {
    super(message)
    this.name = new.target.name
  }
}

/** Shapes that do not fit together: broadcasting, matmul, concat, reshape, ... */
export class ShapeError extends GraphgradError {}

/** A dtype an op does not accept, or two dtypes that do not match. */
export class DTypeError extends GraphgradError {}

/** A bad argument that is not a shape or a dtype: an axis out of range, a negative size, ... */
export class ArgumentError extends GraphgradError {}

/** A malformed safetensors file or a tensor that cannot be stored in one. */
export class SafetensorsError extends GraphgradError {}

/** Thrown in anomaly mode when an op produces NaN or Infinity. */
export class AnomalyError extends GraphgradError {}

/** A gradient asked of something that cannot have one (an int tensor, a missing rule, ...). */
export class GradientError extends GraphgradError {}

/** Formats a shape as `[2,3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`
}
