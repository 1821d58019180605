/**
 * The project's own lint: the house rules (docs/design.md) that neither the type checker, ESLint
 * (which forbids `any` in the packages' sources) nor knip enforces.
 * - a TSDoc comment before every exported declaration of a package's src/;
 * - no source file past 400 lines unless its first lines say why (`lint-allow-long: <reason>`).
 * Generated files (first line `// @generated`, written by `pnpm gen:kernels`) are exempt from
 * the last two: their length follows the rule tables, and their documentation is the generator's.
 * Prints one line per finding and exits 1 if there are any.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const MAX_LINES = 400

function* sourceFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* sourceFiles(path)
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) yield path
  }
}

const findings: string[] = []
const packagesDir = join(root, 'packages')
for (const pkg of readdirSync(packagesDir)) {
  const src = join(packagesDir, pkg, 'src')
  try {
    statSync(src)
  } catch {
    continue
  }
  for (const file of sourceFiles(src)) {
    const rel = relative(root, file)
    const lines = readFileSync(file, 'utf8').split('\n')
    const generated = lines[0].startsWith('// @generated')
    if (!generated && lines.length > MAX_LINES && !lines.slice(0, 10).some((l) => l.includes('lint-allow-long:'))) {
      findings.push(`${rel}: ${lines.length} lines (limit ${MAX_LINES}; split it, or say why in a 'lint-allow-long: <reason>' comment near the top)`)
    }
    lines.forEach((line, i) => {
      if (/^export (async )?(function|class|const|let|interface|type|abstract class|enum) [A-Za-z_$]/.test(line)) {
        let j = i - 1
        while (j >= 0 && lines[j].trim().startsWith('@')) j--
        // An overload signature shares the comment of the first signature above it.
        const name = /^export (?:async )?function (\w+)/.exec(line)?.[1]
        const overload = name !== undefined && j >= 0 && lines[j].startsWith(`export function ${name}`)
        if (!generated && !overload && (j < 0 || !lines[j].trim().endsWith('*/')))
          findings.push(`${rel}:${i + 1}: exported declaration without a TSDoc comment`)
      }
    })
  }
}
for (const f of findings) console.log(f)
if (findings.length > 0) {
  console.log(`lint: ${findings.length} finding(s)`)
  process.exit(1)
}
console.log('lint: ok')
