// The site's code is true: every ```ts block of every page under docs/ typechecks under the
// project's settings and runs as written (grouped per page: one Node process per page), and
// every quoted excerpt still matches the file it quotes.
import { afterAll, describe, expect, it } from 'vitest'
import { docPages, extractBlocks, missingExcerptLines, runBlocks, typecheckBlocks, where, writeBlocks } from '../scripts/code-blocks.ts'

const pages = docPages()
const blocks = pages.flatMap(extractBlocks)
const compiled = blocks.filter((b) => b.mode !== 'excerpt')
const written = writeBlocks(compiled, 'pages')
afterAll(() => written.dispose())

describe('docs code samples', () => {
  it('the guides have samples to check', () => {
    expect(pages).toContain('docs/guide/getting-started.md')
    expect(blocks.filter((b) => b.mode === 'run').length).toBeGreaterThan(20)
  })

  it('a block that does not run says why', () => {
    const silent = blocks.filter((b) => b.mode === 'no-run' && b.note.trim().length < 10).map(where)
    expect(silent).toEqual([])
  })

  it('every excerpt matches the file it quotes, line for line', () => {
    const stale = blocks.filter((b) => b.mode === 'excerpt').flatMap((b) => missingExcerptLines(b).map((l) => `${where(b)} (${b.note}): ${l}`))
    expect(stale).toEqual([])
  })

  it('every block typechecks under the project settings', () => {
    expect(typecheckBlocks(compiled, written.files)).toEqual([])
  })

  for (const page of pages) {
    const files = compiled.flatMap((b, i) => (b.page === page && b.mode === 'run' ? [written.files[i]] : []))
    if (files.length === 0) continue
    it(`${page}: its ${files.length} block(s) run`, async () => {
      const { code, output } = await runBlocks(files)
      expect(code, output).toBe(0)
    })
  }
})
