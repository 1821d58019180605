/**
 * `pnpm gen:kernels`: writes the specialised kernels (one function per operation and dtype
 * combination, see packages/core/src/kernels/specialize.ts for why) into committed
 * TypeScript files, so nothing is compiled from strings at run time.
 * `pnpm gen:kernels --check` writes nothing: it exits 1, naming each generated file that
 * differs from what the generator would write (a rule table or template changed since).
 * `--root DIR` reads and writes the generated files under DIR instead (for the tests).
 *
 * The generator imports the rule tables from the packages' sources, which import the
 * generated files: if one is broken (say, by a merge), restore it from git first.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { coreFiles } from './kernel-gen/core.ts'
import { gemmFiles } from './kernel-gen/gemm.ts'
import { corePerClassFiles, layersFiles, optimFiles } from './kernel-gen/packages.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Every generated file's content, by path from the repository's root. */
export function generatedFiles(): Map<string, string> {
  return new Map([...coreFiles(), ...gemmFiles(), ...layersFiles(), ...optimFiles(ROOT), ...corePerClassFiles(ROOT)])
}

/** The generated files whose content under `root` (the repository's by default) differs from the generator's. */
export function staleFiles(root = ROOT, files = generatedFiles()): string[] {
  return [...files].filter(([path, text]) => readOrNull(join(root, path)) !== text).map(([path]) => path)
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return null
  }
}

function main(args: readonly string[]): number {
  const at = args.indexOf('--root')
  const root = at >= 0 && args[at + 1] !== undefined ? args[at + 1] : ROOT
  const files = generatedFiles()
  const stale = staleFiles(root, files)
  if (args.includes('--check')) {
    for (const path of stale) console.error(`${path}: stale (differs from what the generator writes); run \`pnpm gen:kernels\``)
    if (stale.length === 0) console.log(`gen:kernels: ${files.size} generated files up to date`)
    return stale.length === 0 ? 0 : 1
  }
  for (const path of stale) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), files.get(path) as string)
    console.log(`wrote ${path}`)
  }
  const kernels = [...files.values()].reduce((n, text) => n + (text.match(/^function /gm)?.length ?? 0), 0)
  const lines = [...files.values()].reduce((n, text) => n + text.split('\n').length - 1, 0)
  console.log(`gen:kernels: ${files.size} files, ${kernels} functions, ${lines} lines (${stale.length} rewritten)`)
  return 0
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2))
