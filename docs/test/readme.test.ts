// The README's code is true: every ```ts block typechecks and runs as written.
import { afterAll, describe, expect, it } from 'vitest'
import { extractBlocks, runBlocks, typecheckBlocks, where, writeBlocks } from '../scripts/code-blocks.ts'

const blocks = extractBlocks('README.md').filter((b) => b.mode !== 'excerpt')
const written = writeBlocks(blocks, 'readme')
afterAll(() => written.dispose())

describe('README code blocks', () => {
  it('has some', () => expect(blocks.length).toBeGreaterThan(0))
  it('typecheck under the project settings', () => {
    expect(typecheckBlocks(blocks, written.files)).toEqual([])
  })
  it('run as written', async () => {
    const files = written.files.filter((_, i) => blocks[i].mode === 'run')
    const { code, output } = await runBlocks(files)
    expect(code, `${blocks.map(where).join(', ')}\n${output}`).toBe(0)
  })
})
