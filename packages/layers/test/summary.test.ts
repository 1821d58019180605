import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { OrderedMap } from 'immutable'
import { ArgumentError, tensor, zeros } from '@graphgrad/core'
import type { Params } from '../src/layer.ts'
import { model } from '../src/model.ts'
import { sequential } from '../src/compose.ts'
import { dropout } from '../src/dropout.ts'
import { embedding } from '../src/embedding.ts'
import { linear } from '../src/linear.ts'
import { lstm } from '../src/recurrent.ts'
import { stateDict } from '../src/checkpoint.ts'
import { formatParams, parameterCount, summary } from '../src/summary.ts'

const net = model({
  embed: embedding({ numEmbeddings: 6, embeddingDim: 8 }),
  encoder: lstm({ inputSize: 8, hiddenSize: 32, batchFirst: true }),
  drop: dropout({ p: 0.1 }),
  head: linear({ inFeatures: 32, outFeatures: 6, dtype: 'float64' }),
})

describe('parameterCount', () => {
  it("counts every tensor's elements, nested or not (PyTorch's sum of numel)", () => {
    const p = net.init(0)
    // nn.Embedding(6, 8): 48; nn.LSTM(8, 32): 4*32*(8+32) + 2*4*32 = 5376; nn.Linear(32, 6): 198.
    expect(parameterCount(p)).toBe(48 + 5376 + 198)
    expect(parameterCount(p)).toBe([...stateDict(p).values()].reduce((a, t) => a + t.size, 0))
    expect(parameterCount(OrderedMap() as Params)).toBe(0)
    expect(parameterCount(OrderedMap({ w: zeros([0, 3]), s: tensor(1) }) as Params)).toBe(1)
  })

  it('refuses what is not a parameter tree, naming the entry', () => {
    expect(() => parameterCount({ w: zeros([2]) } as never)).toThrow(/parameterCount: the parameters must be an Immutable.js map of tensors .*found/)
    expect(() => parameterCount(OrderedMap({ head: OrderedMap({ w: [1, 2] }) }) as never)).toThrow(/'head.w' must be a Tensor or a map of them, found an array/)
  })
})

describe('summary', () => {
  it("gives one row per tensor (dotted name, shape, dtype, count), the sub-layers' totals and the total", () => {
    const s = summary(net, net.init(0))
    expect(s.rows.map((r) => r.name)).toEqual([...stateDict(net.init(0)).keys()])
    expect(s.rows[0]).toEqual({ name: 'embed.weight', shape: [6, 8], dtype: 'float32', count: 48 })
    expect(s.rows.at(-2)).toEqual({ name: 'head.weight', shape: [6, 32], dtype: 'float64', count: 192 })
    expect(s.subLayers).toEqual([
      { name: 'embed', count: 48, tensors: 1 },
      { name: 'encoder', count: 5376, tensors: 4 },
      { name: 'drop', count: 0, tensors: 0 },
      { name: 'head', count: 198, tensors: 2 },
    ])
    expect(s.total).toBe(5622)
    expect(s.bytes).toBe((48 + 5376) * 4 + 198 * 8)
  })

  it('prints as the table, with console.log as with String', () => {
    const s = summary(net, net.init(0))
    expect(s.table).toBe(
      [
        '===============================================',
        'name                  shape      dtype    count',
        '===============================================',
        'embed.weight          [6, 8]     float32     48',
        'encoder.weight_ih_l0  [128, 8]   float32  1,024',
        'encoder.weight_hh_l0  [128, 32]  float32  4,096',
        'encoder.bias_ih_l0    [128]      float32    128',
        'encoder.bias_hh_l0    [128]      float32    128',
        'head.weight           [6, 32]    float64    192',
        'head.bias             [6]        float64      6',
        '-----------------------------------------------',
        'embed                                        48',
        'encoder                                   5,376',
        'drop                                          0',
        'head                                        198',
        '===============================================',
        'total                                     5,622',
        '7 tensors, 23.3 kB',
        '===============================================',
      ].join('\n'),
    )
    expect(String(s)).toBe(s.table)
    expect(inspect(s)).toBe(s.table)
    // The data stays plain: the table's methods are not enumerable.
    expect(Object.keys(s)).toEqual(['rows', 'subLayers', 'total', 'bytes', 'table'])
  })

  it('takes a layer alone (its init(0) parameters) or parameters alone', () => {
    const fc = linear({ inFeatures: 3, outFeatures: 2 })
    expect(summary(fc).rows).toEqual([
      { name: 'weight', shape: [2, 3], dtype: 'float32', count: 6 },
      { name: 'bias', shape: [2], dtype: 'float32', count: 2 },
    ])
    expect(summary(fc).subLayers).toEqual([])
    expect(summary(fc).table).not.toContain('---')
    const mlp = sequential([fc, linear({ inFeatures: 2, outFeatures: 1 })])
    expect(summary(mlp.init(5)).table).toBe(summary(mlp).table)
    expect(summary(mlp).subLayers.map((l) => l.name)).toEqual(['0', '1'])
    const empty = summary(OrderedMap() as Params)
    expect([empty.total, empty.bytes, empty.rows.length]).toEqual([0, 0, 0])
    expect(empty.table).toContain('0 tensors, 0 B')
  })

  it('writes large sizes in MB with thousands separators', () => {
    const big = summary(OrderedMap({ w: zeros([1000, 1000]) }) as Params)
    expect(big.table).toContain('1,000,000')
    expect(big.table).toContain('1 tensor, 4.0 MB')
  })

  it('refuses what is neither a layer nor parameters', () => {
    expect(() => summary(3 as never)).toThrow(ArgumentError)
    expect(() => summary(3 as never)).toThrow(/summary: expected a layer or model \(with init\(seed\)\) or its parameters/)
    expect(() => summary(net.init(0), net.init(0))).toThrow(/the first must be their layer or model/)
    expect(() => summary(net, { a: 1 } as never)).toThrow(/the parameters must be an Immutable.js map/)
    // A model knows its sub-layers: parameters of another model are refused, naming what is missing.
    const other = model({ embed: embedding({ numEmbeddings: 2, embeddingDim: 2 }) })
    expect(() => summary(net, other.init(0) as never)).toThrow(/summary: the parameters have no entry for sub-layer 'encoder' \(found: embed\)/)
  })
})

describe('formatParams', () => {
  it('writes the tree one entry per line: dtype and shape, {} for a parameterless sub-layer', () => {
    expect(formatParams(net.init(0))).toBe(
      [
        'embed:',
        '  weight: float32 [6, 8]',
        'encoder:',
        '  weight_ih_l0: float32 [128, 8]',
        '  weight_hh_l0: float32 [128, 32]',
        '  bias_ih_l0: float32 [128]',
        '  bias_hh_l0: float32 [128]',
        'drop: {}',
        'head:',
        '  weight: float64 [6, 32]',
        '  bias: float64 [6]',
      ].join('\n'),
    )
    expect(formatParams(OrderedMap() as Params)).toBe('{}')
  })

  it("writes the values with { values: true }, aligning a tensor's continued lines", () => {
    const p = OrderedMap({
      head: OrderedMap({
        weight: tensor([
          [1, 2],
          [3, 4],
        ]),
        bias: tensor([0.5, -0.5]),
      }),
    }) as Params
    expect(formatParams(p, { values: true })).toBe(
      ['head:', '  weight: tensor([[1., 2.],', '                  [3., 4.]])', '  bias: tensor([ 0.5000, -0.5000])'].join('\n'),
    )
  })

  it('refuses a non-map, a non-tensor entry and bad options', () => {
    expect(() => formatParams(undefined as never)).toThrow(/formatParams: the parameters must be an Immutable.js map/)
    expect(() => formatParams(OrderedMap({ a: 'x' }) as never)).toThrow(/formatParams: 'a' must be a Tensor or a map of them, found the string "x"/)
    expect(() => formatParams(net.init(0), 'values' as never)).toThrow(/options must be an object/)
  })
})
