// Issue 17 (hardening): each case once aborted Node, overflowed the stack, allocated gigabytes,
// gave NaN where PyTorch gives a number, wrapped an int32 silently or named the wrong op.
import { describe, expect, it } from 'vitest'
import {
  type Tensor,
  ArgumentError,
  DTypeError,
  GradientError,
  type GraphgradError,
  ShapeError,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  add,
  arange,
  argmax,
  astype,
  customOp,
  eye,
  full,
  grad,
  indexSelect,
  linspace,
  logSoftmax,
  logsumexp,
  matmul,
  max,
  min,
  mul,
  norm,
  oneHot,
  ones,
  pad,
  prod,
  randn,
  reshape,
  softmax,
  std,
  sum,
  tensor,
  uniform,
  where,
  zeros,
} from '@graphgrad/core'

const f64 = (data: number[]): Tensor => tensor(data, { dtype: 'float64' })
const int = (data: number[]): Tensor => tensor(data, { dtype: 'int32' })
const arr = (t: Tensor): number[] => Array.from(t.data)

/** Runs `fn`, expecting a graphgrad error of `cls` whose message matches `pattern`, within `ms`. */
function refuses(fn: () => unknown, cls: typeof GraphgradError, pattern: RegExp, ms = 1000): void {
  const start = performance.now()
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  expect(performance.now() - start).toBeLessThan(ms)
  expect(caught).toBeInstanceOf(cls)
  expect((caught as Error).message).toMatch(pattern)
}

/** Central differences of a scalar function of one float64 tensor. */
function numericGrad(f: (x: Tensor) => Tensor, x: Tensor, eps = 1e-6): number[] {
  const base = arr(x)
  return base.map((_, i) => {
    const at = (d: number): number =>
      f(
        tensor(
          Float64Array.from(base, (v, j) => (j === i ? v + d : v)),
          { shape: x.shape },
        ),
      ).item()
    return (at(eps) - at(-eps)) / (2 * eps)
  })
}

function expectClose(actual: number[], expected: number[], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length)
  actual.forEach((v, i) => expect(Math.abs(v - expected[i]), `entry ${i}: ${v} vs ${expected[i]}`).toBeLessThan(tol))
}

describe('issue 17.1: empty tensors print without looping, and no shape past the cap is allocated', () => {
  it('prints an empty tensor as PyTorch does, at once, whatever its dimensions', () => {
    const start = performance.now()
    expect(String(zeros([1e8, 0]))).toBe('tensor([], size=(100000000, 0))')
    expect(String(zeros([0, 2 ** 31 - 1, 3], { dtype: 'float64' }))).toBe('tensor([], size=(0, 2147483647, 3), dtype=float64)')
    expect(performance.now() - start).toBeLessThan(100)
    expect(String(zeros([0]))).toBe('tensor([])')
    expect(String(zeros([0], { dtype: 'int32' }))).toBe('tensor([], dtype=int32)')
  })
  it('refuses a dimension past the cap in a creation function, naming it and the shape', () => {
    refuses(() => String(zeros([1e20, 0])), ShapeError, /^zeros: shape \[100000000000000000000,0\]/)
    refuses(() => zeros([1e6, 1e6]), ShapeError, /^zeros: shape \[1000000,1000000\] has 1000000000000 elements/)
    refuses(() => zeros([3e9], { dtype: 'float64' }), ShapeError, /^zeros: shape \[3000000000\]/)
    refuses(() => eye(1e6), ShapeError, /^eye: shape \[1000000,1000000\]/)
    refuses(() => ones([2 ** 16, 2 ** 16]), ShapeError, /^ones/)
    refuses(() => randn([2 ** 31], 0), ShapeError, /^randn/)
  })
  it('refuses ranges and counts past the cap before allocating', () => {
    refuses(() => arange(3e9), ShapeError, /^arange: .*\[3000000000\]/)
    refuses(() => arange(0, 1, 1e-10), ShapeError, /^arange/)
    refuses(() => linspace(0, 1, 3e9), ShapeError, /^linspace: .*\[3000000000\]/)
  })
  it('refuses op results past the cap, naming the op and the shapes', () => {
    refuses(
      () =>
        pad(zeros([3, 3]), [
          [0, 1e9],
          [0, 1e9],
        ]),
      ShapeError,
      /^pad: shape \[1000000003,1000000003\]/,
    )
    refuses(() => pad(zeros([3]), [[0, 3e9]]), ShapeError, /^pad: shape \[3000000003\]/)
    refuses(() => reshape(zeros([0]), [1e20, 0]), ShapeError, /^reshape: shape \[100000000000000000000,0\]/)
    refuses(() => add(zeros([1e5, 1]), zeros([1, 1e5])), ShapeError, /^add: .*\[100000,100000\]/)
    refuses(() => where(zeros([1e5, 1], { dtype: 'int32' }), zeros([1, 1e5]), 0), ShapeError, /^where: .*\[100000,100000\]/)
    refuses(() => matmul(zeros([1e5, 0]), zeros([0, 1e5])), ShapeError, /^matmul: .*\[100000,100000\]/)
    refuses(() => oneHot(zeros([1e5], { dtype: 'int32' }), 1e5), ShapeError, /^oneHot: .*\[100000,100000\]/)
    refuses(() => indexSelect(zeros([1, 1e5]), 0, zeros([1e5], { dtype: 'int32' })), ShapeError, /^indexSelect: .*\[100000,100000\]/)
  })
  it('adaptive pooling checks its output size before laying out its bins (found by the fuzz)', () => {
    refuses(() => adaptiveAvgPool1d(zeros([1, 1, 4]), 3e9), ShapeError, /^adaptiveAvgPool1d: shape \[1,1,3000000000\]/)
    const start = performance.now()
    expect(adaptiveAvgPool2d(zeros([0, 1, 4, 4]), [2 ** 30, 2]).shape).toEqual([0, 1, 2 ** 30, 2])
    expect(performance.now() - start).toBeLessThan(1000)
  })
})

describe('issue 17.2: large tensors print summarised, as PyTorch', () => {
  it('prints a 512 x 512 tensor without overflowing the stack', () => {
    const lines = randn([512, 512], 0).toString().split('\n')
    expect(lines).toHaveLength(7)
    expect(lines[3]).toBe('        ...,')
    for (const i of [0, 1, 2, 4, 5, 6])
      expect(lines[i]).toMatch(/^( {8}\[|tensor\(\[\[)[- ]\d\.\d{4}, [- ]\d\.\d{4}, [- ]\d\.\d{4},  \.\.\., [- ]\d\.\d{4}, [- ]\d\.\d{4}, [- ]\d\.\d{4}\]/)
  })
  it('takes the format and the width from the elements shown only', () => {
    const t = reshape(arange(0, 2000, 1, { dtype: 'float64' }), [2, 1000])
    expect(t.toString()).toBe(
      'tensor([[   0.,    1.,    2.,  ...,  997.,  998.,  999.],\n        [1000., 1001., 1002.,  ..., 1997., 1998., 1999.]], dtype=float64)',
    )
    // A hidden element (here 1e10, far in the middle) does not switch the shown ones to scientific.
    const hidden = tensor(Float32Array.from({ length: 2000 }, (_, i) => (i === 1000 ? 1e10 : i % 10)))
    expect(hidden.toString()).toBe('tensor([0., 1., 2.,  ..., 7., 8., 9.])')
  })
})

describe("issue 17.4: std and the p < 1 norm have PyTorch's gradients where the root is 0", () => {
  it('std of a constant tensor has gradient zero', () => {
    expect(arr(grad((x: Tensor) => std(x))(f64([2, 2, 2])))).toEqual([0, 0, 0])
    expectClose(
      arr(
        grad((x: Tensor) => sum(std(x, 1)))(
          tensor(
            [
              [1, 1],
              [1, 3],
            ],
            { dtype: 'float64' },
          ),
        ),
      ),
      [0, 0, -Math.SQRT1_2, Math.SQRT1_2],
      1e-12,
    )
  })
  it('std still matches finite differences, at first and second order, away from zero', () => {
    const x = f64([0.3, -1.2, 2.5, 0.7])
    const f = (t: Tensor): Tensor => std(t)
    expectClose(arr(grad(f)(x)), numericGrad(f, x))
    const g = (t: Tensor): Tensor => sum(mul(grad(f)(t), f64([1, 2, 3, 4])))
    expectClose(arr(grad(g)(x)), numericGrad(g, x), 1e-5)
  })
  it('the 0.5-norm gives 0 for a zero entry (PyTorch) and finite differences elsewhere', () => {
    const x = f64([1, -2, 0])
    const f = (t: Tensor): Tensor => norm(t, 0.5)
    const g = arr(grad(f)(x))
    expect(g[2]).toBe(0)
    const fd = numericGrad(f, f64([1, -2, 0.5]))
    const atNonZero = arr(grad(f)(f64([1, -2, 0.5])))
    expectClose(atNonZero, fd, 1e-5)
    // Where the entry is zero, the other entries' gradient is that of the norm of the rest.
    expectClose(g.slice(0, 2), arr(grad(f)(f64([1, -2]))))
    expect(arr(grad((t: Tensor) => sum(grad(f)(t)))(x)).every(Number.isFinite)).toBe(true)
  })
})

describe('issue 17.9: int32 values are refused where they do not fit, and int sums do not wrap', () => {
  it('refuses values an int32 cannot hold at construction', () => {
    refuses(() => full([2], 3e9, { dtype: 'int32' }), DTypeError, /^full: value 3000000000 .*int32/)
    refuses(() => full([2], NaN, { dtype: 'int32' }), DTypeError, /^full: value NaN/)
    refuses(() => tensor([3e10], { dtype: 'int32' }), DTypeError, /^tensor: value 30000000000 .*int32/)
    refuses(() => tensor([[1], [-Infinity]], { dtype: 'int32' }), DTypeError, /^tensor: value -Infinity/)
    refuses(() => tensor(Float64Array.of(1, NaN), { dtype: 'int32' }), DTypeError, /^tensor: value NaN/)
    refuses(() => arange(0, 4e9, 1e9, { dtype: 'int32' }), DTypeError, /^arange: value 3000000000 .*int32/)
    refuses(() => linspace(0, 3e9, 2, { dtype: 'int32' }), DTypeError, /^linspace: .*int32/)
    refuses(() => uniform([2], 0, 3e9, 0, { dtype: 'int32' }), DTypeError, /^uniform: .*int32/)
    refuses(() => pad(int([1]), [[1, 1]], 3e9), DTypeError, /^pad: value 3000000000 .*int32/)
    // In range, fractions still truncate toward zero (as PyTorch), and the extremes are kept.
    expect(arr(tensor([2.7, -2.7, 2147483647, -2147483648], { dtype: 'int32' }))).toEqual([2, -2, 2147483647, -2147483648])
    expect(arr(full([1], -2147483648.5, { dtype: 'int32' }))).toEqual([-2147483648])
  })
  it('refuses a cast to int32 of NaN, Infinity or a value out of range', () => {
    refuses(() => astype(tensor([1, NaN]), 'int32'), DTypeError, /^astype: value NaN .*int32/)
    refuses(() => astype(f64([3e9]), 'int32'), DTypeError, /^astype: value 3000000000/)
    refuses(() => astype(tensor([Infinity]), 'int32'), DTypeError, /^astype: value Infinity/)
    expect(arr(astype(f64([-2147483648.9, 2147483647.9]), 'int32'))).toEqual([-2147483648, 2147483647])
  })
  it('sums and products of int32 accumulate wide and refuse a result past int32', () => {
    refuses(() => sum(int([2147483647, 1])), DTypeError, /^sum: .*2147483648.*int32/)
    refuses(() => sum(int([-2147483648, -1])), DTypeError, /^sum: /)
    refuses(
      () =>
        sum(
          tensor(
            [
              [2147483647, 5],
              [1, 1],
            ],
            { dtype: 'int32' },
          ),
          0,
        ),
      DTypeError,
      /^sum: /,
    )
    refuses(() => prod(int([65536, 65536])), DTypeError, /^prod: .*4294967296/)
    const s = sum(int([2147483647, 1, -2]))
    expect([s.dtype, s.item()]).toEqual(['int32', 2147483646])
    // A product that overflows a float64 on the way and then meets a zero is 0, not NaN.
    expect(prod(int([...new Array<number>(40).fill(2147483647), 0])).item()).toBe(0)
    expect(
      arr(
        prod(
          tensor(
            [
              [46341, 46340],
              [3, 4],
            ],
            { dtype: 'int32' },
          ),
          1,
        ),
      ),
    ).toEqual([2147441940, 12])
    // A matrix product is a sum of products too.
    refuses(() => matmul(tensor([[65536, 1]], { dtype: 'int32' }), tensor([[65536], [0]], { dtype: 'int32' })), DTypeError, /^matmul: .*4294967296.*int32/)
    expect(arr(matmul(tensor([[65536, -1]], { dtype: 'int32' }), tensor([[32767], [-65535]], { dtype: 'int32' })))).toEqual([2147483647])
  })
})

describe('issue 17.10: reductions over an empty axis follow PyTorch and name the op called', () => {
  it('logsumexp of nothing is -Infinity, and softmax over an empty axis is empty', () => {
    expect(logsumexp(zeros([0])).item()).toBe(-Infinity)
    expect(arr(logsumexp(zeros([2, 0]), 1))).toEqual([-Infinity, -Infinity])
    expect(softmax(zeros([2, 0]), -1).shape).toEqual([2, 0])
    expect(logSoftmax(zeros([0, 3]), 0).shape).toEqual([0, 3])
    expect(arr(grad((x: Tensor) => sum(softmax(x, 0)))(zeros([0, 2], { dtype: 'float64' })))).toEqual([])
  })
  it('the infinity norm of nothing is 0, and the ops without an identity refuse by their own name', () => {
    expect(norm(zeros([0]), Infinity).item()).toBe(0)
    expect(arr(norm(zeros([3, 0]), Infinity, 1))).toEqual([0, 0, 0])
    refuses(() => norm(zeros([0]), -Infinity), ArgumentError, /^norm: .*-Infinity.*\[0\]/)
    refuses(() => max(zeros([2, 0]), 1), ArgumentError, /^max: .*\[2,0\]/)
    refuses(() => min(zeros([0])), ArgumentError, /^min: /)
    refuses(() => argmax(zeros([0])), ArgumentError, /^argmax: /)
  })
})

describe("issue 17.16: a customOp VJP must return cotangents of its inputs' dtypes", () => {
  it('refuses a float32 cotangent for a float64 input, naming the op, the input and both dtypes', () => {
    const narrowing = customOp({ name: 'narrowing', forward: (x) => mul(x, 2), vjp: (g) => [astype(mul(g, 2), 'float32')] })
    refuses(
      () => grad((x: Tensor) => sum(narrowing(x)))(f64([1, 2])),
      GradientError,
      /^narrowing: vjp returned a float32 cotangent for input 0 of dtype float64/,
    )
    const honest = customOp({ name: 'honest', forward: (x) => mul(x, 2), vjp: (g) => [mul(g, 2)] })
    expect(arr(grad((x: Tensor) => sum(honest(x)))(f64([1, 2])))).toEqual([2, 2])
  })
})
