import { describe, expect, it } from 'vitest'
import { ArgumentError, DTypeError, ShapeError, type Tensor, logSoftmax, mul, permute, sum, tensor, valueAndGrad } from '@graphgrad/core'
import { allcloseReport, referenceCases, referenceTensors } from '../../../testdata/fixtures.ts'
import { type CrossEntropyOptions, binaryCrossEntropyWithLogits, crossEntropy, l1Loss, mseLoss, nllLoss } from '../src/losses.ts'

function maxAbsDiff(a: Tensor, b: Tensor): number {
  let m = 0
  for (let i = 0; i < a.size; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]))
  return m
}

describe('PyTorch reference fixtures', () => {
  it.each(referenceCases('cross_entropy').map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const t = referenceTensors(c)
    const logits = t.get('logits') as Tensor
    const target = t.get('target') as Tensor
    expect(logits.dtype).toBe('float64')
    expect(target.dtype).toBe('int32')
    const options: CrossEntropyOptions = { reduction: c.config.reduction as 'mean' | 'sum', labelSmoothing: c.config.label_smoothing as number }
    const [loss, g] = valueAndGrad((x: Tensor) => crossEntropy(x, target, options))(logits)
    expect(allcloseReport('loss', loss, t.get('loss') as Tensor, c.tolerance)).toBeNull()
    expect(allcloseReport('grad.logits', g as Tensor, t.get('grad.logits') as Tensor, c.tolerance)).toBeNull()
    console.log(
      `${c.file}: max |loss err| ${maxAbsDiff(loss, t.get('loss') as Tensor).toExponential(2)}, max |grad err| ${maxAbsDiff(g as Tensor, t.get('grad.logits') as Tensor).toExponential(2)}`,
    )
  })

  it.each(referenceCases('log_softmax').map((c) => [c.file, c] as const))('%s', (_file, c) => {
    const t = referenceTensors(c)
    const x = t.get('x') as Tensor
    const r = t.get('r_output') as Tensor
    const dim = c.config.dim as number
    const out = logSoftmax(x, dim)
    const [, g] = valueAndGrad((xi: Tensor) => sum(mul(logSoftmax(xi, dim), r)))(x)
    expect(allcloseReport('output', out, t.get('output') as Tensor, c.tolerance)).toBeNull()
    expect(allcloseReport('grad.x', g as Tensor, t.get('grad.x') as Tensor, c.tolerance)).toBeNull()
    console.log(
      `${c.file}: max |output err| ${maxAbsDiff(out, t.get('output') as Tensor).toExponential(2)}, max |grad err| ${maxAbsDiff(g as Tensor, t.get('grad.x') as Tensor).toExponential(2)}`,
    )
  })
})

/**
 * PyTorch's cross_entropy with class indices, written as plain loops over [N, C, D]
 * (D = the trailing dims flattened), following ATen's cross_entropy_loss_label_smoothing.
 */
function referenceCE(x: number[], shape: number[], target: number[], o: { reduction: string; eps: number; ignore: number; weight?: number[] }): number[] {
  const [n, c] = shape
  const d = shape.slice(2).reduce((a, b) => a * b, 1)
  const w = o.weight ?? Array<number>(c).fill(1)
  const nll: number[] = []
  const smooth: number[] = []
  let wsum = 0
  for (let i = 0; i < n; i++)
    for (let k = 0; k < d; k++) {
      const at = (j: number): number => x[(i * c + j) * d + k]
      let m = -Infinity
      for (let j = 0; j < c; j++) m = Math.max(m, at(j))
      let s = 0
      for (let j = 0; j < c; j++) s += Math.exp(at(j) - m)
      const lse = m + Math.log(s)
      const t = target[i * d + k]
      if (t === o.ignore) {
        nll.push(0)
        smooth.push(0)
        continue
      }
      nll.push(-w[t] * (at(t) - lse))
      let sm = 0
      for (let j = 0; j < c; j++) sm -= w[j] * (at(j) - lse)
      smooth.push(sm)
      wsum += w[t]
    }
  const red = (v: number[]): number[] => {
    if (o.reduction === 'none') return v
    const s = v.reduce((a, b) => a + b, 0)
    return [o.reduction === 'sum' ? s : s / wsum]
  }
  const a = red(nll)
  const b = red(smooth)
  return a.map((v, i) => (1 - o.eps) * v + (o.eps / c) * b[i])
}

describe('crossEntropy', () => {
  it('matches PyTorch on ignoreIndex (mean over non-ignored), label smoothing, weights and extra dims', () => {
    let seed = 1
    const rnd = (): number => {
      seed = (seed * 16807) % 2147483647
      return seed / 2147483647
    }
    for (const shape of [
      [4, 3],
      [2, 4, 3],
      [3, 2, 2, 2],
    ]) {
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        for (const eps of [0, 0.15]) {
          for (const ignore of [-100, 1]) {
            for (const weighted of [false, true]) {
              const size = shape.reduce((a, b) => a * b, 1)
              const x = Array.from({ length: size }, () => 4 * rnd() - 2)
              const tshape = [shape[0], ...shape.slice(2)]
              const target = Array.from({ length: tshape.reduce((a, b) => a * b, 1) }, (_, i) => (i % 3 === 1 ? ignore : Math.floor(rnd() * shape[1])))
              target[0] = 0
              const weight = weighted ? Array.from({ length: shape[1] }, () => 0.5 + rnd()) : undefined
              const got = crossEntropy(tensor(x, { shape, dtype: 'float64' }), tensor(target, { shape: tshape, dtype: 'int32' }), {
                reduction,
                labelSmoothing: eps,
                ignoreIndex: ignore,
                weight: weight && tensor(weight, { dtype: 'float64' }),
              })
              const want = referenceCE(x, shape, target, { reduction, eps, ignore, weight })
              expect(got.shape).toEqual(reduction === 'none' ? tshape : [])
              const g = Array.from(got.data)
              for (let i = 0; i < want.length; i++) expect(g[i]).toBeCloseTo(want[i], 12)
            }
          }
        }
      }
    }
  })

  it('gives NaN for a mean over only ignored targets, as PyTorch', () => {
    const loss = crossEntropy(tensor([[1, 2]], { dtype: 'float64' }), tensor([-100], { dtype: 'int32' }))
    expect(Number.isNaN(loss.item())).toBe(true)
  })

  it('never reads the logits of ignored targets: non-finite ignored rows leave loss and gradient finite', () => {
    // PyTorch skips ignored rows (0.4076 here); a 0/1 mask would give NaN * 0 = NaN.
    const x = tensor(
      [
        [1, 2, 3],
        [-Infinity, -Infinity, -Infinity],
      ],
      { dtype: 'float64' },
    )
    const t = tensor([2, -100], { dtype: 'int32' })
    const row = tensor([[1, 2, 3]], { dtype: 'float64' })
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))
    for (const labelSmoothing of [0, 0.1]) {
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const f = (a: Tensor, tt: Tensor): Tensor => sum(crossEntropy(a, tt, { labelSmoothing, reduction }))
        const [loss, g] = valueAndGrad((a: Tensor) => f(a, t))(x)
        const want = (1 - labelSmoothing) * (lse - 3) + (labelSmoothing / 3) * (3 * lse - 6)
        expect(loss.item()).toBeCloseTo(want, 12)
        if (labelSmoothing === 0) expect(loss.item()).toBeCloseTo(0.4076059644, 9)
        const [, gRow] = valueAndGrad((a: Tensor) => f(a, tensor([2], { dtype: 'int32' })))(row)
        const ga = (g as Tensor).toArray() as number[][]
        expect(ga[0]).toEqual(((gRow as Tensor).toArray() as number[][])[0].map((v) => expect.closeTo(v, 14)))
        // PyTorch's log_softmax backward gives NaN (0 - exp(NaN) * 0) on such a row; the row cannot change the loss, so 0 here.
        expect(ga[1]).toEqual([0, 0, 0])
      }
    }
    const lp = tensor(
      [
        [-1, -2, -3],
        [NaN, NaN, NaN],
      ],
      { dtype: 'float64' },
    )
    const [nll, gl] = valueAndGrad((a: Tensor) => nllLoss(a, t))(lp)
    expect(nll.item()).toBe(3)
    expect((gl as Tensor).toArray()).toEqual([
      [0, 0, -1],
      [0, 0, 0],
    ])
  })

  it('gives zero gradients (and a NaN mean, 0/0) when every target is ignored, as PyTorch', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [0, 1, -1],
      ],
      { dtype: 'float64' },
    )
    const t = tensor([-100, -100], { dtype: 'int32' })
    const w = tensor([2, 1, 0.5], { dtype: 'float64' })
    for (const labelSmoothing of [0, 0.2]) {
      for (const weight of [undefined, w]) {
        const [loss, g] = valueAndGrad((a: Tensor) => crossEntropy(a, t, { labelSmoothing, weight }))(x)
        expect(Number.isNaN(loss.item())).toBe(true)
        expect((g as Tensor).toArray()).toEqual([
          [0, 0, 0],
          [0, 0, 0],
        ])
        const [sumLoss, gs] = valueAndGrad((a: Tensor) => crossEntropy(a, t, { labelSmoothing, weight, reduction: 'sum' }))(x)
        expect(sumLoss.item()).toBe(0)
        expect((gs as Tensor).toArray()).toEqual([
          [0, 0, 0],
          [0, 0, 0],
        ])
      }
    }
    const [nll, gl] = valueAndGrad((a: Tensor) => nllLoss(a, t, { weight: w }))(x)
    expect(Number.isNaN(nll.item())).toBe(true)
    expect((gl as Tensor).toArray()).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ])
  })

  // Two samples over three classes, with probability (floating point) targets.
  const probabilityCase = {
    x: tensor(
      [
        [1, 2, 0.5],
        [0.1, -1, 2],
      ],
      { dtype: 'float64' },
    ),
    p: tensor(
      [
        [0.2, 0.5, 0.3],
        [1, 0, 0],
      ],
      { dtype: 'float64' },
    ),
  }

  it('rejects ignoreIndex >= 0 with probability targets, as PyTorch', () => {
    const { x, p } = probabilityCase
    expect(() => crossEntropy(x, p, { ignoreIndex: 0 })).toThrow(ArgumentError)
    expect(() => crossEntropy(x, p, { ignoreIndex: 1 })).toThrow(/crossEntropy: ignoreIndex \(1\) is not supported for probability \(floating point\) targets/)
    expect(crossEntropy(x, p, { ignoreIndex: -100 }).item()).toBe(crossEntropy(x, p).item())
  })

  it('takes probability targets, with label smoothing and mean over samples', () => {
    const { x, p } = probabilityCase
    const logp = logSoftmax(x, 1).toArray() as number[][]
    const eps = 0.1
    const per = logp.map((row, i) => -row.reduce((a, l, j) => a + l * ((p.toArray() as number[][])[i][j] * (1 - eps) + eps / 3), 0))
    expect(crossEntropy(x, p, { labelSmoothing: eps }).item()).toBeCloseTo((per[0] + per[1]) / 2, 12)
    expect(crossEntropy(x, p, { reduction: 'none', labelSmoothing: eps }).toArray()).toEqual(per.map((v) => expect.closeTo(v, 12)))
  })

  it('accepts [B, T, C] logits with classAxis -1, equal to PyTorch on the transposed [B, C, T]', () => {
    const x = tensor(
      [
        [
          [1, 2, 3],
          [0, 1, -1],
        ],
        [
          [2, 2, 0],
          [1, -3, 0.5],
        ],
      ],
      { dtype: 'float64' },
    )
    const t = tensor(
      [
        [0, 2],
        [1, -100],
      ],
      { dtype: 'int32' },
    )
    const a = crossEntropy(x, t, { classAxis: -1, labelSmoothing: 0.2 }).item()
    const b = crossEntropy(permute(x, [0, 2, 1]), t, { labelSmoothing: 0.2 }).item()
    expect(a).toBeCloseTo(b, 14)
  })

  it('takes a rank-1 input [C] with a scalar target', () => {
    const x = tensor([1, 2, 3], { dtype: 'float64' })
    expect(crossEntropy(x, tensor(2, { dtype: 'int32' })).item()).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3, 12)
  })

  it('names the out-of-range target value, and mismatched shapes', () => {
    const x = tensor(
      [
        [1, 2, 3],
        [0, 1, 2],
      ],
      { dtype: 'float64' },
    )
    expect(() => crossEntropy(x, tensor([0, 7], { dtype: 'int32' }))).toThrow(ArgumentError)
    expect(() => crossEntropy(x, tensor([0, 7], { dtype: 'int32' }))).toThrow(/target 7 .*out of range for 3 classes/)
    expect(() => crossEntropy(x, tensor([-1, 0], { dtype: 'int32' }))).toThrow(/target -1/)
    expect(() => crossEntropy(x, tensor([0, 1, 2], { dtype: 'int32' }))).toThrow(ShapeError)
    expect(() => crossEntropy(x, tensor([0, 1, 2], { dtype: 'int32' }))).toThrow(/\[3\].*\[2,3\].*expected a target of shape \[2\]/)
    expect(() => crossEntropy(x, tensor([[0.5, 0.5]], { dtype: 'float64' }))).toThrow(ShapeError)
    expect(() => crossEntropy(x, tensor([0, 1], { dtype: 'int32' }), { labelSmoothing: 1.5 })).toThrow(ArgumentError)
    expect(() => crossEntropy(x, tensor([0, 1], { dtype: 'int32' }), { weight: tensor([1, 2]) })).toThrow(/weight must have shape \[3\]/)
    expect(() => nllLoss(x, tensor([0.0, 1.0], { dtype: 'float64' }))).toThrow(DTypeError)
    expect(() => nllLoss(tensor([[-1, -2, -3]], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }))).toThrow(DTypeError)
    expect(() => nllLoss(tensor([[-1, -2, -3]], { dtype: 'int32' }), tensor([0], { dtype: 'int32' }))).toThrow(
      /nllLoss: input must be float32 or float64, got int32/,
    )
  })
})

describe('nllLoss', () => {
  it('is the negative picked log-probability, weighted mean over non-ignored targets', () => {
    const lp = tensor(
      [
        [-1, -2, -3],
        [-0.5, -1.5, -2.5],
        [-0.1, -0.2, -0.3],
      ],
      { dtype: 'float64' },
    )
    const t = tensor([2, -100, 0], { dtype: 'int32' })
    expect(nllLoss(lp, t).item()).toBeCloseTo((3 + 0.1) / 2, 14)
    const w = tensor([2, 1, 0.5], { dtype: 'float64' })
    expect(nllLoss(lp, t, { weight: w }).item()).toBeCloseTo((0.5 * 3 + 2 * 0.1) / 2.5, 14)
    expect(nllLoss(lp, t, { reduction: 'none' }).toArray()).toEqual([3, 0, expect.closeTo(0.1, 14)])
  })
})

describe('regression and binary losses', () => {
  const a = tensor(
    [
      [1, -2],
      [0.5, 3],
    ],
    { dtype: 'float64' },
  )
  const b = tensor(
    [
      [0, 1],
      [0.5, 1],
    ],
    { dtype: 'float64' },
  )

  it('mseLoss and l1Loss', () => {
    expect(mseLoss(a, b).item()).toBeCloseTo((1 + 9 + 0 + 4) / 4, 14)
    expect(mseLoss(a, b, { reduction: 'sum' }).item()).toBeCloseTo(14, 14)
    expect(l1Loss(a, b).item()).toBeCloseTo((1 + 3 + 0 + 2) / 4, 14)
    expect(l1Loss(a, b, { reduction: 'none' }).toArray()).toEqual([
      [1, 3],
      [0, 2],
    ])
    expect(() => mseLoss(a, tensor([1, 2], { dtype: 'float64' }))).toThrow(/input of shape \[2,2\] and target of shape \[2\]/)
    expect(() => l1Loss(a, b, { reduction: 'avg' as 'mean' })).toThrow(ArgumentError)
  })

  it('binaryCrossEntropyWithLogits is stable and exact for large logits, with weight and posWeight', () => {
    const x = tensor([-800, -30, -1, 0, 2, 35, 800], { dtype: 'float64' })
    const t = tensor([0, 1, 0.3, 1, 0, 0.5, 1], { dtype: 'float64' })
    const sp = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)))
    const xs = Array.from(x.data)
    const ts = Array.from(t.data)
    const want = xs.map((v, i) => (1 - ts[i]) * v + sp(-v))
    const got = Array.from(binaryCrossEntropyWithLogits(x, t, { reduction: 'none' }).data)
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 12))
    const pw = tensor([3], { dtype: 'float64' })
    const wantPw = xs.map((v, i) => (1 - ts[i]) * v + (1 + 2 * ts[i]) * sp(-v))
    expect(binaryCrossEntropyWithLogits(x, t, { posWeight: pw, reduction: 'sum' }).item()).toBeCloseTo(
      wantPw.reduce((p, q) => p + q, 0),
      10,
    )
    const w = tensor([1, 2, 1, 2, 1, 2, 1], { dtype: 'float64' })
    expect(binaryCrossEntropyWithLogits(x, t, { weight: w }).item()).toBeCloseTo(want.reduce((p, q, i) => p + q * w.data[i], 0) / 7, 10)
  })
})
