// Outputs and gradients of the manifest's `ops` expressions against PyTorch 1.13 (testdata/reference).
// Every case runs through the expression evaluator, so a new fixture set needs no code here.
import { describe, expect, it } from 'vitest'
import { type Tensor, logSoftmax, vjp } from '@graphgrad/core'
import { allcloseReport, referenceCases, referenceTensors } from '../../../testdata/fixtures.ts'
import { compileTorchExpr } from '../../../testdata/torch-expr.ts'

type Expr = (inputs: Readonly<Record<string, Tensor>>) => Tensor

/** Problems with the output and each listed gradient of `sum(fn(inputs) * r_output)`, empty when all match. */
function checkCase(inputNames: string[], gradNames: string[], t: ReturnType<typeof referenceTensors>, fn: Expr, tol: { atol: number; rtol: number }): string[] {
  const tensor = (name: string): Tensor => {
    const v = t.get(name)
    if (v === undefined) throw new Error(`fixture has no tensor '${name}'`)
    return v
  }
  const inputs = inputNames.map(tensor)
  const differentiable = gradNames.map((n) => {
    const k = inputNames.indexOf(n)
    if (k < 0) throw new Error(`gradient of '${n}', which is not an input`)
    return k
  })
  const f = (...xs: Tensor[]): Tensor => {
    const env: Record<string, Tensor> = {}
    inputNames.forEach((n, i) => (env[n] = inputs[i]))
    differentiable.forEach((k, j) => (env[inputNames[k]] = xs[j]))
    return fn(env)
  }
  const [out, pullback] = vjp(f, ...differentiable.map((k) => inputs[k]))
  const grads = gradNames.length > 0 ? (pullback(tensor('r_output')) as Tensor[]) : []
  const problems = [allcloseReport('output', out, tensor('output'), tol)]
  gradNames.forEach((n, j) => problems.push(allcloseReport(`grad.${n}`, grads[j], tensor(`grad.${n}`), tol)))
  return problems.filter((p): p is string => p !== null)
}

describe('ops fixtures', () => {
  const cases = referenceCases('ops')
  it('the manifest has ops cases', () => expect(cases.length).toBeGreaterThan(0))
  for (const c of cases) {
    it(`${c.file}: ${String(c.config.expr)}`, () => {
      const config = c.config as { expr: string; inputs: Record<string, unknown>; grads?: string[] }
      const problems = checkCase(Object.keys(config.inputs), config.grads ?? [], referenceTensors(c), compileTorchExpr(config.expr), c.tolerance)
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
