// The PyTorch expression evaluator the ops fixtures run through (testdata/torch-expr.ts).
import { describe, expect, it } from 'vitest'
import {
  type Tensor,
  abs,
  add,
  arange,
  concat,
  div,
  gather,
  grad,
  indexAdd,
  indexSelect,
  scatterAdd,
  zerosLike,
  logsumexp,
  matmul,
  mean,
  mul,
  pow,
  reshape,
  slice,
  softmax,
  sqrt,
  sub,
  sum,
  tensor,
  transpose,
  variance,
} from '@graphgrad/core'
import { TorchExprError, compileTorchExpr, evalTorchExpr, parse, tokenize } from '../../../testdata/torch-expr.ts'

const f64 = (shape: number[], shift = 0): Tensor =>
  reshape(
    add(
      arange(
        0,
        shape.reduce((p, q) => p * q, 1),
        1,
        { dtype: 'float64' },
      ),
      shift,
    ),
    shape,
  )
const a = f64([2, 3, 4], -7.5)
const b = f64([4], 1)
const m = f64([3, 10], -4)
const idx = tensor(Int32Array.from([2, 0, 2, 1]), { shape: [2, 2] })
const env = { a, b, m, idx, w: f64([5, 4], 0.5), v: f64([5], 2) }

const run = (src: string): Tensor => compileTorchExpr(src)(env)
function expectSame(src: string, expected: Tensor): void {
  const y = run(src)
  expect(y.shape, src).toEqual(expected.shape)
  expect(Array.from(y.data), src).toEqual(Array.from(expected.data))
}
function expectClose(src: string, expected: Tensor, tol = 1e-12): void {
  const y = run(src)
  expect(y.shape, src).toEqual(expected.shape)
  y.data.forEach((v, i) => expect(Math.abs(v - expected.data[i]), `${src} at ${i}`).toBeLessThanOrEqual(tol * (1 + Math.abs(expected.data[i]))))
}

describe('tokenizer and parser', () => {
  it('reads numbers with exponents, names, strings and multi-character operators', () => {
    expect(tokenize("1e-5 + .5 ** x[..., ::2] 'tanh'").map((t) => t.value)).toEqual([1e-5, '+', 0.5, '**', 'x', '[', '...', ',', ':', ':', 2, ']', 'tanh', ''])
  })
  it('follows Python precedence and associativity on numbers', () => {
    const cases: [string, number][] = [
      ['1 + 2 * 3', 7],
      ['(1 + 2) * 3', 9],
      ['2 ** 3 ** 2', 512],
      ['-2 ** 2', -4],
      ['2 ** -1', 0.5],
      ['10 - 4 - 3', 3],
      ['12 / 3 / 2', 2],
      ['-(3 - 5) * 2', 4],
      ['2 * -3', -6],
      ['7 // 2 + 7 % 2', 4],
      ['1e-5 * 1e5', 1],
      ['--3', 3],
      ['math.sqrt(16) + math.pi * 0', 4],
    ]
    for (const [src, want] of cases) expect(evalTorchExpr(src, {}), src).toBeCloseTo(want, 14)
  })
  it('parses tuples, lists and a parenthesised single value', () => {
    expect(evalTorchExpr('(1, 2)', {})).toEqual([1, 2])
    expect(evalTorchExpr('(1,)', {})).toEqual([1])
    expect(evalTorchExpr('[1, (2), -3]', {})).toEqual([1, 2, -3])
    expect(parse('(a)')).toEqual({ type: 'name', id: 'a' })
  })
  it('builds the AST with @ at the level of * and unary minus below **', () => {
    expect(parse('-a ** 2 @ b')).toEqual({
      type: 'binary',
      op: '@',
      left: { type: 'unary', op: '-', arg: { type: 'binary', op: '**', left: { type: 'name', id: 'a' }, right: { type: 'num', value: 2 } } },
      right: { type: 'name', id: 'b' },
    })
  })
})

describe('tensor expressions', () => {
  it('applies arithmetic with broadcasting and precedence', () => {
    expectSame('a - b * 2 + 1', add(sub(a, mul(b, 2)), 1))
    expectSame('(a - b) * 2', mul(sub(a, b), 2))
    expectSame('a ** 2 / b', div(pow(a, 2), b))
    expectSame('-a ** 2', mul(pow(a, 2), -1))
    expectSame('2 ** b', pow(2, b))
    expectSame('a @ w.T @ v', matmul(matmul(a, transpose(env.w, 0, 1)), env.v))
    expectSame('a.transpose(0, 1) @ b', matmul(transpose(a, 0, 1), b))
    expectSame('torch.matmul(a, b)', matmul(a, b))
  })
  it('maps keyword arguments: dim, keepdim, tuples of dims, unbiased', () => {
    expectSame('a.sum(dim=1)', sum(a, 1))
    expectSame('a.sum(1)', sum(a, 1))
    expectSame('torch.sum(a, dim=(1, 2), keepdim=True)', sum(a, [1, 2], true))
    expectSame('a.sum()', sum(a))
    expectSame('a.mean(dim=-1, keepdim=True)', mean(a, -1, true))
    expectSame('torch.mean(a, dim=[0, 2])', mean(a, [0, 2]))
    expectSame('torch.var(a, dim=1, unbiased=True, keepdim=True)', variance(a, 1, { correction: 1, keepdims: true }))
    expectSame('a.var(dim=-1, unbiased=False, keepdim=True)', variance(a, -1, { correction: 0, keepdims: true }))
    expectSame('torch.var(a, dim=(0, 2))', variance(a, [0, 2], { correction: 1 }))
    expectSame('torch.var(a, False)', variance(a, undefined, { correction: 0 }))
    expectSame('a.std(dim=2, correction=0)', sqrt(variance(a, 2, { correction: 0 })))
    expectSame('torch.logsumexp(a, dim=(0, 2))', logsumexp(a, [0, 2]))
    expectSame('a.sum(axis=0, keepdims=True)', sum(a, 0, true))
    expectSame('torch.softmax(a, dim=1)', softmax(a, 1))
    expectSame('F.softmax(a, -1)', softmax(a, -1))
  })
  it('takes max and min with and without a dim', () => {
    expect(Array.from(run('a.max()').data)).toEqual([15.5])
    expect(Array.from(run('torch.max(a, dim=2).values').data)).toEqual([-4.5, -0.5, 3.5, 7.5, 11.5, 15.5])
    expect(Array.from(run('torch.min(a, 1)[1]').data)).toEqual([0, 0, 0, 0, 0, 0, 0, 0])
    expect(Array.from(run('a.amax(dim=(0, 1))').data)).toEqual([12.5, 13.5, 14.5, 15.5])
    expectSame('torch.maximum(a, b - 3)', run('torch.max(a, b - 3)'))
  })
  it('slices as Python: ranges, steps, single indices, ellipsis and None', () => {
    expectSame('m[:, 1:6]', slice(m, [null, { start: 1, stop: 6 }]))
    expectSame('m[:, 0:9:2]', slice(m, [null, { start: 0, stop: 9, step: 2 }]))
    expectSame('a[0]', slice(a, [0]))
    expectSame('a[-1, :, 1]', slice(a, [-1, null, 1]))
    expectSame('a[..., ::2]', slice(a, [null, null, { step: 2 }]))
    expectSame('a[1, ...]', slice(a, [1]))
    expectSame('a[:, -2:]', slice(a, [null, { start: -2 }]))
    expectSame('m[:, 20:]', slice(m, [null, { start: 20 }]))
    expect(run('a[None, 0, ..., None]').shape).toEqual([1, 3, 4, 1])
    expect(run('a[:, None]').shape).toEqual([2, 1, 3, 4])
    expectSame('torch.cat([a, a * 2], dim=1)[:, 1:6]', slice(concat([a, mul(a, 2)], 1), [null, { start: 1, stop: 6 }]))
  })
  it('indexes: gather, embedding, integer-tensor subscripts, cat, stack', () => {
    expectSame('torch.gather(m, 1, idx)', gather(m, 1, idx))
    expectSame('m.gather(1, idx)', gather(m, 1, idx))
    expectSame('F.embedding(idx, m)', indexSelect(m, 0, idx))
    expectSame('m[idx]', indexSelect(m, 0, idx))
    expectSame('m[:, idx]', indexSelect(m, 1, idx))
    expectSame('m[1:, [0, 2, 2]]', indexSelect(slice(m, [{ start: 1 }]), 1, tensor(Int32Array.from([0, 2, 2]), { shape: [3] })))
    expectSame('a[None, ..., idx]', indexSelect(slice(a, [null]).unsqueeze(0), 3, idx))
    expect(run('torch.stack([b, b + 1], dim=0)').shape).toEqual([2, 4])
    expect(run('torch.cat((b, b), 0)').shape).toEqual([8])
    expect(run('torch.split(m, 4, dim=1)[-1]').shape).toEqual([3, 2])
    expect(run('m.chunk(3, dim=1)[2]').shape).toEqual([3, 2])
    expectSame('m.narrow(1, -4, 2)', slice(m, [null, { start: 6, stop: 8 }]))
    expectSame('torch.select(a, -2, 1)', slice(a, [null, 1]))
    expectSame('torch.zeros_like(m).scatter_add(1, idx, m[:2, :2])', scatterAdd(zerosLike(m), 1, idx, slice(m, [{ stop: 2 }, { stop: 2 }])))
    expectSame('torch.index_add(m, 1, idx[0], m[:, :2], alpha=2)', indexAdd(m, 1, slice(idx, [0]), mul(slice(m, [null, { stop: 2 }]), 2)))
  })
  it('reshapes with method varargs or a tuple', () => {
    expect(run('a.reshape(6, 4)').shape).toEqual([6, 4])
    expect(run('a.view((4, -1))').shape).toEqual([4, 6])
    expect(run('a.permute(2, 0, 1)').shape).toEqual([4, 2, 3])
    expect(run('torch.permute(a, (2, 0, 1))').shape).toEqual([4, 2, 3])
    expect(run('b.unsqueeze(0).expand(3, -1)').shape).toEqual([3, 4])
    expect(run('a.flatten(1)').shape).toEqual([2, 12])
    expect(evalTorchExpr('a.size(-1) + a.shape[0] + a.dim() + a.ndim', env)).toBe(12)
  })
  it('composes the layer-norm expression of the fixtures, and F.layer_norm agrees', () => {
    const src = '(a - a.mean(dim=-1, keepdim=True)) / torch.sqrt(a.var(dim=-1, unbiased=False, keepdim=True) + 1e-5) * b + 1'
    const expected = add(mul(div(sub(a, mean(a, -1, true)), sqrt(add(variance(a, -1, { correction: 0, keepdims: true }), 1e-5))), b), 1)
    expectSame(src, expected)
    expectClose('F.layer_norm(a, (4,), b, torch.ones_like(b))', expected)
    expectClose('F.layer_norm(a, [4], weight=b, bias=b * 0 + 1, eps=1e-5)', expected)
    expectClose('torch.nn.functional.mse_loss(a, b)', mean(pow(sub(a, b), 2)))
    expectClose("F.l1_loss(a, b, reduction='sum')", sum(abs(sub(a, b))))
  })
  it('differentiates like the graphgrad ops it maps to', () => {
    const f = compileTorchExpr('(x ** 3).mean() + torch.cat([x, x], dim=0)[1:3].sum()')
    const g = grad((x: Tensor) => f({ x }))(f64([4], 0.5)) as Tensor
    // d/dx mean(x^3) = 3x^2/4, plus 1 where the slice [1:3] of the concatenation reads x.
    expect(Array.from(g.data)).toEqual([0.1875, 2.6875, 5.6875, 9.1875])
  })
})

describe('errors', () => {
  const fails = (src: string, message: string): void => {
    expect(() => compileTorchExpr(src)(env), src).toThrow(TorchExprError)
    expect(() => compileTorchExpr(src)(env), src).toThrow(message)
  }
  it('names unknown functions, methods, names and arguments', () => {
    fails('torch.frobnicate(a)', 'unknown function torch.frobnicate')
    fails('F.cross_entropy(a, idx)', 'unknown function F.cross_entropy')
    fails('torch.linalg.svd(a)', 'unknown function torch.linalg.svd')
    fails('a.frobnicate()', 'unknown method Tensor.frobnicate')
    fails('c + 1', "unknown name 'c'")
    fails('a.sum(dims=1)', "torch.sum: unsupported argument 'dims'".replace('torch.sum', 'Tensor.sum'))
    fails('torch.sum(a, dimension=1)', "torch.sum: unsupported argument 'dimension'")
    fails('torch.gather(a, 1)', "torch.gather: missing argument 'index'")
    fails('torch.softmax(a, dim=1.5)', "torch.softmax: argument 'dim' must be an integer")
    fails('a.transpose(0, 1, 2, 3)', 'Tensor.transpose: takes at most 2 positional arguments, got 4')
  })
  it('rejects malformed expressions and unsupported forms', () => {
    fails('a +', 'unexpected end of expression')
    fails('(a', "expected ','")
    fails('a $ b', "unexpected character '$'")
    fails('a b', "unexpected 'b'")
    fails('a[::-1]', 'slice step must be positive')
    fails('a[0, 0, 0, 0]', 'too many indices for a tensor of rank 3')
    fails('a[..., ...]', 'single ellipsis')
    fails('a[0, idx]', 'advanced indexing is only supported as one integer tensor')
    fails('F.mse_loss(a, b, reduction="avg")', "F.mse_loss: unknown reduction 'avg'")
    fails('1 + 2', "'1 + 2' gave 3, not a tensor")
    fails('a < b < 1', 'chained comparisons are not supported')
    fails('torch.sum(dim=1, a)', 'positional argument after keyword argument')
  })
})
