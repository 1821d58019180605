// Importing never fails: not on a second evaluation of the modules (a dev server's hot reload,
// a test runner's module reset), and not with a bad GRAPHGRAD_GEMM (that is reported at the first product).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { registerOps, registeredOps } from '../src/ops/registry.ts'
import { noGradient } from '../src/autodiff/no-gradient.ts'

afterEach(() => {
  vi.unstubAllEnvs()
  vi.resetModules()
})

describe('importing @graphgrad/core', () => {
  it('evaluates again with the op registry intact, and the fresh ops work', async () => {
    const first = await import('../src/index.ts')
    const names = first.registeredOps().map((e) => e.name)
    expect(names.length).toBeGreaterThan(50)
    vi.resetModules()
    const second = await import('../src/index.ts')
    expect(second.registeredOps().map((e) => e.name)).toEqual(names)
    expect(
      second
        .tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { dtype: 'float64' },
        )
        .matmul(second.tensor([[1], [1]], { dtype: 'float64' }))
        .toArray(),
    ).toEqual([[3], [7]])
    expect(
      second
        .grad((x: InstanceType<typeof second.Tensor>) => x.square().sum())(second.tensor([3], { dtype: 'float64' }))
        .toArray(),
    ).toEqual([6])
  })

  it('re-evaluates one op module (what hot reload does to an edited file) without a double registration', async () => {
    await import('../src/index.ts')
    const before = registeredOps().map((e) => e.name)
    // A query gives the module a new identity, so it runs again against the same registry
    // (a variable, since the query is for the test runner, not for tsc's module resolution).
    const edited = '../src/ops/unary.ts?hot-reload'
    await expect(import(/* @vite-ignore */ edited)).resolves.toBeDefined()
    expect(registeredOps().map((e) => e.name)).toEqual(before)
  })

  it('does not throw with a bad GRAPHGRAD_GEMM; the first product names it', async () => {
    vi.stubEnv('GRAPHGRAD_GEMM', 'turbo')
    vi.resetModules()
    const core = await import('../src/index.ts')
    const a = core.tensor([[1, 2]])
    expect(() => a.matmul(a.transpose())).toThrow(/GRAPHGRAD_GEMM='turbo': unknown backend 'turbo'/)
    // Elementwise ops never touch the GEMM and keep working.
    expect(a.add(1).toArray()).toEqual([[2, 3]])
  })

  it('refuses one name registered by two families', () => {
    const [taken] = registeredOps()
    expect(() => registerOps('someOtherFamily', 'primitive', { [taken.name]: noGradient('test') })).toThrow(
      new RegExp(`op '${taken.name}' is registered by both the '${taken.family}' and the 'someOtherFamily' family`),
    )
  })
})
