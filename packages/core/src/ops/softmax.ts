/**
 * Log-softmax, a primitive with one fused kernel (`kernels/softmax.ts`), and softmax composed
 * on it. Composed from max, exp, sum and log (as it was), a cross-entropy over a [2048, 64]
 * batch of logits cost about ten passes and ten allocations each way; fused, one each.
 *
 * The VJP is written with ops (`g - softmax(x) * sum(g)`, with softmax as `exp(y)`), so it is
 * itself differentiable: gradients of every order come for free. When a gradient may be asked
 * for, the forward keeps the softmax it computes anyway, and the VJP records it as the `exp`
 * of the output it is, instead of computing the exponentials a second time.
 * @module
 */
import { allocate } from '../dtype.ts'
import { isRecording, makeOutput } from '../autodiff/recording.ts'
import { logSoftmaxInto } from '../kernels/softmax.ts'
import { normAxis } from '../shape.ts'
import type { Tensor } from '../tensor.ts'
import { mul, sub } from './binary.ts'
import { astype } from './cast.ts'
import { sum } from './reduce.ts'
import { registerOps } from './registry.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { exp } from './unary.ts'
import { checkTensor } from './util.ts'

/**
 * `log(softmax(x))` along `axis` (default -1), computed stably as `x - logsumexp(x)` in one
 * pass per line (in float64, stored in x's dtype). An int32 input is taken as float32, as the
 * other float ops take it. A line holding NaN gives NaN; a line of all -Infinity gives NaN, as PyTorch.
 */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkTensor(x, 'logSoftmax')
  const a = normAxis('logSoftmax', axis, x.rank)
  const input = x.dtype === 'int32' ? astype(x, 'float32') : x
  const n = input.shape[a]
  let outer = 1
  for (let i = 0; i < a; i++) outer *= input.shape[i]
  const inner = n === 0 ? 0 : input.size / (outer * n)
  const out = allocate(input.dtype, input.size)
  const probs = isRecording() && input.requiresGrad ? allocate(input.dtype, input.size) : null
  if (input.size > 0) logSoftmaxInto(input._data, out, probs, outer, n, inner)
  const softmaxOfOutput = (): Tensor => {
    if (probs === null) return exp(y)
    const p: Tensor = makeOutput('exp', [y], probs, y.shape, (g) => [mul(g, p)])
    return p
  }
  const y: Tensor = makeOutput('logSoftmax', [input], out, input.shape, (g) => [sub(g, mul(softmaxOfOutput(), sum(g, a, true)))], { axis: a })
  return y
}

/** Softmax along `axis` (default -1), computed stably as `exp(logSoftmax(x))`. */
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

registerOps('softmax', 'primitive', { logSoftmax: alongAxis(logSoftmax) })
registerOps('softmax', 'composite', { softmax: alongAxis(softmax) })
