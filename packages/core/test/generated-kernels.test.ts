// The kernels are generated source (scripts/gen-kernels.ts), never compiled from strings at
// run time: the committed files must match the generator, and no shipped file may eval.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { generatedFiles, staleFiles } from '../../../scripts/gen-kernels.ts'
import { binaryMap, unaryMap } from '../src/kernels/elementwise.ts'
import { reduceRows } from '../src/kernels/reduce.ts'
import { createGemm } from '../src/kernels/matmul.ts'

const root = fileURLToPath(new URL('../../..', import.meta.url))

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* sources(path)
    else if (/\.[cm]?[jt]s$/.test(name)) yield path
  }
}

describe('generated kernels', () => {
  it('the committed files are what `pnpm gen:kernels` writes', () => {
    expect(staleFiles(), 'stale generated kernels: run `pnpm gen:kernels`').toEqual([])
  })

  it('`pnpm gen:kernels --check` exits 1 and names a stale file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gen-kernels-'))
    try {
      const files = generatedFiles()
      for (const [path, text] of files) {
        mkdirSync(dirname(join(dir, path)), { recursive: true })
        writeFileSync(join(dir, path), text)
      }
      const [stalePath] = files.keys()
      writeFileSync(join(dir, stalePath), `${files.get(stalePath)}// edited by hand\n`)
      let status = 0
      let stderr = ''
      try {
        execFileSync(process.execPath, ['--import', 'tsx', join(root, 'scripts/gen-kernels.ts'), '--check', '--root', dir], { cwd: root, stdio: 'pipe' })
      } catch (e) {
        const err = e as { status: number; stderr: Buffer }
        status = err.status
        stderr = err.stderr.toString()
      }
      expect(status).toBe(1)
      expect(stderr).toContain(stalePath)
      expect(stderr.split('\n').filter((l) => l.includes('stale'))).toHaveLength(1)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('no shipped source compiles code from strings', () => {
    const offenders: string[] = []
    for (const pkg of readdirSync(join(root, 'packages'))) {
      const src = join(root, 'packages', pkg, 'src')
      if (!existsSync(src)) continue
      for (const file of sources(src)) {
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (/\bnew Function\b|\beval\s*\(|\bFunction\s*\(/.test(line)) offenders.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`)
          })
      }
    }
    expect(offenders).toEqual([])
  })

  it('an expression without a generated kernel fails clearly, naming it and the command', () => {
    expect(() => unaryMap('x * 3', new Float32Array(2), new Float32Array(2))).toThrow(/'x \* 3'.*pnpm gen:kernels/)
    expect(() => binaryMap('a % b', new Float32Array(1), [], new Float32Array(1), [], new Float32Array(1), [])).toThrow(/'a % b'.*pnpm gen:kernels/)
  })

  it('a dtype combination no op produces runs the generic copy, with the same results', () => {
    // float32 and float64 operands of a sum into int32: not a combination the ops produce.
    const out = new Int32Array(3)
    binaryMap('a + b', new Float32Array([1.5, 2, -3]), [1], new Float64Array([1, 0.25, 0.5]), [1], out, [3])
    expect([...out]).toEqual([2, 2, -2])
    const y = new Float64Array(3)
    unaryMap('Math.exp(x)', new Int32Array([0, 1, 2]), y)
    expect([...y]).toEqual([1, Math.exp(1), Math.exp(2)])
    const rows = new Float64Array(2)
    reduceRows('sum', new Int32Array([1, 2, 3, 4]), 2, 2, rows)
    expect([...rows]).toEqual([3, 7])
  })

  it('a GEMM tile without a generated micro-kernel fails at its first product, naming the tile', () => {
    const gemm = createGemm({ mr: 5, nr: 7, kc: 8, mc: 8, nc: 8 })
    const a = new Float64Array(4)
    expect(() => gemm(a, 0, false, a, 0, false, new Float64Array(4), 0, 2, 2, 2)).toThrow(/5x7.*pnpm gen:kernels/)
  })
})
