/**
 * Property tests: on random convex quadratics every optimizer takes the steps of torch.optim
 * (its scalar transcription in torchref.ts) and lowers the loss; it never mutates its inputs,
 * and `maximize` mirrors minimizing the negated loss.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { OrderedMap } from 'immutable'
import { Tensor, type TensorTree } from '@graphgrad/core'
import type { ParamTree } from '../src/index.ts'
import { CONFIGS, make } from './configs.ts'
import { compare, f32, f64, snapshot } from './helpers.ts'
import { REF_DEFAULTS, type RefState, refStep } from './torchref.ts'

const data = (t: unknown): number[] => Array.from((t as Tensor)._data)

/** A separable convex quadratic 0.5 Σ a (x - c)² and a starting offset, |offset| in [0.2, 3], from its minimizer. */
const quadratic = fc.integer({ min: 1, max: 6 }).chain((n) => {
  const vec = (min: number, max: number): fc.Arbitrary<number[]> => fc.array(fc.double({ min, max, noNaN: true }), { minLength: n, maxLength: n })
  return fc.record({
    a: vec(0.5, 2),
    c: vec(-2, 2),
    offset: fc.array(
      fc.tuple(fc.double({ min: 0.2, max: 3, noNaN: true }), fc.boolean()).map(([m, neg]) => (neg ? -m : m)),
      { minLength: n, maxLength: n },
    ),
  })
})

const values = (n: number): fc.Arbitrary<number[]> => fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n })

/** Random parameters (a nested map, float64 and float32 tensors) and matching gradients. */
const problem = fc.record({ w: values(6), b: values(2), s: values(1), gw: values(6), gb: values(2), gs: values(1) }).map((v) => {
  const tree = (w: number[], b: number[], s: number[]): ParamTree =>
    OrderedMap<TensorTree>({ layer: OrderedMap({ weight: f64(w, [2, 3]), bias: f32(b) }), scale: f64(s, []) })
  return { params: tree(v.w, v.b, v.s), grads: tree(v.gw, v.gb, v.gs) }
})

const negate = (tree: ParamTree): ParamTree =>
  tree.map((v) =>
    v instanceof Tensor
      ? new Tensor(
          v._data.map((x) => -x),
          v.shape,
        )
      : negate(v as ParamTree),
  ) as ParamTree

/** Weight decay that the optimizer adds to the gradient (so it minimizes loss + wd/2 |x|²), or null when decoupled. */
function coupledDecay(name: string, options: Record<string, unknown>): number | null {
  if (name === 'adamw' || name === 'lion' || options.decoupledWeightDecay === true) return null
  return (options.weightDecay as number | undefined) ?? 0
}

describe("on random convex quadratics, each optimizer takes torch.optim's steps and lowers the loss", () => {
  for (const config of CONFIGS) {
    // A coupled L2 penalty is part of the objective the optimizer descends; a decoupled decay is not, so it is switched off.
    const wd = coupledDecay(config.name, config.options)
    it(`${config.label}${wd === null ? ' (decoupled weight decay off)' : ''}`, () => {
      fc.assert(
        fc.property(quadratic, ({ a, c, offset }) => {
          const loss = (x: number[]): number => x.reduce((s, xi, i) => s + 0.5 * a[i] * (xi - c[i]) ** 2 + 0.5 * (wd ?? 0) * xi * xi, 0)
          const extra = wd === null ? { weightDecay: 0 } : {}
          const opt = make(config, extra)
          // The scalar transcription of torch.optim (torchref.ts) with the same hyper-parameters.
          const h = { ...REF_DEFAULTS[config.name], ...config.options, ...extra }
          // Start at |offset| in [0.2, 3] from the minimizer a c / (a + wd) of each coordinate.
          let params: ParamTree = OrderedMap({ x: f64(c.map((ci, i) => (a[i] * ci) / (a[i] + (wd ?? 0)) + offset[i])) })
          let state = opt.init(params)
          let ref = data(params.get('x'))
          const refState: RefState = {}
          const initial = loss(ref)
          for (let t = 1; t <= 100; t++) {
            const x = data(params.get('x'))
            const g = x.map((xi, i) => a[i] * (xi - c[i]))
            ;({ params, state } = opt.step(params, OrderedMap({ x: f64(g) }), state))
            // The reference gets the same gradients (taken at the package's iterate), so the two
            // trajectories differ only by rounding, which adds up over steps instead of being
            // amplified; a wrong update (e.g. a bias correction off) moves the iterate by a
            // sizeable fraction of the step at once.
            ref = refStep(config.name, h, ref, g, refState, t)
            const { bad } = compare(data(params.get('x')), ref, { atol: 1e-10, rtol: 1e-9 })
            expect(bad, `step ${t}: ${data(params.get('x'))} vs torch.optim's ${ref}`).toBe(-1)
          }
          const final = loss(data(params.get('x')))
          expect(final).toBeLessThan(initial)
        }),
        { numRuns: 60 },
      )
    })
  }
})

describe('a step never mutates its inputs, and replays identically', () => {
  for (const config of CONFIGS) {
    it(config.label, () => {
      fc.assert(
        fc.property(problem, fc.integer({ min: 0, max: 3 }), ({ params, grads }, warmup) => {
          const opt = make(config)
          let state = opt.init(params)
          let p = params
          for (let k = 0; k < warmup; k++) ({ params: p, state } = opt.step(p, grads, state))
          const before = { p: snapshot(p), g: snapshot(grads), s: snapshot(state.slots), step: state.step }
          const first = opt.step(p, grads, state)
          expect({ p: snapshot(p), g: snapshot(grads), s: snapshot(state.slots), step: state.step }).toEqual(before)
          const second = opt.step(p, grads, state)
          expect(snapshot(second.params)).toEqual(snapshot(first.params))
          expect(snapshot(second.state.slots)).toEqual(snapshot(first.state.slots))
        }),
        { numRuns: 25 },
      )
    })
  }
})

describe('maximize mirrors minimizing the negated loss', () => {
  for (const config of CONFIGS) {
    it(config.label, () => {
      fc.assert(
        fc.property(problem, problem, ({ params, grads }, { grads: grads2 }) => {
          const up = make(config, { maximize: true })
          const down = make(config)
          let pu = params
          let pd = params
          let su = up.init(params)
          let sd = down.init(params)
          for (const g of [grads, grads2, grads]) {
            ;({ params: pu, state: su } = up.step(pu, g, su))
            ;({ params: pd, state: sd } = down.step(pd, negate(g), sd))
          }
          expect(snapshot(pu)).toEqual(snapshot(pd))
        }),
        { numRuns: 25 },
      )
    })
  }
})
