/**
 * Activations and normalisations composed from primitives: they carry no derivative code.
 * @module
 */
import type { Tensor } from '../tensor.ts'
import { add, mul, sub } from './binary.ts'
import { logsumexp } from './reduce.ts'
import { registerOps } from './registry.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { erf, exp, tanh } from './unary.ts'
import { checkTensor } from './util.ts'
import { normAxis } from '../shape.ts'

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

/** `log(softmax(x))` along `axis` (default -1), computed stably as `x - logsumexp(x)`. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkTensor(x, 'logSoftmax')
  return sub(x, logsumexp(x, normAxis('logSoftmax', axis, x.rank), true))
}

/** Softmax along `axis` (default -1), computed stably. */
export function softmax(x: Tensor, axis = -1): Tensor {
  checkTensor(x, 'softmax')
  return exp(logSoftmax(x, normAxis('softmax', axis, x.rank)))
}

function alongAxis(fn: (x: Tensor, axis: number) => Tensor) {
  return {
    sample: (s: CaseSampler) => {
      const x = s.values(s.shape({ minRank: 1 }), { min: -3, max: 3 })
      const axis = s.int(-x.rank, x.rank - 1)
      return { inputs: [x], fn: (t: Tensor) => fn(t, axis), label: `${shapesLabel(x)} axis ${axis}` }
    },
  }
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
  softmax: alongAxis(softmax),
  logSoftmax: alongAxis(logSoftmax),
})
