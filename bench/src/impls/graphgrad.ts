/**
 * graphgrad's side of every workload, written as its README shows: layers from
 * `@graphgrad/layers`, `valueAndGrad`, `adam` from `@graphgrad/optim`.
 * @module
 */
import { type Tensor, add, matmul, mul, noGrad, numThreads, reshape, sum, tanh, tensor, valueAndGrad } from '@graphgrad/core'
import { crossEntropy } from '@graphgrad/layers'
import type { Params } from '@graphgrad/layers'
import { adam } from '@graphgrad/optim'
import { OrderedMap } from 'immutable'
import { chainData, initialParams, matrixData, modelLayers, tokenData } from '../data.ts'
import { type MemoryProbe, type Runner, liveBytes } from '../impl.ts'
import { liveBytesNow, probePeak } from '../peak.ts'
import type { ChainWorkload, ModelWorkload, Workload } from '../workloads.ts'

type ModelParams = OrderedMap<string, Params>

/** The model's loss for given parameters: embedding, recurrent layer, head, mean cross-entropy. */
export function modelLoss(w: ModelWorkload): { loss: (p: ModelParams) => Tensor; params: ModelParams } {
  const { emb, rec, head } = modelLayers(w.cell, w.shape)
  const { tokens, targets } = tokenData(w.shape)
  const { batch, seq, hidden } = w.shape
  const loss = (p: ModelParams): Tensor => {
    const x = emb.apply(p.get('embedding') as Params, tokens)
    const { output } = rec.apply(p.get('rnn') as Params, x)
    const logits = head.apply(p.get('head') as Params, reshape(output, [batch * seq, hidden]))
    return crossEntropy(logits, targets)
  }
  return { loss, params: initialParams(w.cell, w.shape) }
}

function trainRunner(w: ModelWorkload): Runner {
  const { loss, params: p0 } = modelLoss(w)
  let params = p0
  const opt = adam({ lr: 1e-3 })
  let state = opt.init(params)
  const lossAndGrad = valueAndGrad(loss)
  const update = (grads: ModelParams): void => {
    const next = opt.step(params, grads, state)
    params = next.params as ModelParams
    state = next.state
  }
  return {
    run() {
      const [value, grads] = lossAndGrad(params)
      update(grads)
      return value.item()
    },
    async memoryProbe(): Promise<MemoryProbe> {
      const beforeBytes = await liveBytes()
      // The step `run` takes (valueAndGrad frees each node after its VJP, as training does; a
      // `vjp` pullback would keep the whole graph), read once more where the loss is computed.
      let afterForwardBytes = 0
      const probedStep = valueAndGrad((p: ModelParams) => {
        const value = loss(p)
        afterForwardBytes = liveBytesNow()
        return value
      })
      const { result, peak } = probePeak(() => probedStep(params))
      const afterBackwardBytes = await liveBytes()
      update(result[1])
      return { beforeBytes, afterForwardBytes, afterBackwardBytes, probedPeak: peak }
    },
    dispose() {},
  }
}

function chainRunner(w: ChainWorkload): Runner {
  const d = chainData(w.width)
  const x0 = tensor(d.x0)
  const params = OrderedMap<string, Tensor>([
    ['w', tensor(d.w)],
    ['b', tensor(d.b)],
  ])
  const f = (p: typeof params): Tensor => {
    const [wt, bt] = [p.get('w') as Tensor, p.get('b') as Tensor]
    let x = x0
    for (let i = 0; i < w.length; i++) x = tanh(add(mul(x, wt), bt))
    return sum(x)
  }
  const lossAndGrad = valueAndGrad(f)
  return {
    run() {
      const [value, grads] = lossAndGrad(params)
      void (grads.get('w') as Tensor).data
      return value.item()
    },
    dispose() {},
  }
}

/** graphgrad's runner for any workload. */
export async function graphgradRunner(w: Workload): Promise<Runner> {
  return { ...(await workloadRunner(w)), threads: numThreads }
}

async function workloadRunner(w: Workload): Promise<Runner> {
  switch (w.kind) {
    case 'train':
      return trainRunner(w)
    case 'forward': {
      const { loss, params } = modelLoss(w)
      return { run: () => noGrad(() => loss(params).item()), dispose() {} }
    }
    case 'matmul': {
      const a = reshape(tensor(matrixData(w.n, 1)), [w.n, w.n])
      const b = reshape(tensor(matrixData(w.n, 2)), [w.n, w.n])
      return { run: () => void matmul(a, b).data, dispose() {} }
    }
    case 'chain':
      return chainRunner(w)
    case 'memory':
      throw new Error(`graphgrad: '${w.name}' is run by the memory soak, not as a timed runner`)
  }
}
