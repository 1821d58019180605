/**
 * Optimizers built from transforms: a chain equals the named optimizer to the last bit
 * (parameters and every state slot, float64 and float32, over several steps), each
 * transform's init and update leave their inputs untouched, and a chain's state replays,
 * saves and refuses foreign states as a named optimizer's does.
 */
import { describe, expect, it } from 'vitest'
import { OrderedMap } from 'immutable'
import { ArgumentError, Tensor, type TensorTree } from '@graphgrad/core'
import {
  type Direction,
  type Optimizer,
  type OptimizerState,
  type ParamTree,
  type Transform,
  adagrad,
  adam,
  adamax,
  adamw,
  nadam,
  radam,
  addDecayedWeights,
  addWeightDecay,
  chain,
  clipByGlobalNorm,
  clipGradNorm,
  cosineAnnealingLR,
  lion,
  loadOptimizerState,
  rmsprop,
  saveOptimizerState,
  scale,
  scaleByAdam,
  scaleByAdamax,
  scaleByLearningRate,
  scaleByLion,
  scaleByMomentum,
  scaleByRms,
  scaleByRss,
  sgd,
} from '../src/index.ts'
import { CONFIGS, make } from './configs.ts'
import { rng, snapshot } from './helpers.ts'

/** A deterministic uniform generator in [-1, 1). */
function random(seed: number): () => number {
  const next = rng(seed)
  return () => next() * 2 - 1
}

/** Nested parameters of both float dtypes (a 0-d one too), and gradients for them drawn from `rand`. */
function tree(rand: () => number, scaleBy = 3): ParamTree {
  const vals = (n: number): number[] => Array.from({ length: n }, () => rand() * scaleBy)
  return OrderedMap<TensorTree>({
    layer: OrderedMap({ weight: new Tensor(Float64Array.from(vals(6)), [2, 3]), bias: new Tensor(Float32Array.from(vals(3)), [3]) }),
    scale: new Tensor(Float64Array.from(vals(1)), []),
  })
}

/** The raw bits of every tensor of a tree (or state's slots), so that equality is bit equality (NaN and -0 included). */
function bits(x: unknown): unknown {
  if (x instanceof Tensor) return [x.dtype, [...x.shape], Array.from(new Uint8Array(x._data.buffer, x._data.byteOffset, x._data.byteLength))]
  if (OrderedMap.isOrderedMap(x) || (x !== null && typeof x === 'object' && 'entrySeq' in (x as object))) {
    return [...(x as OrderedMap<string, unknown>).entries()].map(([k, v]) => [k, bits(v)])
  }
  return x
}

/** Runs both optimizers from the same start with the same gradients; returns the per-step parameters and slots. */
function run(opt: Optimizer, steps = 6, seed = 1): { params: unknown[]; slots: unknown[] } {
  const rand = random(seed)
  let params = tree(rand)
  let state: OptimizerState = opt.init(params)
  const out = { params: [] as unknown[], slots: [] as unknown[] }
  for (let k = 0; k < steps; k++) {
    ;({ params, state } = opt.step(params, tree(rand), state))
    out.params.push(bits(params))
    out.slots.push(bits(state.slots))
    expect(state.step).toBe(k + 1)
  }
  return out
}

const cosine = cosineAnnealingLR({ lr: 0.05, tMax: 4 })

const pairs: [string, Optimizer, Optimizer][] = [
  ['adamw', adamw({ lr: 0.05, weightDecay: 0.1 }), chain(addDecayedWeights(0.1), scaleByAdam(), scaleByLearningRate(0.05))],
  [
    'adamw with a cosine schedule, amsgrad, betas',
    adamw({ lr: cosine, amsgrad: true, betas: [0.8, 0.9] }),
    chain(addDecayedWeights(1e-2), scaleByAdam({ amsgrad: true, betas: [0.8, 0.9] }), scaleByLearningRate(cosine)),
  ],
  [
    'adam maximize, L2 decay, eps',
    adam({ lr: 0.05, weightDecay: 0.1, maximize: true, eps: 1e-3 }),
    chain(scale(-1), addWeightDecay(0.1), scaleByAdam({ eps: 1e-3 }), scaleByLearningRate(0.05)),
  ],
  [
    'adamax L2 decay',
    adamax({ lr: 0.05, weightDecay: 0.01, betas: [0.8, 0.95] }),
    chain(addWeightDecay(0.01), scaleByAdamax({ betas: [0.8, 0.95] }), scaleByLearningRate(0.05)),
  ],
  ['sgd', sgd({ lr: 0.1 }), chain(scaleByLearningRate(0.1))],
  ['sgd maximize', sgd({ lr: 0.1, maximize: true }), chain(scale(-1), scaleByLearningRate(0.1))],
  [
    'sgd momentum dampening L2 decay',
    sgd({ lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
    chain(addWeightDecay(0.01), scaleByMomentum({ momentum: 0.9, dampening: 0.1 }), scaleByLearningRate(0.05)),
  ],
  [
    'sgd nesterov maximize',
    sgd({ lr: 0.05, momentum: 0.9, nesterov: true, maximize: true }),
    chain(scale(-1), scaleByMomentum({ momentum: 0.9, nesterov: true }), scaleByLearningRate(0.05)),
  ],
  ['rmsprop', rmsprop(), chain(scaleByRms(), scaleByLearningRate(1e-2))],
  [
    'rmsprop centered momentum L2 decay',
    rmsprop({ lr: 0.01, centered: true, momentum: 0.5, weightDecay: 0.01, alpha: 0.9 }),
    chain(addWeightDecay(0.01), scaleByRms({ centered: true, momentum: 0.5, alpha: 0.9 }), scaleByLearningRate(0.01)),
  ],
  [
    'adagrad lrDecay accumulator L2 decay',
    adagrad({ lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1, weightDecay: 0.01, eps: 1e-6 }),
    chain(
      addWeightDecay(0.01),
      scaleByRss({ initialAccumulatorValue: 0.1, eps: 1e-6 }),
      scaleByLearningRate((k) => 0.1 / (1 + k * 0.01)),
    ),
  ],
  [
    'lion decoupled decay maximize',
    lion({ lr: 0.01, weightDecay: 0.1, betas: [0.95, 0.98], maximize: true }),
    chain(scale(-1), addDecayedWeights(0.1), scaleByLion({ betas: [0.95, 0.98] }), scaleByLearningRate(0.01)),
  ],
]

describe('a chain equals the named optimizer to the last bit', () => {
  for (const [label, named, chained] of pairs) {
    it(label, () => {
      const a = run(named)
      const b = run(chained)
      expect(b.params).toEqual(a.params)
      expect(b.slots).toEqual(a.slots)
    })
  }

  it('clipByGlobalNorm in the chain is clipGradNorm before the optimizer (float64 gradients)', () => {
    const rand = random(7)
    const f64 = (t: ParamTree): ParamTree => OrderedMap({ w: new Tensor(Float64Array.from((t.getIn(['layer', 'weight']) as Tensor)._data), [6]) })
    let p1 = f64(tree(rand))
    let p2 = p1
    const named = adamw({ lr: 0.05 })
    const chained = chain(clipByGlobalNorm(0.5), addDecayedWeights(1e-2), scaleByAdam(), scaleByLearningRate(0.05))
    let s1 = named.init(p1)
    let s2 = chained.init(p2)
    for (let k = 0; k < 4; k++) {
      const g = f64(tree(rand, 10))
      ;({ params: p1, state: s1 } = named.step(p1, clipGradNorm(g, 0.5).grads, s1))
      ;({ params: p2, state: s2 } = chained.step(p2, g, s2))
      expect(bits(p2)).toEqual(bits(p1))
    }
  })

  it("names the state after its transforms and keeps torch's slot names", () => {
    const opt = chain(addDecayedWeights(0.01), scaleByAdam({ amsgrad: true }), scaleByLearningRate(1e-3))
    const state = opt.init(tree(random(2)))
    expect(opt.name).toBe('chain(addDecayedWeights, scaleByAdam, scaleByLearningRate)')
    expect([...(state.slots.get('layer.bias')?.keys() ?? [])]).toEqual(['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq'])
    expect(state.slots.get('layer.bias')?.get('exp_avg')?.dtype).toBe('float32')
  })
})

describe('every named optimizer with a chain form is that chain (opt.transforms()), to the last bit', () => {
  for (const config of CONFIGS.filter((c) => c.name !== 'nadam' && c.name !== 'radam')) {
    for (const extra of [{}, { maximize: true }, { lr: cosine }]) {
      it(`${config.label} ${JSON.stringify(extra).replace(/"/g, '')}`, () => {
        const named = make(config, extra)
        const chained = chain(...named.transforms())
        const a = run(named)
        const b = run(chained)
        expect(b.params).toEqual(a.params)
        expect(b.slots).toEqual(a.slots)
      })
    }
  }

  it('says why there is no chain form', () => {
    expect(() => nadam().transforms()).toThrow(/nadam.transforms: NAdam has no chain form/)
    expect(() => radam().transforms()).toThrow(/radam.transforms: RAdam has no chain form/)
    expect(() => adam({ groups: [{ params: /bias$/, weightDecay: 0 }] }).transforms()).toThrow(/a chain has no parameter groups/)
    expect(() => rmsprop({ momentum: () => 0.5 }).transforms()).toThrow(/scheduled momentum/)
  })
})

describe("a chain's state", () => {
  const opt = chain(addWeightDecay(0.01), scaleByMomentum({ momentum: 0.9 }), scaleByLearningRate(0.1))

  it('is not changed by step, and an old one replays to the same numbers', () => {
    const rand = random(3)
    const params = tree(rand)
    const grads = tree(rand)
    const s0 = opt.init(params)
    const { params: p1, state: s1 } = opt.step(params, grads, s0)
    const before = [snapshot(params), snapshot(grads), snapshot(s0.slots), snapshot(s1.slots)]
    const again = opt.step(params, grads, s0)
    opt.step(p1, grads, s1)
    expect([snapshot(params), snapshot(grads), snapshot(s0.slots), snapshot(s1.slots)]).toEqual(before)
    expect(bits(again.params)).toEqual(bits(p1))
    expect(bits(again.state.slots)).toEqual(bits(s1.slots))
  })

  it('saves and loads, and training resumes with the same numbers', () => {
    const rand = random(4)
    let params = tree(rand)
    let state = opt.init(params)
    ;({ params, state } = opt.step(params, tree(rand), state))
    const loaded = loadOptimizerState(saveOptimizerState(state))
    expect(loaded.step).toBe(1)
    const g = tree(rand)
    expect(bits(opt.step(params, g, loaded).params)).toEqual(bits(opt.step(params, g, state).params))
  })

  it('refuses a state of another optimizer, and transforms that share a slot', () => {
    const params = tree(random(5))
    expect(() => opt.step(params, params, adam().init(params))).toThrow(/made by adam, not chain\(/)
    expect(() => chain(scaleByAdam(), scaleByAdam())).toThrow(ArgumentError)
    expect(() => chain(scaleByAdam(), scaleByLion())).toThrow(/both keep a slot 'exp_avg'/)
    expect(() => chain({} as Transform)).toThrow(/not a transform/)
    expect(() => scaleByLearningRate(-1)).toThrow(/scaleByLearningRate: invalid lr -1: must be a finite number >= 0/)
    expect(() => scaleByAdam({ betas: [0.9, 1] })).toThrow(/scaleByAdam: invalid betas\[1\] 1: must be in \[0, 1\)/)
    const bad = chain(scaleByLearningRate(() => NaN))
    expect(() => bad.step(params, params, bad.init(params))).toThrow(/invalid lr NaN \(returned by the lr schedule at step 0\)/)
  })
})

/** Every transform, configured so that each of its branches runs. */
const transforms: [string, Transform][] = [
  ['scale', scale(-2)],
  ['scaleByLearningRate', scaleByLearningRate((k) => 0.1 / (k + 1))],
  ['addWeightDecay', addWeightDecay(0.1)],
  ['addDecayedWeights', addDecayedWeights(0.1)],
  ['clipByGlobalNorm', clipByGlobalNorm(0.1)],
  ['scaleByAdam', scaleByAdam({ amsgrad: true })],
  ['scaleByAdamax', scaleByAdamax()],
  ['scaleByMomentum', scaleByMomentum({ momentum: 0.9, nesterov: true })],
  ['scaleByRms', scaleByRms({ centered: true, momentum: 0.5 })],
  ['scaleByRss', scaleByRss({ initialAccumulatorValue: 0.1 })],
  ['scaleByLion', scaleByLion()],
]

const copyDirection = (d: Direction): unknown => [Array.from(d.u), d.den === null ? null : Array.from(d.den), d.scale, d.divisor, d.decay]

describe('each transform is pure: init and update leave their inputs untouched', () => {
  for (const [label, t] of transforms) {
    it(label, () => {
      const rand = random(6)
      const p = new Tensor(Float64Array.from({ length: 4 }, rand), [4])
      const pBefore = snapshot(p)
      const init = t.init(p)
      expect(snapshot(p)).toEqual(pBefore)
      for (const s of Object.values(init)) expect(s._data).not.toBe(p._data)
      // A second parameter with a pending scale, divisor and denominator (what an earlier transform leaves).
      const slotsOf = (): Record<string, Float64Array> =>
        Object.fromEntries([...t.slots, ...(t.optionalSlots ?? [])].map((s) => [s, Float64Array.from({ length: 4 }, () => Math.abs(rand()))]))
      const input = {
        names: ['a', 'b'],
        updates: [
          { u: Float64Array.from({ length: 4 }, rand), den: null, scale: 1, divisor: 1, decay: 0 },
          {
            u: Float64Array.from({ length: 4 }, rand),
            den: Float64Array.from({ length: 4 }, () => 1 + Math.abs(rand())),
            scale: 0.5,
            divisor: 0.9,
            decay: 0.01,
          },
        ],
        params: [Float64Array.from(p._data), Float64Array.from({ length: 4 }, rand)],
        slots: [slotsOf(), slotsOf()],
        step: 2,
      }
      const before = JSON.stringify([
        input.updates.map(copyDirection),
        input.params.map((x) => Array.from(x)),
        input.slots.map((s) => Object.entries(s).map(([k, v]) => [k, Array.from(v)])),
      ])
      const first = t.update(input)
      const second = t.update(input)
      const after = JSON.stringify([
        input.updates.map(copyDirection),
        input.params.map((x) => Array.from(x)),
        input.slots.map((s) => Object.entries(s).map(([k, v]) => [k, Array.from(v)])),
      ])
      expect(after).toBe(before)
      // Same inputs, same outputs: an old state replays.
      expect(second.updates.map(copyDirection)).toEqual(first.updates.map(copyDirection))
      expect(second.slots.map((s) => Object.entries(s).map(([k, v]) => [k, Array.from(v)]))).toEqual(
        first.slots.map((s) => Object.entries(s).map(([k, v]) => [k, Array.from(v)])),
      )
      // Updated slots are fresh arrays, never the old ones written over.
      first.slots.forEach((s, j) => {
        for (const [k, v] of Object.entries(s)) if (t.slots.includes(k)) expect(v).not.toBe(input.slots[j][k])
      })
    })
  }
})
