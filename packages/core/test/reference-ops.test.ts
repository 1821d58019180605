// Outputs and gradients of composed expressions against PyTorch 1.13 (testdata/reference).
import { describe, expect, it } from 'vitest'
import {
  type Tensor, add, div, logSoftmax, logsumexp, mean, mul, pow, softmax, sqrt, sub, sum, variance, vjp,
} from '@graphgrad/core'
import { allcloseReport, referenceCases, referenceTensors } from '../../../testdata/fixtures.ts'

type Expr = (inputs: Record<string, Tensor>) => Tensor

// Each PyTorch expression of the manifest, written with graphgrad ops.
const EXPRESSIONS: Record<string, Expr> = {
  '(a * b).sum(dim=1)': ({ a, b }) => sum(mul(a, b), 1),
  'torch.logsumexp(a, dim=(0, 2))': ({ a }) => logsumexp(a, [0, 2]),
  'a - torch.logsumexp(a, dim=1, keepdim=True)': ({ a }) => sub(a, logsumexp(a, 1, true)),
  'torch.var(a, dim=1, unbiased=True, keepdim=True)': ({ a }) => variance(a, 1, { correction: 1, keepdims: true }),
  'torch.var(a, dim=(0, 2), unbiased=False) + torch.mean(a, dim=(0, 2))': ({ a }) => add(variance(a, [0, 2], { correction: 0 }), mean(a, [0, 2])),
  '(a - a.mean(dim=-1, keepdim=True)) / torch.sqrt(a.var(dim=-1, unbiased=False, keepdim=True) + 1e-5) * g + b': ({ a, g, b }) =>
    add(mul(div(sub(a, mean(a, -1, true)), sqrt(add(variance(a, -1, { correction: 0, keepdims: true }), 1e-5))), g), b),
  'torch.softmax(a, dim=1)': ({ a }) => softmax(a, 1),
  '(a ** 3).mean()': ({ a }) => mean(pow(a, 3)),
}

function checkCase(inputNames: string[], gradNames: string[], t: ReturnType<typeof referenceTensors>, fn: Expr, tol: { atol: number; rtol: number }): string[] {
  const inputs = inputNames.map((n) => t.get(n) as Tensor)
  const differentiable = gradNames.map((n) => inputNames.indexOf(n))
  const f = (...xs: Tensor[]): Tensor => {
    const env: Record<string, Tensor> = {}
    inputNames.forEach((n, i) => (env[n] = inputs[i]))
    differentiable.forEach((k, j) => (env[inputNames[k]] = xs[j]))
    return fn(env)
  }
  const [out, pullback] = vjp(f, ...differentiable.map((k) => inputs[k]))
  const grads = pullback(t.get('r_output') as Tensor) as Tensor[]
  const problems = [allcloseReport('output', out, t.get('output') as Tensor, tol)]
  gradNames.forEach((n, j) => problems.push(allcloseReport(`grad.${n}`, grads[j], t.get(`grad.${n}`) as Tensor, tol)))
  return problems.filter((p): p is string => p !== null)
}

describe('ops fixtures', () => {
  const cases = referenceCases('ops').filter((c) => String(c.config.expr) in EXPRESSIONS)
  it('covers the core-only expressions', () => expect(cases.length).toBe(Object.keys(EXPRESSIONS).length))
  for (const c of cases) {
    it(`${c.file}: ${String(c.config.expr)}`, () => {
      const config = c.config as { expr: string; inputs: Record<string, unknown>; grads: string[] }
      const problems = checkCase(Object.keys(config.inputs), config.grads, referenceTensors(c), EXPRESSIONS[config.expr], c.tolerance)
      expect(problems).toEqual([])
    })
  }
})

describe('log_softmax fixtures', () => {
  for (const c of referenceCases('log_softmax')) {
    it(String(c.file), () => {
      const dim = c.config.dim as number
      const problems = checkCase(['x'], ['x'], referenceTensors(c), ({ x }) => logSoftmax(x, dim), c.tolerance)
      expect(problems).toEqual([])
    })
  }
})
