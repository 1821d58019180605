// Fuzz (issue 17): every layer family, built from random sizes (small, zero, past the element
// cap, not a size) and applied to random inputs (shapes with zeros and large sizes, every
// dtype, NaN and extremes), forward and backward. Each case either throws a graphgrad error
// naming what was wrong, never an engine TypeError or RangeError nor allocate's unnamed
// backstop, or returns well-formed tensors, within a time bound. A size can be legal for each
// tensor the caller sees and still multiply to an internal one past the cap (a recurrent scan's
// per-step activations): that is what this guards. Seeded, so a failure reproduces.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { GraphgradError, Tensor, grad } from '@graphgrad/core'
import type { Params } from '../src/layer.ts'
import * as L from '../src/index.ts'
import { type Draw, coin, drawFrom, elements, fate, inputShape, int, pick, values, wellFormed } from '../../core/test/fuzz-helpers.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 1717)
const RUNS = Number(process.env.FUZZ_RUNS ?? 25)
const TIME_BOUND_MS = 5000
/** The inputs the test itself makes stay below this many elements. */
const INPUT_BUDGET = 2 ** 22

/** A constructor size: mostly small, sometimes zero, large, past the cap, or not a size at all. */
function size(d: Draw): number {
  const r = int(d, 0, 19)
  if (r === 0) return pick(d, [2 ** 31, 1e20, 2 ** 53]) // past the cap
  if (r === 1) return pick(d, [-1, 1.5, NaN, Infinity])
  if (r === 2) return 0
  if (r === 3) return 1000 // legal, and large against a long input
  return int(d, 1, 5)
}

/** An input of rank `rank` whose `feature` axis (if any) is usually `features`, its other sizes from the core fuzz. */
function input(d: Draw, rank: number, feature: number | null, features: number): Tensor {
  const shape = coin(d, 0.15) ? inputShape(d, 0, 4) : inputShape(d, rank, rank)
  const fits = (s: number[]): boolean => fate(s) === 'ok' && elements(s) <= INPUT_BUDGET
  const trying = (change: (s: number[]) => void): void => {
    const next = shape.slice()
    change(next)
    if (fits(next)) change(shape)
  }
  // The layer's own size where it expects it (when the test can make such an input at all).
  if (feature !== null && shape.length === rank && coin(d, 0.8)) trying((s) => (s[feature < 0 ? rank + feature : feature] = features))
  // A long sequence or a big batch now and then: its product with a layer's width is what overflows.
  if (shape.length === rank && rank >= 2 && !shape.includes(0) && coin(d, 0.1)) trying((s) => (s[0] = pick(d, [1e5, 1e6])))
  return values(d, shape, coin(d, 0.8) ? pick(d, ['float32', 'float64'] as const) : 'int32')
}

interface Made {
  readonly init: () => Params
  readonly apply: (p: Params) => unknown
}
type Family = (d: Draw) => Made

const anyLayer = (l: unknown): { init: (seed: number) => Params; apply: (...a: any[]) => unknown } => l as never

const recurrent =
  (make: (options: L.RecurrentOptions) => unknown): Family =>
  (d) => {
    const I = size(d)
    const layer = anyLayer(
      make({ inputSize: I, hiddenSize: size(d), numLayers: pick(d, [1, 2]), bidirectional: coin(d, 0.3), batchFirst: coin(d), fused: coin(d, 0.8) }),
    )
    const x = input(d, 3, 2, I)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  }

const FAMILIES: Record<string, Family> = {
  linear: (d) => {
    const I = size(d)
    const layer = anyLayer(L.linear({ inFeatures: I, outFeatures: size(d), bias: coin(d) }))
    const x = input(d, int(d, 1, 3), -1, I)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  },
  embedding: (d) => {
    const n = size(d)
    const layer = anyLayer(L.embedding({ numEmbeddings: n, embeddingDim: size(d) }))
    const ids = input(d, int(d, 1, 2), null, 0)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, ids) }
  },
  lstm: recurrent(L.lstm),
  gru: recurrent(L.gru),
  rnn: recurrent(L.rnn),
  conv1d: (d) => {
    const C = size(d)
    const layer = anyLayer(L.conv1d({ inChannels: C, outChannels: size(d), kernelSize: size(d), stride: pick(d, [1, 2]), padding: pick(d, [0, 1, 'same']) }))
    const x = input(d, 3, 1, C)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  },
  conv2d: (d) => {
    const C = size(d)
    const layer = anyLayer(L.conv2d({ inChannels: C, outChannels: size(d), kernelSize: size(d), dilation: pick(d, [1, 2]), groups: pick(d, [1, 2]) }))
    const x = input(d, 4, 1, C)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  },
  pool: (d) => {
    const [make, rank] = pick(d, [
      [L.maxPool1d, 3],
      [L.avgPool1d, 3],
      [L.maxPool2d, 4],
      [L.avgPool2d, 4],
    ] as const)
    const layer = anyLayer(make({ kernelSize: size(d), stride: pick(d, [undefined, 1, 2]), padding: pick(d, [0, 1]) }))
    const x = input(d, rank, null, 0)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  },
  adaptivePool: (d) => {
    const [make, rank] = pick(d, [
      [L.adaptiveAvgPool1d, 3],
      [L.adaptiveAvgPool2d, 4],
    ] as const)
    const layer = anyLayer(make({ outputSize: size(d) }))
    const x = input(d, rank, null, 0)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  },
  batchNorm: (d) => {
    const C = size(d)
    const [make, rank] = pick(d, [
      [L.batchNorm1d, 3],
      [L.batchNorm2d, 4],
    ] as const)
    const layer = anyLayer(make({ numFeatures: C }))
    const x = input(d, rank, 1, C)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x, { train: coin(d) }) }
  },
  groupNorm: (d) => {
    const C = size(d)
    const layer = anyLayer(L.groupNorm({ numGroups: pick(d, [1, 2, C]), numChannels: C }))
    const x = input(d, 3, 1, C)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  },
  layerNorm: (d) => {
    const F = size(d)
    const layer = anyLayer(L.layerNorm({ normalizedShape: [F] }))
    const x = input(d, int(d, 1, 3), -1, F)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  },
  multiHeadAttention: (d) => {
    const E = size(d)
    const layer = anyLayer(L.multiHeadAttention({ embedDim: E, numHeads: pick(d, [1, 2]), batchFirst: coin(d) }))
    const q = input(d, 3, 2, E)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, q, { isCausal: coin(d, 0.3), needWeights: coin(d) }) }
  },
  transformerEncoderLayer: (d) => {
    const E = size(d)
    const layer = anyLayer(L.transformerEncoderLayer({ dModel: E, nhead: pick(d, [1, 2]), dimFeedforward: size(d), batchFirst: coin(d), normFirst: coin(d) }))
    const x = input(d, 3, 2, E)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  },
  positionalEmbedding: (d) => {
    const E = size(d)
    const layer = anyLayer(L.positionalEmbedding({ maxLength: size(d), embeddingDim: E, batchFirst: coin(d) }))
    const x = input(d, 3, 2, E)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x) }
  },
  dropout: (d) => {
    const layer = anyLayer(L.dropout({ p: pick(d, [0, 0.5, 1, -1, NaN]) }))
    const x = input(d, int(d, 0, 3), null, 0)
    return { init: () => layer.init(0), apply: (p) => layer.apply(p, x, { train: coin(d), key: int(d, 0, 9) }) }
  },
}

/** Every tensor in a layer's result (a tensor, or a record of them such as { output, weights }). */
function tensorsIn(out: unknown): Tensor[] {
  if (out instanceof Tensor) return [out]
  if (out !== null && typeof out === 'object') return Object.values(out).flatMap((v) => (v instanceof Tensor ? [v] : []))
  return []
}

/** Runs `f`; a throw must be a graphgrad error that names something, not allocate's backstop. */
function refusedOrRan<T>(where: string, f: () => T): T | undefined {
  try {
    return f()
  } catch (e) {
    if (!(e instanceof GraphgradError)) throw new Error(`${where}: threw ${String(e)} (not a graphgrad error)`, { cause: e })
    if (e.message.startsWith('allocate:')) throw new Error(`${where}: reached allocate's backstop: ${e.message}`)
    return undefined
  }
}

describe('fuzz: layers', () => {
  for (const [name, family] of Object.entries(FAMILIES)) {
    it(`${name}: a named refusal or well-formed results, forward and backward`, () => {
      fc.assert(
        fc.property(fc.gen(), (g) => {
          const d = drawFrom(g)
          const start = performance.now()
          const made = refusedOrRan(`${name}: construction`, () => family(d))
          if (made === undefined) return
          const params = refusedOrRan(`${name}: init`, made.init)
          if (params === undefined) return
          const out = refusedOrRan(`${name}: apply`, () => made.apply(params))
          if (out === undefined) return
          const results = tensorsIn(out)
          expect(results.length, `${name}: the result holds no tensor`).toBeGreaterThan(0)
          results.forEach((t) => wellFormed(t, name))
          const first = results[0]
          if (first.dtype !== 'int32' && first.size <= 1e5 && params.size > 0) {
            const grads = refusedOrRan(`${name}: backward`, () => grad((p: Params) => tensorsIn(made.apply(p))[0].sum())(params))
            if (grads !== undefined) for (const [k, t] of L.stateDict(grads as Params)) wellFormed(t, `${name}: gradient of ${k}`)
          }
          expect(performance.now() - start, `${name}: milliseconds`).toBeLessThan(TIME_BOUND_MS)
        }),
        { seed: SEED, numRuns: RUNS },
      )
    })
  }
})
