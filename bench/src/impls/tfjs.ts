/**
 * TensorFlow.js's side of every workload on one backend (`tfjs-cpu` or `tfjs-wasm`). Every
 * call runs inside `tf.tidy` and the variables are disposed at the end, as tfjs requires;
 * `live` is `tf.memory().numTensors`, which the child checks stays flat across runs.
 * @module
 */
import type * as TF from '@tensorflow/tfjs-core'
import { chainData, matrixData, modelData } from '../data.ts'
import type { Runner } from '../impl.ts'
import type { ChainWorkload, ModelWorkload, Workload } from '../workloads.ts'
import { type TfBackend, loadTfjs } from './tfjs-load.ts'
import { type TfModel, cellModel, layersModel } from './tfjs-model.ts'

type Tf = Awaited<ReturnType<typeof loadTfjs>>

/** tf.layers on cpu for the LSTM; the hand-written cell otherwise (see `tfjs-model.ts` for why). */
async function buildModel(tf: Tf, backend: TfBackend, w: ModelWorkload): Promise<TfModel> {
  const d = modelData(w.cell, w.shape)
  if (backend === 'cpu' && w.cell === 'lstm') return layersModel(tf, w.shape, d)
  // Forward passes need no gradient of the lookup, so wasm can gather there.
  return cellModel(tf, w.cell, w.shape, d, backend === 'wasm' && w.kind === 'train' ? 'onehot' : 'gather')
}

async function modelRunner(tf: Tf, backend: TfBackend, w: ModelWorkload): Promise<Runner> {
  const model = await buildModel(tf, backend, w)
  const live = (): number => tf.memory().numTensors
  if (w.kind === 'forward') {
    return { run: () => tf.tidy(() => model.loss().dataSync()[0]), live, dispose: () => model.dispose() }
  }
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8)
  return {
    run: () => tf.tidy(() => (opt.minimize(() => model.loss(), true) as TF.Scalar).dataSync()[0]),
    live,
    dispose: () => {
      opt.dispose()
      model.dispose()
    },
  }
}

function chainRunner(tf: Tf, w: ChainWorkload): Runner {
  const d = chainData(w.width)
  const x0 = tf.tensor1d(d.x0)
  const wv = tf.variable(tf.tensor1d(d.w))
  const bv = tf.variable(tf.tensor1d(d.b))
  const f = (): TF.Scalar => {
    let x: TF.Tensor = x0
    for (let i = 0; i < w.length; i++) x = tf.tanh(tf.add(tf.mul(x, wv), bv))
    return tf.sum(x)
  }
  return {
    run: () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(f, [wv, bv])
        grads[wv.name].dataSync()
        return value.dataSync()[0]
      }),
    live: () => tf.memory().numTensors,
    dispose: () => tf.dispose([x0, wv, bv]),
  }
}

/** The runner factory of tfjs on `backend`. */
export function tfjsRunner(backend: TfBackend): (w: Workload) => Promise<Runner> {
  return async (w) => {
    const tf = await loadTfjs(backend)
    switch (w.kind) {
      case 'train':
      case 'forward':
        return modelRunner(tf, backend, w)
      case 'matmul': {
        const a = tf.tensor2d(matrixData(w.n, 1), [w.n, w.n])
        const b = tf.tensor2d(matrixData(w.n, 2), [w.n, w.n])
        return {
          run: () => {
            const c = tf.matMul(a, b)
            c.dataSync()
            c.dispose()
            return undefined
          },
          live: () => tf.memory().numTensors,
          dispose: () => tf.dispose([a, b]),
        }
      }
      case 'chain':
        return chainRunner(tf, w)
      case 'memory':
        throw new Error(`tfjs-${backend}: '${w.name}' is graphgrad's own memory check`)
    }
  }
}
