import { describe, expect, it } from 'vitest'
import { type Tensor, argmax, grad, greater, sign, tensor, traceGraph } from '../src/index.ts'
import { isNoGradient, makeOutput, noGradient } from '../src/internal.ts'
import { registeredOps } from '../src/ops/registry.ts'

describe('an op without a gradient says so explicitly', () => {
  it('noGradient carries the reason and refuses an empty one', () => {
    const n = noGradient('piecewise constant')
    expect(n.noGradient).toBe('piecewise constant')
    expect(isNoGradient(n)).toBe(true)
    expect(isNoGradient(() => [])).toBe(false)
    expect(() => noGradient('')).toThrow(/reason/)
  })

  it('makeOutput does not accept null as a VJP (compile-time check)', () => {
    const x = tensor([1, 2])
    // @ts-expect-error a missing VJP must be spelled noGradient('why')
    makeOutput('nothing', [x], x.data, x.shape, null)
  })

  it('gradients through such ops are symbolic zeros, as before', () => {
    const g = grad((x: Tensor) => sign(x).mul(x).sum())(tensor([-2, 3], { dtype: 'float64' }))
    expect(g.toArray()).toEqual([-1, 1])
    const z = grad((x: Tensor) => sign(x).sum())(tensor([-2, 3], { dtype: 'float64' }))
    expect(z.toArray()).toEqual([0, 0])
    expect(traceGraph((x: Tensor) => sign(x).mul(x).sum(), tensor([1, 2])).nodes.map((n) => n.label)).toEqual(['constant', 'input 0', 'mul', 'sum'])
  })

  it('the reason reaches the registry and the transforms', () => {
    const byName = new Map(registeredOps().map((e) => [e.name, e.spec]))
    expect(byName.get('sign')).toEqual({ noGradient: 'piecewise constant: the gradient is zero almost everywhere' })
    expect(byName.get('argmax')).toEqual({ noGradient: 'returns integer indices' })
    expect(() => grad((x: Tensor) => greater(x, 0).sum())(tensor([1, -1]))).toThrow(
      /last op without a gradient on the way was greater: comparisons are piecewise constant/,
    )
    expect(() => grad((x: Tensor) => argmax(x))(tensor([1, -1]))).toThrow(/argmax: returns integer indices/)
  })
})

describe('transforms are synchronous', () => {
  it('refuses a function that returns a Promise, with a clear error', async () => {
    const { detectAnomaly, jvp, noGrad, valueAndGrad, vjp } = await import('../src/index.ts')
    const x = tensor([1, 2], { dtype: 'float64' })
    const asyncF = async (t: Tensor): Promise<Tensor> => t.sum()
    expect(() => grad(asyncF as unknown as (t: Tensor) => Tensor)(x)).toThrow('grad: the function returned a Promise; transforms are synchronous')
    expect(() => valueAndGrad(asyncF as unknown as (t: Tensor) => Tensor)(x)).toThrow(/returned a Promise/)
    expect(() => vjp(asyncF as unknown as (t: Tensor) => Tensor, x)).toThrow(/vjp: the function returned a Promise/)
    expect(() => jvp(asyncF as unknown as (t: Tensor) => Tensor, [x], [x])).toThrow(/^jvp: the function returned a Promise/)
    expect(() => noGrad(() => asyncF(x))).toThrow(/noGrad: the function returned a Promise/)
    expect(() => detectAnomaly(() => asyncF(x))).toThrow(/detectAnomaly: the function returned a Promise/)
    // The state was restored: recording still works.
    expect(grad((t: Tensor) => t.mul(t).sum())(x).toArray()).toEqual([2, 4])
  })
})
