/** Small helpers shared by the layer tests: the error a call throws, and the largest difference of two tensors. */
import { type Tensor, abs, max, sub } from '@graphgrad/core'

/** The error `fn` throws (it must throw). */
export function errorOf(fn: () => unknown): Error {
  try {
    fn()
  } catch (e) {
    return e as Error
  }
  throw new Error('expected an error, but the call returned')
}

/** max |a - b| over all elements. */
export const maxDiff = (a: Tensor, b: Tensor): number => max(abs(sub(a, b))).item()
