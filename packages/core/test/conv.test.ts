// conv1d / conv2d: against a direct loop of the definition on random shapes and options,
// VJPs against central differences to first, second and third order (the input- and
// weight-gradient primitives differentiate into each other), float32 against float64, and
// the errors for bad inputs. Seeded (fast-check), so a failure reproduces.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  ArgumentError,
  CaseSampler,
  type Conv2dOptions,
  DTypeError,
  ShapeError,
  type Tensor,
  add,
  astype,
  conv1d,
  conv2d,
  grad,
  mul,
  registeredOps,
  sum,
  tensor,
  traceGraph,
} from '@graphgrad/core'
import { fdCheck, wave } from '../../../testdata/testing.ts'

const SEED = 2024
const seeds = fc.integer({ min: 0, max: 2 ** 31 - 1 })
const spec = (name: string) => {
  const entry = registeredOps().find((e) => e.name === name)
  if (entry === undefined || !('sample' in entry.spec)) throw new Error(`${name} is not registered with a spec`)
  return entry.spec
}

interface Opts {
  stride: number[]
  pad: [number[], number[]]
  dilation: number[]
  groups: number
}

/** The definition, as a direct loop: `y[n,o,i,j] = b[o] + sum x[n, g*cg + c, i*s - p + kh*d, ...] w[o, c, kh, kw]` (2-d; 1-d has height 1). */
function naiveConv(x: Tensor, w: Tensor, b: Tensor | null, o: Opts): Tensor {
  const [N, C, H, W] = x.shape
  const [OC, cg, KH, KW] = w.shape
  const og = OC / o.groups
  const OH = Math.floor((H + o.pad[0][0] + o.pad[1][0] - o.dilation[0] * (KH - 1) - 1) / o.stride[0]) + 1
  const OW = Math.floor((W + o.pad[0][1] + o.pad[1][1] - o.dilation[1] * (KW - 1) - 1) / o.stride[1]) + 1
  const out = new Float64Array(N * OC * OH * OW)
  const [xd, wd] = [x.data, w.data]
  for (let n = 0; n < N; n++)
    for (let oc = 0; oc < OC; oc++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let acc = b === null ? 0 : b.data[oc]
          const g = Math.floor(oc / og)
          for (let c = 0; c < cg; c++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = i * o.stride[0] - o.pad[0][0] + kh * o.dilation[0]
                const iw = j * o.stride[1] - o.pad[0][1] + kw * o.dilation[1]
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue
                acc += xd[((n * C + g * cg + c) * H + ih) * W + iw] * wd[((oc * cg + c) * KH + kh) * KW + kw]
              }
          out[((n * OC + oc) * OH + i) * OW + j] = acc
        }
  return tensor(out, { shape: [N, OC, OH, OW], dtype: 'float64' })
}

/** A random 2-d case with its options in both forms (graphgrad's and the loop's); `flat` gives height 1 and a 1-row kernel. */
function drawCase(s: CaseSampler, flat = false) {
  const groups = s.pick([1, 2, 3])
  const [cg, og, batch] = [s.int(1, 3), s.int(1, 3), s.int(0, 2)]
  const kernel = [s.int(1, 4), s.int(1, 4)]
  const dilation = [s.int(1, 3), s.int(1, 3)]
  const same = s.coin(0.2)
  const stride = same ? [1, 1] : [s.int(1, 3), s.int(1, 3)]
  const pad = same ? [0, 0] : [s.int(0, 3), s.int(0, 3)]
  const total = kernel.map((k, i) => dilation[i] * (k - 1))
  const before = same ? total.map((t) => Math.floor(t / 2)) : pad
  const after = same ? total.map((t, i) => t - before[i]) : pad
  const spatial = kernel.map((k, i) => s.int(Math.max(1, dilation[i] * (k - 1) + 1 - before[i] - after[i]), 9))
  if (flat) [kernel[0], dilation[0], stride[0], pad[0], before[0], after[0], spatial[0]] = [1, 1, 1, 0, 0, 0, 1]
  const x = s.values([batch, cg * groups, ...spatial])
  const w = s.values([og * groups, cg, ...kernel])
  const b = s.coin() ? s.values([og * groups]) : null
  const options: Conv2dOptions = { stride: [stride[0], stride[1]], padding: same ? 'same' : [pad[0], pad[1]], dilation: [dilation[0], dilation[1]], groups }
  return {
    x,
    w,
    b,
    options,
    loop: { stride, pad: [before, after] as [number[], number[]], dilation, groups },
    label: `x ${x.shape} w ${w.shape} ${JSON.stringify(options)}`,
  }
}

function maxDiff(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape)
  const [u, v] = [Array.from(a.data), b.data]
  return u.reduce((m, x, i) => Math.max(m, Math.abs(x - v[i])), 0)
}

describe('conv2d and conv1d compute the definition', () => {
  it('conv2d equals the direct loop on random shapes and options (groups, stride, padding, same, dilation, empty batch)', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const c = drawCase(new CaseSampler(seed))
        expect(maxDiff(conv2d(c.x, c.w, c.b, c.options), naiveConv(c.x, c.w, c.b, c.loop)), c.label).toBeLessThan(1e-12)
      }),
      { seed: SEED, numRuns: 120 },
    )
  })

  it('conv1d is conv2d of height 1, and unbatched inputs are a batch of one', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const s = new CaseSampler(seed)
        const c = drawCase(s, true)
        const [N, C, H, W] = c.x.shape
        const [O, G, KH, KW] = c.w.shape
        const x1 = c.x.reshape([N, C, H * W])
        const w1 = c.w.reshape([O, G, KH * KW])
        const o1 = {
          stride: c.loop.stride[1],
          padding: c.options.padding === 'same' ? ('same' as const) : c.loop.pad[0][1],
          dilation: c.loop.dilation[1],
          groups: c.options.groups,
        }
        const y1 = conv1d(x1, w1, c.b, o1)
        const y2 = conv2d(x1.reshape([N, C, 1, H * W]), w1.reshape([O, G, 1, KH * KW]), c.b, {
          ...o1,
          stride: [1, o1.stride],
          padding: o1.padding === 'same' ? 'same' : [0, o1.padding],
          dilation: [1, o1.dilation],
        } as Conv2dOptions)
        expect(maxDiff(y1, y2.reshape(y1.shape))).toBe(0)
        if (N > 0) {
          const batched = conv2d(c.x, c.w, c.b, c.options)
          const unbatched = conv2d(tensor(c.x.data.slice(0, C * H * W), { shape: [C, H, W], dtype: 'float64' }), c.w, c.b, c.options)
          expect(unbatched.shape).toEqual(batched.shape.slice(1))
          expect(Array.from(unbatched.data)).toEqual(Array.from(batched.data.slice(0, unbatched.size)))
        }
      }),
      { seed: SEED + 1, numRuns: 60 },
    )
  })

  it('float32 agrees with float64 within float32 rounding, and stays float32', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const c = drawCase(new CaseSampler(seed))
        const y32 = conv2d(astype(c.x, 'float32'), astype(c.w, 'float32'), c.b === null ? null : astype(c.b, 'float32'), c.options)
        expect(y32.dtype).toBe('float32')
        const scale = c.w.shape.slice(1).reduce((a, b) => a * b, 1)
        expect(maxDiff(astype(y32, 'float64'), conv2d(c.x, c.w, c.b, c.options))).toBeLessThan(1e-5 * scale)
      }),
      { seed: SEED + 2, numRuns: 40 },
    )
  })
})

describe('conv gradients against central differences (float64)', () => {
  for (const name of ['conv1d', 'conv2d']) {
    it(`${name}: first order, random cases of its registered spec`, () => {
      fc.assert(
        fc.property(seeds, (seed) => {
          const c = spec(name).sample(new CaseSampler(seed))
          expect(fdCheck(c.fn, c.inputs, { label: c.label })).toBeNull()
        }),
        { seed: SEED + 3, numRuns: 40 },
      )
    })

    it(`${name}: second order (the gradient's own gradient)`, () => {
      fc.assert(
        fc.property(seeds, (seed) => {
          const c = spec(name).sample(new CaseSampler(seed))
          const r = wave(c.fn(...c.inputs).shape, 1.1)
          const first = (...xs: Tensor[]): Tensor => {
            const gs = grad((...ys: Tensor[]) => sum(mul(c.fn(...ys), r)), { argnums: xs.map((_, i) => i) })(...xs) as Tensor[]
            return gs.reduce((acc, g, i) => add(acc, sum(mul(g, wave(g.shape, 0.7 * i)))), sum(mul(gs[0], 0)))
          }
          expect(fdCheck(first, c.inputs, { label: c.label, atol: 1e-5, rtol: 1e-4 })).toBeNull()
        }),
        { seed: SEED + 4, numRuns: 15 },
      )
    })
  }

  it('the input- and weight-gradient primitives differentiate in all their arguments, to third order', () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const c = drawCase(new CaseSampler(seed))
        if (c.x.shape[0] === 0) return
        const gy0 = wave(conv2d(c.x, c.w, null, c.options).shape)
        // inputGrad(gy, w) and weightGrad(x, gy), as functions of both their tensors.
        const inputGrad = (gy: Tensor, w: Tensor): Tensor => grad((x: Tensor) => sum(mul(conv2d(x, w, null, c.options), gy)))(c.x) as Tensor
        const weightGrad = (x: Tensor, gy: Tensor): Tensor => grad((w: Tensor) => sum(mul(conv2d(x, w, null, c.options), gy)))(c.w) as Tensor
        expect(fdCheck(inputGrad, [gy0, c.w], { label: `inputGrad ${c.label}` })).toBeNull()
        expect(fdCheck(weightGrad, [c.x, gy0], { label: `weightGrad ${c.label}` })).toBeNull()
        // Their gradients' gradients: third derivatives of the convolution.
        const second =
          (f: (a: Tensor, b: Tensor) => Tensor) =>
          (a: Tensor, b: Tensor): Tensor => {
            const [ga, gb] = grad((p: Tensor, q: Tensor) => sum(mul(f(p, q), wave(f(p, q).shape, 2))), { argnums: [0, 1] })(a, b) as Tensor[]
            return add(sum(mul(ga, wave(ga.shape, 0.5))), sum(mul(gb, wave(gb.shape, 0.9))))
          }
        expect(fdCheck(second(inputGrad), [gy0, c.w], { label: `inputGrad'' ${c.label}`, atol: 1e-5, rtol: 1e-4 })).toBeNull()
        expect(fdCheck(second(weightGrad), [c.x, gy0], { label: `weightGrad'' ${c.label}`, atol: 1e-5, rtol: 1e-4 })).toBeNull()
      }),
      { seed: SEED + 5, numRuns: 12 },
    )
  })

  it('records the three primitives in the graph of a gradient of a gradient', () => {
    const x = wave([1, 2, 4, 4])
    const w = wave([2, 2, 3, 3], 1)
    const ops = traceGraph((t: Tensor) => {
      const gw = grad((v: Tensor) => sum(mul(conv2d(t, v, null, { padding: 1 }), conv2d(t, v, null, { padding: 1 }))))(w) as Tensor
      return sum(gw)
    }, x).nodes.map((n) => n.label)
    expect(ops).toContain('conv2d')
    expect(ops).toContain('conv2dWeightGrad')
  })
})

describe('conv errors name the op, the shapes and the option', () => {
  const x = tensor(new Float64Array(2 * 4 * 5 * 5), { shape: [2, 4, 5, 5], dtype: 'float64' })
  const w = tensor(new Float64Array(6 * 2 * 3 * 3), { shape: [6, 2, 3, 3], dtype: 'float64' })
  it('refuses wrong ranks', () => {
    expect(() => conv2d(x.reshape([8, 25]), w)).toThrow(ShapeError)
    expect(() => conv2d(x.reshape([8, 25]), w)).toThrow(
      /conv2d: expected a 3-d \(unbatched \[C, H, W\]\) or 4-d \(batched \[N, C, H, W\]\) input, got shape \[8,25\]/,
    )
    expect(() => conv2d(x.reshape([200]), w)).toThrow(/got shape \[200\]/)
    expect(() => conv2d(x, w.reshape([6, 2, 9]), null, { groups: 2 })).toThrow(
      /conv2d: weight must be 4-d \[outChannels, inChannels\/groups, kH, kW\], got shape \[6,2,9\]/,
    )
    expect(() => conv1d(x, w)).toThrow(/conv1d: expected a 2-d \(unbatched \[C, L\]\) or 3-d \(batched \[N, C, L\]\) input, got shape \[2,4,5,5\]/)
  })
  it('refuses a channel mismatch and groups that do not divide the channels', () => {
    expect(() => conv2d(x, w)).toThrow(/conv2d: weight \[6,2,3,3\] with groups=1 expects an input with 2 channels, got input \[2,4,5,5\] with 4 channels/)
    expect(() => conv2d(x, w, null, { groups: 4 })).toThrow(/conv2d: weight \[6,2,3,3\] has 6 output channels, which groups=4 does not divide/)
    expect(() => conv2d(x, w, null, { groups: 0 })).toThrow(/conv2d: groups must be a positive integer, got 0/)
    expect(() => conv2d(x, w, null, { groups: 1.5 })).toThrow(ArgumentError)
  })
  it('refuses an output smaller than 1, naming the sizes', () => {
    expect(() => conv2d(x, w, null, { groups: 2, dilation: 3 })).toThrow(
      /conv2d: the dilated kernel \(7x7, weight \[6,2,3,3\] with dilation 3x3\) is larger than the padded input \(5x5, input \[2,4,5,5\] with padding 0x0\): the output would be -1x-1/,
    )
    expect(() => conv1d(tensor([[[1, 2]]]), tensor([[[1, 2, 3]]]))).toThrow(/conv1d: the dilated kernel \(3, .*padded input \(2, .*the output would be 0/)
    expect(() => conv2d(x, tensor(new Float64Array(0), { shape: [6, 2, 0, 3] }), null, { groups: 2 })).toThrow(/empty kernel \(0x3\)/)
  })
  it('refuses bad options and a bad bias', () => {
    expect(() => conv2d(x, w, null, { groups: 2, stride: 0 })).toThrow(/conv2d: stride must be a positive integer or a pair of them, got 0/)
    expect(() => conv2d(x, w, null, { groups: 2, stride: [1, 2, 3] as never })).toThrow(/stride must be .* got \[1,2,3\]/)
    expect(() => conv2d(x, w, null, { groups: 2, padding: -1 })).toThrow(/padding must be a non-negative integer or a pair of them, got -1/)
    expect(() => conv2d(x, w, null, { groups: 2, padding: 'full' as never })).toThrow(
      /padding must be a non-negative integer or a pair of them, 'same' or 'valid', got 'full'/,
    )
    expect(() => conv2d(x, w, null, { groups: 2, padding: 'same', stride: 2 })).toThrow(/conv2d: padding 'same' needs stride 1 \(as PyTorch\), got stride 2x2/)
    expect(() => conv2d(x, w, null, { groups: 2, kernel_size: 3 } as never)).toThrow(/conv2d: unknown option 'kernel_size'/)
    expect(() => conv2d(x, w, tensor([1, 2, 3], { dtype: 'float64' }), { groups: 2 })).toThrow(
      /conv2d: bias must have shape \[6\] \(one value per output channel of weight \[6,2,3,3\]\), got \[3\]/,
    )
    expect(() => conv2d(x, [1, 2] as never)).toThrow(/conv2d: weight must be a Tensor/)
    expect(() => conv2d(astype(x, 'int32'), w, null, { groups: 2 })).toThrow(DTypeError)
    expect(() => conv2d(astype(x, 'int32'), w, null, { groups: 2 })).toThrow(/conv2d: expects float tensors, got an int32 input of shape \[2,4,5,5\]/)
  })
  it('refuses an im2col buffer past the element cap by name, and allocates nothing for an empty batch', () => {
    const x2 = tensor(new Float32Array(60000), { shape: [1, 1, 1, 60000] })
    const w2 = tensor(new Float32Array(40000), { shape: [1, 1, 1, 40000] })
    expect(() => conv2d(x2, w2, null, { padding: [0, 39999] })).toThrow(
      /conv2d: the im2col columns of one sample \(channels per group, kernel, output\): shape \[1,1,40000,1,99999\] has 3999960000 elements/,
    )
    expect(conv2d(tensor(new Float32Array(0), { shape: [0, 1, 1, 60000] }), w2, null, { padding: [0, 39999] }).shape).toEqual([0, 1, 1, 99999])
  })

  it("'valid' is no padding, and mixed float dtypes are promoted", () => {
    const xs = wave([1, 4, 5, 5])
    const ws = wave([6, 2, 3, 3], 2)
    expect(conv2d(xs, ws, null, { groups: 2, padding: 'valid' }).toArray()).toEqual(conv2d(xs, ws, null, { groups: 2 }).toArray())
    expect(conv2d(astype(xs, 'float32'), ws, null, { groups: 2 }).dtype).toBe('float64')
    expect(conv2d(xs, ws, null, { groups: 2, padding: 'same' }).shape).toEqual([1, 6, 5, 5])
  })
})
