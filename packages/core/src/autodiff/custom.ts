/**
 * User-defined ops with their own VJP (what `torch.autograd.Function` and `jax.custom_vjp`
 * are elsewhere): for a fused kernel, or a numerically better gradient than autodiff's.
 * @module
 */
import { GradientError, fmtShape } from '../errors.ts'
import { Tensor } from '../tensor.ts'
import { makeOutput, noGrad } from './recording.ts'
import { shapesEqual } from '../shape.ts'

/** The definition of a custom op. */
export interface CustomOpDefinition {
  /** The op's name in graphs, errors and anomaly reports. */
  readonly name: string
  /** Computes the output. Runs without recording: its inner ops leave no graph behind. */
  readonly forward: (...inputs: Tensor[]) => Tensor
  /**
   * The cotangent of each input, given the output's cotangent `g`, the inputs and the output.
   * Write it with ops to allow gradients of gradients. `needs[i]` tells whether input i
   * needs one; return `null` for a zero (or an input that needs none).
   */
  readonly vjp: (g: Tensor, inputs: readonly Tensor[], output: Tensor, needs: readonly boolean[]) => (Tensor | null)[]
}

/**
 * Makes an op from a forward function and a hand-written VJP. Check it with
 * `gradcheck` from `@graphgrad/gradcheck` before trusting it.
 * @example
 * const cube = customOp({
 *   name: 'cube',
 *   forward: (x) => mul(mul(x, x), x),
 *   vjp: (g, [x]) => [mul(g, mul(square(x), 3))],
 * })
 */
export function customOp(definition: CustomOpDefinition): (...inputs: Tensor[]) => Tensor {
  const { name, forward, vjp } = definition
  return (...inputs: Tensor[]) => {
    inputs.forEach((x, i) => {
      if (!(x instanceof Tensor)) throw new GradientError(`${name}: input ${i} must be a Tensor, got ${typeof x}`)
    })
    const out = noGrad(() => forward(...inputs))
    if (!(out instanceof Tensor)) throw new GradientError(`${name}: forward must return a Tensor, got ${typeof out}`)
    const y: Tensor = makeOutput(name, inputs, out._data, out.shape, (g, needs) => {
      const parts = vjp(g, inputs, y, needs)
      if (!Array.isArray(parts) || parts.length !== inputs.length) {
        throw new GradientError(
          `${name}: vjp must return one cotangent (or null) per input: expected ${inputs.length}, got ${Array.isArray(parts) ? parts.length : typeof parts}`,
        )
      }
      parts.forEach((p, i) => {
        if (p !== null && (!(p instanceof Tensor) || !shapesEqual(p.shape, inputs[i].shape))) {
          throw new GradientError(
            `${name}: vjp returned a cotangent of shape ${p instanceof Tensor ? fmtShape(p.shape) : typeof p} for input ${i} of shape ${fmtShape(inputs[i].shape)}`,
          )
        }
        // A cotangent in another dtype would be accumulated into the input's silently (a float32
        // one into a float64 gradient loses precision the gradient check then blames on the op).
        if (p !== null && p.dtype !== inputs[i].dtype) {
          throw new GradientError(
            `${name}: vjp returned a ${p.dtype} cotangent for input ${i} of dtype ${inputs[i].dtype} (shape ${fmtShape(inputs[i].shape)}); return it in the input's dtype`,
          )
        }
      })
      return parts
    })
    return y
  }
}
