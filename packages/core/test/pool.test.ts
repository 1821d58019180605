// Pooling: max, average and adaptive average pooling against direct loops of PyTorch's
// definitions on random shapes and options, VJPs against central differences to first and
// second order, the tie and NaN rules of max pooling, dtypes, and the errors for bad inputs.
// Seeded (fast-check), so a failure reproduces.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  ArgumentError,
  CaseSampler,
  DTypeError,
  ShapeError,
  type Tensor,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  add,
  astype,
  avgPool1d,
  avgPool2d,
  grad,
  maxPool1d,
  maxPool2d,
  mul,
  registeredOps,
  sum,
  tensor,
} from '@graphgrad/core'
import { fdCheck, wave } from '../../../testdata/testing.ts'

const SEED = 4048
const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 })

interface Axis {
  k: number
  s: number
  p: number
  d: number
}

/** PyTorch's output size (pooling_output_shape). */
function outSize(n: number, a: Axis, ceil: boolean): number {
  let o = Math.floor((n + 2 * a.p - a.d * (a.k - 1) - 1 + (ceil ? a.s - 1 : 0)) / a.s) + 1
  if (ceil && (o - 1) * a.s >= n + a.p) o--
  return o
}

/** Direct loops over [planes, H, W] of PyTorch's max and average pooling (avg_pool2d's divisor rules). */
function naivePool(x: Tensor, rows: Axis, cols: Axis, kind: 'max' | 'avg', ceil: boolean, countPad: boolean): Tensor {
  const [H, W] = x.shape.slice(-2)
  const planes = x.size / (H * W)
  const [OH, OW] = [outSize(H, rows, ceil), outSize(W, cols, ceil)]
  const out = new Float64Array(planes * OH * OW)
  const xd = x.data
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++) {
        const [h0, w0] = [i * rows.s - rows.p, j * cols.s - cols.p]
        let best = -Infinity
        let total = 0
        let inside = 0
        for (let a = 0; a < rows.k; a++)
          for (let b = 0; b < cols.k; b++) {
            const [h, w] = [h0 + a * rows.d, w0 + b * cols.d]
            if (h < 0 || h >= H || w < 0 || w >= W) continue
            const v = xd[(p * H + h) * W + w]
            if (v > best || Number.isNaN(v)) best = v
            total += v
            inside++
          }
        const padded = (Math.min(h0 + rows.k, H + rows.p) - h0) * (Math.min(w0 + cols.k, W + cols.p) - w0)
        out[(p * OH + i) * OW + j] = kind === 'max' ? best : total / (countPad ? padded : inside)
      }
  return tensor(out, { shape: [...x.shape.slice(0, -2), OH, OW], dtype: 'float64' })
}

/** Direct loops of PyTorch's adaptive average pooling bins. */
function naiveAdaptive(x: Tensor, OH: number, OW: number): Tensor {
  const [H, W] = x.shape.slice(-2)
  const planes = x.size / (H * W)
  const out = new Float64Array(planes * OH * OW)
  for (let p = 0; p < planes; p++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++) {
        const [h0, h1] = [Math.floor((i * H) / OH), Math.ceil(((i + 1) * H) / OH)]
        const [w0, w1] = [Math.floor((j * W) / OW), Math.ceil(((j + 1) * W) / OW)]
        let total = 0
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) total += x.data[(p * H + h) * W + w]
        out[(p * OH + i) * OW + j] = total / ((h1 - h0) * (w1 - w0))
      }
  return tensor(out, { shape: [...x.shape.slice(0, -2), OH, OW], dtype: 'float64' })
}

function drawAxis(s: CaseSampler, max: boolean): Axis {
  const k = s.int(1, 4)
  const d = max ? s.pick([1, 1, 2, 3]) : 1
  return { k, s: s.int(1, 3), p: d > 1 ? 0 : s.int(0, Math.floor(k / 2)), d }
}

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape)
  const [u, v] = [Array.from(a.data), b.data]
  return u.reduce((m, x, i) => Math.max(m, Math.abs(x - v[i]) || (Number.isNaN(x) === Number.isNaN(v[i]) ? 0 : Infinity)), 0)
}

describe("pooling computes PyTorch's definitions", () => {
  for (const kind of ['max', 'avg'] as const) {
    it(`${kind}Pool2d and ${kind}Pool1d equal the direct loops (padding, stride, ${kind === 'max' ? 'dilation, ' : 'count_include_pad, '}ceil mode, ties)`, () => {
      fc.assert(
        fc.property(seeds, (seed) => {
          const s = new CaseSampler(seed)
          const [rows, cols] = [drawAxis(s, kind === 'max'), drawAxis(s, kind === 'max')]
          const [ceil, countPad] = [s.coin(), s.coin()]
          const spatial = [rows, cols].map((a) => s.int(Math.max(1, a.d * (a.k - 1) + 1 - 2 * a.p), 9))
          // Values on a coarse grid: many ties inside windows.
          const shape = [s.int(0, 2), s.int(1, 3), ...spatial]
          const x = tensor(
            Float64Array.from(s.values(shape)._data, (v) => Math.round(v * 2) / 2),
            { shape, dtype: 'float64' },
          )
          const options = { kernelSize: [rows.k, cols.k], stride: [rows.s, cols.s], padding: [rows.p, cols.p], ceilMode: ceil } as const
          const y = kind === 'max' ? maxPool2d(x, { ...options, dilation: [rows.d, cols.d] }) : avgPool2d(x, { ...options, countIncludePad: countPad })
          expect(maxDiff(y, naivePool(x, rows, cols, kind, ceil, countPad)), JSON.stringify(options)).toBeLessThan(1e-14)
          // 1-d: the last axis alone.
          const flat = x.reshape([shape[0] * shape[1], spatial[0], spatial[1]])
          const o1 = { kernelSize: cols.k, stride: cols.s, padding: cols.p, ceilMode: ceil }
          const y1 = kind === 'max' ? maxPool1d(flat, { ...o1, dilation: cols.d }) : avgPool1d(flat, { ...o1, countIncludePad: countPad })
          expect(maxDiff(y1, naivePool(flat, { k: 1, s: 1, p: 0, d: 1 }, cols, kind, ceil, countPad).reshape(y1.shape))).toBeLessThan(1e-14)
        }),
        { seed: SEED, numRuns: 150 },
      )
    })
  }

  it("adaptiveAvgPool2d and adaptiveAvgPool1d use PyTorch's bins (output below, at and above the input size)", () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const s = new CaseSampler(seed)
        const [H, W, OH, OW] = [s.int(1, 9), s.int(1, 9), s.int(1, 9), s.int(1, 9)]
        const x = s.values([s.int(1, 2), s.int(1, 3), H, W])
        expect(maxDiff(adaptiveAvgPool2d(x, [OH, OW]), naiveAdaptive(x, OH, OW))).toBeLessThan(1e-14)
        expect(maxDiff(adaptiveAvgPool2d(x, [null, OW]), naiveAdaptive(x, H, OW))).toBeLessThan(1e-14)
        const flat = x.reshape([x.shape[0], x.shape[1], H * W])
        expect(maxDiff(adaptiveAvgPool1d(flat, OW), naiveAdaptive(flat.reshape([-1, 1, H * W]), 1, OW).reshape([x.shape[0], x.shape[1], OW]))).toBeLessThan(
          1e-14,
        )
      }),
      { seed: SEED + 1, numRuns: 100 },
    )
  })

  it('adaptiveAvgPool2d(x, 1) is the global mean; unbatched inputs work', () => {
    const x = wave([3, 4, 5])
    const global = adaptiveAvgPool2d(x, 1)
    expect(global.shape).toEqual([3, 1, 1])
    expect(maxDiff(global.reshape([3]), x.reshape([3, 20]).mean(1))).toBeLessThan(1e-15)
    expect(maxPool2d(x, { kernelSize: 2 }).shape).toEqual([3, 2, 2])
    expect(avgPool1d(x.reshape([3, 20]), { kernelSize: 4 }).shape).toEqual([3, 5])
  })
})

describe('max pooling routes the gradient as PyTorch', () => {
  it('to the first maximum of a window (row-major) on ties, accumulating over overlapping windows', () => {
    const x = tensor(
      [
        [
          [
            [1, 3, 3],
            [3, 0, 2],
            [1, 3, 1],
          ],
        ],
      ],
      { dtype: 'float64' },
    )
    const g = grad((t: Tensor) => sum(maxPool2d(t, { kernelSize: 2, stride: 1 })))(x) as Tensor
    // As PyTorch: windows (0,0) and (0,1) pick (0,1), window (1,0) picks (1,0), window (1,1) picks (2,1).
    expect(g.toArray()).toEqual([
      [
        [
          [0, 2, 0],
          [1, 0, 0],
          [0, 1, 0],
        ],
      ],
    ])
    const g1 = grad((t: Tensor) => sum(maxPool1d(t, { kernelSize: 3, stride: 1, padding: 1 })))(tensor([[[2, 2, 2, 2]]], { dtype: 'float64' })) as Tensor
    expect(g1.toArray()).toEqual([[[2, 1, 1, 0]]])
  })

  it('propagates NaN as PyTorch (a window holding NaN gives NaN)', () => {
    const y = maxPool1d(tensor([[[1, NaN, 3, 0]]]), { kernelSize: 2 })
    expect(y.data[0]).toBeNaN()
    expect(y.data[1]).toBe(3)
  })

  it('keeps float32 and gives -Infinity nowhere (padding is never picked)', () => {
    const x = astype(tensor([[[-5, -7, -6, -9]]]), 'float32')
    const y = maxPool1d(x, { kernelSize: 3, stride: 1, padding: 1 })
    expect(y.dtype).toBe('float32')
    expect(y.toArray()).toEqual([[[-5, -5, -6, -6]]])
  })
})

const specOf = (name: string) => {
  const entry = registeredOps().find((e) => e.name === name)
  if (entry === undefined || !('sample' in entry.spec)) throw new Error(`${name} is not registered with a spec`)
  return entry.spec
}

describe('pooling gradients against central differences (float64)', () => {
  for (const name of ['maxPool1d', 'maxPool2d', 'avgPool1d', 'avgPool2d', 'adaptiveAvgPool1d', 'adaptiveAvgPool2d']) {
    it(`${name}: first and second order, random cases of its registered spec`, () => {
      fc.assert(
        fc.property(seeds, (seed) => {
          const c = specOf(name).sample(new CaseSampler(seed))
          expect(fdCheck(c.fn, c.inputs, { label: c.label })).toBeNull()
          const r = wave(c.fn(...c.inputs).shape, 1.1)
          // The gradient as a function of the input (its VJP is the primitive again), and of the cotangent too.
          const first = (x: Tensor, q: Tensor): Tensor => {
            const gx = grad((t: Tensor) => sum(mul(c.fn(t), add(r, q))))(x) as Tensor
            return sum(mul(gx, mul(gx, wave(gx.shape, 0.5))))
          }
          expect(fdCheck(first, [c.inputs[0], wave(r.shape, 2)], { label: c.label, atol: 1e-5, rtol: 1e-4 })).toBeNull()
        }),
        { seed: SEED + 2, numRuns: 30 },
      )
    })
  }
})

describe('pooling errors name the op, the shapes and the option', () => {
  const x = wave([2, 3, 4, 4])
  it('refuses wrong ranks, empty inputs and int32', () => {
    expect(() => maxPool2d(x.reshape([2, 48]), { kernelSize: 2 })).toThrow(ShapeError)
    expect(() => maxPool2d(x.reshape([2, 48]), { kernelSize: 2 })).toThrow(
      /maxPool2d: expected a 3-d \(unbatched \[C, H, W\]\) or 4-d \(batched \[N, C, H, W\]\) input, got shape \[2,48\]/,
    )
    expect(() => avgPool1d(x, { kernelSize: 2 })).toThrow(
      /avgPool1d: expected a 2-d \(unbatched \[C, L\]\) or 3-d \(batched \[N, C, L\]\) input, got shape \[2,3,4,4\]/,
    )
    expect(() => adaptiveAvgPool2d(tensor(new Float64Array(0), { shape: [1, 3, 0, 4] }), 2)).toThrow(
      /adaptiveAvgPool2d: expected non-empty channel and spatial dimensions \(only the batch may be 0\), got input \[1,3,0,4\]/,
    )
    expect(() => maxPool2d(astype(x, 'int32'), { kernelSize: 2 })).toThrow(DTypeError)
    expect(maxPool2d(tensor(new Float64Array(0), { shape: [0, 3, 4, 4] }), { kernelSize: 2 }).shape).toEqual([0, 3, 2, 2])
  })
  it('refuses bad sizes and options', () => {
    expect(() => maxPool2d(x, {} as never)).toThrow(/maxPool2d: expected options with a kernelSize, e.g. maxPool2d\(x, \{ kernelSize: 2 \}\)/)
    expect(() => maxPool2d(x, { kernelSize: 0 })).toThrow(/maxPool2d: kernelSize must be a positive integer or a pair of them, got 0/)
    expect(() => avgPool2d(x, { kernelSize: 2, stride: [1, 0] })).toThrow(/avgPool2d: stride must be a positive integer or a pair of them, got \[1,0\]/)
    expect(() => maxPool2d(x, { kernelSize: 3, padding: 2 })).toThrow(
      /maxPool2d: padding must be at most half the kernel size \(as PyTorch\), got padding 2x2 for kernelSize 3x3/,
    )
    expect(() => maxPool2d(x, { kernelSize: 5 })).toThrow(
      /maxPool2d: the input \[2,3,4,4\] padded by 0x0 is smaller than the window \(5x5\): the output would be 0x0/,
    )
    expect(() => maxPool1d(tensor([[[1]]]), { kernelSize: 2, dilation: 2, padding: 1 })).toThrow(/maxPool1d: some window .* covers only padding/)
    expect(() => avgPool2d(x, { kernelSize: 2, dilation: 2 } as never)).toThrow(/avgPool2d: unknown option 'dilation'/)
    expect(() => maxPool2d(x, { kernel_size: 2 } as never)).toThrow(ArgumentError)
    expect(() => avgPool2d(x, { kernelSize: 2, ceilMode: 1 } as never)).toThrow(/avgPool2d: ceilMode must be a boolean, got 1/)
    expect(() => adaptiveAvgPool2d(x, [2, -1])).toThrow(/adaptiveAvgPool2d: outputSize must be a non-negative integer or a pair of them, got \[2,-1\]/)
    expect(() => adaptiveAvgPool1d(x.reshape([2, 3, 16]), 2.5)).toThrow(/adaptiveAvgPool1d: outputSize must be a non-negative integer, got 2.5/)
  })
})
