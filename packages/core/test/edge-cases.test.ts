// Edge cases found in review: each once gave a wrong number, a NaN or a misleading result.
import { describe, expect, it } from 'vitest'
import {
  type Tensor,
  add,
  argmax,
  clamp,
  customOp,
  foldIn,
  grad,
  jvp,
  key,
  leakyRelu,
  less,
  mean,
  mul,
  noGrad,
  norm,
  pow,
  randint,
  softmax,
  squeeze,
  sum,
  tensor,
  traceGraph,
  transpose,
  vjp,
  zeros,
} from '@graphgrad/core'

const f64 = (data: number[] | number[][]): Tensor => tensor(data, { dtype: 'float64' })
const arr = (t: unknown): number[] => Array.from((t as Tensor).data)

describe('transforms', () => {
  it('traceGraph inside grad leaves the outer graph alone and shows closed-over values as constants', () => {
    let labels: string[] = []
    const g = grad((z: Tensor) => {
      const h = mul(z, 2)
      labels = traceGraph((u: Tensor) => add(u, h), f64([0, 0])).nodes.map((n) => n.label)
      return sum(h)
    })(f64([1, 2]))
    expect(arr(g)).toEqual([2, 2])
    expect(labels).toEqual(['input 0', 'constant', 'add'])
  })
  it('grad works when called inside noGrad', () => {
    expect(arr(noGrad(() => grad((z: Tensor) => sum(mul(z, z)))(f64([1, 2]))))).toEqual([2, 4])
  })
  it('cotangents and tangents must match shapes exactly, not just sizes', () => {
    const [, pullback] = vjp((x: Tensor) => mul(x, f64([[1], [2], [3]])), f64([[1], [1], [1]]))
    expect(() => pullback(f64([1, 2, 3]))).toThrow("vjp: the cotangent must have the output's shape [3,1], got [3]")
    expect(() => jvp((z: Tensor) => sum(mul(z, z)), [f64([[1, 2, 3]])], [f64([[1], [0], [0]])])).toThrow('jvp: tangent 0 does not match primal 0')
    const transposing = customOp({ name: 'transposing', forward: (x) => mul(x, 1), vjp: (g) => [transpose(g)] })
    expect(() => grad((x: Tensor) => sum(transposing(x)))(zeros([2, 3], { dtype: 'float64' }))).toThrow(
      'transposing: vjp returned a cotangent of shape [3,2] for input 0 of shape [2,3]',
    )
  })
})

describe('ops', () => {
  it('a scalar takes axis 0 or -1, and reducing it over that axis is the identity', () => {
    expect(mean(tensor(5), 0).item()).toBe(5)
    expect(softmax(tensor(5)).item()).toBe(1)
    expect(squeeze(tensor(5), 0).item()).toBe(5)
  })
  it('integers past int32 compare correctly against int32 tensors', () => {
    expect(arr(less(tensor([5, -5], { dtype: 'int32' }), 2 ** 31))).toEqual([1, 1])
  })
  it('leakyRelu keeps a float64 slope exact', () => {
    expect(arr(grad((x: Tensor) => sum(leakyRelu(x, 0.01)))(f64([-1, 1])))).toEqual([0.01, 1])
  })
  it('pow has finite gradients at a = 0 where PyTorch does', () => {
    expect(arr(grad((x: Tensor) => sum(pow(x, 0)))(f64([0, 1])))).toEqual([0, 0])
    expect(arr(grad((x: Tensor) => sum(grad((y: Tensor) => sum(pow(y, 1)))(x)))(f64([0, 2])))).toEqual([0, 0])
  })
  it('the norm of a zero vector has gradient 0', () => {
    expect(arr(grad((x: Tensor) => norm(x))(f64([0, 0])))).toEqual([0, 0])
    expect(arr(grad((x: Tensor) => norm(x, 3))(f64([0, 0])))).toEqual([0, 0])
    expect(norm(f64([3, 4])).item()).toBe(5)
  })
  it('clamp with min > max gives max, as PyTorch', () => {
    expect(arr(clamp(tensor([0, 5]), 2, 1))).toEqual([1, 1])
    expect(arr(clamp(tensor([NaN]), 0, 1))[0]).toBeNaN()
  })
  it('argmax along an axis of an empty tensor is empty when the axis itself is not', () => {
    expect(argmax(zeros([3, 0]), 0).shape).toEqual([0])
    expect(() => argmax(zeros([3, 0]), 1)).toThrow('argmax: cannot take the argmax along axis 1 of size 0 in [3,0]')
  })
})

describe('randomness', () => {
  it('foldIn uses all of a safe integer', () => {
    expect(foldIn(key(1), 2 ** 32).words).not.toEqual(foldIn(key(1), 0).words)
    expect(() => foldIn(key(1), 1.5)).toThrow('foldIn: data must be a safe integer, got 1.5')
  })
  it('randint refuses a range int32 cannot hold', () => {
    expect(() => randint(0, 2 ** 33, [2], 1)).toThrow("randint: [0, 8589934592) does not fit int32; pass { dtype: 'float64' } for a wider range")
    expect(randint(0, 2 ** 33, [2], 1, { dtype: 'float64' }).dtype).toBe('float64')
  })
})
