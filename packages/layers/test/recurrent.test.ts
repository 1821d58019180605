/**
 * The recurrent layer shells: PyTorch's parameter names, shapes, order and initialisation,
 * defaults, layouts, variable lengths, inter-layer dropout, and clear errors on bad input.
 */
import { describe, expect, it } from 'vitest'
import {
  ArgumentError,
  DTypeError,
  ShapeError,
  type Tensor,
  abs,
  add,
  grad,
  jvp,
  liveGraphNodes,
  matmul,
  max,
  mul,
  randn,
  softmax,
  sub,
  sum,
  tensor,
  transpose,
  valueAndGrad,
  zeros,
} from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import { gru, lstm, recurrentLayer, rnn } from '../src/recurrent.ts'
import { linear } from '../src/linear.ts'
import { constantInit, orthogonal, xavierUniform } from '../src/init.ts'
import type { Params } from '../src/layer.ts'

const tensors = (p: Params): Tensor[] => [...p.values()] as Tensor[]

describe('parameters', () => {
  it('uses PyTorch state_dict names and order (bidirectional, 2 layers, bias)', () => {
    const p = lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }).init(0)
    const names = ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']
    const expected = [
      ...names,
      ...names.map((n) => `${n}_reverse`),
      ...names.map((n) => n.replace('l0', 'l1')),
      ...names.map((n) => `${n.replace('l0', 'l1')}_reverse`),
    ]
    expect([...p.keys()]).toEqual(expected)
    expect((p.get('weight_ih_l0') as Tensor).shape).toEqual([16, 3])
    expect((p.get('weight_ih_l1_reverse') as Tensor).shape).toEqual([16, 8])
    expect((p.get('weight_hh_l1') as Tensor).shape).toEqual([16, 4])
    expect((p.get('bias_hh_l1_reverse') as Tensor).shape).toEqual([16])
  })

  it('has G*H rows per weight (GRU 3, RNN 1) and no biases with bias: false', () => {
    const g = gru({ inputSize: 2, hiddenSize: 5, bias: false }).init(1)
    expect([...g.keys()]).toEqual(['weight_ih_l0', 'weight_hh_l0'])
    expect((g.get('weight_hh_l0') as Tensor).shape).toEqual([15, 5])
    expect((rnn({ inputSize: 2, hiddenSize: 5 }).init(1).get('weight_ih_l0') as Tensor).shape).toEqual([5, 2])
  })

  it('initialises uniformly in ±1/sqrt(hidden), float32 by default, reproducibly from the seed', () => {
    const layer = lstm({ inputSize: 7, hiddenSize: 16, numLayers: 2 })
    const a = layer.init(42)
    const bound = 1 / Math.sqrt(16)
    let lo = Infinity
    let hi = -Infinity
    for (const t of tensors(a)) {
      expect(t.dtype).toBe('float32')
      for (const v of t._data) {
        lo = Math.min(lo, v)
        hi = Math.max(hi, v)
      }
    }
    expect(lo).toBeGreaterThanOrEqual(-bound)
    expect(hi).toBeLessThanOrEqual(bound)
    expect(hi - lo).toBeGreaterThan(1.9 * bound)
    expect(tensors(layer.init(42)).map((t) => t.toArray())).toEqual(tensors(a).map((t) => t.toArray()))
    expect((layer.init(43).get('weight_ih_l0') as Tensor).toArray()).not.toEqual((a.get('weight_ih_l0') as Tensor).toArray())
    // Different parameters of one init are independent draws.
    expect((a.get('bias_ih_l0') as Tensor).toArray()).not.toEqual((a.get('bias_hh_l0') as Tensor).toArray())
    expect((lstm({ inputSize: 2, hiddenSize: 2, dtype: 'float64' }).init(0).get('weight_hh_l0') as Tensor).dtype).toBe('float64')
  })
})

describe('layouts and options', () => {
  it('defaults to one layer, bias, sequence-first, one direction', () => {
    const layer = gru({ inputSize: 3, hiddenSize: 4 })
    const r = layer.apply(layer.init(0), randn([5, 2, 3], 1))
    expect(r.output.shape).toEqual([5, 2, 4])
    expect(r.hN.shape).toEqual([1, 2, 4])
  })

  it('batchFirst only changes the layout of input and output', () => {
    const a = lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true })
    const b = lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, batchFirst: true })
    const p = a.init(3)
    const x = randn([5, 2, 3], 4)
    const ra = a.apply(p, x)
    const rb = b.apply(p, x.transpose(0, 1))
    expect(rb.output.shape).toEqual([2, 5, 8])
    expect(rb.output.transpose(0, 1).toArray()).toEqual(ra.output.toArray())
    expect(rb.hN.toArray()).toEqual(ra.hN.toArray())
    expect(rb.cN.toArray()).toEqual(ra.cN.toArray())
  })

  it('variable lengths: zeros past each length, final state at the last valid step, no gradient from padding', () => {
    const layer = rnn({ inputSize: 2, hiddenSize: 3, batchFirst: true, dtype: 'float64' })
    const p = layer.init(5)
    const x = randn([3, 4, 2], 6, { dtype: 'float64' })
    const lengths = [4, 2, 1]
    const r = layer.apply(p, x, { lengths })
    const out = r.output.toArray() as number[][][]
    const hN = r.hN.toArray() as number[][][]
    lengths.forEach((n, b) => {
      for (let t = n; t < 4; t++) expect(out[b][t]).toEqual([0, 0, 0])
      expect(hN[0][b]).toEqual(out[b][n - 1])
    })
    // The same from a Tensor of lengths, as a loaded checkpoint gives it.
    expect(layer.apply(p, x, { lengths: tensor(lengths, { dtype: 'int32' }) }).output.toArray()).toEqual(r.output.toArray())
    const gx = grad((xx: Tensor) => sum(layer.apply(p, xx, { lengths }).output))(x) as Tensor
    const g = gx.toArray() as number[][][]
    lengths.forEach((n, b) => {
      for (let t = n; t < 4; t++) expect(g[b][t]).toEqual([0, 0])
    })
  })

  it('never reads x past each length: NaN there gives the outputs and gradients of zeros there (fused and composed)', () => {
    const lengths = [4, 2, 1]
    const x = randn([3, 4, 2], 7, { dtype: 'float64' })
    const padded = (fill: number): Tensor =>
      tensor(
        Float64Array.from(x.data, (v, i) => (Math.floor(i / 2) % 4 >= lengths[Math.floor(i / 8)] ? fill : v)),
        { shape: [3, 4, 2], dtype: 'float64' },
      )
    for (const make of [lstm, gru, rnn]) {
      for (const fused of [true, false]) {
        const layer = make({ inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, batchFirst: true, dtype: 'float64', fused })
        const run = (xx: Tensor): Tensor[] => {
          const f = (m: OrderedMap<string, Tensor>): Tensor => {
            const r = layer.apply(m.remove('x') as unknown as Params, m.get('x') as Tensor, { lengths })
            return sum(r.output.mul(randn(r.output.shape, 8, { dtype: 'float64' }))).add(sum(r.hN))
          }
          const m = OrderedMap<string, Tensor>([['x', xx]]).merge(layer.init(9) as OrderedMap<string, Tensor>)
          const g = grad(f)(m) as OrderedMap<string, Tensor>
          return [f(m), ...g.values()]
        }
        const withNaN = run(padded(NaN))
        const withZeros = run(padded(0))
        withNaN.forEach((t, i) => expect(t.toArray(), `${make.name} fused=${fused} #${i}`).toEqual(withZeros[i].toArray()))
      }
    }
  })

  it("the essay's output layer o_t = g(V h_t) is a linear on top", () => {
    const cell = rnn({ inputSize: 4, hiddenSize: 8 })
    const head = linear({ inFeatures: 8, outFeatures: 4 })
    const { output } = cell.apply(cell.init(0), randn([6, 2, 4], 1))
    const o = softmax(head.apply(head.init(1), output))
    expect(o.shape).toEqual([6, 2, 4])
  })
})

describe('derivatives of higher order', () => {
  const x = randn([3, 2, 2], 1, { dtype: 'float64' })
  const gradNorm = (fused: boolean) => {
    const layer = gru({ inputSize: 2, hiddenSize: 3, dtype: 'float64', fused })
    const p = layer.init(0)
    const inner = grad((xx: Tensor) => sum(mul(layer.apply(p, xx).output, layer.apply(p, xx).output)))
    return grad((xx: Tensor) => sum(mul(inner(xx) as Tensor, inner(xx) as Tensor)))
  }

  it('through the fused op equal those through the composed cells', () => {
    const composed = gradNorm(false)(x) as Tensor
    expect(composed.shape).toEqual([3, 2, 2])
    expect(max(abs(sub(gradNorm(true)(x) as Tensor, composed))).item()).toBeLessThan(1e-12)
  })

  for (const kind of ['lstm', 'gru', 'rnn_tanh'] as const) {
    it(`jvp through the fused ${kind} equals the finite-difference directional derivative`, () => {
      const layer = recurrentLayer(kind, { inputSize: 2, hiddenSize: 3, dtype: 'float64' })
      const p = layer.init(2)
      const lengths = [3, 1]
      const f = (xx: Tensor): Tensor => sum(mul(layer.apply(p, xx, { lengths }).output, layer.apply(p, xx, { lengths }).hN))
      const v = randn([3, 2, 2], 7, { dtype: 'float64' })
      const [, tangent] = jvp(f, [x], [v])
      const eps = 1e-6
      const fd = (f(add(x, mul(v, eps))).item() - f(add(x, mul(v, -eps))).item()) / (2 * eps)
      expect(tangent.item()).toBeCloseTo(fd, 7)
    })
  }
})

describe('dropout between layers', () => {
  const layer = lstm({ inputSize: 3, hiddenSize: 8, numLayers: 2, dropout: 0.5 })
  const p = layer.init(0)
  const x = randn([4, 2, 3], 1)

  it('is off in eval mode and on in training, from the key', () => {
    const plain = lstm({ inputSize: 3, hiddenSize: 8, numLayers: 2 }).apply(p, x).output.toArray()
    expect(layer.apply(p, x).output.toArray()).toEqual(plain)
    const a = layer.apply(p, x, { train: true, key: 7 }).output.toArray()
    expect(a).not.toEqual(plain)
    expect(layer.apply(p, x, { train: true, key: 7 }).output.toArray()).toEqual(a)
    expect(layer.apply(p, x, { train: true, key: 8 }).output.toArray()).not.toEqual(a)
  })

  it('does nothing to a single layer (only between layers), and needs a key when training', () => {
    const one = lstm({ inputSize: 3, hiddenSize: 8, dropout: 0.5 })
    const q = one.init(0)
    expect(one.apply(q, x, { train: true, key: 1 }).output.toArray()).toEqual(one.apply(q, x).output.toArray())
    expect(() => layer.apply(p, x, { train: true })).toThrow(ArgumentError)
  })
})

describe('bad input', () => {
  const layer = lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true })
  const p = layer.init(0)
  const x = zeros([2, 5, 3])
  const cases: [string, () => unknown, new (message: string) => Error, RegExp][] = [
    ['input of rank 2', () => layer.apply(p, zeros([5, 3])), ShapeError, /rank 3 \[batch, seq, inputSize\], got shape \[5,3\]/],
    ['wrong feature size', () => layer.apply(p, zeros([2, 5, 4])), ShapeError, /expected 3 input features/],
    ['int32 input', () => layer.apply(p, zeros([2, 5, 3], { dtype: 'int32' })), DTypeError, /int32/],
    [
      'lengths longer than the sequence',
      () => layer.apply(p, x, { lengths: [5, 6] }),
      ArgumentError,
      /lengths\[1\] = 6 is longer than the sequence \(5 steps\)/,
    ],
    ['zero length', () => layer.apply(p, x, { lengths: [0, 5] }), ArgumentError, /lengths\[0\] = 0 must be a positive integer/],
    ['fractional length', () => layer.apply(p, x, { lengths: [2.5, 5] }), ArgumentError, /positive integer/],
    ['lengths for another batch size', () => layer.apply(p, x, { lengths: [5] }), ShapeError, /1 entries but the batch has 2/],
    ['h0 of the wrong shape', () => layer.apply(p, x, { h0: zeros([1, 2, 4]) }), ShapeError, /h0 must have shape \[2,2,4\].*got \[1,2,4\]/],
    ['c0 of the wrong shape', () => layer.apply(p, x, { c0: zeros([2, 5, 4]) }), ShapeError, /c0 must have shape \[2,2,4\]/],
    ['h0 of another dtype', () => layer.apply(p, x, { h0: zeros([2, 2, 4], { dtype: 'float64' }) }), DTypeError, /h0 is float64/],
    ['a missing parameter', () => layer.apply(p.delete('weight_hh_l1'), x), ArgumentError, /'weight_hh_l1' is missing/],
    ['a parameter of the wrong shape', () => layer.apply(p.set('bias_ih_l0', zeros([4])), x), ShapeError, /'bias_ih_l0' must have shape \[16\], got \[4\]/],
    ['hiddenSize 0', () => lstm({ inputSize: 3, hiddenSize: 0 }), ArgumentError, /hiddenSize must be a positive integer/],
    ['dropout above 1', () => gru({ inputSize: 3, hiddenSize: 2, dropout: 1.5 }), ArgumentError, /dropout must be a probability/],
    [
      'unknown nonlinearity',
      () => rnn({ inputSize: 3, hiddenSize: 2, nonlinearity: 'sigmoid' as 'tanh' }),
      ArgumentError,
      /nonlinearity must be 'tanh' or 'relu'/,
    ],
    [
      'c0 for a GRU (no cell state)',
      () =>
        recurrentLayer('gru', { inputSize: 3, hiddenSize: 4 }).apply(gru({ inputSize: 3, hiddenSize: 4 }).init(0), zeros([5, 2, 3]), { c0: zeros([1, 2, 4]) }),
      ArgumentError,
      /gru: c0 was given, but a gru layer has no cell state/,
    ],
    [
      'c0 for an RNN (no cell state)',
      () =>
        recurrentLayer('rnn_relu', { inputSize: 3, hiddenSize: 4 }).apply(rnn({ inputSize: 3, hiddenSize: 4 }).init(0), zeros([5, 2, 3]), {
          c0: zeros([1, 2, 4]),
        }),
      ArgumentError,
      /rnn: c0 was given/,
    ],
  ]
  for (const [what, fn, type, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(fn).toThrow(type)
      expect(fn).toThrow(message)
    })
  }

  it('empty params map names the parameters it has', () => {
    expect(() => layer.apply(OrderedMap() as Params, x)).toThrow(/parameter 'weight_ih_l0' is missing/)
  })
})

describe('initialisers', () => {
  it('default to uniform in ±1/sqrt(hidden) and take xavier, orthogonal and constant options per parameter kind', () => {
    const H = 8
    const plain = lstm({ inputSize: 3, hiddenSize: H }).init(1)
    for (const t of plain.values()) for (const v of (t as Tensor).data) expect(Math.abs(v)).toBeLessThanOrEqual(1 / Math.sqrt(H))
    const layer = lstm({ inputSize: 3, hiddenSize: H, weightIhInit: xavierUniform, weightHhInit: orthogonal, biasInit: constantInit(0), dtype: 'float64' })
    const p = layer.init(1)
    expect([...p.keys()]).toEqual(['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0'])
    const whh = p.get('weight_hh_l0') as Tensor
    // A [4H, H] orthogonal matrix has orthonormal columns: W^T W = I.
    const gram = matmul(transpose(whh), whh).data
    for (let i = 0; i < H; i++) for (let j = 0; j < H; j++) expect(gram[i * H + j]).toBeCloseTo(i === j ? 1 : 0, 10)
    expect(Array.from((p.get('bias_ih_l0') as Tensor).data).every((v) => v === 0)).toBe(true)
    const bound = Math.sqrt(6 / (3 + 4 * H))
    for (const v of (p.get('weight_ih_l0') as Tensor).data) expect(Math.abs(v)).toBeLessThanOrEqual(bound)
    // Same seed, same parameters.
    expect(Array.from(whh.data)).toEqual(Array.from((layer.init(1).get('weight_hh_l0') as Tensor).data))
  })
})

describe('the fused op has a result per output', () => {
  it('output, hN and cN are separate results of one node, and a training step leaves no graph behind', () => {
    const layer = lstm({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true })
    const p = layer.init(1)
    const x = randn([5, 2, 3], 2)
    const before = liveGraphNodes()
    for (let i = 0; i < 4; i++) {
      // Only the outputs reach the loss: the final states' branches are never walked by the backward.
      valueAndGrad((q: Params) => {
        const r = layer.apply(q, x)
        expect(r.output.shape).toEqual([5, 2, 8])
        return sum(r.output)
      })(p)
    }
    expect(liveGraphNodes()).toBe(before)
  })
})

describe('recurrent constructors and apply refuse what PyTorch users type by habit', () => {
  it('an unknown option, with the nearest name', () => {
    expect(() => lstm({ inputSize: 2, hiddenSize: 3, num_layers: 2 } as never)).toThrow("lstm: unknown option 'num_layers' (did you mean 'numLayers'?)")
    expect(() => gru({ inputSize: 2, hidden_size: 3 } as never)).toThrow(/did you mean 'hiddenSize'/)
    expect(() => rnn({ inputSize: 2, hiddenSize: 3, nonlinearity: 'relu' })).not.toThrow()
    expect(() => lstm({ inputSize: 2, hiddenSize: 3, nonlinearity: 'relu' } as never)).toThrow(/unknown option 'nonlinearity'/)
  })

  it('a plain array as the input, saying to wrap it', () => {
    const layer = gru({ inputSize: 2, hiddenSize: 3 })
    expect(() => layer.apply(layer.init(0), [[[1, 2]]] as never)).toThrow(/gru: the input must be a Tensor, found an array; wrap it with tensor\(/)
  })
})
