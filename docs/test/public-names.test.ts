// "Every public name with a runnable example": each value that @graphgrad/layers and
// @graphgrad/optim export at run time (functions, classes, constants) is used in the code of a
// block that runs (not a no-run block, a comment or a string) on the page that presents them.
// A new export fails this test until the page shows it; types are covered by the API reference.
import * as layers from '@graphgrad/layers'
import * as optim from '@graphgrad/optim'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { extractBlocks } from '../scripts/code-blocks.ts'

const PAGE = 'docs/guide/layers-and-optimizers.md'

/** The identifiers a piece of TypeScript uses: names in code, not in comments or strings. */
function identifiers(code: string): Set<string> {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, code)
  const names = new Set<string>()
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.Identifier) names.add(scanner.getTokenValue())
  }
  return names
}

const used = new Set(
  extractBlocks(PAGE)
    .filter((b) => b.mode === 'run')
    .flatMap((b) => [...identifiers(b.code)]),
)

describe(`${PAGE} shows every public name`, () => {
  it('finds the identifiers of its runnable blocks (and not those of comments)', () => {
    expect(identifiers('const a = f(b) // c\n/* d */ const e = "g"')).toEqual(new Set(['a', 'f', 'b', 'e']))
    expect(used.has('linear') && used.has('adam')).toBe(true)
  })

  for (const [pkg, exports] of [
    ['@graphgrad/layers', layers],
    ['@graphgrad/optim', optim],
  ] as const) {
    it(`every runtime export of ${pkg} is used in a block that runs`, () => {
      const names = Object.keys(exports)
      expect(names.length).toBeGreaterThan(10)
      expect(names.filter((name) => !used.has(name)).sort()).toEqual([])
    })
  }
})
