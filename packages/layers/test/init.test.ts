import { describe, expect, it } from 'vitest'
import { ArgumentError, type Tensor, matmul, randn, transpose } from '@graphgrad/core'
import { calculateGain, constantInit, fans, kaimingUniform, normalInit, orthogonal, uniformInit, xavierNormal, xavierUniform } from '../src/init.ts'

function maxAbs(t: Tensor): number {
  return Math.max(...Array.from(t.data, Math.abs))
}

describe('initialisers', () => {
  it('compute fans and gains as torch.nn.init', () => {
    expect(fans([3, 4])).toEqual([4, 3])
    expect(fans([8, 2, 3, 3])).toEqual([18, 72])
    expect(() => fans([3])).toThrow(ArgumentError)
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3)
    expect(calculateGain('relu')).toBeCloseTo(Math.SQRT2)
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3))
  })

  it('kaimingUniform with a = sqrt(5) is U(-1/sqrt(in), 1/sqrt(in)) (nn.Linear default)', () => {
    const w = kaimingUniform([64, 25], 0, { a: Math.sqrt(5) })
    expect(maxAbs(w)).toBeLessThanOrEqual(0.2)
    expect(maxAbs(w)).toBeGreaterThan(0.19)
    const he = kaimingUniform([64, 25], 0, { nonlinearity: 'relu', dtype: 'float64' })
    expect(he.dtype).toBe('float64')
    expect(maxAbs(he)).toBeLessThanOrEqual(Math.SQRT2 * Math.sqrt(3 / 25))
  })

  it('xavierUniform / xavierNormal bounds and spread', () => {
    const w = xavierUniform([30, 20], 1, { gain: 2 })
    const b = 2 * Math.sqrt(6 / 50)
    expect(maxAbs(w)).toBeLessThanOrEqual(b)
    expect(maxAbs(w)).toBeGreaterThan(0.9 * b)
    const std = Math.sqrt(2 / 400)
    const n = xavierNormal([200, 200], 1, { dtype: 'float64' })
    // Deterministic for a fixed seed: exactly std times the standard normal draws of that seed.
    const z = randn([200, 200], 1, { dtype: 'float64' }).data
    const bad = Array.from(n.data).findIndex((v, i) => v !== std * z[i])
    expect(bad, `element ${bad}: ${n.data[bad]} vs std * z = ${std * z[bad]}`).toBe(-1)
    // The spread: the root mean square s of N = 40000 draws estimates std (the mean is known to
    // be 0). For normal draws Var(x^2) = 2 std^4, so s^2 has standard error std^2 sqrt(2 / N)
    // and s has std / sqrt(2 N) = 0.35% of std; four standard errors (1.4%) leave a chance of
    // about 6e-5 that a seed gives a correct std's draws outside it, while a std 5% off fails.
    let ss = 0
    for (const v of n.data) ss += v * v
    const se = std / Math.sqrt(2 * n.size)
    expect(Math.abs(Math.sqrt(ss / n.size) - std)).toBeLessThan(4 * se)
  })

  it('orthogonal gives orthonormal rows or columns, reproducibly', () => {
    for (const shape of [
      [5, 3],
      [3, 5],
      [4, 4],
      [2, 3, 2],
    ]) {
      const q = orthogonal(shape, 3, { dtype: 'float64' })
      expect(q.shape).toEqual(shape)
      const m = q.rank === 2 ? q : q.reshape([shape[0], q.size / shape[0]])
      const [r, c] = m.shape
      const g = r >= c ? matmul(transpose(m), m) : matmul(m, transpose(m))
      const k = Math.min(r, c)
      const ga = g.toArray() as number[][]
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) expect(ga[i][j]).toBeCloseTo(i === j ? 1 : 0, 12)
      expect(Array.from(orthogonal(shape, 3, { dtype: 'float64' }).data)).toEqual(Array.from(q.data))
    }
    const scaled = orthogonal([3, 3], 0, { gain: 2, dtype: 'float64' })
    expect(maxAbs(scaled)).toBeLessThanOrEqual(2 + 1e-12)
  })

  it('uniform, normal and constant initialisers follow the Initializer shape', () => {
    const u = uniformInit(0.5)([100], 2)
    expect(maxAbs(u)).toBeLessThanOrEqual(0.5)
    const n = normalInit(3, 0.01)([100], 2, { dtype: 'float64' })
    for (const v of n.data) expect(Math.abs(v - 3)).toBeLessThan(0.1)
    expect(constantInit(0.25)([2], 0).toArray()).toEqual([0.25, 0.25])
  })
})
