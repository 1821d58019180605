/**
 * Follows docs/guide/adding-an-op.md on a throwaway op, declared here through the same API the
 * guide describes (makeOutput with a VJP or noGradient, registerOps with a typed spec table),
 * and checks that it gets a function, a registry entry and a passing gradient check; and that
 * the typed tables reject a missing entry.
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, type GradSpec, hasGradient, mul, registeredOps, square, sum, tensor, vjp } from '../src/index.ts'
import { makeOutput, noGradient, registerOps } from '../src/internal.ts'
import type { MethodsOf } from '../src/methods.ts'
import { shapesLabel } from '../src/ops/sampler.ts'

/** The throwaway op: x^3, its forward computed directly, its VJP written with ops. */
function cubeThrowaway(x: Tensor): Tensor {
  const data = x.data.map((v) => v * v * v)
  return makeOutput('cubeThrowaway', [x], data, x.shape, (g) => [mul(g, mul(square(x), 3))])
}

/** A throwaway op without a gradient: the floor of x. */
function floorThrowaway(x: Tensor): Tensor {
  return makeOutput('floorThrowaway', [x], x.data.map(Math.floor), x.shape, noGradient('piecewise constant'))
}

const cubeSpec: GradSpec = {
  sample: (s) => {
    const x = s.values(s.shape())
    return { inputs: [x], fn: (t: Tensor) => cubeThrowaway(t), label: shapesLabel(x) }
  },
}
registerOps('throwawayForTheGuide', 'primitive', { cubeThrowaway: cubeSpec, floorThrowaway: noGradient('piecewise constant') })

/** Central differences of `sum(f(x) * w)` against the VJP with cotangent w, in float64. */
function maxGradientError(f: (x: Tensor) => Tensor, x: Tensor): number {
  const w = tensor(
    Array.from({ length: x.size }, (_, i) => 0.5 + i / 7),
    { dtype: 'float64', shape: x.shape.slice() },
  )
  const [, pullback] = vjp(f, x)
  const analytic = (pullback(w)[0] as Tensor).data
  const base = x.data as Float64Array
  let worst = 0
  for (let i = 0; i < x.size; i++) {
    const at = (h: number): number => {
      const d = base.slice()
      d[i] += h
      return sum(mul(f(tensor(d, { dtype: 'float64', shape: x.shape.slice() })), w)).item()
    }
    worst = Math.max(worst, Math.abs((at(1e-6) - at(-1e-6)) / 2e-6 - analytic[i]))
  }
  return worst
}

describe('adding an op, as the guide says', () => {
  it('gets a function that computes it', () => {
    expect(cubeThrowaway(tensor([1, 2, -3])).toArray()).toEqual([1, 8, -27])
    expect(floorThrowaway(tensor([1.5, -0.5])).toArray()).toEqual([1, -1])
  })

  it('gets a registry entry, found by the gradient-check machinery', () => {
    const entry = registeredOps().find((e) => e.name === 'cubeThrowaway')
    expect(entry?.family).toBe('throwawayForTheGuide')
    expect(entry !== undefined && hasGradient(entry.spec)).toBe(true)
    const none = registeredOps().find((e) => e.name === 'floorThrowaway')
    expect(none?.spec).toEqual({ noGradient: 'piecewise constant' })
  })

  it('passes a gradient check on cases drawn from its spec', async () => {
    const { CaseSampler } = await import('../src/index.ts')
    for (let seed = 0; seed < 5; seed++) {
      const c = cubeSpec.sample(new CaseSampler(seed))
      expect(
        maxGradientError((t) => c.fn(t), c.inputs[0]),
        c.label,
      ).toBeLessThan(1e-6)
    }
  })

  it('has symbolic-zero gradients through an op without one', () => {
    const [, pullback] = vjp((t: Tensor) => mul(floorThrowaway(t), t), tensor([1.5, 2.5], { dtype: 'float64' }))
    expect((pullback(tensor([1, 1], { dtype: 'float64' }))[0] as Tensor).toArray()).toEqual([1, 2])
  })

  it('the typed tables reject a missing entry (compile-time checks)', () => {
    // @ts-expect-error a family's spec table typed over its op names must have every op
    const missing: { readonly [K in 'a' | 'b']: GradSpec } = { a: cubeSpec }
    // @ts-expect-error a VJP cannot be left out as null: say noGradient('why')
    const nullVjp = () => makeOutput('x', [], new Float32Array(0), [0], null)
    // @ts-expect-error a method row whose op does not take a Tensor first gives no usable method
    const badMethod: MethodsOf<{ m: (n: number) => Tensor }> = { m: () => tensor([1]) }
    expect([missing, nullVjp, badMethod].length).toBe(3)
  })
})
