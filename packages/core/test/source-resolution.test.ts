// Inside the workspace the packages resolve to their TypeScript sources (the @graphgrad/source
// export condition), never to a dist/ that may be stale or missing: in the test runner, and in
// the Node processes that tests, scripts and the bench spawn.
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { SOURCE_NODE_FLAGS } from '../../../scripts/source-condition.ts'

const root = new URL('../../../', import.meta.url).pathname
const entries = ['@graphgrad/core', '@graphgrad/core/node', '@graphgrad/core/internal', '@graphgrad/layers', '@graphgrad/optim', '@graphgrad/gradcheck']

describe('workspace resolution', () => {
  it('gives the test runner the sources', async () => {
    const viaPackage = await import('@graphgrad/core')
    const viaSource = await import('../src/index.ts')
    expect(viaPackage.Tensor).toBe(viaSource.Tensor)
  })

  it('gives spawned Node processes the sources', () => {
    const script = `for (const e of ${JSON.stringify(entries)}) console.log(import.meta.resolve(e))`
    const out = execFileSync(process.execPath, [...SOURCE_NODE_FLAGS, '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
    const resolved = out.trim().split('\n')
    expect(resolved).toHaveLength(entries.length)
    for (const url of resolved) expect(url).toMatch(/\/packages\/(core|layers|optim|gradcheck)\/src\/[a-z]+\.ts$/)
  })
})
