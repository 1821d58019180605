/**
 * jax-js's side of every workload on its wasm backend: the whole training step (loss,
 * `valueAndGrad`, a hand-written Adam, as jax-js 0.1.25 ships no optimizers) under one
 * `jit`. Arrays are reference-counted: every call takes ownership of its arguments, so the
 * runner passes `.ref`s of what it keeps and disposes what it replaces.
 * @module
 */
import { createRequire } from 'node:module'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { defaultDevice, init, jit, numpy as np, tree, valueAndGrad } from '@jax-js/jax'
import { chainData, matrixData, modelData } from '../data.ts'
import type { Runner } from '../impl.ts'
import type { ChainWorkload, ModelWorkload, Workload } from '../workloads.ts'
import { type JaxBatch, type JaxParams, jaxLoss, jaxModelData } from './jax-model.ts'

const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }

let ready: Promise<() => number | undefined> | null = null

/**
 * Starts the wasm backend once and returns a counter of its live buffers, for the leak check:
 * jax-js keeps its count private, so the backend's malloc/incRef/decRef are mirrored. The
 * backend object comes from the package's own chunk (the `getBackend` it exports as `s` in
 * 0.1.25); if that changes, the count is unavailable (undefined), never wrong.
 */
function start(): Promise<() => number | undefined> {
  ready ??= (async () => {
    const devices = await init('wasm')
    if (!devices.includes('wasm')) throw new Error('jax-js: the wasm backend did not initialise')
    defaultDevice('wasm')
    const dist = dirname(createRequire(import.meta.url).resolve('@jax-js/jax'))
    const chunk = readdirSync(dist).find((f) => /^backend-.*\.js$/.test(f))
    if (chunk === undefined) return () => undefined
    const mod = (await import(pathToFileURL(join(dist, chunk)).href)) as Record<string, unknown>
    const getBackend = mod.s
    if (typeof getBackend !== 'function') return () => undefined
    const backend = getBackend('wasm') as {
      type?: string
      malloc(size: number, data?: Uint8Array): number
      incRef(slot: number): void
      decRef(slot: number): void
    }
    if (backend.type !== 'wasm') return () => undefined
    const refs = new Map<number, number>()
    const { malloc, incRef, decRef } = backend
    backend.malloc = (size, data) => {
      const slot = malloc.call(backend, size, data)
      refs.set(slot, 1)
      return slot
    }
    backend.incRef = (slot) => {
      incRef.call(backend, slot)
      refs.set(slot, (refs.get(slot) ?? 0) + 1)
    }
    backend.decRef = (slot) => {
      decRef.call(backend, slot)
      const n = (refs.get(slot) ?? 1) - 1
      if (n <= 0) refs.delete(slot)
      else refs.set(slot, n)
    }
    return () => refs.size
  })()
  return ready
}

function trainRunner(w: ModelWorkload, live: () => number | undefined): Runner {
  const { params: p0, batch } = jaxModelData(w.cell, w.shape, modelData(w.cell, w.shape))
  const loss = jaxLoss(w.cell, w.shape)
  type State = { p: JaxParams; m: JaxParams; v: JaxParams }
  const zeros = (p: JaxParams): JaxParams => tree.map((a: np.Array) => np.zerosLike(a), tree.ref(p)) as JaxParams
  let s: State = { p: p0, m: zeros(p0), v: zeros(p0) }
  // c1 = 1 / (1 - beta1^t), c2 = 1 / (1 - beta2^t): PyTorch's bias corrections, as arrays so jit does not retrace per step.
  const step = jit((st: State, b: JaxBatch, c1: np.Array, c2: np.Array): [np.Array, State] => {
    const [value, g] = valueAndGrad(loss)(tree.ref(st.p), b)
    const m = tree.map((mi: np.Array, gi: np.Array) => mi.mul(ADAM.beta1).add(gi.mul(1 - ADAM.beta1)), st.m, tree.ref(g)) as JaxParams
    const v = tree.map((vi: np.Array, gi: np.Array) => vi.mul(ADAM.beta2).add(gi.ref.mul(gi).mul(1 - ADAM.beta2)), st.v, g) as JaxParams
    const p = tree.map(
      (pi: np.Array, mi: np.Array, vi: np.Array) =>
        pi.sub(
          mi
            .mul(c1.ref)
            .mul(ADAM.lr)
            .div(np.sqrt(vi.mul(c2.ref)).add(ADAM.eps)),
        ),
      st.p,
      tree.ref(m),
      tree.ref(v),
    ) as JaxParams
    c1.dispose()
    c2.dispose()
    return [value, { p, m, v }]
  })
  let t = 0
  return {
    run() {
      t++
      const c1 = np.array(1 / (1 - ADAM.beta1 ** t))
      const c2 = np.array(1 / (1 - ADAM.beta2 ** t))
      const [value, next] = step(s, tree.ref(batch), c1, c2)
      s = next
      return value.dataSync()[0]
    },
    live,
    dispose() {
      tree.dispose(s)
      tree.dispose(batch)
      step.dispose()
    },
  }
}

function forwardRunner(w: ModelWorkload, live: () => number | undefined): Runner {
  const { params, batch } = jaxModelData(w.cell, w.shape, modelData(w.cell, w.shape))
  const f = jit(jaxLoss(w.cell, w.shape))
  return {
    run: () => f(tree.ref(params), tree.ref(batch)).dataSync()[0],
    live,
    dispose() {
      tree.dispose(params)
      tree.dispose(batch)
      f.dispose()
    },
  }
}

/**
 * The chain under `jit`, as the train step. Eager mode is not an option: under `valueAndGrad`
 * jax-js 0.1.25 keeps every op's lazy expression and ran out of a 4 GB heap. Tracing 2,000
 * repeats recurses once per op, past V8's default stack: the parent gives jax-js children
 * `--stack-size` (see `spawn.ts`); the first call (the warm-up) includes ~30 s of compilation.
 */
function chainRunner(w: ChainWorkload, live: () => number | undefined): Runner {
  const d = chainData(w.width)
  const x0 = np.array(d.x0)
  const params = { w: np.array(d.w), b: np.array(d.b) }
  type ChainParams = typeof params
  const f = (p: ChainParams, x: np.Array): np.Array => {
    for (let i = 0; i < w.length; i++) x = np.tanh(x.mul(p.w.ref).add(p.b.ref))
    p.w.dispose()
    p.b.dispose()
    return x.sum()
  }
  const step = jit((p: ChainParams, x: np.Array): [np.Array, ChainParams] => valueAndGrad(f)(p, x))
  return {
    run() {
      const [value, g] = step(tree.ref(params), x0.ref)
      g.w.dataSync()
      g.b.dispose()
      return value.dataSync()[0]
    },
    live,
    dispose() {
      tree.dispose(params)
      x0.dispose()
      step.dispose()
    },
  }
}

/** jax-js's runner for any workload. */
export async function jaxRunner(w: Workload): Promise<Runner> {
  const live = await start()
  switch (w.kind) {
    case 'train':
      return trainRunner(w, live)
    case 'forward':
      return forwardRunner(w, live)
    case 'matmul': {
      const a = np.array(matrixData(w.n, 1)).reshape([w.n, w.n])
      const b = np.array(matrixData(w.n, 2)).reshape([w.n, w.n])
      return {
        run: () => void np.matmul(a.ref, b.ref).dataSync(),
        live,
        dispose() {
          a.dispose()
          b.dispose()
        },
      }
    }
    case 'chain':
      return chainRunner(w, live)
    case 'memory':
      throw new Error(`jax-js: '${w.name}' is graphgrad's own memory check`)
  }
}
