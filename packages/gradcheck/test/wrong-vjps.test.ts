// The tool must catch wrong gradients and say exactly where they are: deliberately wrong
// VJP rules, each reported with the right input, element and output.
import { describe, it, expect } from 'vitest'
import { GradientError, sum } from '@graphgrad/core'
import { formatResult, gradcheck, gradgradcheck, type GradcheckFailure } from '../src/index.ts'
import { LSTM, addBroadcastWrong, lstmParams, lstmStep, makeMatmul, matmul, mulWrongB, squareDetachedVjp, values } from './helpers/custom-ops.ts'

const key = (f: GradcheckFailure): string => `${f.input}:${f.param ?? ''}:[${f.element.join(',')}]`

describe('wrong VJPs are reported with the input and element', () => {
  it('a gradient off by a constant factor', () => {
    const a = values([2, 3], 0)
    const b = values([2, 3], 10)
    const r = gradcheck((x, y) => mulWrongB(x, y, 2), [a, b])
    expect(r.ok).toBe(false)
    // Only input 1 is wrong, at every element, and only on the Jacobian's diagonal.
    expect(new Set(r.failures.map(key))).toEqual(new Set(Array.from({ length: 6 }, (_, i) => `1::[${Math.floor(i / 3)},${i % 3}]`)))
    for (const f of r.failures) {
      expect(f.kind).toBe('mismatch')
      expect(f.output).toEqual(f.element)
      expect(f.analytic).toBeCloseTo(2 * f.numeric, 8)
      expect(f.numeric).toBeCloseTo(a._data[f.element[0] * 3 + f.element[1]], 8)
    }
    const report = formatResult(r)
    expect(report).toContain('input 1 element [0,0], output [0,0]: analytic')
    expect(report).toContain('analytic = 2 x numeric on every failing entry')
    // The same bug is found by one projected pullback (fast mode), still by element.
    const fast = gradcheck((x, y) => mulWrongB(x, y, 2), [a, b], { fastMode: true })
    expect(fast.ok).toBe(false)
    expect(new Set(fast.failures.map(key)).size).toBe(6)
    expect(fast.failures.every((f) => f.input === 1 && f.output === null)).toBe(true)
    expect(gradcheck((x, y) => mulWrongB(x, y, 1), [a, b]).ok).toBe(true)
  })

  it('a broadcast reduction over the wrong axis', () => {
    const a = values([3, 3], 0)
    const b = values([3, 1], 20)
    const r = gradcheck((x, y) => addBroadcastWrong(x, y, 'sumOverRows'), [a, b])
    expect(r.ok).toBe(false)
    expect(r.failures.every((f) => f.input === 1)).toBe(true)
    // b[i] reaches the outputs of row i; the wrong rule credits it with column i instead.
    for (const f of r.failures) {
      const [row, col] = f.output as number[]
      const i = f.element[0]
      expect(row === i).not.toBe(col === i)
      expect(f.numeric).toBeCloseTo(row === i ? 1 : 0, 8)
      expect(f.analytic).toBeCloseTo(col === i ? 1 : 0, 8)
    }
    expect(r.failures.find((f) => f.element[0] === 0 && f.output?.join() === '0,1')?.message).toBe(
      'input 1 element [0,0], output [0,1]: analytic 0 vs numeric 1 (abs error 1)',
    )
  })

  it('a missing broadcast reduction is refused by backward, naming the op and shapes', () => {
    const run = (): unknown => gradcheck((x, y) => addBroadcastWrong(x, y, 'unreduced'), [values([3, 3]), values([3, 1])])
    expect(run).toThrow(GradientError)
    expect(run).toThrow(/backward of addBroadcastWrong: the gradient for input 1 has shape \[3,3\] but the input has shape \[3,1\]/)
  })

  it('a transposed matmul gradient', () => {
    const a = values([2, 3], 0)
    const b = values([3, 3], 30)
    const r = gradcheck(makeMatmul(true), [a, b])
    expect(r.ok).toBe(false)
    expect(r.failures.every((f) => f.input === 1)).toBe(true)
    // g^T a and a^T g agree on the diagonal: exactly the off-diagonal elements are wrong.
    const offDiagonal = new Set<string>()
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) if (i !== j) offDiagonal.add(`1::[${i},${j}]`)
    expect(new Set(r.failures.map(key))).toEqual(offDiagonal)
    expect(formatResult(r)).toContain(
      '  input 1: 6 elements wrong: [0,1] [0,2] [1,0] [1,2] [2,0] [2,1]\n    the analytic gradient of element [i,j] is the numeric one of [j,i]: the gradient is transposed',
    )
    expect(gradcheck(matmul, [a, b]).ok).toBe(true)
  })

  it('a wrong LSTM gate, by parameter name', () => {
    const params = lstmParams()
    const x = values([LSTM.batch, LSTM.input], 500)
    const H = LSTM.hidden
    expect(gradcheck((p, xs) => lstmStep(p, xs, false), [params, x]).ok).toBe(true)
    const r = gradcheck((p, xs) => lstmStep(p, xs, true), [params, x], { inputNames: ['params', 'x'], maxFailures: 10000 })
    expect(r.ok).toBe(false)
    // Exactly the forget-gate rows (H .. 2H-1) of every weight and bias, and the input x.
    const rows = new Set(r.failures.filter((f) => f.input === 0).map((f) => `${f.param}:${f.element[0]}`))
    const expected = new Set<string>()
    for (const name of ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0']) for (let row = H; row < 2 * H; row++) expected.add(`lstm.${name}:${row}`)
    expect(rows).toEqual(expected)
    expect(r.failures.some((f) => f.input === 1 && f.inputName === 'x')).toBe(true)
    expect(formatResult(r)).toContain("  params 'lstm.weight_hh_l0': 9 elements wrong: [3,0] [3,1] [3,2] [4,0] [4,1] [4,2] [5,0] [5,1] [5,2]")
    expect(r.failures.map((f) => f.message).join('\n')).toMatch(
      /params 'lstm\.weight_hh_l0' element \[[345],[012]\], output \[\d,\d\]: analytic .* vs numeric /,
    )
  })

  it('a VJP that is right to first order but wrong to second', () => {
    const x = values([4], 0)
    const f = (t: typeof x): typeof x => squareDetachedVjp(t)
    expect(gradcheck(f, [x]).ok).toBe(true)
    const r = gradgradcheck(f, [x])
    expect(r.ok).toBe(false)
    expect(
      r.failures
        .filter((e) => e.input === 0)
        .map((e) => e.element[0])
        .sort(),
    ).toEqual([0, 1, 2, 3])
    // The cotangent's own derivative (the VJP is linear in it) is still right.
    expect(r.failures.some((e) => e.inputName === 'grad_output')).toBe(false)
    expect(formatResult(r)).toContain('second derivatives are wrong')
    // A correct rule written with ops passes: the test matmul's VJP is itself differentiable.
    expect(gradgradcheck((t: typeof x) => sum(matmul(t, t)), [values([2, 2])]).ok).toBe(true)
  })
})
