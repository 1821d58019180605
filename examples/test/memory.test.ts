// `pnpm start --quick` end to end: the table has every row, the files load back and hold the
// trained models (they reproduce the recorded held-out results), the LSTM solves recall at the
// shortest lag, and the same seed gives the same numbers, in one process or in two workers.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { foldIn, key } from '@graphgrad/core'
import { readSafetensorsFile } from '@graphgrad/core/node'
import { loadStateDict } from '@graphgrad/layers'
import { modelsForBudget } from '../src/memory/models.ts'
import { TASKS } from '../src/memory/tasks.ts'
import type { SweepResults } from '../src/memory/results.ts'
import type { Evaluation } from '../src/memory/tasks.ts'
import { runSweep } from '../src/memory/experiment.ts'
import { DEFAULTS } from '../src/memory/options.ts'
import { SOURCE_NODE_FLAGS } from '../../scripts/source-condition.ts'

const root = new URL('../../', import.meta.url).pathname
const cli = join(root, 'examples/src/memory/cli.ts')
const dirs: string[] = []
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'graphgrad-memory-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('pnpm start --quick', () => {
  let out: string
  let stdout: string
  let results: SweepResults
  beforeAll(() => {
    out = tempDir()
    stdout = execFileSync(process.execPath, [...SOURCE_NODE_FLAGS, cli, '--quick', '--out', out], { cwd: root, encoding: 'utf8' })
    results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as SweepResults
  }, 120_000)

  it('prints a table row for every task, lag and model, and the gate biases it used', () => {
    const rows = [...stdout.matchAll(/^(reber|recall|adding) +(\d+|-) +(rnn|lstm|gru) +(\d+) +(\d+) +(\d+)\/(\d+) +(\S.*?) {2,}/gm)]
    const { tasks, lags, models } = results.settings
    expect(rows.length).toBe((tasks.length - 1) * lags.length * models.length + models.length)
    for (const t of tasks)
      for (const l of t === 'reber' ? ['-'] : lags.map(String))
        for (const m of models)
          expect(
            rows.some((r) => r[1] === t && r[2] === l && r[3] === m && r[7] === '1'),
            `${t} lag ${l} ${m}`,
          ).toBe(true)
    for (const r of rows) expect(r[8]).toMatch(/^([\d,]+|not solved within 20,000|not run: not solved at lag \d+)$/)
    expect(stdout).toContain('forget-gate bias 5 (--gate-bias')
    expect(stdout).toContain('LSTM input-gate bias -3 (--input-bias)')
    expect(stdout).toMatch(/^reber +- +lstm .* 8,440 /m)
    expect(stdout).toMatch(/R = rnn {3}L = lstm {3}G = gru {3}\. = chance/)
    expect(stdout).toMatch(/^\[ *\d+\/15\] recall lag 5 rnn seed 0: (solved after [\d,]+|not solved within 20,000) sequences, held-out [\d.]+% right/m)
  })

  it('writes results.json with every run, consistent with the table', () => {
    expect(results.format).toBe('graphgrad-memory-results/2')
    expect(results.runs).toHaveLength(15)
    for (const r of results.runs) {
      if (r.notRunAfter !== null) continue
      expect(r.curve.length).toBeGreaterThan(10)
      expect(r.curve[r.curve.length - 1].sequences).toBeLessThanOrEqual(r.sequences)
      expect(r.sequences).toBeLessThanOrEqual(results.settings.budget)
      if (r.solvedAt !== null) expect(TASKS[r.task].solved(r.heldOut as Evaluation)).toBe(true)
      else expect(r.sequences).toBeGreaterThanOrEqual(results.settings.budget)
    }
  })

  it('writes the solve plot and the learning curves', () => {
    for (const file of ['solve.svg', 'curves.svg']) {
      const svg = readFileSync(join(out, file), 'utf8')
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    }
    const ran = results.runs.filter((r) => r.notRunAfter === null)
    expect(readFileSync(join(out, 'curves.svg'), 'utf8').match(/<path d="M/g)?.length).toBe(ran.length)
    const solve = readFileSync(join(out, 'solve.svg'), 'utf8')
    // A median marker and a seed dot per row and run; the paper's Reber figure as a diamond.
    expect(solve.match(/<circle /g)?.length).toBe(3 + 15 + 15)
    expect(solve).toContain('<title>paper LSTM 8440</title>')
  })

  it('writes weights that load back into the models and reproduce the held-out results', async () => {
    for (const r of results.runs) {
      if (r.weights === null) continue
      const task = TASKS[r.task]
      const [model] = modelsForBudget([r.model], task.inputSize, task.outputSize, results.settings.hidden, { perStep: task.perStep })
      expect(model.hidden).toBe(r.hidden)
      const params = loadStateDict(model.init(0), await readSafetensorsFile(join(out, r.weights)))
      // The held-out batch is the one the sweep drew for this task and lag.
      const dataSeed = foldIn(foldIn(key(results.settings.seed), { recall: 0, adding: 1, reber: 2 }[r.task]), r.lag ?? 0)
      const heldOut = task.batch(r.lag ?? 0, results.settings.evalSize, foldIn(dataSeed, 1))
      const right = heldOut.right(model.apply(params, heldOut.inputs))
      expect(right.filter(Boolean).length / right.length).toBeCloseTo((r.heldOut as Evaluation).right, 5)
    }
  })

  it('the LSTM solves delayed recall at the shortest lag and learns the adding problem there', () => {
    const shortest = Math.min(...results.settings.lags)
    const recall = results.runs.find((r) => r.task === 'recall' && r.lag === shortest && r.model === 'lstm')
    const adding = results.runs.find((r) => r.task === 'adding' && r.lag === shortest && r.model === 'lstm')
    expect(recall?.solvedAt).not.toBeNull()
    expect(adding?.heldOut?.right).toBeGreaterThan(3 * (adding?.chance ?? 1))
  })
})

describe('reproducibility', () => {
  it('the same seed gives the same numbers and weights, run one by one or in two worker processes', async () => {
    const settings = { ...DEFAULTS, tasks: ['reber', 'recall'] as const, lags: [3, 4], models: ['rnn', 'lstm'] as const, seeds: 2, budget: 320, evalSize: 40 }
    const [a, b] = [tempDir(), tempDir()]
    const first = await runSweep(settings, a, 1)
    const second = await runSweep(settings, b, 2)
    expect(second.jobs).toBe(2)
    const numbers = (r: SweepResults): unknown => r.runs.map(({ seconds: _s, ...rest }) => rest)
    expect(numbers(second)).toEqual(numbers(first))
    for (const r of first.runs) if (r.weights !== null) expect(readFileSync(join(b, r.weights)).equals(readFileSync(join(a, r.weights)))).toBe(true)
    const other = await runSweep({ ...settings, seed: 2 }, tempDir(), 1)
    expect(other.runs.map((r) => r.heldOut?.loss)).not.toEqual(first.runs.map((r) => r.heldOut?.loss))
  }, 120_000)

  it('a seed that did not solve a lag is not run at the longer lags, unless --all-lags', async () => {
    const settings = { ...DEFAULTS, tasks: ['recall'] as const, lags: [3, 4], models: ['rnn'] as const, seeds: 1, budget: 32, evalSize: 20 }
    const skipping = await runSweep(settings, tempDir(), 1)
    expect(skipping.runs.map((r) => [r.lag, r.solvedAt, r.notRunAfter])).toEqual([
      [3, null, null],
      [4, null, 3],
    ])
    const all = await runSweep({ ...settings, allLags: true }, tempDir(), 1)
    expect(all.runs.map((r) => r.notRunAfter)).toEqual([null, null])
    expect(all.runs[0]).toEqual({ ...skipping.runs[0], seconds: all.runs[0].seconds })
  }, 60_000)
})

describe('the command line', () => {
  const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [...SOURCE_NODE_FLAGS, cli, ...args], { cwd: root, encoding: 'utf8' })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  it('--help explains every option', () => {
    const { status, stdout } = run('--help')
    expect(status).toBe(0)
    for (const o of [
      '--tasks',
      '--lags',
      '--models',
      '--hidden',
      '--gate-bias',
      '--input-bias',
      '--budget',
      '--seeds',
      '--jobs',
      '--all-lags',
      '--batch',
      '--lr',
      '--clip',
      '--eval',
      '--seed',
      '--out',
      '--quick',
      '--help',
    ]) {
      expect(stdout).toContain(o)
    }
  })
  it('refuses unknown options and bad values with a clear message', () => {
    const unknown = run('--lag', '5')
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toBe('pnpm start: unknown option --lag (see pnpm start --help)\n')
    const bad = run('--lags', '5,x')
    expect(bad.status).toBe(2)
    expect(bad.stderr).toBe("pnpm start: --lags must list whole numbers >= 1 and <= 100000, comma-separated; got 'x'\n")
  })
})
