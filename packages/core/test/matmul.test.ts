import { afterAll, describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { CaseSampler, ShapeError, ArgumentError, type Tensor, add, grad, hasGradient, mul, registeredOps, sum, tensor, vjp, type DType } from '@graphgrad/core'
import { createGemm, gemm, jsGemm, setGemmBackend, type Gemm } from '../src/kernels/matmul.ts'
import { dot, matmul, matmulT, outer } from '../src/ops/matmul.ts'
import { transpose } from '../src/ops/reshape.ts'
import { allcloseReport, referenceCases, referenceTensors } from '../../../testdata/fixtures.ts'
import { checkVjp } from '../../../testdata/testing.ts'

type Float = 'float32' | 'float64'
const ARRAY = { float32: Float32Array, float64: Float64Array } as const

/** Deterministic values in [-1, 1) from a seed (fast-check drives the seed). */
function values(n: number, seed: number): number[] {
  let x = seed >>> 0 || 1
  return Array.from({ length: n }, () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return ((x >>> 0) / 2 ** 32) * 2 - 1
  })
}

function naiveGemm(a: ArrayLike<number>, ta: boolean, b: ArrayLike<number>, tb: boolean, M: number, N: number, K: number): number[] {
  const out = new Array<number>(M * N).fill(0)
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0
      for (let k = 0; k < K; k++) s += a[ta ? k * M + i : i * K + k] * b[tb ? j * K + k : k * N + j]
      out[i * N + j] = s
    }
  }
  return out
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length)
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) {
      expect.fail(`element ${i}: ${actual[i]} vs ${expected[i]}`)
    }
  }
}

/** A reference batched matmul with NumPy semantics, written independently of the op. */
function naiveMatmul(a: Tensor, b: Tensor): { data: number[]; shape: number[] } {
  const as = a.rank === 1 ? [1, a.shape[0]] : [...a.shape]
  const bs = b.rank === 1 ? [b.shape[0], 1] : [...b.shape]
  const [M, K, N] = [as[as.length - 2], as[as.length - 1], bs[bs.length - 1]]
  const ba = as.slice(0, -2)
  const bb = bs.slice(0, -2)
  const n = Math.max(ba.length, bb.length)
  const pa = [...new Array<number>(n - ba.length).fill(1), ...ba]
  const pb = [...new Array<number>(n - bb.length).fill(1), ...bb]
  const batch = pa.map((d, i) => Math.max(d, pb[i]))
  const data: number[] = []
  const count = batch.reduce((x, y) => x * y, 1)
  for (let t = 0; t < count; t++) {
    let ia = 0
    let ib = 0
    let rest = t
    const idx = batch.map(() => 0)
    for (let d = n - 1; d >= 0; d--) {
      idx[d] = rest % batch[d]
      rest = Math.floor(rest / batch[d])
    }
    for (let d = 0; d < n; d++) {
      ia = ia * pa[d] + (pa[d] === 1 ? 0 : idx[d])
      ib = ib * pb[d] + (pb[d] === 1 ? 0 : idx[d])
    }
    data.push(...naiveGemm(a._data.subarray(ia * M * K, (ia + 1) * M * K), false, b._data.subarray(ib * K * N, (ib + 1) * K * N), false, M, N, K))
  }
  const shape = [...batch, ...(a.rank > 1 ? [M] : []), ...(b.rank > 1 ? [N] : [])]
  return { data, shape }
}

const float = fc.constantFrom<Float>('float32', 'float64')

describe('gemm kernel', () => {
  // The TypeScript kernels (the WASM ones have wasm-gemm.test.ts). A tiny blocking makes small
  // shapes cross every block boundary (K, N and M blocks, edge tiles).
  const kernels: [string, Gemm][] = [
    ['default', jsGemm],
    ['tiny blocks', createGemm({ mr: 4, nr: 4, kc: 5, mc: 7, nc: 9 })],
    ['3x2 tiles', createGemm({ mr: 3, nr: 2, kc: 4, mc: 6, nc: 5 })],
  ]
  for (const [name, g] of kernels) {
    it(`matches a naive product for all transpositions and dtypes (${name})`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 23 }),
          fc.integer({ min: 0, max: 23 }),
          fc.integer({ min: 0, max: 23 }),
          fc.boolean(),
          fc.boolean(),
          float,
          fc.integer({ min: 0, max: 3 }),
          fc.integer(),
          (M, N, K, ta, tb, dtype, offset, seed) => {
            const A = ARRAY[dtype]
            const a = A.from([...values(offset, seed), ...values(M * K, seed + 1)])
            const b = A.from([...values(offset, seed + 2), ...values(K * N, seed + 3)])
            const out = new A(offset + M * N).fill(7)
            g(a, offset, ta, b, offset, tb, out, offset, M, N, K)
            const ref = naiveGemm(a.subarray(offset), ta, b.subarray(offset), tb, M, N, K)
            expectClose(out.subarray(offset), dtype === 'float32' ? ref.map(Math.fround) : ref, dtype === 'float32' ? 1e-6 : 1e-12)
            for (let i = 0; i < offset; i++) expect(out[i]).toBe(7)
          },
        ),
        { numRuns: 150 },
      )
    })
  }

  for (const [name, g] of [
    ['dispatched', gemm],
    ['js', jsGemm],
  ] as const) {
    it(`handles shapes larger than the default blocks (${name})`, () => {
      const [M, N, K] = [70, 2060, 300]
      const a = Float64Array.from(values(M * K, 5))
      const b = Float64Array.from(values(K * N, 6))
      const out = new Float32Array(M * N)
      g(a, 0, false, b, 0, true, out, 0, M, N, K)
      expectClose(out, naiveGemm(a, false, b, true, M, N, K).map(Math.fround), 1e-6)
    })
  }

  it('accumulates float32 inputs in float64', () => {
    // 1 + 2^-30 - 1 is lost in float32 arithmetic but kept in float64.
    const a = new Float32Array([1, 2 ** -30, -1])
    const b = new Float32Array([1, 1, 1])
    const out = new Float64Array(1)
    gemm(a, 0, false, b, 0, false, out, 0, 1, 1, 3)
    expect(out[0]).toBe(2 ** -30)
  })

  it('writes zeros when the inner dimension is empty, and int32 results as int32', () => {
    const out = new Float32Array([5, 5])
    gemm(new Float32Array(0), 0, false, new Float32Array(0), 0, false, out, 0, 1, 2, 0)
    expect([...out]).toEqual([0, 0])
    const ints = new Int32Array(4)
    gemm(new Int32Array([1, 2, 3, 4]), 0, false, new Int32Array([5, 6, 7, 8]), 0, true, ints, 0, 2, 2, 2)
    expect([...ints]).toEqual([17, 23, 39, 53])
  })
})

/** Shapes for the op: vectors, matrices, batches, broadcast batches (some of them size 0). */
const operandShapes = fc
  .tuple(
    fc.integer({ min: 0, max: 5 }),
    fc.integer({ min: 0, max: 5 }),
    fc.integer({ min: 0, max: 5 }),
    fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
    fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 3 }),
    fc.constantFrom('vv', 'vm', 'mv', 'mm'),
  )
  .map(([M, K, N, batch, ones, dropA, dropB, kind]) => {
    const ba = batch.slice(Math.min(dropA, batch.length)).map((d, i) => (ones[i] ? 1 : d))
    const bb = batch.slice(Math.min(dropB, batch.length))
    return [kind[0] === 'v' ? [K] : [...ba, M, K], kind[1] === 'v' ? [K] : [...bb, K, N]] as const
  })

function absolute(x: Tensor): Tensor {
  return tensor(x._data.map(Math.abs), { shape: [...x.shape], dtype: x.dtype })
}

function make(shape: readonly number[], dtype: DType, seed: number): Tensor {
  return tensor(
    ARRAY[dtype === 'int32' ? 'float64' : dtype].from(
      values(
        shape.reduce((x, y) => x * y, 1),
        seed,
      ),
    ),
    { shape: [...shape], dtype },
  )
}

describe('matmul', () => {
  afterAll(() => setGemmBackend('auto'))
  for (const backend of ['wasm', 'js'] as const)
    it(`matches a naive batched product (vectors, batches, broadcasting), in both float dtypes (${backend} gemm)`, () => {
      setGemmBackend(backend)
      fc.assert(
        fc.property(operandShapes, float, fc.integer(), ([sa, sb], dtype, seed) => {
          const a = make(sa, dtype, seed)
          const b = make(sb, dtype, seed + 1)
          const out = matmul(a, b)
          const ref = naiveMatmul(a, b)
          expect(out.shape).toEqual(ref.shape)
          expect(out.dtype).toBe(dtype)
          if (dtype === 'float64' || backend === 'js') {
            expectClose(out._data, dtype === 'float32' ? ref.data.map(Math.fround) : ref.data, dtype === 'float32' ? 1e-6 : 1e-12)
          } else {
            // float32 on wasm accumulates in float32: each of the K products and sums may round, by
            // at most 2^-24 of the running sum of magnitudes (bounded by the product of |a| and |b|).
            const K = sa[sa.length - 1]
            const bound = naiveMatmul(absolute(a), absolute(b)).data
            ref.data.forEach((r, i) => expect(Math.abs(out._data[i] - r)).toBeLessThanOrEqual(2 * (K + 1) * 2 ** -24 * bound[i] + 2 ** -24 * Math.abs(r)))
          }
        }),
        { numRuns: 200 },
      )
    })

  it('gives NumPy result shapes', () => {
    const shape = (sa: number[], sb: number[]): readonly number[] => matmul(make(sa, 'float64', 1), make(sb, 'float64', 2)).shape
    expect(shape([3], [3])).toEqual([])
    expect(shape([3], [3, 4])).toEqual([4])
    expect(shape([2, 3], [3])).toEqual([2])
    expect(shape([2, 3, 4, 5], [5, 6])).toEqual([2, 3, 4, 6])
    expect(shape([2, 1, 3, 4], [5, 4, 6])).toEqual([2, 5, 3, 6])
    expect(shape([4], [2, 4, 6])).toEqual([2, 6])
    expect(shape([2, 3, 4], [4])).toEqual([2, 3])
  })

  it('treats a transposed operand like a transposed matrix', () => {
    const a = make([3, 4], 'float64', 3)
    const b = make([2, 3, 5], 'float64', 4)
    expectClose(matmul(transpose(a, 0, 1), b)._data, naiveMatmul(tensor(naiveTranspose(a), { shape: [4, 3], dtype: 'float64' }), b).data, 1e-12)
  })

  it('promotes dtypes as binary ops do', () => {
    const f32 = make([2, 2], 'float32', 1)
    const f64 = make([2, 2], 'float64', 2)
    const i32 = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'int32' },
    )
    expect(matmul(f32, f64).dtype).toBe('float64')
    expect(matmul(i32, f32).dtype).toBe('float32')
    const ints = matmul(i32, i32)
    expect(ints.dtype).toBe('int32')
    expect(ints.toArray()).toEqual([
      [7, 10],
      [15, 22],
    ])
  })

  it('names the shapes in its errors', () => {
    const z = (...shape: number[]): Tensor => make(shape, 'float64', 0)
    expect(() => matmul(z(2, 3), z(4, 5))).toThrow(new ShapeError('matmul: cannot multiply [2,3] by [4,5]: inner dimensions 3 and 4 differ'))
    expect(() => matmul(z(3), z(4))).toThrow('matmul: cannot multiply [3] by [4]: inner dimensions 3 and 4 differ')
    expect(() => matmul(z(2, 3, 4), z(3, 4, 5))).toThrow('matmul: cannot multiply [2,3,4] by [3,4,5]: batch dimensions [2] and [3] do not broadcast')
    expect(() => matmul(z(), z(3))).toThrow(ShapeError)
    expect(() => dot(z(2, 3), z(3))).toThrow(new ArgumentError('dot: expects two 1-D tensors, got [2,3] and [3]'))
    expect(() => dot(z(2), z(3))).toThrow('dot: cannot multiply [2] by [3]: lengths 2 and 3 differ')
    expect(() => outer(z(2), z(3, 1))).toThrow('outer: expects two 1-D tensors, got [2] and [3,1]')
  })

  it('dot and outer', () => {
    const a = tensor([1, 2, 3], { dtype: 'float64' })
    const b = tensor([4, 5, 6], { dtype: 'float64' })
    expect(dot(a, b).item()).toBe(32)
    expect(outer(a, tensor([1, -1])).toArray()).toEqual([
      [1, -1],
      [2, -2],
      [3, -3],
    ])
  })
})

function naiveTranspose(x: Tensor): number[] {
  const [r, c] = x.shape
  return Array.from({ length: r * c }, (_, i) => x._data[(i % r) * c + Math.floor(i / r)])
}

/** Finite-difference check of the VJP of `f`: |analytic - numeric| < 1e-6 (1 + |numeric|) everywhere. */
function finiteDifferenceReport(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], seed: number, label: string): string | null {
  return checkVjp(f, xs, { cotangent: (shape) => make(shape, 'float64', seed), eps: 1e-6, atol: 1e-6, rtol: 1e-6, strict: true, label })
}

describe('matmul gradients', () => {
  const specs = registeredOps().filter((e) => ['matmul', 'dot', 'outer'].includes(e.name))

  it('registers matmul as a primitive and dot, outer as composites', () => {
    expect(specs.map((e) => [e.name, e.kind, e.family])).toEqual([
      ['matmul', 'primitive', 'matmul'],
      ['dot', 'composite', 'matmul'],
      ['outer', 'composite', 'matmul'],
    ])
  })

  for (const entry of specs) {
    it(`${entry.name}: first and second derivatives agree with finite differences`, () => {
      const spec = entry.spec
      if (!hasGradient(spec)) throw new Error('expected a gradient spec')
      for (let seed = 0; seed < 24; seed++) {
        const c = spec.sample(new CaseSampler(seed))
        expect(finiteDifferenceReport(c.fn, c.inputs, seed, `first order, ${c.label}`)).toBeNull()
        // The gradient contracted with fixed weights: its own gradient exercises the VJP of the VJP.
        const argnums = c.inputs.map((_, i) => i)
        const weights = c.inputs.map((x, i) => make(x.shape, 'float64', seed * 7 + i))
        const rOut = make(c.fn(...c.inputs).shape, 'float64', seed + 100)
        const h = (...xs: Tensor[]): Tensor => {
          const gs = grad((...ys: Tensor[]) => sum(mul(c.fn(...ys), rOut)), { argnums })(...xs) as Tensor[]
          return gs.map((g, i) => sum(mul(g, weights[i]))).reduce((p, q) => add(p, q))
        }
        expect(finiteDifferenceReport(h, c.inputs, seed + 1, `second order, ${c.label}`)).toBeNull()
      }
    })
  }

  it('sums cotangents over broadcast batch dimensions', () => {
    const a = make([2, 1, 3, 4], 'float64', 1)
    const b = make([5, 4, 6], 'float64', 2)
    const [ga, gb] = grad((x: Tensor, z: Tensor) => sum(matmul(x, z)), { argnums: [0, 1] })(a, b) as Tensor[]
    expect(ga.shape).toEqual([2, 1, 3, 4])
    expect(gb.shape).toEqual([5, 4, 6])
    // d/dA sum(A @ B) = ones @ B^T summed over the 5 broadcast copies: row sums of every B.
    const rowSums = Array.from({ length: 4 }, (_, k) => {
      let s = 0
      for (let t = 0; t < 5; t++) for (let j = 0; j < 6; j++) s += b._data[t * 24 + k * 6 + j]
      return s
    })
    expectClose(
      ga._data,
      Array.from({ length: 24 }, (_, i) => rowSums[i % 4]),
      1e-12,
    )
  })
})

describe('matmul against PyTorch', () => {
  const expressions: Record<string, (t: Record<string, Tensor>) => Tensor> = {
    'torch.matmul(a, b)': ({ a, b }) => matmul(a, b),
    'a.transpose(0, 1) @ b': ({ a, b }) => matmul(transpose(a, 0, 1), b),
  }
  const cases = referenceCases('ops').filter((c) => c.file === 'ops_51_batched_matmul.safetensors' || c.file === 'ops_61_transpose_matmul_bcast.safetensors')
  for (const c of cases) {
    it(c.file ?? '', () => {
      const t = referenceTensors(c)
      const get = (name: string): Tensor => t.get(name) as Tensor
      const expr = expressions[String(c.config.expr)]
      const [out, pullback] = vjp((a: Tensor, b: Tensor) => expr({ a, b }), get('a'), get('b'))
      const [ga, gb] = pullback(get('r_output')) as Tensor[]
      const problems = [
        allcloseReport('output', out, get('output'), c.tolerance),
        allcloseReport('grad.a', ga, get('grad.a'), c.tolerance),
        allcloseReport('grad.b', gb, get('grad.b'), c.tolerance),
      ]
      expect(problems.filter((p) => p !== null)).toEqual([])
    })
  }
})

describe('matmulT (transpose flags)', () => {
  it('reads transposed operands in place, promotes dtypes, and differentiates', () => {
    const x = make([2, 3], 'float32', 1)
    const w = make([4, 3], 'float64', 2)
    const y = matmulT(x, w, false, true)
    expect(y.dtype).toBe('float64')
    expectClose(y._data, matmul(x, transpose(w))._data, 1e-12)
    const [gx, gw] = grad((a: Tensor, b: Tensor) => sum(matmulT(a, b, false, true)), { argnums: [0, 1] })(make([2, 3], 'float64', 1), w) as Tensor[]
    expect(gx.shape).toEqual([2, 3])
    expect(gw.shape).toEqual([4, 3])
    expect(() => matmulT(make([3], 'float64', 0), w, false, true)).toThrow('matmul: transposed operands need rank >= 2, got [3] and [4,3]')
  })
})
