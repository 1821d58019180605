// The `gradcheck` command, run as a subprocess: its table, its JSON, --only, --order, user
// files, and its exit codes.
import { describe, it, expect } from 'vitest'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { hasGradient, registeredOps } from '@graphgrad/core'
import { registeredLayers } from '@graphgrad/layers'
import type { RegistryEntry } from '../src/registry-runner.ts'
import { SOURCE_NODE_FLAGS } from '../../../scripts/source-condition.ts'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const fixture = (name: string): string => `packages/gradcheck/test/fixtures/${name}`

interface Run {
  code: number
  stdout: string
  stderr: string
}

function gradcheckCommand(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...SOURCE_NODE_FLAGS, 'packages/gradcheck/src/cli.ts', ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

interface JsonResult {
  name: string
  ok: boolean
  cases: number
  maxAbsError: number | null
  maxRelError: number | null
  skipped?: string
  failures?: { case: number; label: string; report: string }[]
}

const coreOps = registeredOps()
// What the command checks with no file: the core's ops, then every layer and loss that
// @graphgrad/layers registers (the package is part of the workspace, so it must be found).
const layerEntries = registeredLayers()
const targets: readonly RegistryEntry[] = [...coreOps, ...layerEntries]

describe('pnpm gradcheck', () => {
  it('checks every registered op, layer and loss and prints a table with the exact total line; exit 0', async () => {
    expect(layerEntries.length).toBeGreaterThan(0)
    const run = await gradcheckCommand()
    const lines = run.stdout.split('\n')
    expect(lines[0]).toMatch(/^name\s+cases\s+max abs err\s+max rel err\s+status$/)
    for (const t of targets) {
      const row = lines.find((l) => l.split(/\s+/)[0] === t.name)
      expect(row, `no row for ${t.name}`).toBeDefined()
      expect(row).toMatch(hasGradient(t.spec) ? /\s4\s+\S+\s+\S+\s+pass$/ : /\s0\s+\S+\s+\S+\s+skip \(no gradient: .+\)$/)
    }
    // Every target with a gradient is checked on 4 cases and passes; the rest are skipped.
    const checked = targets.filter((t) => hasGradient(t.spec)).length
    const skipped = targets.length - checked
    const total = lines.find((l) => l.startsWith('total: '))
    expect(total).toMatch(
      new RegExp(
        `^total: ${checked} checked \\(${4 * checked} cases\\), ${checked} passed, 0 failed, ${skipped} skipped; max abs err \\S+, max rel err \\S+: PASS$`,
      ),
    )
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
  }, 60_000)

  it('--json prints one object with a passing result per op, layer and loss; exit 0', async () => {
    const run = await gradcheckCommand('--json')
    const doc = JSON.parse(run.stdout) as { ok: boolean; results: JsonResult[] }
    expect(Object.keys(doc)).toEqual(expect.arrayContaining(['ok', 'results']))
    for (const r of doc.results) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['name', 'ok', 'cases', 'maxAbsError', 'maxRelError']))
      expect(typeof r.ok).toBe('boolean')
    }
    // One result per target, in the command's order: the core's ops, then the layers and losses.
    expect(doc.results.map((r) => r.name)).toEqual(targets.map((t) => t.name))
    for (const t of targets) {
      const r = doc.results.find((x) => x.name === t.name)
      expect(r?.ok, r?.failures?.map((f) => f.report).join('\n')).toBe(true)
      expect(r?.cases, t.name).toBe(hasGradient(t.spec) ? 4 : 0)
      expect(r?.skipped === undefined, t.name).toBe(hasGradient(t.spec))
    }
    expect(doc.ok).toBe(true)
    expect(run.code).toBe(0)
  }, 60_000)

  it('--only (repeatable), --seed, --cases and --order 2 select what is checked', async () => {
    const run = await gradcheckCommand('--json', '--only', 'exp', '--only=div', '--seed', '7', '--cases', '2')
    expect(run.code).toBe(0)
    const doc = JSON.parse(run.stdout) as { ok: boolean; seed: number; results: JsonResult[] }
    expect(doc.results.map((r) => [r.name, r.ok, r.cases])).toEqual(
      [
        ['div', true, 2],
        ['exp', true, 2],
      ].sort((a, b) => coreOps.findIndex((o) => o.name === a[0]) - coreOps.findIndex((o) => o.name === b[0])),
    )
    expect(doc.seed).toBe(7)
    const second = await gradcheckCommand('--order', '2', '--only', 'tanh')
    expect(second.code).toBe(0)
    expect(second.stdout).toMatch(/^name \(second order\)/)
    expect(second.stdout).toMatch(/\ntanh\s+4\s+\S+\s+\S+\s+pass\n/)
  }, 60_000)

  it('exits with 2 on usage errors', async () => {
    const [unknown, order, option, noChecks] = await Promise.all([
      gradcheckCommand('--only', 'expp'),
      gradcheckCommand('--order', '3'),
      gradcheckCommand('--frobnicate'),
      gradcheckCommand(fixture('no-checks.ts')),
    ])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('--only expp: no op, layer or check of that name (did you mean exp?)')
    expect(order.code).toBe(2)
    expect(order.stderr).toContain('--order must be 1 or 2, got 3')
    expect(option.code).toBe(2)
    expect(option.stderr).toContain('unknown option --frobnicate')
    expect(noChecks.code).toBe(2)
    expect(noChecks.stderr).toContain("expected the file to export 'checks'")
  }, 60_000)

  it("checks a user's file: exit 0 when its gradients are right", async () => {
    const run = await gradcheckCommand(fixture('good-model.ts'))
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/\ntiny model\s+1\s+\S+\s+\S+\s+pass\n/)
    expect(run.stdout).toMatch(/\ntiny model loss \(random points\)\s+3\s+\S+\s+\S+\s+pass\n/)
    expect(run.stdout).toContain('total: 2 checked (4 cases), 2 passed, 0 failed, 0 skipped')
  }, 60_000)

  it("checks a user's file: exit 1 and a report that locates a wrong gradient", async () => {
    const run = await gradcheckCommand(fixture('wrong-gradient.ts'))
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/\ncorrect sum\s+1\s+\S+\s+\S+\s+pass\n/)
    expect(run.stdout).toMatch(/\nmy mul op\s+1\s+1\.5e\+0\s+1\.0e\+0\s+FAIL\n/)
    expect(run.stdout).toContain('my mul op [given inputs]: gradients are wrong: 3 failing entries of 18')
    expect(run.stdout).toContain('  input 1: 3 elements wrong: [0] [1] [2]\n    analytic = 2 x numeric on every failing entry: a constant factor is wrong')
    expect(run.stdout).toContain('input 1 element [1], output [1]: analytic -0.5 vs numeric -0.25 (abs error 0.25)')
    expect(run.stdout).toContain(`reproduce: pnpm gradcheck ${fixture('wrong-gradient.ts')} --only 'my mul op' --seed 0 --cases 1`)
    const json = await gradcheckCommand('--json', fixture('wrong-gradient.ts'))
    expect(json.code).toBe(1)
    const doc = JSON.parse(json.stdout) as { ok: boolean; results: JsonResult[] }
    expect(doc.ok).toBe(false)
    expect(doc.results.map((r) => [r.name, r.ok])).toEqual([
      ['correct sum', true],
      ['my mul op', false],
    ])
    expect(doc.results[1].failures?.[0].report).toContain('input 1 element [0], output [0]: analytic 1 vs numeric 0.5')
  }, 60_000)
})
