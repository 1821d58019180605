// The convolution and pooling layers: PyTorch's modules on the conv_pool fixtures (built from
// the fixtures' module_kwargs, parameters loaded by their state_dict names), PyTorch's default
// initialisation, finite-difference checks of the registered specs to second order, and the
// constructor and apply errors.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { ArgumentError, CaseSampler, ShapeError, type Tensor, tensor, vjp } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import {
  type Layer,
  type Params,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  avgPool1d,
  avgPool2d,
  conv1d,
  conv2d,
  loadStateDict,
  maxPool1d,
  maxPool2d,
  registeredLayers,
  stateDict,
} from '../src/index.ts'
import { convSpecs } from '../src/conv.ts'
import { poolSpecs } from '../src/pool.ts'
import { checkGradients, checkSecondOrder } from './fd.ts'
import { type ConvPoolCase, camelKwargs, convPoolCases, convPoolTensors, excessOver, tensorOf } from '../../../testdata/conv-pool-cases.ts'

/** The graphgrad layer for a fixture's torch.nn module. */
function layerOf(c: ConvPoolCase): Layer {
  const k = camelKwargs(c) as never
  const dtype = c.config.dtype === 'F32' ? 'float32' : 'float64'
  switch (c.config.module) {
    case 'Conv1d':
      return conv1d({ ...(k as object), dtype } as never)
    case 'Conv2d':
      return conv2d({ ...(k as object), dtype } as never)
    case 'MaxPool1d':
      return maxPool1d(k)
    case 'MaxPool2d':
      return maxPool2d(k)
    case 'AvgPool1d':
      return avgPool1d(k)
    case 'AvgPool2d':
      return avgPool2d(k)
    case 'AdaptiveAvgPool1d':
      return adaptiveAvgPool1d(k)
    case 'AdaptiveAvgPool2d':
      return adaptiveAvgPool2d(k)
    default:
      throw new Error(`no layer for ${c.config.module}`)
  }
}

describe('conv and pool layers on the PyTorch fixtures', () => {
  for (const c of convPoolCases()) {
    it(`${c.file}: torch.nn.${c.config.module}`, () => {
      const t = convPoolTensors(c)
      const layer = layerOf(c)
      // Parameters by their state_dict names, into the layer's own template.
      const template = layer.init(0)
      expect([...template.keys()]).toEqual(c.config.param_names)
      const params = loadStateDict(template, Object.fromEntries(c.config.param_names.map((n) => [n, tensorOf(t, n)])))
      const f = (...xs: Tensor[]): Tensor => layer.apply(OrderedMap(c.config.param_names.map((n, i) => [n, xs[i + 1]])) as Params, xs[0])
      const inputs = [tensorOf(t, 'x'), ...c.config.param_names.map((n) => params.get(n) as Tensor)]
      const [out, pullback] = vjp(f, ...inputs)
      const grads = pullback(tensorOf(t, 'r_output')) as Tensor[]
      const checks: [string, Tensor][] = [['output', out], ...c.config.grads.map((n, i): [string, Tensor] => [`grad.${n}`, grads[i]])]
      for (const [name, actual] of checks) {
        const { excess, maxAbs } = excessOver(actual, tensorOf(t, name), c.tolerance)
        expect(excess, `${name}: max |error| ${maxAbs}`).toBeLessThanOrEqual(0)
      }
      expect([...stateDict(params).keys()]).toEqual(c.config.param_names)
    })
  }
})

describe('conv layers: parameters as PyTorch', () => {
  it("have PyTorch's names and shapes, and its default init U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weight and bias", () => {
    const layer = conv2d({ inChannels: 6, outChannels: 8, kernelSize: [3, 2], groups: 2 })
    const p = layer.init(7)
    const [w, b] = [p.get('weight') as Tensor, p.get('bias') as Tensor]
    expect(w.shape).toEqual([8, 3, 3, 2])
    expect(b.shape).toEqual([8])
    expect(w.dtype).toBe('float32')
    const bound = 1 / Math.sqrt(3 * 3 * 2)
    for (const t of [w, b]) {
      const v = Array.from(t.data)
      expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(bound)
      expect(Math.max(...v.map(Math.abs))).toBeGreaterThan(0.6 * bound)
    }
    // Reproducible from the seed, different across seeds.
    expect(Array.from((layer.init(7).get('weight') as Tensor).data)).toEqual(Array.from(w.data))
    expect(Array.from((layer.init(8).get('weight') as Tensor).data)).not.toEqual(Array.from(w.data))
    const one = conv1d({ inChannels: 4, outChannels: 2, kernelSize: 5, bias: false, dtype: 'float64' }).init(0)
    expect([...one.keys()]).toEqual(['weight'])
    expect((one.get('weight') as Tensor).shape).toEqual([2, 4, 5])
    expect(Math.max(...Array.from((one.get('weight') as Tensor).data, Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(20))
  })

  it('pooling layers have no parameters', () => {
    for (const layer of [maxPool2d({ kernelSize: 2 }), avgPool1d({ kernelSize: 3 }), adaptiveAvgPool2d({ outputSize: [2, null] })])
      expect(layer.init(0).size).toBe(0)
    expect(adaptiveAvgPool2d({ outputSize: [2, null] }).apply(OrderedMap() as Params, tensor(new Float64Array(30), { shape: [1, 5, 6] })).shape).toEqual([
      1, 2, 6,
    ])
  })

  it('the layers are registered for the gradcheck command', () => {
    const names = registeredLayers().map((e) => e.name)
    for (const n of [...Object.keys(convSpecs), ...Object.keys(poolSpecs)]) expect(names).toContain(n)
  })
})

describe('conv and pool layers: gradients against central differences (float64)', () => {
  for (const [name, spec] of Object.entries({ ...convSpecs, ...poolSpecs })) {
    it(`${name}: first and second order`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
          const c = spec.sample(new CaseSampler(seed))
          expect(checkGradients(c)).toBeNull()
          expect(checkSecondOrder(c)).toBeNull()
        }),
        { seed: 77, numRuns: 15 },
      )
    })
  }
})

describe('conv and pool layer errors', () => {
  it("refuse bad constructor options, PyTorch's way, with the nearest name for a typo", () => {
    expect(() => conv2d({ inChannels: 3, outChannels: 4, kernelSize: 3, groups: 2 })).toThrow(/conv2d: inChannels \(3\) must be divisible by groups \(2\)/)
    expect(() => conv2d({ inChannels: 4, outChannels: 3, kernelSize: 3, groups: 2 })).toThrow(/conv2d: outChannels \(3\) must be divisible by groups \(2\)/)
    expect(() => conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, stride: 2, padding: 'same' })).toThrow(
      /conv2d: padding 'same' is not supported for strided convolutions \(as PyTorch\)/,
    )
    expect(() => conv1d({ inChannels: 4, outChannels: 4, kernelSize: 0 })).toThrow(/conv1d: kernelSize must be a positive integer, got 0/)
    expect(() => conv2d({ inChannels: 4, outChannels: 4, kernelSize: [3, 3], dilation: [1, 0] })).toThrow(
      /conv2d: dilation must be a positive integer or a pair of them, got \[1,0\]/,
    )
    expect(() => conv2d({ inChannels: 4, outChannels: 4, kernelSize: 3, padding: 'full' as never })).toThrow(
      /conv2d: padding must be a size, 'same' or 'valid', got 'full'/,
    )
    expect(() => conv2d({ in_channels: 4, outChannels: 4, kernelSize: 3 } as never)).toThrow(
      /conv2d: unknown option 'in_channels' \(did you mean 'inChannels'\?\)/,
    )
    expect(() => conv2d({ inChannels: 0, outChannels: 4, kernelSize: 3 })).toThrow(ArgumentError)
    expect(() => maxPool2d({} as never)).toThrow(/maxPool2d: kernelSize is required, e.g. maxPool2d\(\{ kernelSize: 2 \}\)/)
    expect(() => avgPool2d({ kernel_size: 2 } as never)).toThrow(/avgPool2d: unknown option 'kernel_size' \(did you mean 'kernelSize'\?\)/)
    expect(() => adaptiveAvgPool1d({} as never)).toThrow(/adaptiveAvgPool1d: outputSize is required/)
  })

  it('refuse an input with the wrong channels, a wrong parameter and a non-tensor input', () => {
    const layer = conv2d({ inChannels: 3, outChannels: 2, kernelSize: 2, dtype: 'float64' })
    const p = layer.init(0)
    expect(() => layer.apply(p, tensor(new Float64Array(32), { shape: [2, 4, 2, 2] }))).toThrow(ShapeError)
    expect(() => layer.apply(p, tensor(new Float64Array(32), { shape: [2, 4, 2, 2] }))).toThrow(
      /conv2d: expected an input \[N, inChannels=3, H, W\] \(or unbatched, without N\), got shape \[2,4,2,2\]/,
    )
    expect(() => layer.apply(p.set('weight', tensor(new Float64Array(12), { shape: [2, 3, 2] })), tensor(new Float64Array(12), { shape: [3, 2, 2] }))).toThrow(
      /conv2d: weight must have shape \[2,3,2,2\], got \[2,3,2\]/,
    )
    expect(() => layer.apply(p.delete('bias'), tensor(new Float64Array(12), { shape: [3, 2, 2] }))).toThrow(/conv2d: parameter 'bias' is missing/)
    expect(() => layer.apply(p, [[1]] as never)).toThrow(/conv2d: the input must be a Tensor/)
    expect(() => maxPool1d({ kernelSize: 4 }).apply(OrderedMap() as Params, tensor([[[1, 2]]]))).toThrow(
      /maxPool1d: the input \[1,1,2\] padded by 0 is smaller than the window \(4\)/,
    )
  })
})
