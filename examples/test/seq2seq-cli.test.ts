// `pnpm seq2seq --quick` end to end as a process (the table, results.json, attention.svg),
// the same seed giving the same numbers, and the command line's one-line refusals.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Results } from '../src/seq2seq/experiment.ts'
import { runExperiment } from '../src/seq2seq/experiment.ts'
import { DATE_COUNT } from '../src/seq2seq/dates.ts'
import { DEFAULTS, QUICK, TASK_DATES, parseOptions } from '../src/seq2seq/options.ts'
import { UsageError } from '../src/shared/args.ts'
import { exampleCli, tempDirs } from './cli-helpers.ts'

const cli = exampleCli('seq2seq')
const tempDir = tempDirs('seq2seq')

describe('pnpm seq2seq --quick', () => {
  let out: string
  let stdout: string
  let results: Results
  beforeAll(() => {
    out = tempDir()
    ;({ stdout, results } = cli.quick<Results>(out))
  }, 120_000)

  it('prints the table: a row per model with parameters, training sequences, exact match and seconds', () => {
    expect(stdout).toMatch(/^model +params +train seqs +epochs +greedy +beam 5 +seconds$/m)
    for (const model of ['lstm', 'transformer']) expect(stdout).toMatch(new RegExp(`^${model} +\\d+ +640 +2 +[\\d.]+% +[\\d.]+% +[\\d.]+$`, 'm'))
    // Without a terminal the progress bars print plain lines, ending at the last step.
    expect(stdout).toMatch(/\[1\/2\] lstm +\[#{24}\] 20\/20 +loss [\d.]+ .*steps\/s +took/)
  })

  it('writes results.json with both runs, consistent with the settings', () => {
    expect(results.format).toBe('graphgrad-seq2seq-results/1')
    expect(results.settings).toMatchObject({ train: 640, heldOut: 100, epochs: 2, beam: 5 })
    expect(results.runs.map((r) => r.model)).toEqual(['lstm', 'transformer'])
    const [lstm, transformer] = results.runs
    for (const r of results.runs) {
      expect(r.steps).toBe(20)
      expect(r.epochLosses).toHaveLength(2)
      expect(r.epochLosses[1]).toBeLessThan(r.epochLosses[0])
      for (const x of [r.heldOut.greedy, r.heldOut.beam]) expect(x >= 0 && x <= 1).toBe(true)
    }
    // Equal budgets: the transformer within a tenth of the LSTM's parameter count.
    expect(Math.abs(transformer.parameters - lstm.parameters) / lstm.parameters).toBeLessThan(0.1)
    expect(results.attention?.source.length).toBeGreaterThan(0)
  })

  it('writes the attention heat map of a held-out example as SVG: a cell per output character and input token', () => {
    const svg = readFileSync(join(out, 'attention.svg'), 'utf8')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    const cells = svg.match(/<rect x="\d+" y="\d+" width="30" height="30"/g)?.length ?? 0
    const columns = svg.match(/rotate\(-60\)/g)?.length ?? 0
    expect(columns).toBeGreaterThan(3)
    expect(cells % columns).toBe(0)
    expect(cells / columns).toBeGreaterThan(0)
  })
})

describe('reproducibility', () => {
  it('the same seed gives the same numbers', () => {
    const settings = { ...DEFAULTS, train: 64, heldOut: 8, epochs: 1, batchSize: 16, hidden: 8, beam: 2 }
    const sink = { write: (): boolean => true }
    const strip = (r: Results): unknown => ({
      ...r,
      seconds: 0,
      runs: r.runs.map((run) => ({ ...run, seconds: 0, trainSeconds: 0, heldOut: { ...run.heldOut, seconds: 0 } })),
    })
    const first = runExperiment(settings, sink)
    expect(strip(runExperiment(settings, sink).results)).toEqual(strip(first.results))
    expect(runExperiment(settings, sink).heatMap).toEqual(first.heatMap)
    const other = runExperiment({ ...settings, seed: 2 }, sink).results
    expect(other.runs.map((r) => r.epochLosses)).not.toEqual(first.results.runs.map((r) => r.epochLosses))
  }, 60_000)
})

describe('the command line', () => {
  const run = cli.run
  it('--help explains every option', () => {
    const { status, stdout } = run('--help')
    expect(status).toBe(0)
    for (const o of [
      '--models',
      '--train',
      '--held-out',
      '--epochs',
      '--batch',
      '--hidden',
      '--lr',
      '--clip',
      '--beam',
      '--seed',
      '--out',
      '--quick',
      '--help',
    ])
      expect(stdout).toContain(o)
  })
  it('refuses a bad option with one line and exit code 2', () => {
    const cases: [string[], string][] = [
      [['--beam', '0'], "--beam must be a whole number >= 1 and <= 16, got '0'"],
      [['--width', '3'], 'unknown option --width (see pnpm seq2seq --help)'],
    ]
    for (const [args, message] of cases) {
      const r = run(...args)
      expect(r.stderr, args.join(' ')).toBe(`pnpm seq2seq: ${message}\n`)
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stdout).toBe('')
    }
  })
  it('names the option and what it must be, for every bound', () => {
    const cases: [string[], string][] = [
      [['--beam', '17'], "--beam must be a whole number >= 1 and <= 16, got '17'"],
      [['--hidden', '63'], '--hidden must be even (the encoder has two directions of half of it), got 63'],
      [['--hidden', '100000'], "--hidden must be a whole number >= 2 and <= 512, got '100000'"],
      [['--epochs', '1.5'], "--epochs must be a whole number >= 1 and <= 1000, got '1.5'"],
      [['--batch', '0'], "--batch must be a whole number >= 1 and <= 1024, got '0'"],
      [['--seed', 'x'], "--seed must be a whole number >= 0, got 'x'"],
      [['--lr', '0'], "--lr must be a number > 0 and <= 1, got '0'"],
      [['--models', 'gru'], "--models: unknown model 'gru'; choose from lstm, transformer"],
      [['--train', '70000', '--held-out', '5000'], '--train and --held-out add up to 75000, but the task has only 73049 dates'],
      [['--train', '73049'], "--train must be a whole number >= 1 and <= 73048, got '73049'"],
      [['--held-out', '10001'], "--held-out must be a whole number >= 1 and <= 10000, got '10001'"],
      [['--out', ''], '--out expects a folder, got an empty string'],
      [['--quick', 'yes'], "unexpected argument 'yes' (see pnpm seq2seq --help)"],
    ]
    for (const [args, message] of cases) expect(() => parseOptions(args), args.join(' ')).toThrow(new UsageError(message))
  })
  it("bounds --train and --held-out by the task's dates, kept as a number so the command line loads no graphgrad", () => {
    expect(TASK_DATES).toBe(DATE_COUNT)
  })
  it('--quick takes its own defaults, and what is typed wins', () => {
    expect(parseOptions(['--quick'])).toMatchObject({ ...QUICK, quick: true, beam: DEFAULTS.beam })
    expect(parseOptions(['--quick', '--epochs', '4', '--out', 'x'])).toMatchObject({ train: QUICK.train, epochs: 4, out: 'x' })
    expect(parseOptions([])).toMatchObject({ ...DEFAULTS, quick: false, help: false })
  })
})
