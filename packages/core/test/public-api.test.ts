/**
 * The main entry exports the API, not internals: every runtime export is listed here against
 * the source, and anything whose TSDoc says `@internal` (helpers the VJPs or the kernel
 * generator share) must not appear. Such pieces go to `@graphgrad/core/internal`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as core from '../src/index.ts'
import * as internal from '../src/internal.ts'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : []
  })
}

/** Names of runtime declarations whose TSDoc comment is tagged `@internal`. */
function internalNames(): Set<string> {
  const names = new Set<string>()
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*export\s+(?:async\s+)?(?:function|const|let|class)\s+(\w+)/g)) {
      if (m[1].includes('@internal')) names.add(m[2])
    }
  }
  return names
}

describe("@graphgrad/core's main entry", () => {
  const exported = Object.keys(core)

  it('exports no internal helper', () => {
    const internals = internalNames()
    expect(internals.size).toBeGreaterThan(10)
    expect(exported.filter((n) => internals.has(n))).toEqual([])
    for (const name of ['broadcastStrides', 'sumToShape', 'UNARY_KERNEL_RULES', 'BINARY_KERNEL_RULES', 'makeOutput', 'registerOps']) {
      expect(exported, name).not.toContain(name)
    }
  })

  it('still exports the ops and the public contract', () => {
    for (const name of [
      'tensor',
      'grad',
      'valueAndGrad',
      'loadSafetensors',
      'saveSafetensors',
      'add',
      'where',
      'tanh',
      'clamp',
      'broadcastTo',
      'astype',
      'Tensor',
      'registeredOps',
    ]) {
      expect(exported, name).toContain(name)
    }
  })

  it('refuses a Tensor whose shape does not match its data, naming both', () => {
    expect(() => new core.Tensor(new Float32Array(5), [2, 3])).toThrow(core.ShapeError)
    expect(() => new core.Tensor(new Float32Array(5), [2, 3])).toThrow('Tensor: shape [2,3] has 6 elements but the data has length 5')
    expect(new core.Tensor(new Float64Array(6), [2, 3]).shape).toEqual([2, 3])
    expect(new core.Tensor(new Float32Array(1), []).item()).toBe(0)
  })

  it('leaves the helpers other packages need to the internal entry', () => {
    for (const name of ['makeOutput', 'noGradient', 'sumToShape', 'broadcastStrides']) expect(Object.keys(internal), name).toContain(name)
  })
})
