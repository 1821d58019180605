/**
 * Summing the cotangents that reach one tensor ("accumulate, never assign").
 *
 * In a first-order pass nothing records, so the sum can live in a buffer that the pass owns
 * and adds into in place. That matters for slices: a tensor read step by step (`select(x, 1, t)`
 * in a recurrent loop) gets one cotangent per step, each covering a sliver of it. A slice's
 * VJP hands back a {@link ScatteredCotangent} (the sliver and where it goes) and the sum adds
 * just those elements, so T steps cost O(size of x) instead of T full-size tensors.
 * When a pass records (gradients of gradients), every contribution is an op and the sum is
 * built with `add`, so it can be differentiated again.
 * @module
 */
import { type TensorData, allocate } from '../dtype.ts'
import { binaryMap, stridedAddInto } from '../kernels/elementwise.ts'
import { stridesOf } from '../shape.ts'
import { Tensor } from '../tensor.ts'
// `add` is late-bound: the ops are a layer above the backward pass, which must not import them.
import { late } from '../late-ops.ts'

/**
 * A cotangent that is zero except on a strided view of a tensor of `shape`: what a slice's
 * VJP returns in a pass that does not record. `values` has the view's shape.
 */
export class ScatteredCotangent {
  constructor(
    /** The cotangent of the slice (shaped like the view). */
    readonly values: Tensor,
    /** Shape of the full tensor. */
    readonly shape: readonly number[],
    /** Where the view starts in the full tensor's row-major storage. */
    readonly offset: number,
    /** The view's stride per dimension of `values`. */
    readonly strides: readonly number[],
  ) {}

  /** Number of elements of the full tensor. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1)
  }
}

/** One cotangent contribution: dense, or scattered into a view. */
export type CotangentPart = Tensor | ScatteredCotangent

/** @internal The running sum of the cotangents of one tensor within a backward pass. */
export class CotangentSum {
  private dense: Tensor | null = null
  private buffer: TensorData | null = null

  constructor(private readonly shape: readonly number[]) {}

  /** Adds one contribution; `recording` says whether the pass records ops. */
  add(part: CotangentPart, recording: boolean): void {
    if (recording) {
      const t = part instanceof ScatteredCotangent ? densify(part) : part
      this.dense = this.dense === null ? t : late.add(this.dense, t)
      return
    }
    if (part instanceof Tensor) {
      if (this.dense === null && this.buffer === null) {
        this.dense = part // the first dense part is kept as is: no copy for the common case
        return
      }
      const buffer = this.owned(part.dtype)
      binaryMap('a + b', buffer, stridesOf(this.shape), part._data, stridesOf(this.shape), buffer, this.shape)
      return
    }
    stridedAddInto(part.values._data, this.owned(part.values.dtype), part.offset, part.strides, part.values.shape)
  }

  /** The sum as a tensor. */
  value(): Tensor {
    if (this.buffer !== null) return new Tensor(this.buffer, this.shape)
    return this.dense as Tensor
  }

  /** A buffer this sum may write into, holding everything added so far. */
  private owned(dtype: Tensor['dtype']): TensorData {
    if (this.buffer === null) {
      this.buffer = allocate(
        this.dense?.dtype ?? dtype,
        this.shape.reduce((a, b) => a * b, 1),
      )
      if (this.dense !== null) this.buffer.set(this.dense._data)
      this.dense = null
    }
    return this.buffer
  }
}

/** A scattered cotangent as a full tensor (zeros outside the view). */
function densify(part: ScatteredCotangent): Tensor {
  const out = allocate(part.values.dtype, part.size)
  stridedAddInto(part.values._data, out, part.offset, part.strides, part.values.shape)
  return new Tensor(out, part.shape)
}
