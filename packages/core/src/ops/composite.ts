/**
 * Activations and normalisations composed from primitives: they carry no derivative code.
 * @module
 */
import type { Tensor } from '../tensor.ts'
import { add, mul } from './binary.ts'
import { registerOps } from './registry.ts'
import { shapesLabel } from './sampler.ts'
import { erf, tanh } from './unary.ts'
import { checkTensor } from './util.ts'

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** `'none'` (default): the exact erf form; `'tanh'`: the tanh approximation, as PyTorch. */
  approximate?: 'none' | 'tanh'
}

/** Gaussian error linear unit, `x * Phi(x)`, as PyTorch's `F.gelu`. */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  checkTensor(x, 'gelu')
  if (options.approximate === 'tanh') {
    const inner = mul(add(x, mul(mul(x, mul(x, x)), 0.044715)), Math.sqrt(2 / Math.PI))
    return mul(mul(x, 0.5), add(tanh(inner), 1))
  }
  return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1))
}

registerOps('composite', 'composite', {
  gelu: {
    sample: (s) => {
      const x = s.values(s.shape())
      return { inputs: [x], fn: (t: Tensor) => gelu(t), label: shapesLabel(x) }
    },
  },
  geluTanh: {
    sample: (s) => {
      const x = s.values(s.shape())
      return { inputs: [x], fn: (t: Tensor) => gelu(t, { approximate: 'tanh' }), label: shapesLabel(x) }
    },
  },
})
