// gradcheck's contract beyond wrong rules: outputs of any shape, parameter maps, refusals,
// determinism and mutation checks, and the readable report.
import { describe, it, expect } from 'vitest'
import { OrderedMap } from 'immutable'
import { Tensor, astype, exp, mul, stopGradient, sum, tanh, tensor } from '@graphgrad/core'
import { GradcheckError, formatResult, formatTable, gradcheck, gradgradcheck } from '../src/index.ts'
import { runTarget } from '../src/registry-runner.ts'
import { type UserCheck, userTarget } from '../src/user-checks.ts'
import { makeDriftingIdentity, values } from './helpers/custom-ops.ts'

describe('gradcheck', () => {
  it('passes correct gradients for scalar and tensor outputs, and reports what it compared', () => {
    const x = values([2, 3])
    const scalar = gradcheck((t: Tensor) => sum(tanh(t)), [x])
    expect(scalar).toMatchObject({ ok: true, failures: [], failureCount: 0, checked: 6 })
    expect(scalar.maxAbsError).toBeLessThan(1e-8)
    expect(scalar.settings).toEqual({ eps: 1e-6, atol: 1e-6, rtol: 1e-5, seed: 0, fastMode: false, order: 1 })
    // Full Jacobian of a [2,3] -> [2,3] function: 36 entries.
    expect(gradcheck((t: Tensor) => exp(t), [x]).checked).toBe(36)
    expect(gradcheck((t: Tensor) => exp(t), [x], { fastMode: true }).checked).toBe(6)
    expect(formatResult(scalar, { name: 'tanh' })).toMatch(/^tanh: gradients match \(6 entries, max abs error .*\)$/)
  })

  it('checks Immutable.js parameter maps and arrays of tensors by name', () => {
    const params = OrderedMap({ layer: OrderedMap({ w: values([2, 2], 1), b: values([2], 7) }) })
    const x = values([2], 3)
    const f = (p: typeof params, parts: Tensor[]): Tensor => {
      const l = p.get('layer') as OrderedMap<string, Tensor>
      return sum(mul(tanh(mul(l.get('w') as Tensor, mul(parts[0], parts[1]))), l.get('b') as Tensor))
    }
    expect(gradcheck(f, [params, [x, values([2], 9)]]).ok).toBe(true)
    // A function that wrongly cuts one parameter's gradient: reported by its name.
    const cut = (p: typeof params, parts: Tensor[]): Tensor => {
      const l = p.get('layer') as OrderedMap<string, Tensor>
      const b = l.get('b') as Tensor
      return sum(mul(tanh(mul(l.get('w') as Tensor, mul(parts[0], parts[1]))), new Tensor(b._data, b.shape)))
    }
    const r = gradcheck(cut, [params, [x, values([2], 9)]], { inputNames: ['params', 'xs'] })
    expect(r.ok).toBe(false)
    expect(r.failures.map((e) => `${e.inputName} ${e.param} [${e.element}]`)).toEqual(['params layer.b [0]', 'params layer.b [1]'])
    expect(formatResult(r)).toContain("  params 'layer.b': 2 elements wrong: [0] [1]\n    the analytic gradient is zero where the numeric one is not")
  })

  it('maxElements checks a random subset of each tensor', () => {
    const params = OrderedMap({ w: values([10, 10], 1), b: values([3], 2) })
    const f = (p: typeof params): Tensor => sum(tanh(mul(p.get('w') as Tensor, sum(p.get('b') as Tensor))))
    const r = gradcheck(f, [params], { maxElements: 5 })
    expect(r).toMatchObject({ ok: true, checked: 5 + 3 })
    expect(() => gradcheck(f, [params], { maxElements: 0 })).toThrow(/maxElements must be at least 1/)
  })

  it('refuses float32 and int32 inputs with an explanation, unless allowed', () => {
    const x32 = tensor([0.1, 0.5, -0.3])
    expect(() => gradcheck((t: Tensor) => tanh(t), [x32])).toThrow(GradcheckError)
    expect(() => gradcheck((t: Tensor) => tanh(t), [x32])).toThrow(/input 0 \(shape \[3\]\) is float32\. Central differences need float64/)
    const loose = gradcheck((t: Tensor) => tanh(t), [x32], { allowFloat32: true })
    expect(loose.ok).toBe(true)
    expect(loose.settings.eps).toBe(1e-3)
    expect(() => gradcheck((t: Tensor) => t, [tensor([1, 2], { dtype: 'int32' })])).toThrow(/int32 and has no gradient/)
    // float64 inputs computed in float32 are refused too.
    expect(() => gradcheck((t: Tensor) => tanh(astype(t, 'float32')), [values([2])])).toThrow(/returns float32/)
    expect(() => gradcheck((t: Tensor) => t, [values([2])], { eps: 0 })).toThrow(/eps must be a positive number/)
    // A result that is not a tensor is the documented GradcheckError, not the autodiff's GradientError.
    for (const check of [gradcheck, gradgradcheck]) {
      expect(() => check(((t: Tensor) => [t]) as unknown as (t: Tensor) => Tensor, [values([2])])).toThrow(GradcheckError)
      expect(() => check(((t: Tensor) => t.toArray()) as unknown as (t: Tensor) => Tensor, [values([2])])).toThrow(/must return a Tensor, got object/)
    }
  })

  it('detects a nondeterministic backward', () => {
    const r = gradcheck(makeDriftingIdentity(), [values([3])])
    expect(r.ok).toBe(false)
    expect(r.failures.every((f) => f.kind === 'nondeterministic')).toBe(true)
    expect(r.failures[0].message).toMatch(/input 0 element \[0\]: backward is not deterministic/)
    expect(gradcheck(makeDriftingIdentity(), [values([3])], { nondetTol: 1e-6 }).ok).toBe(true)
  })

  it('detects a function that mutates its input', () => {
    const x = values([3])
    const original = x._data[1]
    let first = true
    const r = gradcheck(
      (t: Tensor) => {
        if (first) (t._data as Float64Array)[1] = 42
        first = false
        return sum(t)
      },
      [x],
    )
    expect(r.failures.find((f) => f.kind === 'mutated-input')).toMatchObject({ input: 0, element: [1], analytic: 42, numeric: original })
  })

  it('gradgradcheck passes correct second derivatives, over maps too', () => {
    const params = OrderedMap({ w: values([3], 2) })
    const r = gradgradcheck((p: typeof params, x: Tensor) => sum(mul(tanh(mul(p.get('w') as Tensor, x)), x)), [params, values([3], 5)])
    expect(r.ok).toBe(true)
    expect(r.settings.order).toBe(2)
    expect(r.checked).toBe(3 + 3 + 1)
  })

  it('formats the summary table with a total line', () => {
    const table = formatTable([
      { name: 'exp', ok: true, cases: 4, maxAbsError: 3e-10, maxRelError: 1e-10 },
      { name: 'bad', ok: false, cases: 4, maxAbsError: 0.5, maxRelError: 1 },
      { name: 'sign', ok: true, cases: 0, maxAbsError: 0, maxRelError: 0, skipped: 'no gradient' },
    ])
    const lines = table.split('\n')
    expect(lines[0]).toMatch(/^name\s+cases\s+max abs err\s+max rel err\s+status$/)
    expect(lines[2]).toMatch(/^exp\s+4\s+3\.0e-10\s+1\.0e-10\s+pass$/)
    expect(lines[3]).toMatch(/^bad\s+4\s+5\.0e-1\s+1\.0e\+0\s+FAIL$/)
    expect(lines[4]).toMatch(/^sign\s+0\s+-\s+-\s+skip \(no gradient\)$/)
    expect(lines[5]).toBe('total: 2 checked (8 cases), 1 passed, 1 failed, 1 skipped; max abs err 5.0e-1, max rel err 1.0e+0: FAIL')
  })
})

describe("user checks under the runner's seed", () => {
  const seeds: number[] = []
  const check: UserCheck = {
    name: 'drawn',
    fn: ((t: Tensor) => sum(tanh(t))) as UserCheck['fn'],
    inputs: (seed: number) => {
      seeds.push(seed)
      return [tensor([Math.sin(seed), Math.cos(seed)], { dtype: 'float64' })]
    },
    cases: 3,
  }
  // One target, run several times (as a rerun in the same process would).
  const target = userTarget(check)
  const drawnSeeds = (base: number): number[] => {
    seeds.length = 0
    const r = runTarget(target, { seed: base })
    expect(r.ok).toBe(true)
    return [...seeds]
  }
  it('draws the same cases for the same --seed, and other cases for another', () => {
    const a = drawnSeeds(7)
    expect(a).toHaveLength(3)
    expect(new Set(a).size).toBe(3)
    expect(drawnSeeds(7)).toEqual(a)
    expect(drawnSeeds(8)).not.toEqual(a)
  })

  it("keeps the user's options.seed for gradcheck", () => {
    // A wrong gradient (stopGradient cuts half of it), so the result and its settings come back.
    const check: UserCheck = {
      name: 'wrong',
      fn: ((t: Tensor) => sum(mul(t, stopGradient(t)))) as UserCheck['fn'],
      inputs: [values([2])],
      options: { seed: 123 },
    }
    const r = runTarget(userTarget(check))
    expect(r.failures[0].result?.settings.seed).toBe(123)
  })
})
