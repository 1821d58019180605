/**
 * Broadcasting as an op, and its transpose: summing a cotangent back to an operand's shape.
 * @module
 */
import { allocate } from '../dtype.ts'
import { makeOutput } from '../autodiff/recording.ts'
import { stridedCopy } from '../kernels/elementwise.ts'
import { ShapeError, fmtShape } from '../errors.ts'
import { broadcastStrides, checkShape, shapesEqual, sizeOf } from '../shape.ts'
import type { Tensor } from '../tensor.ts'
import { late } from '../late-ops.ts'
import { reshape } from './reshape.ts'
import { registerOps } from './registry.ts'
import { shapesLabel } from './sampler.ts'
import { checkTensor } from './util.ts'

/** Repeats `x` along broadcast dimensions to `shape` (NumPy's broadcast_to). */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, 'broadcastTo')
  const target = checkShape(shape, 'broadcastTo')
  if (shapesEqual(x.shape, target)) return x
  const lead = target.length - x.shape.length
  for (let i = 0; i < x.shape.length; i++) {
    const d = x.shape[i]
    if (lead < 0 || (d !== 1 && d !== target[lead + i])) {
      throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(target)}`)
    }
  }
  if (lead < 0) throw new ShapeError(`broadcastTo: cannot broadcast ${fmtShape(x.shape)} to ${fmtShape(target)}`)
  const out = allocate(x.dtype, sizeOf(target))
  stridedCopy(x._data, 0, broadcastStrides(x.shape, target), target, out)
  return makeOutput('broadcastTo', [x], out, target.slice(), (g) => [sumToShape(g, x.shape)])
}

/**
 * Sums `g` over the dimensions along which a tensor of `shape` was broadcast to `g.shape`:
 * the VJP of broadcasting.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g
  const lead = g.shape.length - shape.length
  const axes: number[] = []
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i)
  }
  return reshape(late.sum(g, axes, true), shape) // sum through the late table: reduce.ts imports this module
}

registerOps('broadcast', 'primitive', {
  broadcastTo: {
    sample: (s) => {
      const to = s.shape()
      const x = s.values(s.broadcastable(to))
      return { inputs: [x], fn: (t: Tensor) => broadcastTo(t, to), label: `${shapesLabel(x)} -> ${fmtShape(to)}` }
    },
  },
})
