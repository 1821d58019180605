// Convolution and pooling against PyTorch 1.13 (testdata/reference/conv_pool, made by
// scripts/fixtures/conv_pool.py): outputs, gradients of the input, weight and bias, and for
// the "double" cases second derivatives (of the gradients, with respect to the input, the
// weight and the output's cotangent), in float64 and float32.
import { afterAll, describe, expect, it } from 'vitest'
import {
  type Tensor,
  add,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  avgPool1d,
  avgPool2d,
  conv1d,
  conv2d,
  grad,
  maxPool1d,
  maxPool2d,
  mul,
  sum,
  vjp,
} from '@graphgrad/core'
import { type ConvPoolCase, camelKwargs, convPoolCases, convPoolTensors, excessOver, tensorOf } from '../../../testdata/conv-pool-cases.ts'

/** The op of a case as a function of its differentiable inputs (x, then the parameters in order). */
function opOf(c: ConvPoolCase): (...xs: Tensor[]) => Tensor {
  const k = camelKwargs(c) as Record<string, never>
  switch (c.kind) {
    case 'conv1d':
    case 'conv2d': {
      const conv = c.kind === 'conv1d' ? conv1d : conv2d
      const options = { stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups }
      return (x, w, b) => conv(x, w, b ?? null, options)
    }
    case 'max_pool1d':
      return (x) => maxPool1d(x, k as never)
    case 'max_pool2d':
      return (x) => maxPool2d(x, k as never)
    case 'avg_pool1d':
      return (x) => avgPool1d(x, k as never)
    case 'avg_pool2d':
      return (x) => avgPool2d(x, k as never)
    case 'adaptive_avg_pool1d':
      return (x) => adaptiveAvgPool1d(x, k.outputSize)
    case 'adaptive_avg_pool2d':
      return (x) => adaptiveAvgPool2d(x, k.outputSize)
  }
}

const worst = new Map<string, number>()
function record(kind: string, maxAbs: number): void {
  worst.set(kind, Math.max(worst.get(kind) ?? 0, maxAbs))
}
afterAll(() => {
  // The largest absolute errors, for the record (the checks themselves are the expects).
  console.log([...worst].map(([k, v]) => `${k}: max |error| ${v.toExponential(2)}`).join('\n'))
})

const cases = convPoolCases()

describe('conv and pool fixtures (PyTorch 1.13)', () => {
  it('has cases of every kind, in both dtypes', () => {
    expect(new Set(cases.map((c) => c.kind)).size).toBe(8)
    expect(new Set(cases.map((c) => c.config.dtype))).toEqual(new Set(['F32', 'F64']))
    expect(cases.filter((c) => c.config.double !== undefined).length).toBeGreaterThanOrEqual(3)
  })

  for (const c of cases) {
    it(`${c.file}: output and gradients`, () => {
      const t = convPoolTensors(c)
      const f = opOf(c)
      const inputs = c.config.grads.map((n) => tensorOf(t, n))
      expect(inputs[0].dtype).toBe(c.config.dtype === 'F32' ? 'float32' : 'float64')
      const [out, pullback] = vjp(f, ...inputs)
      const grads = pullback(tensorOf(t, 'r_output')) as Tensor[]
      const checks: [string, Tensor, Tensor][] = [
        ['output', out, tensorOf(t, 'output')],
        ...c.config.grads.map((n, i): [string, Tensor, Tensor] => [`grad.${n}`, grads[i], tensorOf(t, `grad.${n}`)]),
      ]
      for (const [name, actual, expected] of checks) {
        expect(actual.dtype, name).toBe(expected.dtype)
        const { excess, maxAbs } = excessOver(actual, expected, c.tolerance)
        record(`${c.kind} ${c.config.dtype}`, maxAbs)
        expect(excess, `${name}: max |error| ${maxAbs}`).toBeLessThanOrEqual(0)
      }
    })

    if (c.config.double === undefined) continue
    it(`${c.file}: second derivatives`, () => {
      const t = convPoolTensors(c)
      const f = opOf(c)
      const bias = c.config.param_names.includes('bias') ? [tensorOf(t, 'bias')] : []
      const [rx, rw] = [tensorOf(t, 'r_grad.x'), tensorOf(t, 'r_grad.weight')]
      const loss2 = (x: Tensor, w: Tensor, r: Tensor): Tensor => {
        const [gx, gw] = grad((a: Tensor, b: Tensor) => sum(mul(f(a, b, ...bias), r)), { argnums: [0, 1] })(x, w) as Tensor[]
        return add(sum(mul(gx, rx)), sum(mul(gw, rw)))
      }
      const names = ['x', 'weight', 'r_output']
      const second = grad(loss2, { argnums: [0, 1, 2] })(...(names.map((n) => tensorOf(t, n)) as [Tensor, Tensor, Tensor])) as Tensor[]
      names.forEach((n, i) => {
        const { excess, maxAbs } = excessOver(second[i], tensorOf(t, `grad2.${n}`), c.tolerance)
        record(`${c.kind} ${c.config.dtype} second order`, maxAbs)
        expect(excess, `grad2.${n}: max |error| ${maxAbs}`).toBeLessThanOrEqual(0)
      })
    })
  }
})
