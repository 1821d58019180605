import { describe, expect, it } from 'vitest'
import { Map as IMap, OrderedMap } from 'immutable'
import { ArgumentError, DTypeError, ShapeError, Tensor, type TensorTree } from '@graphgrad/core'
import { adagrad, adam, adamw, lion, nadam, radam, rmsprop, sgd, type OptimizerState, type ParamTree } from '../src/index.ts'
import { CONFIGS, make } from './configs.ts'
import { compare, f32, f64, rng, snapshot } from './helpers.ts'
import { REF_DEFAULTS, type RefState, refStep } from './torchref.ts'

const data = (t: Tensor | undefined): number[] => Array.from((t as Tensor)._data)

/** The objective of the fixtures, sum(a sin(p) + b p²): its gradient. */
const gradOf = (p: number[], a: number[], b: number[]): number[] => p.map((x, i) => a[i] * Math.cos(x) + 2 * b[i] * x)

describe('update rules against scalar transcriptions of torch.optim', () => {
  for (const config of CONFIGS) {
    for (const maximize of [false, true]) {
      it(`${config.label}${maximize ? ' (maximize)' : ''}`, () => {
        const r = rng(config.label.length * 7919 + (maximize ? 1 : 0))
        const shapes: Record<string, number[]> = { w: [3, 2], b: [2] }
        const init: Record<string, number[]> = {}
        const a: Record<string, number[]> = {}
        const bq: Record<string, number[]> = {}
        for (const [n, s] of Object.entries(shapes)) {
          const size = s.reduce((x, y) => x * y, 1)
          init[n] = Array.from({ length: size }, () => 4 * r() - 2)
          a[n] = Array.from({ length: size }, () => 2 * r() - 1)
          bq[n] = Array.from({ length: size }, () => 0.1 + r())
        }
        const opt = make(config, { maximize })
        const h = { ...REF_DEFAULTS[config.name], ...config.options, maximize }
        let params = OrderedMap(Object.entries(shapes).map(([n, s]) => [n, f64(init[n], s)] as [string, Tensor]))
        let state = opt.init(params)
        const ref = { ...init }
        const refState: Record<string, RefState> = { w: {}, b: {} }
        for (let t = 1; t <= 15; t++) {
          const grads = params.map((p, n) => f64(gradOf(data(p), a[n], bq[n]), [...p.shape]))
          for (const n of Object.keys(shapes)) ref[n] = refStep(config.name, h, ref[n], gradOf(ref[n], a[n], bq[n]), refState[n], t)
          ;({ params, state } = opt.step(params, grads, state))
          for (const n of Object.keys(shapes)) {
            const { bad } = compare(data(params.get(n)), ref[n], { atol: 1e-12, rtol: 1e-10 })
            expect(bad, `${n} after step ${t}: ${data(params.get(n))} vs ${ref[n]}`).toBe(-1)
          }
        }
      })
    }
  }
})

describe('float32 parameters', () => {
  for (const config of CONFIGS) {
    it(`${config.label}: keeps float32 and agrees with float64 to float32 precision`, () => {
      const values = [0.3, -1.2, 2.5, 0.01]
      const grads = [0.5, -0.25, 1.5, -2]
      const opt = make(config)
      let p32: ParamTree = OrderedMap({ x: f32(values) })
      let p64: ParamTree = OrderedMap({ x: f64(values.map(Math.fround)) })
      let s32 = opt.init(p32)
      let s64 = opt.init(p64)
      for (let k = 0; k < 5; k++) {
        ;({ params: p32, state: s32 } = opt.step(p32, OrderedMap({ x: f32(grads) }), s32))
        ;({ params: p64, state: s64 } = opt.step(p64, OrderedMap({ x: f64(grads) }), s64))
      }
      const x32 = p32.get('x') as Tensor
      expect(x32.dtype).toBe('float32')
      for (const t of (s32.slots.get('x') as OrderedMap<string, Tensor>).values()) expect(['float32', 'float64']).toContain(t.dtype)
      expect(compare(data(x32), data(p64.get('x') as Tensor), { atol: 1e-5, rtol: 1e-4 }).bad).toBe(-1)
    })
  }
})

describe('option validation names the option', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['sgd without lr', () => sgd({} as never), /sgd: lr is required/],
    ['negative lr', () => sgd({ lr: -0.1 }), /sgd: invalid lr -0.1: must be a finite number >= 0/],
    ['NaN lr', () => adam({ lr: NaN }), /adam: invalid lr NaN/],
    ['negative momentum', () => sgd({ lr: 0.1, momentum: -1 }), /sgd: invalid momentum -1/],
    ['negative weight decay', () => sgd({ lr: 0.1, weightDecay: -1 }), /sgd: invalid weightDecay -1/],
    ['nesterov without momentum', () => sgd({ lr: 0.1, nesterov: true }), /sgd: nesterov momentum requires momentum > 0 and dampening 0/],
    ['nesterov with dampening', () => sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /nesterov.*dampening 0\.1/],
    ['beta1 = 1', () => adam({ betas: [1, 0.999] }), /adam: invalid betas\[0\] 1: must be in \[0, 1\)/],
    ['negative beta2', () => adamw({ betas: [0.9, -0.1] }), /adamw: invalid betas\[1\] -0.1/],
    ['negative eps', () => adam({ eps: -1e-8 }), /adam: invalid eps -1e-8/],
    ['negative alpha', () => rmsprop({ alpha: -0.5 }), /rmsprop: invalid alpha -0.5/],
    ['negative rmsprop momentum', () => rmsprop({ momentum: -1 }), /rmsprop: invalid momentum -1/],
    ['negative lrDecay', () => adagrad({ lrDecay: -1 }), /adagrad: invalid lrDecay -1/],
    ['negative initialAccumulatorValue', () => adagrad({ initialAccumulatorValue: -1 }), /adagrad: invalid initialAccumulatorValue -1/],
    ['negative momentumDecay', () => nadam({ momentumDecay: -1 }), /nadam: invalid momentumDecay -1/],
    ['lion beta out of range', () => lion({ betas: [0.9, 1.5] }), /lion: invalid betas\[1\] 1.5/],
    ['radam negative weight decay', () => radam({ weightDecay: -0.1 }), /radam: invalid weightDecay -0.1/],
    ['snake_case option', () => adam({ weight_decay: 0.1 } as never), /adam: unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/],
    ['unknown option', () => adam({ foo: 1 } as never), /adam: unknown option 'foo' \(known options: lr, betas/],
    ['lr of the wrong type', () => adam({ lr: '0.1' } as never), /adam: lr must be a number or a schedule/],
    ['boolean of the wrong type', () => adam({ amsgrad: 1 } as never), /adam: amsgrad must be a boolean/],
    ['betas of the wrong length', () => adam({ betas: [0.9] } as never), /adam: betas must be an array of 2/],
    ['invalid group option', () => adam({ groups: [{ params: ['b'] }, { params: ['w'], weightDecay: -1 }] }), /adam: groups\[1\]: invalid weightDecay -1/],
    [
      'bad group selector',
      () => adam({ groups: [{ params: 'bias' as never }] }),
      /adam: groups\[0\]\.params must be a list of parameter names, a RegExp or a function/,
    ],
    ['unknown group option', () => adam({ groups: [{ params: ['b'], learningRate: 1 } as never] }), /adam: groups\[0\]: unknown option 'learningRate'/],
    ['invalid schedule at step 0', () => adam({ lr: () => -1 }), /adam: invalid lr -1 \(returned by the lr schedule at step 0\)/],
  ]
  for (const [label, fn, message] of cases) {
    it(label, () => {
      expect(fn).toThrow(ArgumentError)
      expect(fn).toThrow(message)
    })
  }

  it('checks a schedule at every update', () => {
    const opt = adam({ lr: (k) => (k < 2 ? 0.1 : -1) })
    const params = OrderedMap({ w: f64([1]) })
    const grads = OrderedMap({ w: f64([1]) })
    let state = opt.init(params)
    state = opt.step(params, grads, state).state
    state = opt.step(params, grads, state).state
    expect(() => opt.step(params, grads, state)).toThrow(/adam: invalid lr -1 \(returned by the lr schedule at step 2\)/)
    expect(() => adam({ lr: (() => 'x') as never })).toThrow(/the lr schedule returned "x" at step 0, not a number/)
  })
})

describe('gradients and state must match the parameters', () => {
  const params = OrderedMap({ w: f64([1, 2, 3, 4], [2, 2]), b: f64([0, 0]) })
  const opt = adam()
  const state = opt.init(params)
  const grads = (over: Record<string, Tensor | undefined>): ParamTree => {
    let g: OrderedMap<string, Tensor> = OrderedMap({ w: f64([1, 1, 1, 1], [2, 2]), b: f64([1, 1]) })
    for (const [k, v] of Object.entries(over)) g = v === undefined ? g.delete(k) : g.set(k, v)
    return g
  }
  it('missing gradient', () => {
    expect(() => opt.step(params, grads({ b: undefined }), state)).toThrow(/adam.step: grads has no gradient for parameter 'b'/)
  })
  it('extra gradient', () => {
    expect(() => opt.step(params, grads({ c: f64([1]) }), state)).toThrow(/adam.step: grads has an entry 'c', which is not a parameter/)
  })
  it('gradient of another shape', () => {
    const fn = (): unknown => opt.step(params, grads({ w: f64([1, 1, 1, 1], [4]) }), state)
    expect(fn).toThrow(ShapeError)
    expect(fn).toThrow(/the gradient of 'w' has shape \[4\], but the parameter has shape \[2,2\]/)
  })
  it('integer gradient or parameter', () => {
    expect(() => opt.step(params, grads({ b: new Tensor(new Int32Array(2), [2]) }), state)).toThrow(DTypeError)
    expect(() => opt.init(OrderedMap({ i: new Tensor(new Int32Array(2), [2]) }))).toThrow(/parameter 'i' has dtype int32/)
  })
  it('grads that are not a map', () => {
    expect(() => opt.step(params, [f64([1])] as never, state)).toThrow(/adam.step: grads must be an Immutable.js Map of tensors/)
    expect(() => opt.step(params, OrderedMap({ w: 3 }) as never, state)).toThrow(/grads entry 'w' is number 3, not a Tensor/)
  })
  it('state of other parameters', () => {
    const other = opt.init(OrderedMap({ w: f64([1, 2, 3, 4], [2, 2]) }))
    expect(() => opt.step(params, grads({}), other)).toThrow(/the state has no entry for parameter 'b'/)
    const more = opt.init(params.set('c', f64([1])))
    expect(() => opt.step(params, grads({}), more)).toThrow(/the state has an entry for 'c', which is not a parameter/)
    const reshaped = opt.init(params.set('b', f64([0, 0, 0])))
    expect(() => opt.step(params, grads({}), reshaped)).toThrow(/state 'exp_avg' of parameter 'b' has shape \[3\], expected \[2\]/)
  })
  it('state with a missing or an unexpected slot names the parameter and the slot', () => {
    const edit = (st: OptimizerState, f: (slots: OrderedMap<string, Tensor>) => OrderedMap<string, Tensor>): OptimizerState => ({
      ...st,
      slots: st.slots.update('b', (x) => f(x as OrderedMap<string, Tensor>)),
    })
    const missing = (): unknown =>
      opt.step(
        params,
        grads({}),
        edit(state, (x) => x.delete('exp_avg_sq')),
      )
    expect(missing).toThrow(ArgumentError)
    expect(missing).toThrow(/adam.step: the state of parameter 'b' has no slot 'exp_avg_sq' \(adam keeps exp_avg, exp_avg_sq\)/)
    const extra = (): unknown =>
      opt.step(
        params,
        grads({}),
        edit(state, (x) => x.set('momentum_buffer', f64([0, 0]))),
      )
    expect(extra).toThrow(ArgumentError)
    expect(extra).toThrow(/adam.step: the state of parameter 'b' has an unexpected slot 'momentum_buffer' \(adam keeps exp_avg, exp_avg_sq\)/)
    // Options decide the slots: AMSGrad's running maximum, RMSprop's momentum buffer, NAdam's scalar.
    expect(() => adam({ amsgrad: true }).step(params, grads({}), state)).toThrow(/parameter 'w' has no slot 'max_exp_avg_sq'/)
    expect(() => opt.step(params, grads({}), adam({ amsgrad: true }).init(params))).toThrow(/parameter 'w' has an unexpected slot 'max_exp_avg_sq'/)
    expect(() => rmsprop({ momentum: 0.9 }).step(params, grads({}), { ...rmsprop().init(params), optimizer: 'rmsprop' })).toThrow(
      /rmsprop.step: the state of parameter 'w' has no slot 'momentum_buffer'/,
    )
    expect(() => rmsprop({ centered: true }).step(params, grads({}), rmsprop().init(params))).toThrow(/has no slot 'grad_avg'/)
    const nadamState = nadam().init(params)
    expect(() =>
      nadam().step(params, grads({}), { ...nadamState, slots: nadamState.slots.update('w', (x) => (x as OrderedMap<string, Tensor>).delete('mu_product')) }),
    ).toThrow(/nadam.step: the state of parameter 'w' has no slot 'mu_product'/)
    for (const o of [lion(), adagrad()]) {
      const st = o.init(params)
      expect(() => o.step(params, grads({}), { ...st, slots: st.slots.set('w', OrderedMap()) })).toThrow(
        new RegExp(`${o.name}.step: the state of parameter 'w' has no slot`),
      )
    }
    // SGD's momentum buffer appears with the first update that uses momentum (as torch's): optional, but nothing else is.
    const momentum = sgd({ lr: 0.1, momentum: 0.9 })
    const once = momentum.step(params, grads({}), momentum.init(params)).state
    expect(() => momentum.step(params, grads({}), once)).not.toThrow()
    expect(() => momentum.step(params, grads({}), { ...once, slots: once.slots.set('w', OrderedMap()) })).not.toThrow()
    expect(() => momentum.step(params, grads({}), { ...once, slots: once.slots.setIn(['w', 'exp_avg'], f64([0, 0, 0, 0], [2, 2])) })).toThrow(
      /sgd.step: the state of parameter 'w' has an unexpected slot 'exp_avg' \(sgd keeps momentum_buffer \(optional\)\)/,
    )
  })

  it("state slots of another dtype are cast to the parameter's dtype, as torch's load_state_dict", () => {
    const p64 = OrderedMap({ w: f64([0.3, -1.7, 2.1]) })
    const p32 = OrderedMap({ w: f32([0.3, -1.7, 2.1]) })
    const g = OrderedMap({ w: f64([0.5, 0.25, -1]) })
    const o = adam({ lr: 0.1 })
    const run = (p: ParamTree, st: OptimizerState): OptimizerState => o.step(p, p === p32 ? g.map((t) => f32(Array.from(t._data))) : g, st).state
    // Two updates in float64, then the state stored as float32 (and the reverse).
    const s64 = run(p64, run(p64, o.init(p64)))
    const asDtype = (st: OptimizerState, f: (xs: number[]) => Tensor): OptimizerState => ({
      ...st,
      slots: st.slots.map((m) => m.map((t) => f(Array.from(t._data)))),
    })
    const s32 = asDtype(s64, (xs) => f32(xs))
    const fromCast = o.step(p64, g, s32)
    const fromExact = o.step(
      p64,
      g,
      asDtype(s64, (xs) => f64(Array.from(Float32Array.from(xs)))),
    )
    expect(snapshot(fromCast.params)).toEqual(snapshot(fromExact.params))
    expect(snapshot(fromCast.state.slots)).toEqual(snapshot(fromExact.state.slots))
    expect((fromCast.state.slots.getIn(['w', 'exp_avg']) as Tensor).dtype).toBe('float64')
    // A float64 state for float32 parameters is rounded to float32 first.
    const g32 = g.map((t) => f32(Array.from(t._data)))
    const down = o.step(p32, g32, s64)
    const rounded = o.step(p32, g32, s32)
    expect(snapshot(down.params)).toEqual(snapshot(rounded.params))
    expect(snapshot(down.state.slots)).toEqual(snapshot(rounded.state.slots))
    expect((down.state.slots.getIn(['w', 'exp_avg_sq']) as Tensor).dtype).toBe('float32')
  })

  it('state of another optimizer', () => {
    expect(() => sgd({ lr: 0.1 }).step(params, grads({}), state)).toThrow(/sgd.step: the state was made by adam, not sgd/)
    expect(() => opt.step(params, grads({}), {} as OptimizerState)).toThrow(/state must be an optimizer state/)
  })
  it('group naming an unknown parameter', () => {
    const grouped = adam({ groups: [{ params: ['bias'], weightDecay: 0 }] })
    expect(() => grouped.init(params)).toThrow(/adam.init: groups\[0\]\.params names 'bias', which is not a parameter \(parameters: w, b\)/)
  })
})

describe('parameter groups', () => {
  const params = OrderedMap({
    'layer.weight': f64([0.5, -1, 2]),
    'layer.bias': f64([0.1, 0.2]),
    'head.weight': f64([1.5]),
  })
  const grads = OrderedMap({ 'layer.weight': f64([0.3, 0.1, -0.2]), 'layer.bias': f64([-1, 1]), 'head.weight': f64([2]) })

  function run(opt: ReturnType<typeof adam>, steps = 3): OrderedMap<string, Tensor> {
    let p: OrderedMap<string, Tensor> = params
    let s = opt.init(p)
    for (let k = 0; k < steps; k++) ({ params: p, state: s } = opt.step(p, grads, s))
    return p
  }

  it('no weight decay on biases', () => {
    const grouped = run(adamw({ lr: 0.1, weightDecay: 0.5, groups: [{ params: (name) => name.endsWith('bias'), weightDecay: 0 }] }))
    const decayed = run(adamw({ lr: 0.1, weightDecay: 0.5 }))
    const plain = run(adamw({ lr: 0.1, weightDecay: 0 }))
    expect(data(grouped.get('layer.bias'))).toEqual(data(plain.get('layer.bias')))
    expect(data(grouped.get('layer.weight'))).toEqual(data(decayed.get('layer.weight')))
    expect(data(grouped.get('layer.weight'))).not.toEqual(data(plain.get('layer.weight')))
  })

  it('selectors: names, RegExp, predicate; the first matching group wins', () => {
    const opt = sgd({
      lr: 0.1,
      groups: [
        { params: ['head.weight'], lr: 1 },
        { params: /^layer\./, lr: 0.01 },
        { params: () => true, lr: 100 },
      ],
    })
    const out = run(opt as never, 1)
    expect(data(out.get('head.weight'))).toEqual([1.5 - 1 * 2])
    expect(data(out.get('layer.bias'))).toEqual([0.1 + 0.01, 0.2 - 0.01])
  })

  it('a group can have its own schedule and option values', () => {
    const seen: number[] = []
    const opt = sgd({ lr: 0.1, groups: [{ params: /bias$/, lr: (k) => (seen.push(k), 0.5 / (k + 1)), momentum: 0.9 }] })
    let p: OrderedMap<string, Tensor> = params
    let s = opt.init(p)
    for (let k = 0; k < 3; k++) ({ params: p, state: s } = opt.step(p, grads, s))
    expect(seen).toEqual([0, 0, 1, 2]) // step 0 is also evaluated once, when the options are validated
    expect(s.slots.get('layer.bias')?.has('momentum_buffer')).toBe(true)
    expect(s.slots.get('layer.weight')?.has('momentum_buffer')).toBe(false)
    // bias: buf = g, then 0.9 buf + g; p -= lr_k buf
    const g = -1
    const b1 = g
    const b2 = 0.9 * b1 + g
    const b3 = 0.9 * b2 + g
    expect(data(p.get('layer.bias'))[0]).toBeCloseTo(0.1 - 0.5 * b1 - 0.25 * b2 - (0.5 / 3) * b3, 14)
  })

  it('options exposes the merged defaults', () => {
    expect(adamw().options).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, amsgrad: false, maximize: false })
    expect(sgd({ lr: 0.1 }).options).toMatchObject({ lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false })
  })
})

describe('parameter trees', () => {
  it('nested maps keep their structure and types; names are dotted', () => {
    const params = OrderedMap<TensorTree>({
      encoder: OrderedMap({ weight: f64([1, 2], [1, 2]), bias: f64([0.5]) }),
      head: IMap({ w: f32([3]) }),
      scale: f64([2]),
    })
    const grads = OrderedMap<TensorTree>({
      encoder: OrderedMap({ weight: f64([0.1, 0.2], [1, 2]), bias: f64([1]) }),
      head: IMap({ w: f32([-1]) }),
      scale: f64([0]),
    })
    const opt = adam({ lr: 0.1, groups: [{ params: ['encoder.bias'], lr: 0 }] })
    const state = opt.init(params)
    expect([...state.slots.keys()]).toEqual(['encoder.weight', 'encoder.bias', 'head.w', 'scale'])
    const { params: next } = opt.step(params, grads, state)
    expect(OrderedMap.isOrderedMap(next)).toBe(true)
    expect(OrderedMap.isOrderedMap(next.get('encoder'))).toBe(true)
    expect(IMap.isMap(next.get('head')) && !OrderedMap.isOrderedMap(next.get('head'))).toBe(true)
    expect([...next.keys()]).toEqual(['encoder', 'head', 'scale'])
    const enc = next.get('encoder') as OrderedMap<string, Tensor>
    expect(enc.get('weight')?.shape).toEqual([1, 2])
    expect(data(enc.get('bias'))).toEqual([0.5])
    expect(data(enc.get('weight'))[0]).toBeCloseTo(0.9, 6)
    expect((next.get('head') as IMap<string, Tensor>).get('w')?.dtype).toBe('float32')
    // Flat dotted gradients are accepted for nested parameters.
    const flat = OrderedMap({ 'encoder.weight': f64([0.1, 0.2], [1, 2]), 'encoder.bias': f64([1]), 'head.w': f32([-1]), scale: f64([0]) })
    const again = opt.step(params, flat, state).params
    expect(data((again.get('encoder') as OrderedMap<string, Tensor>).get('weight'))).toEqual(data(enc.get('weight')))
  })

  it('duplicate dotted names are refused', () => {
    const params = OrderedMap<TensorTree>({ 'a.b': f64([1]), a: OrderedMap({ b: f64([2]) }) })
    expect(() => sgd({ lr: 0.1 }).init(params)).toThrow(/two entries of params are named 'a.b'/)
  })
})

describe('state and steps', () => {
  it('sgd creates its momentum buffer on the first update, from the undamped gradient', () => {
    const opt = sgd({ lr: 0.1, momentum: 0.9, dampening: 0.5 })
    const params = OrderedMap({ w: f64([1]) })
    const s0 = opt.init(params)
    expect(s0.slots.get('w')?.size).toBe(0)
    const { params: p1, state: s1 } = opt.step(params, OrderedMap({ w: f64([2]) }), s0)
    expect(data(s1.slots.get('w')?.get('momentum_buffer'))).toEqual([2])
    expect(data(p1.get('w'))).toEqual([1 - 0.1 * 2])
    const { state: s2 } = opt.step(p1, OrderedMap({ w: f64([4]) }), s1)
    expect(data(s2.slots.get('w')?.get('momentum_buffer'))).toEqual([0.9 * 2 + 0.5 * 4])
  })

  it('the step count lives in the state; old states replay to the same numbers', () => {
    const opt = nadam({ lr: 0.1 })
    const params = OrderedMap({ w: f64([1, -1]) })
    const grads = OrderedMap({ w: f64([0.5, 0.25]) })
    const s0 = opt.init(params)
    const r1 = opt.step(params, grads, s0)
    const r2 = opt.step(r1.params, grads, r1.state)
    expect([s0.step, r1.state.step, r2.state.step]).toEqual([0, 1, 2])
    const replay = opt.step(params, grads, s0)
    expect(data(replay.params.get('w'))).toEqual(data(r1.params.get('w')))
    expect(Object.isFrozen(r1.state)).toBe(true)
    expect(data(r1.state.slots.get('w')?.get('mu_product'))[0]).toBeCloseTo(0.9 * (1 - 0.5 * 0.96 ** 0.004), 15)
  })

  it('the k-th update uses lr(k)', () => {
    const calls: number[] = []
    const opt = sgd({ lr: (k) => (calls.push(k), 10 ** -k) })
    let params = OrderedMap({ w: f64([0]) })
    let state = opt.init(params)
    calls.length = 0
    for (let k = 0; k < 4; k++) ({ params, state } = opt.step(params, OrderedMap({ w: f64([-1]) }), state))
    expect(calls).toEqual([0, 1, 2, 3])
    expect(data(params.get('w'))[0]).toBeCloseTo(1.111, 14)
  })

  it('lion moves every coordinate by lr', () => {
    const opt = lion({ lr: 0.01 })
    const params = OrderedMap({ w: f64([1, 2, 3]) })
    const { params: next } = opt.step(params, OrderedMap({ w: f64([5, -0.001, 0]) }), opt.init(params))
    expect(data(next.get('w'))).toEqual([1 - 0.01, 2 + 0.01, 3])
  })

  it('radam switches on the rectification when rho_t > 5', () => {
    // With β2 = 0.999, ρ_t first exceeds 5 at t = 6: before that the update is lr m / (1 - β1^t).
    const opt = radam({ lr: 0.1 })
    let params = OrderedMap({ w: f64([0]) })
    let state = opt.init(params)
    const steps: number[] = []
    for (let k = 0; k < 7; k++) {
      const before = data(params.get('w'))[0]
      ;({ params, state } = opt.step(params, OrderedMap({ w: f64([1]) }), state))
      steps.push(before - data(params.get('w'))[0])
    }
    for (let k = 0; k < 5; k++) expect(steps[k]).toBeCloseTo(0.1, 14)
    expect(Math.abs(steps[5] - 0.1)).toBeGreaterThan(1e-3)
  })
})
