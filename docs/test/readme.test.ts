// The README's code is true: every ```ts block typechecks and runs as written.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'

const root = new URL('../../', import.meta.url).pathname
const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
// Inside examples/ so the workspace packages resolve as they do for users of the repo.
const dir = mkdtempSync(join(root, 'examples', '.readme-'))
const files = blocks.map((code, i) => {
  const file = join(dir, `block${i + 1}.ts`)
  writeFileSync(file, `export {}\n${code}`)
  return file
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('README code blocks', () => {
  it('has some', () => expect(blocks.length).toBeGreaterThan(0))
  it('typecheck under the project settings', () => {
    const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
    const program = ts.createProgram(files, config?.options ?? {})
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    expect(problems).toEqual([])
  })
  files.forEach((file, i) => {
    it(`block ${i + 1} runs`, () => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8' })
      expect(out).not.toMatch(/Error/)
    })
  })
})
