/**
 * Adding two cotangents of the same tensor. Kept apart from backward.ts so the graph walker
 * does not import the op library (which imports the recording machinery).
 * @module
 */
import type { Tensor } from '../tensor.ts'
import { add } from '../ops/binary.ts'

/** @internal The sum of two cotangents (an op, so it is recorded when gradients of gradients are taken). */
export function addCotangents(a: Tensor, b: Tensor): Tensor {
  return add(a, b)
}
