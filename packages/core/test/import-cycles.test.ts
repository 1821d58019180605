/**
 * No value-import cycles among the core's modules: with a cycle, which module evaluates first
 * depends on which one a program happens to import first, and a module-level use of an import
 * (a table built at load time, `registerOps`) can meet an uninitialised binding. `import type`
 * and `export type` are erased, so they are ignored.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Tensor } from '../src/tensor.ts'
import type * as Creation from '../src/creation.ts'
import type * as Transforms from '../src/autodiff/transforms.ts'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

function modules(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? modules(path) : path.endsWith('.ts') ? [path] : []
  })
}

/** The relative modules a file imports or re-exports as values (type-only forms left out). */
export function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
  const found: string[] = []
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?([^'";]*?)\s*(?:from\s+)?['"](\.[^'"]+)['"]/g
  for (const m of text.matchAll(re)) {
    if (m[2] !== undefined) continue // import type / export type
    const clause = m[3].trim()
    // `import { type A, type B } from` is erased too (all its names type-only); a bare `import './x'` is a value import.
    const braces = /^\{([^}]*)\}$/.exec(clause)
    if (
      braces !== null &&
      braces[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith('type '))
    )
      continue
    if (m[1] === 'export' && clause === '') continue
    found.push(resolve(dirname(file), m[4]))
  }
  return found
}

/**
 * The one allowed edge, and why: tensor.ts imports methods.ts to install the methods when the
 * first tensor is constructed (so no import path can skip them). methods.ts runs nothing at
 * load time, so module order cannot break it; the test below importing every module first
 * checks that.
 */
const ALLOWED: readonly (readonly [string, string])[] = [['tensor.ts', 'methods.ts']]

/** Strongly connected components with more than one module, or a module importing itself. */
function cycles(files: string[]): string[][] {
  const allowed = (from: string, to: string): boolean => ALLOWED.some(([a, b]) => relative(SRC, from) === a && relative(SRC, to) === b)
  const graph = new Map(files.map((f) => [f, valueImports(f).filter((t) => files.includes(t) && !allowed(f, t))]))
  let index = 0
  const idx = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const on = new Set<string>()
  const out: string[][] = []
  const visit = (v: string): void => {
    idx.set(v, index)
    low.set(v, index++)
    stack.push(v)
    on.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (on.has(w)) low.set(v, Math.min(low.get(v) as number, idx.get(w) as number))
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = []
      let w: string
      do {
        w = stack.pop() as string
        on.delete(w)
        comp.push(relative(SRC, w))
      } while (w !== v)
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.sort())
    }
  }
  for (const f of files) if (!idx.has(f)) visit(f)
  return out
}

describe('the core has no value-import cycles', () => {
  it('finds the imports of a module, ignoring type-only ones', () => {
    const imports = valueImports(join(SRC, 'ops/registry.ts')).map((f) => relative(SRC, f))
    expect(imports).not.toContain('tensor.ts') // `import type { Tensor }`
  })

  it('among packages/core/src', () => {
    expect(cycles(modules(SRC))).toEqual([])
  })

  it('sees a cycle when there is one (the allowed edge closes one)', () => {
    const files = modules(SRC)
    const imports = valueImports(join(SRC, 'tensor.ts')).map((f) => relative(SRC, f))
    expect(imports).toContain('methods.ts')
    expect(files.length).toBeGreaterThan(40)
  })
})

describe('module order cannot break an import', () => {
  afterEach(() => vi.resetModules())
  const entries = modules(SRC).filter((f) => !f.includes('/kernels/generated/') && !f.endsWith('node-unavailable.ts'))
  it.each(entries.map((f) => relative(SRC, f)))('importing %s first loads, and tensors have their methods', async (rel) => {
    vi.resetModules()
    await import(/* @vite-ignore */ join(SRC, rel))
    const { tensor } = (await import(/* @vite-ignore */ join(SRC, 'creation.ts'))) as typeof Creation
    expect(tensor([1, 2]).add(1).mul(2).toArray()).toEqual([4, 6])
    // A gradient through the late-bound ops (sub's VJP calls neg, broadcasting calls sumToShape and sum).
    const { grad } = (await import(/* @vite-ignore */ join(SRC, 'autodiff/transforms.ts'))) as typeof Transforms
    const g = grad((b: Tensor) =>
      tensor([
        [1, 2],
        [3, 4],
      ])
        .sub(b)
        .sum(),
    )(tensor([1, 1]))
    expect(g.toArray()).toEqual([-2, -2])
  })
})
