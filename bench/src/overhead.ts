/**
 * Per-op overhead: a long chain of elementwise ops on a tiny tensor, where bookkeeping
 * (allocation, graph recording, backward traversal) is all there is to measure.
 * @module
 */
import { type Tensor, add, grad, mul, sub, sum, tanh, tensor } from '@graphgrad/core'
import type { Tensor as TfTensor } from '@tensorflow/tfjs-core'
import { type BenchGroup, type BenchResult, medianMs, round3 } from './timing.ts'
import { loadTfjs } from './tfjs.ts'

/** Ops in the chain: 250 rounds of mul, add, tanh, sub. */
const OPS = 1000
const INPUT = [0.1, -0.2, 0.3, -0.4]

function chain<T>(x: T, ops: { mul: (a: T, k: number) => T; add: (a: T, b: T) => T; tanh: (a: T) => T; sub: (a: T, k: number) => T }): T {
  let y = x
  for (let i = 0; i < OPS / 4; i++) y = ops.sub(ops.tanh(ops.add(ops.mul(y, 0.5), y)), 0.1)
  return y
}

function result(lib: string, mode: string, ms: number): BenchResult {
  return { bench: 'overhead', lib, mode, ops: OPS, shape: '[4]', dtype: 'float32', usPerOp: round3((ms * 1000) / OPS), ms: round3(ms) }
}

const ours = { mul: (a: Tensor, k: number) => mul(a, k), add, tanh, sub: (a: Tensor, k: number) => sub(a, k) }

/** Microseconds per op of a 1000-op chain on a [4] tensor, forward only and forward + backward. */
export const overheadGroup: BenchGroup = {
  name: 'overhead',
  async *run() {
    const x = tensor(INPUT, { dtype: 'float32' })
    const f = (t: Tensor): Tensor => sum(chain(t, ours))
    yield result('graphgrad', 'forward', medianMs(() => f(x).item(), { warmup: 20, minRuns: 20 }))
    yield result('graphgrad', 'forward+backward', medianMs(() => (grad(f)(x) as Tensor).data, { warmup: 20, minRuns: 20 }))

    const tf = await loadTfjs()
    type T = TfTensor
    const theirs = { mul: (a: T, k: number) => tf.mul(a, k), add: (a: T, b: T) => tf.add(a, b), tanh: (a: T) => tf.tanh(a), sub: (a: T, k: number) => tf.sub(a, k) }
    const tx = tf.tensor1d(INPUT, 'float32')
    const g = (t: T): T => tf.sum(chain(t, theirs))
    const dg = tf.grad(g)
    yield result('tfjs-cpu', 'forward', medianMs(() => tf.tidy(() => { g(tx).dataSync() }), { warmup: 20, minRuns: 20 }))
    yield result('tfjs-cpu', 'forward+backward', medianMs(() => tf.tidy(() => { dg(tx).dataSync() }), { warmup: 20, minRuns: 20 }))
    tx.dispose()
  },
}
