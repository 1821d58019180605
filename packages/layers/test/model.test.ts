import { describe, expect, expectTypeOf, it } from 'vitest'
import { OrderedMap } from 'immutable'
import { ArgumentError, type Seed, type Tensor, argmax, concat, flattenTree, intTensor, key, tensor, valueAndGrad } from '@graphgrad/core'
import type { ApplyOptions, Params, TypedParams } from '../src/layer.ts'
import { type ModelParams, model } from '../src/model.ts'
import { compose, sequential } from '../src/compose.ts'
import { dropout } from '../src/dropout.ts'
import { embedding } from '../src/embedding.ts'
import { linear } from '../src/linear.ts'
import { crossEntropy } from '../src/losses.ts'
import { lstm } from '../src/recurrent.ts'
import { loadStateDict, stateDict } from '../src/checkpoint.ts'

const V = 5
const H = 6

interface State {
  readonly h: Tensor
  readonly c: Tensor
}

/** A small encoder-decoder in float64: embed, encoder and decoder LSTMs, a head; teacher-forced loss and greedy decoding. */
function seq2seq() {
  return model(
    {
      embed: embedding({ numEmbeddings: V, embeddingDim: 3, dtype: 'float64' }),
      encoder: lstm({ inputSize: 3, hiddenSize: H, batchFirst: true, dtype: 'float64' }),
      decoder: lstm({ inputSize: 3, hiddenSize: H, batchFirst: true, dtype: 'float64' }),
      head: linear({ inFeatures: H, outFeatures: V, dtype: 'float64' }),
    },
    (m) => {
      const encode = (src: Tensor): State => {
        const { hN, cN } = m.encoder(m.embed(src))
        return { h: hN, c: cN }
      }
      const decode = (tokens: Tensor, state: State) => {
        const r = m.decoder(m.embed(tokens), { h0: state.h, c0: state.c })
        return { logits: m.head(r.output), state: { h: r.hN, c: r.cN } }
      }
      const loss = (src: Tensor, input: Tensor, target: Tensor): Tensor => crossEntropy(decode(input, encode(src)).logits, target, { classAxis: -1 })
      const generate = (src: Tensor, start: Tensor, length: number): Tensor => {
        let state = encode(src)
        let token = start
        const out: Tensor[] = []
        for (let i = 0; i < length; i++) {
          const step = decode(token, state)
          state = step.state
          token = argmax(step.logits, -1)
          out.push(token)
        }
        return concat(out, 1)
      }
      return { encode, decode, loss, generate }
    },
  )
}

const src = intTensor([
  [1, 2, 3],
  [3, 4, 1],
])
const start = intTensor([[0], [0]])

describe('model: structure and parameters', () => {
  it("nests each sub-layer's parameters under its name, with PyTorch's dotted names", () => {
    const p = seq2seq().init(0)
    expect(OrderedMap.isOrderedMap(p)).toBe(true)
    expect([...p.keys()]).toEqual(['embed', 'encoder', 'decoder', 'head'])
    expect([...stateDict(p).keys()]).toEqual([
      'embed.weight',
      'encoder.weight_ih_l0',
      'encoder.weight_hh_l0',
      'encoder.bias_ih_l0',
      'encoder.bias_hh_l0',
      'decoder.weight_ih_l0',
      'decoder.weight_hh_l0',
      'decoder.bias_ih_l0',
      'decoder.bias_hh_l0',
      'head.weight',
      'head.bias',
    ])
    expect((p.get('encoder').get('weight_hh_l0') as Tensor).shape).toEqual([4 * H, H])
  })

  it('draws the same parameters as compose of the same layers and seed, different ones per sub-layer', () => {
    const layers = { a: linear({ inFeatures: 3, outFeatures: 3 }), b: linear({ inFeatures: 3, outFeatures: 3 }) }
    const viaModel = stateDict(model(layers).init(7))
    const viaCompose = stateDict(compose(layers, (m, x: Tensor) => m.b(m.a(x))).init(7))
    expect([...viaModel.keys()]).toEqual([...viaCompose.keys()])
    for (const [name, t] of viaModel) expect(Array.from(t.data), name).toEqual(Array.from(viaCompose.get(name)!.data))
    expect(Array.from(viaModel.get('a.weight')!.data)).not.toEqual(Array.from(viaModel.get('b.weight')!.data))
  })

  it('keeps the layers it was given and offers only init and bind without a definition', () => {
    const head = linear({ inFeatures: 2, outFeatures: 1 })
    const bare = model({ head })
    expect(bare.layers.head).toBe(head)
    expect(Object.keys(bare).sort()).toEqual(['bind', 'init', 'layers'])
    expect(bare.bind(bare.init(0))).toEqual({})
  })
})

describe('model: methods', () => {
  it('runs each method with the parameters first, as the sub-layers applied by hand would', () => {
    const net = seq2seq()
    const p = net.init(1)
    const { embed, encoder, decoder, head } = net.layers
    // By hand, with the typed sub-parameters (no cast).
    const enc = encoder.apply(p.get('encoder'), embed.apply(p.get('embed'), src))
    const state = net.encode(p, src)
    expect(Array.from(state.h.data)).toEqual(Array.from(enc.hN.data))
    let h = enc.hN
    let c = enc.cN
    let token = start
    const expected: number[][] = [[], []]
    for (let i = 0; i < 4; i++) {
      const r = decoder.apply(p.get('decoder'), embed.apply(p.get('embed'), token), { h0: h, c0: c })
      ;({ hN: h, cN: c } = r)
      token = argmax(head.apply(p.get('head'), r.output), -1)
      const t = token.toArray() as number[][]
      expected[0].push(t[0][0])
      expected[1].push(t[1][0])
    }
    const generated = net.generate(p, src, start, 4)
    expect(generated.dtype).toBe('int32')
    expect(generated.toArray()).toEqual(expected)
    // bind gives the same methods, bound once.
    const bound = net.bind(p)
    expect(bound.generate(src, start, 4).toArray()).toEqual(expected)
    expect(Object.keys(bound)).toEqual(['encode', 'decode', 'loss', 'generate'])
  })

  it("trains: gradients in the parameters' structure match finite differences, and gradient descent lowers the loss", () => {
    const net = seq2seq()
    const p = net.init(2)
    const input = intTensor([
      [0, 3, 2],
      [0, 1, 4],
    ])
    const target = intTensor([
      [3, 2, 1],
      [1, 4, 3],
    ])
    const loss = (q: ModelParams<typeof net.layers>): Tensor => net.loss(q, src, input, target)
    const [value, g] = valueAndGrad(loss)(p)
    expectTypeOf(g).toEqualTypeOf<typeof p>()
    expect([...stateDict(g).keys()]).toEqual([...stateDict(p).keys()])
    const eps = 1e-6
    for (const name of ['encoder.weight_ih_l0', 'decoder.bias_hh_l0', 'head.weight', 'embed.weight']) {
      const t = stateDict(p).get(name)!
      const analytic = stateDict(g).get(name)!.data
      const path = name.split('.')
      for (const i of [0, Math.floor(t.size / 2), t.size - 1]) {
        const at = (delta: number): number => {
          const d = Float64Array.from(t.data)
          d[i] += delta
          return loss(p.setIn(path, tensor(d, { shape: t.shape, dtype: 'float64' }))).item()
        }
        const numeric = (at(eps) - at(-eps)) / (2 * eps)
        expect(Math.abs(analytic[i] - numeric), `${name}[${i}]: ${analytic[i]} vs ${numeric}`).toBeLessThan(1e-7 + 1e-5 * Math.abs(numeric))
      }
    }
    // Plain gradient descent (the optimizers' own tests cover them on any parameter tree).
    let params = p
    for (let i = 0; i < 50; i++) {
      const [flatP, flatG] = [flattenTree(params), flattenTree(valueAndGrad(loss)(params)[1])]
      params = flatP.rebuild(flatP.leaves.map((t, j) => t.sub(flatG.leaves[j].mul(1)))) as typeof p
    }
    expect(loss(params).item()).toBeLessThan(value.item() * 0.5)
    // The trained parameters are still the model's: typed, loadable, usable by every method.
    const reloaded = loadStateDict(net.init(9), stateDict(params))
    expect(net.generate(reloaded, src, start, 3).toArray()).toEqual(net.generate(params, src, start, 3).toArray())
  })

  it('runs a definition that reads its parameters (weight tying), binding them each time', () => {
    const tied = model({ embed: embedding({ numEmbeddings: 4, embeddingDim: 2, dtype: 'float64' }) }, (m, { params }) => {
      const table = params.get('embed').get('weight') as Tensor
      return { apply: (ids: Tensor) => m.embed(ids).matmul(table.transpose()) }
    })
    const p = tied.init(0)
    const w = p.get('embed').get('weight') as Tensor
    const y = tied.apply(p, intTensor([1]))
    expect(y.toArray()).toEqual((w.matmul(w.transpose()).toArray() as number[][]).slice(1, 2))
    const q = p.setIn(['embed', 'weight'], w.mul(2))
    const doubled = tied.apply(q, intTensor([1])).toArray() as number[][]
    expect(doubled[0]).toEqual((y.toArray() as number[][])[0].map((v) => 4 * v))
  })

  it('does not initialise parameters to learn the method names unless the definition uses them', () => {
    let inits = 0
    const counted = { init: (seed: Seed): Params => (inits++, linear({ inFeatures: 1, outFeatures: 1 }).init(seed)), apply: (_p: Params, x: Tensor) => x }
    model({ c: counted }, (m) => ({ apply: (x: Tensor) => m.c(x) }))
    expect(inits).toBe(0)
    model({ c: counted }, (_m, { params }) => {
      const w = params.get('c')
      return { size: () => w.size }
    })
    expect(inits).toBe(1)
  })
})

describe('model as a layer', () => {
  const drop = () =>
    model({ drop: dropout({ p: 0.5 }), head: linear({ inFeatures: 4, outFeatures: 4, dtype: 'float64' }) }, (m) => ({
      apply: (x: Tensor) => m.head(m.drop(x)),
    }))
  const x = tensor([[1, 2, 3, 4]], { dtype: 'float64' })

  it('has apply(params, x, options) when its definition has an apply, passing train and a key to its sub-layers', () => {
    const net = drop()
    const p = net.init(0)
    const head = net.layers.head
    expect(net.apply(p, x).toArray()).toEqual(head.apply(p.get('head'), x).toArray())
    const trained = net.apply(p, x, { train: true, key: key(1) })
    expect(trained.toArray()).not.toEqual(net.apply(p, x).toArray())
    expect(net.apply(p, x, { train: true, key: key(1) }).toArray()).toEqual(trained.toArray())
    expect(
      net
        .bind(p, { train: true, key: key(1) })
        .apply(x)
        .toArray(),
    ).toEqual(trained.toArray())
    expect(() => net.apply(p, x, { train: true })).toThrow(/needs a key/)
  })

  it("hands apply's own options to the definition's apply, and their type to the model's", () => {
    interface ScaleOptions extends ApplyOptions {
      readonly scale?: number
    }
    const scaled = model({ head: linear({ inFeatures: 4, outFeatures: 4, dtype: 'float64' }) }, (m, { options }) => ({
      apply: (input: Tensor, o?: ScaleOptions) => m.head(input).mul(o?.scale ?? 1),
      seen: () => options,
    }))
    const p = scaled.init(0)
    expect(scaled.apply(p, x, { scale: 3 }).toArray()).toEqual(scaled.apply(p, x).mul(3).toArray())
    expectTypeOf(scaled.apply).parameter(2).toEqualTypeOf<ScaleOptions | undefined>()
    // @ts-expect-error -- scale is a number
    expect(() => scaled.apply(p, x, { scale: 'x' })).toThrow(/mul: b must be a Tensor, got string/)
    expect(scaled.bind(p, { train: true, key: 2 }).seen()).toEqual({ train: true, key: 2 })
    expect(scaled.seen(p)).toEqual({})
  })

  it('nests in compose, sequential and another model, which pass their options down', () => {
    const net = drop()
    const seq = sequential([net, linear({ inFeatures: 4, outFeatures: 2, dtype: 'float64' })])
    const ps = seq.init(0)
    expect([...stateDict(ps).keys()]).toEqual(['0.head.weight', '0.head.bias', '1.weight', '1.bias'])
    expect(seq.apply(ps, x).shape).toEqual([1, 2])
    expect(() => seq.apply(ps, x, { train: true })).toThrow(/needs a key/)
    const comp = compose({ inner: net }, (m, input: Tensor) => m.inner(input))
    expect(comp.apply(comp.init(0), x).toArray()).toEqual(net.apply(comp.init(0).get('inner') as ModelParams<typeof net.layers>, x).toArray())

    const translator = seq2seq()
    const outer = model({ seq: translator, drop: net }, (m, { params }) => ({
      generate: (s: Tensor) => m.seq.generate(s, start, 2),
      apply: (input: Tensor) => m.drop(input),
      encoderParams: () => params.get('seq').get('encoder'),
    }))
    const po = outer.init(3)
    expect(stateDict(po).has('seq.encoder.weight_ih_l0')).toBe(true)
    expect(outer.generate(po, src).toArray()).toEqual(translator.generate(po.get('seq'), src, start, 2).toArray())
    expect(outer.encoderParams(po)).toBe(po.get('seq').get('encoder'))
    expect(outer.apply(po, x, { train: true, key: 5 }).shape).toEqual([1, 4])
    expect(() => outer.apply(po, x, { train: true })).toThrow(/needs a key/)
  })
})

describe('model: errors name what is wrong', () => {
  const head = linear({ inFeatures: 2, outFeatures: 2 })

  it('refuses bad sub-layers and definitions', () => {
    expect(() => model([head] as never)).toThrow(/plain object of layers by name/)
    expect(() => model({ head: { apply: () => 1 } } as never)).toThrow(/sub-layer 'head' must be a layer \(an object with init\(seed\)\)/)
    expect(() => model({ 'a.b': head })).toThrow(/sub-layer name 'a.b' must be non-empty and contain no '.'/)
    expect(() => model({ head }, 3 as never)).toThrow(ArgumentError)
    expect(() => model({ head }, () => 3 as never)).toThrow(/must return an object of methods by name/)
    expect(() => model({ head }, () => ({ run: 3 }) as never)).toThrow(/method 'run' must be a function/)
    // @ts-expect-error -- a method may not shadow the model's own init
    expect(() => model({ head }, () => ({ init: () => 1 }))).toThrow(/a method may not be called 'init'/)
    let calls = 0
    const shifty = model({ head }, () => (calls++ === 0 ? { a: () => 1 } : { b: () => 2 }) as { a: () => number })
    expect(() => shifty.a(shifty.init(0))).toThrow(/returned the methods b, but returned a when the model was made/)
  })

  it("refuses parameters that are not the model's, naming the missing sub-layer and the nearest name", () => {
    const net = seq2seq()
    const p = net.init(0)
    const renamed = (p as Params).delete('encoder').set('encodr', p.get('encoder')) as typeof p
    expect(() => net.encode(renamed, src)).toThrow(
      /model.bind: the parameters have no entry for sub-layer 'encoder' \(found: embed, decoder, head, encodr; did you mean 'encodr'\?\)/,
    )
    expect(() => net.bind(p.set('head', tensor([1]) as never))).toThrow(/Tensor instead of a map of parameters for sub-layer 'head'/)
    expect(() => net.encode({ embed: 1 } as never, src)).toThrow(/the parameters must be the Immutable.js map model.init\(seed\) returns, found/)
    expect(() => net.bind(p, 'train' as never)).toThrow(/options must be an object/)
  })
})

describe('model: types', () => {
  it('types the sub-parameters, the methods and the bound sub-layers, and refuses wrong names at compile time', () => {
    const net = seq2seq()
    const p = net.init(0)
    expectTypeOf(p.get('encoder')).toEqualTypeOf<Params>()
    expectTypeOf(p).toMatchTypeOf<Params>()
    expectTypeOf(net.encode(p, src)).toEqualTypeOf<State>()
    expectTypeOf(net.generate).parameters.toEqualTypeOf<[ModelParams<typeof net.layers>, Tensor, Tensor, number]>()
    // @ts-expect-error -- 'encodr' is not a sub-layer of the model
    expect(() => p.get('encodr').get('weight_ih_l0')).toThrow(TypeError)
    // @ts-expect-error -- generate takes (params, src, start, length)
    expect(() => net.generate(p, src)).toThrow()
    // @ts-expect-error -- the methods take the model's parameters, not any map
    expect(() => net.encode(OrderedMap<string, Tensor>(), src)).toThrow(/no entry for sub-layer 'embed'/)
    // A sub-model's parameters and methods keep their types inside a parent.
    const outer = model({ inner: net, head: linear({ inFeatures: 1, outFeatures: 1 }) }, (m) => ({
      run: (s: Tensor) => m.inner.encode(s),
      // @ts-expect-error -- the bound sub-layers are the model's: no 'inne'
      bad: () => m.inne,
    }))
    const po = outer.init(0)
    expectTypeOf(po.get('inner')).toEqualTypeOf<typeof p>()
    expectTypeOf(po.get('inner').get('decoder')).toEqualTypeOf<Params>()
    expectTypeOf(outer.run(po, src)).toEqualTypeOf<State>()
    // Typed parameters are parameters: every Params function takes them and loadStateDict keeps their type.
    expectTypeOf(loadStateDict(po, stateDict(po))).toEqualTypeOf<typeof po>()
    expectTypeOf<TypedParams<{ w: Tensor }>['get']>().toBeFunction()
  })
})
