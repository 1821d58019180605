/**
 * Dtype conversion.
 * @module
 */
import { type DType, allocate, checkDType, checkInt32Values } from '../dtype.ts'
import { makeOutput } from '../autodiff/recording.ts'
import { noGradient } from '../autodiff/no-gradient.ts'
import type { Tensor } from '../tensor.ts'
import { registerOps } from './registry.ts'
import { shapesLabel } from './sampler.ts'
import { checkTensor } from './util.ts'

const intCast = noGradient('a cast to or from int32 has no gradient')

/**
 * The same values in another dtype (float to int32 truncates toward zero, as PyTorch).
 * Differentiable between float dtypes; a cast to int32 cuts the gradient.
 */
export function astype(x: Tensor, dtype: DType): Tensor {
  checkTensor(x, 'astype')
  checkDType(dtype, 'astype')
  if (x.dtype === dtype) return x
  // Stored as int32, NaN would become 0 and a value out of range would wrap modulo 2^32.
  if (dtype === 'int32') checkInt32Values(x._data, 'astype')
  const out = allocate(dtype, x.size)
  if (dtype === 'int32') for (let i = 0; i < out.length; i++) out[i] = Math.trunc(x._data[i])
  else out.set(x._data)
  const from = x.dtype
  return makeOutput('astype', [x], out, x.shape, dtype === 'int32' || from === 'int32' ? intCast : (g) => [astype(g, from)])
}

registerOps('cast', 'primitive', {
  astype: {
    sample: (s) => {
      const x = s.values(s.shape())
      // float64 -> float32 -> float64 loses precision, so check the differentiable path at float64 only.
      return { inputs: [x], fn: (t: Tensor) => astype(astype(t, 'float64'), 'float64'), label: shapesLabel(x) }
    },
  },
})
