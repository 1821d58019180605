import { describe, expect, it } from 'vitest'
import { OrderedMap } from 'immutable'
import {
  ArgumentError,
  type Tensor,
  flattenParams,
  loadSafetensors,
  readSafetensorsMetadata,
  saveSafetensors,
  tensor,
  unflattenParams,
  zeros,
} from '@graphgrad/core'
import { referenceCases, referenceTensors } from '../../../testdata/fixtures.ts'
import type { Params } from '../src/layer.ts'
import { StateDictError, loadStateDict, loadStateDictFromSafetensors, saveStateDict, stateDict } from '../src/checkpoint.ts'
import { compose, sequential } from '../src/compose.ts'
import { dropout } from '../src/dropout.ts'
import { embedding } from '../src/embedding.ts'
import { layerNorm } from '../src/norm.ts'

function template(): Params {
  return OrderedMap({
    embed: OrderedMap({ weight: zeros([5, 3]) }),
    head: OrderedMap({ weight: zeros([2, 3]), bias: zeros([2]) }),
  }) as Params
}

function fill(shape: number[], start: number): Tensor {
  return tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => start + i),
    { shape },
  )
}

describe('stateDict', () => {
  it('flattens nested parameters to PyTorch dotted names, in order', () => {
    expect([...stateDict(template()).keys()]).toEqual(['embed.weight', 'head.weight', 'head.bias'])
  })

  it('names sequential sub-layers by index, parameterless ones included', () => {
    const model = sequential([embedding({ numEmbeddings: 4, embeddingDim: 3 }), dropout({ p: 0.1 }), layerNorm({ normalizedShape: 3 })])
    expect([...stateDict(model.init(0)).keys()]).toEqual(['0.weight', '2.weight', '2.bias'])
  })
})

describe('loadStateDict', () => {
  const good = OrderedMap<string, Tensor>([
    ['embed.weight', fill([5, 3], 0)],
    ['head.weight', fill([2, 3], 100)],
    ['head.bias', fill([2], 200)],
  ])

  it('loads by name into the template structure and order', () => {
    const reordered = OrderedMap<string, Tensor>([...good.entries()].reverse())
    const p = loadStateDict(template(), reordered)
    expect([...p.keys()]).toEqual(['embed', 'head'])
    expect(stateDict(p).get('head.bias')?.toArray()).toEqual([200, 201])
    expect(stateDict(p).get('embed.weight')?.shape).toEqual([5, 3])
    // A plain JS Map works too.
    expect(
      stateDict(loadStateDict(template(), new Map(good.entries())))
        .get('head.bias')
        ?.toArray(),
    ).toEqual([200, 201])
  })

  it('round-trips through a safetensors file', () => {
    const p = loadStateDict(template(), good)
    const bytes = saveStateDict(p, { format: 'pt' })
    expect(readSafetensorsMetadata(bytes)).toEqual({ format: 'pt' })
    expect([...loadSafetensors(bytes).keys()]).toEqual(['embed.weight', 'head.weight', 'head.bias'])
    const back = loadStateDictFromSafetensors(template(), bytes)
    expect(stateDict(back).get('head.weight')?.toArray()).toEqual([
      [100, 101, 102],
      [103, 104, 105],
    ])
  })

  it('names a wrong shape with the expected and the found shape', () => {
    const bad = good.set('head.weight', fill([3, 2], 0))
    expect(() => loadStateDict(template(), bad)).toThrow(StateDictError)
    expect(() => loadStateDict(template(), bad)).toThrow(/size mismatch for 'head.weight': the model expects shape \[2,3\], the checkpoint has \[3,2\]/)
    // Even non-strict loading refuses a wrong shape, as PyTorch.
    expect(() => loadStateDict(template(), bad, { strict: false })).toThrow(/head.weight/)
    try {
      loadStateDict(template(), bad)
    } catch (e) {
      expect((e as StateDictError).mismatched).toEqual([{ name: 'head.weight', expected: [2, 3], found: [3, 2], reason: 'shape' }])
    }
  })

  it('lists missing and unexpected names (strict), and ignores them when not strict', () => {
    const bad = good
      .delete('head.bias')
      .set('head.bais', fill([2], 0))
      .set('extra', fill([1], 0))
    let err: StateDictError | undefined
    try {
      loadStateDict(template(), bad)
    } catch (e) {
      err = e as StateDictError
    }
    expect(err).toBeInstanceOf(StateDictError)
    expect(err?.missing).toEqual(['head.bias'])
    expect(err?.unexpected).toEqual(['head.bais', 'extra'])
    expect(err?.message).toMatch(/missing key\(s\): 'head.bias' \(expected shape \[2\]; the checkpoint has 'head.bais'\)/)
    expect(err?.message).toMatch(/unexpected key\(s\): 'head.bais' \(shape \[2\]\), 'extra' \(shape \[1\]\)/)
    const loose = loadStateDict(template(), bad, { strict: false })
    expect(stateDict(loose).get('head.bias')?.toArray()).toEqual([0, 0])
    expect(stateDict(loose).get('head.weight')?.toArray()).toEqual([
      [100, 101, 102],
      [103, 104, 105],
    ])
  })

  it("casts float64 checkpoints to the model's dtype and refuses int32 for a float parameter", () => {
    const f64 = good.set('head.bias', tensor([1.5, 2.5], { dtype: 'float64' }))
    expect(stateDict(loadStateDict(template(), f64)).get('head.bias')?.dtype).toBe('float32')
    const i32 = good.set('head.bias', tensor([1, 2], { dtype: 'int32' }))
    expect(() => loadStateDict(template(), i32)).toThrow(/dtype mismatch for 'head.bias'.*float32 \[2\].*int32 \[2\]/)
  })

  it('loads PyTorch LSTM state_dict names from a reference checkpoint into a named sub-layer', () => {
    const c = referenceCases('lstm')[0]
    const t = referenceTensors(c)
    const names = c.config.param_names as string[]
    // A model { lstm: <the reference module's parameters> }, as compose would nest them.
    const tmpl = OrderedMap({ lstm: OrderedMap(names.map((n) => [n, zeros((t.get(n) as Tensor).shape, { dtype: 'float64' })] as [string, Tensor])) }) as Params
    const flat = OrderedMap(names.map((n) => [`lstm.${n}`, t.get(n) as Tensor] as [string, Tensor]))
    const bytes = saveSafetensors(flat)
    const p = loadStateDictFromSafetensors(tmpl, bytes)
    expect([...stateDict(p).keys()]).toEqual(names.map((n) => `lstm.${n}`))
    expect(Array.from(stateDict(p).get(`lstm.${names[0]}`)?.data ?? [])).toEqual(Array.from((t.get(names[0]) as Tensor).data))
  })
})

describe('flattenParams / unflattenParams', () => {
  it('round-trip composed parameters', () => {
    const model = compose({ embed: embedding({ numEmbeddings: 4, embeddingDim: 2 }), norm: layerNorm({ normalizedShape: 2 }) }, (m, x: Tensor) =>
      m.norm(m.embed(x)),
    )
    const p = model.init(3)
    const flat = flattenParams(p)
    expect([...flat.keys()]).toEqual(['embed.weight', 'norm.weight', 'norm.bias'])
    expect([...flattenParams(unflattenParams(flat)).keys()]).toEqual([...flat.keys()])
  })

  it('refuses clashing names instead of merging them', () => {
    const t = zeros([1])
    const clash = OrderedMap({ 'a.b': t, a: OrderedMap({ b: t }) })
    expect(() => flattenParams(clash)).toThrow(ArgumentError)
    expect(() => flattenParams(clash)).toThrow(/'a.b'/)
    expect(() => flattenParams(OrderedMap({ a: t, 'a.b': t }))).toThrow(/'a' is both a tensor and a prefix of 'a.b'/)
  })
})
