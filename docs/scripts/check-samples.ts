/**
 * Checks the code samples of some pages as the test suite does, for writers of the docs:
 * `npx tsx docs/scripts/check-samples.ts docs/guide/autodiff.md [more.md ...] [--no-typecheck]`
 * typechecks the pages' ```ts blocks, runs them (printing their output), and checks their
 * excerpts. With no page, it checks every page under docs/. Exits 1 on any problem.
 * @module
 */
import { type CodeBlock, docPages, extractBlocks, missingExcerptLines, runBlocks, typecheckBlocks, where, writeBlocks } from './code-blocks.ts'

const args = process.argv.slice(2)
const pages = args.filter((a) => !a.startsWith('--'))
const blocks: CodeBlock[] = (pages.length > 0 ? pages : docPages()).flatMap(extractBlocks)
const problems = blocks.filter((b) => b.mode === 'excerpt').flatMap((b) => missingExcerptLines(b).map((l) => `${where(b)}: not in ${b.note}: ${l}`))
const compiled = blocks.filter((b) => b.mode !== 'excerpt')
const written = writeBlocks(compiled, 'check')
try {
  if (!args.includes('--no-typecheck')) problems.push(...typecheckBlocks(compiled, written.files))
  const { code, output } = await runBlocks(written.files.filter((_, i) => compiled[i].mode === 'run'))
  process.stdout.write(output)
  if (code !== 0) problems.push(`a block failed (exit code ${code}); see its error above`)
} finally {
  written.dispose()
}
for (const p of problems) console.error(p)
console.log(`${blocks.length} block(s) checked, ${problems.length} problem(s)`)
process.exitCode = problems.length === 0 ? 0 : 1
