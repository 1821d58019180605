/**
 * Code samples in markdown, as the tests (and `check-samples.ts`) see them: extraction of the ```ts blocks of a page, a
 * typecheck of many blocks in one TypeScript program, and a run of a page's blocks in one
 * Node process. Shared by samples.test.ts (the site's pages) and readme.test.ts (README.md).
 *
 * A block's info string says what is checked:
 * - ```ts                       typechecked and run as written;
 * - ```ts no-run: <reason>      typechecked only (the reason is required);
 * - ```ts source=<path>         an excerpt of a repository file: every non-blank line must
 *                               appear in that file, so quoted code cannot drift from the code;
 * - ```ts continued             the next lines of the page's previous block (checked as one
 *                               program with it), so a page can explain a program piece by piece.
 * @module
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { SOURCE_NODE_FLAGS } from '../../scripts/source-condition.ts'

/** The repository root. */
export const repoRoot = new URL('../../', import.meta.url).pathname

/** How a block is checked. */
export type BlockMode = 'run' | 'no-run' | 'excerpt'

/** One fenced ```ts block of a markdown file. */
export interface CodeBlock {
  /** The markdown file, relative to the repository root. */
  readonly page: string
  /** 1-based line of the opening fence. */
  readonly line: number
  /** How it is checked. */
  readonly mode: BlockMode
  /** For `no-run`, why; for `excerpt`, the quoted file (relative to the root). */
  readonly note: string
  /** The code between the fences (for a block with continuations, all its pieces). */
  readonly code: string
  /** The page line of each line of `code`. */
  readonly lineMap: readonly number[]
}

/** `page:line`, how failures name a block. */
export function where(block: CodeBlock): string {
  return `${block.page}:${block.line}`
}

const FENCE = /^(`{3,})ts\b(.*)$/

/** The ```ts blocks of one markdown file (`page` relative to the root). */
export function extractBlocks(page: string): CodeBlock[] {
  const lines = readFileSync(join(repoRoot, page), 'utf8').split('\n')
  const blocks: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i])
    if (open === null) continue
    const [, ticks, rest] = open
    const end = lines.findIndex((l, j) => j > i && l.trimEnd() === ticks)
    if (end < 0) throw new Error(`${page}:${i + 1}: unclosed code fence`)
    const info = rest.trim()
    const code = lines.slice(i + 1, end)
    const lineMap = code.map((_, k) => i + 2 + k)
    if (/^continued\b/.test(info)) {
      const previous = blocks.pop()
      if (previous === undefined || previous.mode === 'excerpt') throw new Error(`${page}:${i + 1}: a 'continued' block must follow a ts block`)
      blocks.push({ ...previous, code: `${previous.code}\n${code.join('\n')}`, lineMap: [...previous.lineMap, ...lineMap] })
    } else {
      const noRun = /^no-run\b:?\s*(.*)$/.exec(info)
      const source = /^source=(\S+)/.exec(info)
      const mode: BlockMode = noRun !== null ? 'no-run' : source !== null ? 'excerpt' : 'run'
      blocks.push({ page, line: i + 1, mode, note: noRun?.[1] ?? source?.[1] ?? '', code: code.join('\n'), lineMap })
    }
    i = end
  }
  return blocks
}

/** The site's markdown pages under docs/, relative to the root: not the generated API reference, build output or dependencies. */
export function docPages(): string[] {
  const skip = new Set(['node_modules', 'api', '.vitepress'])
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) {
        if (!skip.has(name) && !name.startsWith('.')) walk(path)
      } else if (name.endsWith('.md')) out.push(relative(repoRoot, path))
    }
  }
  walk(join(repoRoot, 'docs'))
  return out
}

/** Lines of an excerpt block that do not occur (whitespace-trimmed) in its source file. */
export function missingExcerptLines(block: CodeBlock): string[] {
  const file = join(repoRoot, block.note)
  if (!existsSync(file)) return [`(no such file: ${block.note})`]
  const source = new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim()),
  )
  return block.code
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !source.has(l))
}

/** Block files written to disk for the typecheck and the run. */
export interface WrittenBlocks {
  /** The temporary folder (inside the repository, so workspace packages resolve as for users). */
  readonly dir: string
  /** The file of each block, in the order given. */
  readonly files: readonly string[]
  /** Removes the folder. */
  dispose(): void
}

// Each block becomes a module of its own (a top-level `export {}`), so blocks may reuse names.
const PRELUDE = 'export {}\n'

/** Writes each block to a `.ts` file named after its page and line. */
export function writeBlocks(blocks: readonly CodeBlock[], prefix: string): WrittenBlocks {
  const parent = join(repoRoot, 'docs', '.samples')
  mkdirSync(parent, { recursive: true })
  const dir = mkdtempSync(join(parent, `${prefix}-`))
  const files = blocks.map((b) => {
    const file = join(dir, `${b.page.replace(/[/\\.]/g, '_')}_L${b.line}.ts`)
    writeFileSync(file, PRELUDE + b.code + '\n')
    return file
  })
  return { dir, files, dispose: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Typechecks the block files in one program under the root tsconfig's options; returns their problems, each named `page:line`. */
export function typecheckBlocks(blocks: readonly CodeBlock[], files: readonly string[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(repoRoot, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  const program = ts.createProgram([...files], config?.options ?? {})
  const byFile = new Map(files.map((f, i) => [f, blocks[i]]))
  // Only the blocks' own diagnostics: the packages are typechecked by `pnpm typecheck`, and
  // checking just these files (and what they use) is several times faster than the whole program.
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...files.flatMap((f) => {
      const source = program.getSourceFile(f)
      return source === undefined ? [] : [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
    }),
  ]
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
    const block = d.file === undefined ? undefined : byFile.get(d.file.fileName)
    if (d.file === undefined || block === undefined || d.start === undefined) return `${d.file?.fileName ?? '(config)'}: ${message}`
    const { line } = d.file.getLineAndCharacterOfPosition(d.start)
    // Line 0 of the file is the prelude; line k is the block's line k - 1.
    return `${block.page}:${block.lineMap[line - 1] ?? block.line}: ${message}`
  })
}

/** What running a group of blocks printed. */
export interface RunResult {
  /** Exit code of the process (0 when every block ran). */
  readonly code: number
  /** stdout and stderr together. */
  readonly output: string
}

const runner = join(repoRoot, 'docs', 'scripts', 'run-blocks.ts')

/** Runs the files one after another in one `node --import tsx` process (each block is imported as its own module). */
export function runBlocks(files: readonly string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...SOURCE_NODE_FLAGS, runner, ...files], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      resolve({ code, output: `${stdout}${stderr}` })
    })
  })
}
