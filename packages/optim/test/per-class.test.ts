// perClass hands out the generated per-class copies of a kernel (kernels.generated.ts): a
// distinct function per array class, computing exactly what the kernel itself computes.
import { describe, expect, it } from 'vitest'
import { type AdaptiveCoefficients, adaptiveMomentKernel, perClass } from '../src/kernels.ts'

const c: AdaptiveCoefficients = {
  sign: 1,
  weightDecay: 0.01,
  decay: 1,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  secondMoment: 'squares',
  amsgrad: true,
  denominator: 'sqrt',
  vScale: 0.5,
  gradCoef: 0,
  momentCoef: 1e-3,
}

function run<A extends Float32Array | Float64Array>(kernel: typeof adaptiveMomentKernel<A>, make: (xs: number[]) => A): number[][] {
  const n = 5
  const ins = [0, 1, 2, 3, 4].map((k) => make(Array.from({ length: n }, (_, i) => Math.sin(7 * k + i) + (k >= 3 ? 1.5 : 0))))
  const outs = [0, 1, 2, 3].map(() => make(new Array<number>(n).fill(0)))
  kernel(ins[0], ins[1], ins[2], ins[3], ins[4], outs[0], outs[1], outs[2], outs[3], c)
  return outs.map((o) => [...o])
}

describe('perClass', () => {
  it("gives one distinct generated copy per array class, with the kernel's own results", () => {
    const f32 = perClass(adaptiveMomentKernel<Float32Array>, new Float32Array(1))
    const f64 = perClass(adaptiveMomentKernel<Float64Array>, new Float64Array(1))
    expect(f32).not.toBe(f64)
    expect(f32).not.toBe(adaptiveMomentKernel)
    expect(perClass(adaptiveMomentKernel<Float32Array>, new Float32Array(2))).toBe(f32)
    const to32 = (xs: number[]): Float32Array => new Float32Array(xs)
    const to64 = (xs: number[]): Float64Array => new Float64Array(xs)
    expect(run(f32, to32)).toEqual(run(adaptiveMomentKernel<Float32Array>, to32))
    expect(run(f64, to64)).toEqual(run(adaptiveMomentKernel<Float64Array>, to64))
  })

  it('refuses a kernel without generated copies, saying how to add them', () => {
    const stray = (p: Float64Array): void => void p
    expect(() => perClass(stray, new Float64Array(1))).toThrow(/pnpm gen:kernels/)
  })
})
