// `pnpm start --quick` end to end: the table has every row, the files load back and hold the
// trained models (they reproduce the recorded held-out scores), the LSTM beats chance at the
// shortest lag, and the same seed gives the same numbers.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { foldIn, key } from '@graphgrad/core'
import { readSafetensorsFile } from '@graphgrad/core/node'
import { loadStateDict } from '@graphgrad/layers'
import { modelsForBudget } from '../src/memory/models.ts'
import { TASKS } from '../src/memory/tasks.ts'
import type { SweepResults } from '../src/memory/results.ts'
import { runSweep } from '../src/memory/experiment.ts'
import { DEFAULTS } from '../src/memory/options.ts'
import { exampleCli, tempDirs } from './cli-helpers.ts'

const cli = exampleCli('memory')
const tempDir = tempDirs('memory')

describe('pnpm start --quick', () => {
  let out: string
  let stdout: string
  let results: SweepResults
  beforeAll(() => {
    out = tempDir()
    ;({ stdout, results } = cli.quick<SweepResults>(out))
  }, 120_000)

  it('prints a table row for every task, lag and model', () => {
    const rows = [
      ...stdout.matchAll(/^(recall|adding) +(\d+) +(rnn|lstm|gru) +(\d+) +(\d+) +(accuracy|mse) +([\d.]+%?) +([\d.]+%?) +(learned|partly|at chance) +(\d+)/gm),
    ]
    const { tasks, lags, models } = results.settings
    expect(rows.length).toBe(tasks.length * lags.length * models.length)
    for (const t of tasks)
      for (const l of lags)
        for (const m of models) {
          expect(
            rows.some((r) => r[1] === t && Number(r[2]) === l && r[3] === m),
            `${t} lag ${l} ${m}`,
          ).toBe(true)
        }
    expect(stdout).toMatch(/R = rnn {3}L = lstm {3}G = gru {3}\. = chance/)
    // Without a terminal the progress bars print plain lines, ending at the last step.
    expect(stdout).toMatch(/\[ *1\/12\] recall lag 5 +rnn +\[#{24}\] 200\/200 +loss [\d.]+ +acc [\d.]+ .*steps\/s +took/)
  })

  it('writes results.json with every run, consistent with the table', () => {
    expect(results.format).toBe('graphgrad-memory-results/1')
    expect(results.runs).toHaveLength(12)
    for (const r of results.runs) {
      expect(r.curve.length).toBeGreaterThan(10)
      expect(r.curve[r.curve.length - 1].step).toBe(r.steps)
      expect(Number.isFinite(r.score)).toBe(true)
    }
  })

  it('writes an SVG with a curve per run', () => {
    const svg = readFileSync(join(out, 'curves.svg'), 'utf8')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(svg.match(/<path d="M/g)?.length).toBe(12)
  })

  it('writes weights that load back into the models and reproduce the held-out scores', async () => {
    for (const r of results.runs) {
      const task = TASKS[r.task]
      const [model] = modelsForBudget([r.model], task.inputSize, task.outputSize, results.settings.hidden)
      expect(model.hidden).toBe(r.hidden)
      const params = loadStateDict(model.init(0), await readSafetensorsFile(join(out, r.weights)))
      // The held-out batch is the one the sweep drew for this task and lag.
      const dataSeed = foldIn(foldIn(key(results.settings.seed), r.task === 'recall' ? 0 : 1), r.lag)
      const heldOut = task.batch(r.lag, results.settings.evalSize, foldIn(dataSeed, 1))
      expect(task.score(model.apply(params, heldOut.inputs), heldOut.targets)).toBeCloseTo(r.score, 5)
    }
  })

  it('the LSTM beats chance at the shortest lag of every task', () => {
    const shortest = Math.min(...results.settings.lags)
    const recall = results.runs.find((r) => r.task === 'recall' && r.lag === shortest && r.model === 'lstm')
    const adding = results.runs.find((r) => r.task === 'adding' && r.lag === shortest && r.model === 'lstm')
    expect(recall?.score).toBeGreaterThan(4 * (recall?.chance ?? 1))
    expect(adding?.score).toBeLessThan(0.75 * (adding?.chance ?? 0))
  })
})

describe('reproducibility', () => {
  it('the same seed gives the same numbers and the same weights', async () => {
    const settings = { ...DEFAULTS, lags: [4], models: ['rnn', 'lstm'] as const, steps: 12, evalSize: 40 }
    const sink = { write: (): boolean => true }
    const [a, b] = [tempDir(), tempDir()]
    const first = await runSweep(settings, a, sink)
    const second = await runSweep(settings, b, sink)
    const numbers = (r: SweepResults): unknown => r.runs.map(({ seconds: _s, ...rest }) => rest)
    expect(numbers(second)).toEqual(numbers(first))
    for (const r of first.runs) expect(readFileSync(join(b, r.weights)).equals(readFileSync(join(a, r.weights)))).toBe(true)
    const other = await runSweep({ ...settings, seed: 2 }, tempDir(), sink)
    expect(other.runs.map((r) => r.loss)).not.toEqual(first.runs.map((r) => r.loss))
  }, 60_000)
})

describe('the command line', () => {
  const run = cli.run
  it('--help explains every option', () => {
    const { status, stdout } = run('--help')
    expect(status).toBe(0)
    for (const o of [
      '--tasks',
      '--lags',
      '--models',
      '--hidden',
      '--gate-bias',
      '--steps',
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
