/**
 * Custom ops for the tests, built the way the core builds its own (kernels in plain loops,
 * VJPs written with ops), some of them with deliberately wrong VJP rules.
 * @module
 */
import { OrderedMap } from 'immutable'
import { Tensor, add, mul, reshape, sigmoid, sum, tanh, transpose } from '@graphgrad/core'
import { makeOutput } from '../../../core/src/autodiff/recording.ts'

/** A float64 tensor from nested arrays or a flat array with a shape. */
function f64(data: number[], shape: number[]): Tensor {
  return new Tensor(Float64Array.from(data), shape)
}

/** Deterministic values in [-1, 1), spread out, for test inputs. */
export function values(shape: number[], offset = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1)
  return f64(
    Array.from({ length: n }, (_, i) => Math.sin(1.3 * (i + offset) + 0.7) * 0.9),
    shape,
  )
}

/** `a * b` (same shapes) whose gradient for b is multiplied by `factor`. */
export function mulWrongB(a: Tensor, b: Tensor, factor: number): Tensor {
  const data = new Float64Array(a.size)
  for (let i = 0; i < data.length; i++) data[i] = a._data[i] * b._data[i]
  return makeOutput('mulWrongB', [a, b], data, a.shape, (g, needs) => [needs[0] ? mul(g, b) : null, needs[1] ? mul(mul(g, a), factor) : null])
}

/**
 * `a + b` for a of shape [n, m] and b of shape [n, 1] (b broadcast along columns), whose VJP
 * for b is wrong: `sumOverRows` sums over the wrong axis (the shape still fits when n == m);
 * `unreduced` forgets the reduction altogether.
 */
export function addBroadcastWrong(a: Tensor, b: Tensor, bug: 'sumOverRows' | 'unreduced'): Tensor {
  const [n, m] = a.shape
  const data = new Float64Array(n * m)
  for (let r = 0; r < n; r++) for (let c = 0; c < m; c++) data[r * m + c] = a._data[r * m + c] + b._data[r]
  return makeOutput('addBroadcastWrong', [a, b], data, a.shape, (g) => [g, bug === 'unreduced' ? g : reshape(sum(g, 0), b.shape)])
}

/**
 * A matrix product [n, k] x [k, m] with its own kernel. With `transposedGradB` the gradient
 * for b is `g^T a` (shape [m, k]: right only when k == m) instead of `a^T g`.
 */
export function makeMatmul(transposedGradB: boolean): (a: Tensor, b: Tensor) => Tensor {
  const mm = (a: Tensor, b: Tensor): Tensor => {
    const [n, k] = a.shape
    const m = b.shape[1]
    if (b.shape[0] !== k) throw new Error(`matmul: cannot multiply [${a.shape}] by [${b.shape}]`)
    const data = new Float64Array(n * m)
    for (let i = 0; i < n; i++)
      for (let p = 0; p < k; p++) {
        const av = a._data[i * k + p]
        for (let j = 0; j < m; j++) data[i * m + j] += av * b._data[p * m + j]
      }
    return makeOutput(transposedGradB ? 'matmulTransposedGrad' : 'matmul', [a, b], data, [n, m], (g, needs) => [
      needs[0] ? mm(g, transpose(b)) : null,
      needs[1] ? (transposedGradB ? mm(transpose(g), a) : mm(transpose(a), g)) : null,
    ])
  }
  return mm
}

/** The correct test matmul. */
export const matmul = makeMatmul(false)

/** The logistic function whose VJP forgets the `(1 - y)` factor: `g * y` instead of `g * y * (1 - y)`. */
function sigmoidWrong(x: Tensor): Tensor {
  const y0 = sigmoid(x)
  const y: Tensor = makeOutput('sigmoidWrong', [x], y0._data.slice(), x.shape, (g) => [mul(g, y)])
  return y
}

/** LSTM sizes for {@link lstmStep}. */
export const LSTM = { input: 2, hidden: 3, batch: 2 }

/** PyTorch-named LSTM parameters, nested under `lstm` (gate rows in PyTorch's order i, f, g, o). */
export function lstmParams(): OrderedMap<string, OrderedMap<string, Tensor>> {
  const { input: I, hidden: H } = LSTM
  return OrderedMap({
    lstm: OrderedMap({
      weight_ih_l0: values([4 * H, I], 1),
      weight_hh_l0: values([4 * H, H], 50),
      bias_ih_l0: values([4 * H], 100),
      bias_hh_l0: values([4 * H], 200),
    }),
  })
}

/** Columns k*H .. (k+1)*H - 1 of a [B, 4H] matrix, as a product with a constant 0/1 matrix. */
function gate(gates: Tensor, k: number): Tensor {
  const H = LSTM.hidden
  const select = new Float64Array(4 * H * H)
  for (let j = 0; j < H; j++) select[(k * H + j) * H + j] = 1
  return matmul(gates, new Tensor(select, [4 * H, H]))
}

/**
 * One LSTM step from fixed, non-zero h0 and c0, returning h1 ([B, H]). With `wrongForgetGate`
 * the forget gate uses {@link sigmoidWrong}, so only the forget rows (H .. 2H-1) of the
 * weights and biases, and the input x, get wrong gradients.
 */
export function lstmStep(params: OrderedMap<string, OrderedMap<string, Tensor>>, x: Tensor, wrongForgetGate: boolean): Tensor {
  const { hidden: H, batch: B } = LSTM
  const p = params.get('lstm') as OrderedMap<string, Tensor>
  const h0 = values([B, H], 300)
  const c0 = values([B, H], 400)
  const w = (name: string): Tensor => p.get(name) as Tensor
  const gates = add(add(matmul(x, transpose(w('weight_ih_l0'))), matmul(h0, transpose(w('weight_hh_l0')))), add(w('bias_ih_l0'), w('bias_hh_l0')))
  const i = sigmoid(gate(gates, 0))
  const f = wrongForgetGate ? sigmoidWrong(gate(gates, 1)) : sigmoid(gate(gates, 1))
  const g = tanh(gate(gates, 2))
  const o = sigmoid(gate(gates, 3))
  const c1 = add(mul(f, c0), mul(i, g))
  return mul(o, tanh(c1))
}

/** `x^2` whose VJP treats x as a constant: first derivatives right, second derivatives wrong. */
export function squareDetachedVjp(x: Tensor): Tensor {
  const data = new Float64Array(x.size)
  for (let i = 0; i < data.length; i++) data[i] = x._data[i] * x._data[i]
  const xc = new Tensor(x._data, x.shape)
  return makeOutput('squareDetachedVjp', [x], data, x.shape, (g) => [mul(g, mul(xc, 2))])
}

/** `x` whose VJP drifts a little on every call: a nondeterministic backward. */
export function makeDriftingIdentity(): (x: Tensor) => Tensor {
  let calls = 0
  return (x: Tensor) => makeOutput('drifting', [x], x._data.slice(), x.shape, (g) => [mul(g, 1 + 1e-9 * calls++)])
}
