// The pieces of the memory experiment: task generators, equal parameter budgets, options,
// table and chart (the progress bar is in shared.test.ts).
import { describe, expect, it } from 'vitest'
import { flattenParams } from '@graphgrad/core'
import { hiddenForBudget, makeModel, modelsForBudget, parameterCount } from '../src/memory/models.ts'
import { MODEL_NAMES } from '../src/memory/names.ts'
import { addingTask, recallTask } from '../src/memory/tasks.ts'
import { DEFAULTS, LIMITS, QUICK, parseOptions } from '../src/memory/options.ts'
import { sweepProblem } from '../src/memory/needs.ts'
import { UsageError } from '../src/shared/args.ts'
import { asciiChart } from '../src/memory/chart.ts'
import { formatTable } from '../src/memory/table.ts'
import { contrastLag } from '../src/memory/report.ts'
import type { RunRecord } from '../src/memory/results.ts'

describe('tasks', () => {
  it('recall: the target is the symbol of the first step, then only distractors', () => {
    const { inputs, targets } = recallTask.batch(7, 50, 3)
    expect(inputs.shape).toEqual([50, 8, 16])
    const x = inputs.data
    const y = targets.data
    for (let b = 0; b < 50; b++) {
      for (let t = 0; t < 8; t++) {
        const row = Array.from(x.subarray((b * 8 + t) * 16, (b * 8 + t + 1) * 16))
        expect(row.reduce((s, v) => s + v, 0)).toBe(1)
        const hot = row.indexOf(1)
        if (t === 0) expect(hot).toBe(y[b])
        else expect(hot).toBeGreaterThanOrEqual(8)
      }
    }
    expect(new Set(Array.from(y)).size).toBeGreaterThan(4)
  })

  it('adding: two markers, one per half, and the target is the sum of their values', () => {
    const T = 12
    const { inputs, targets } = addingTask.batch(T, 40, 5)
    expect(inputs.shape).toEqual([40, T, 2])
    const x = inputs.data
    for (let b = 0; b < 40; b++) {
      const marked = [...Array(T).keys()].filter((t) => x[(b * T + t) * 2 + 1] === 1)
      expect(marked).toHaveLength(2)
      expect(marked[0]).toBeLessThan(T / 2)
      expect(marked[1]).toBeGreaterThanOrEqual(T / 2)
      expect(targets.data[b]).toBeCloseTo(x[(b * T + marked[0]) * 2] + x[(b * T + marked[1]) * 2], 6)
    }
  })

  it('sequenceLength is the length of the batches (the memory estimate relies on it)', () => {
    for (const task of [recallTask, addingTask]) for (const lag of [2, 7]) expect(task.batch(lag, 2, 0).inputs.shape[1]).toBe(task.sequenceLength(lag))
  })

  it('a seed gives one batch; another seed another', () => {
    expect(Array.from(recallTask.batch(5, 8, 1).targets.data)).toEqual(Array.from(recallTask.batch(5, 8, 1).targets.data))
    expect(Array.from(addingTask.batch(5, 8, 1).inputs.data)).not.toEqual(Array.from(addingTask.batch(5, 8, 2).inputs.data))
  })
})

describe('models', () => {
  it('parameterCount counts what init creates', () => {
    for (const name of MODEL_NAMES) {
      const m = makeModel(name, 16, 13, 8)
      const scalars = [...flattenParams(m.init(0)).values()].reduce((s, t) => s + t.size, 0)
      expect(scalars).toBe(m.parameters)
      expect(m.parameters).toBe(parameterCount(name, 16, 13, 8))
    }
  })

  it('equal budgets: every model within 3% of the LSTM, and no other hidden size comes closer', () => {
    for (const task of [recallTask, addingTask]) {
      const models = modelsForBudget(MODEL_NAMES, task.inputSize, task.outputSize, 16)
      const budget = parameterCount('lstm', task.inputSize, 16, task.outputSize)
      for (const m of models) {
        expect(Math.abs(m.parameters - budget) / budget).toBeLessThan(0.03)
        for (const h of [m.hidden - 1, m.hidden + 1]) {
          expect(Math.abs(parameterCount(m.name, task.inputSize, h, task.outputSize) - budget)).toBeGreaterThanOrEqual(Math.abs(m.parameters - budget))
        }
      }
      expect(hiddenForBudget('lstm', task.inputSize, task.outputSize, budget)).toBe(16)
    }
  })

  it('at the largest --hidden the LSTM has exactly that size, and the RNN and the GRU their equal-budget sizes past it', () => {
    const [rnn, lstm, gru] = modelsForBudget(MODEL_NAMES, recallTask.inputSize, recallTask.outputSize, LIMITS.hidden)
    const budget = parameterCount('lstm', recallTask.inputSize, LIMITS.hidden, recallTask.outputSize)
    expect(lstm.hidden).toBe(LIMITS.hidden)
    expect(rnn.hidden).toBeGreaterThan(LIMITS.hidden)
    expect(gru.hidden).toBeGreaterThan(LIMITS.hidden)
    for (const m of [rnn, gru]) expect(Math.abs(m.parameters - budget) / budget).toBeLessThan(0.001)
    expect(parseOptions(['--hidden', String(LIMITS.hidden)]).hidden).toBe(LIMITS.hidden)
    expect(() => parseOptions(['--hidden', String(LIMITS.hidden + 1)])).toThrow(`--hidden must be a whole number >= 1 and <= ${LIMITS.hidden}`)
  })

  it('the gate bias sets the LSTM forget gate and the GRU update gate, and leaves the rest as PyTorch draws it', () => {
    const plain = makeModel('lstm', 4, 5, 2).init(0)
    const biased = makeModel('lstm', 4, 5, 2, { gateBias: 3 }).init(0)
    const pb = flattenParams(plain).get('cell.bias_ih_l0')?.data as Float32Array
    const bb = flattenParams(biased).get('cell.bias_hh_l0')?.data as Float32Array
    const ib = flattenParams(biased).get('cell.bias_ih_l0')?.data as Float32Array
    for (let i = 0; i < 20; i++) {
      if (i >= 5 && i < 10) expect(ib[i] + bb[i]).toBeCloseTo(3, 6)
      else expect(ib[i]).toBe(pb[i])
    }
    const gru = flattenParams(makeModel('gru', 4, 5, 2, { gateBias: 2 }).init(0))
    expect(Array.from((gru.get('cell.bias_ih_l0')?.data as Float32Array).subarray(5, 10))).toEqual([1, 1, 1, 1, 1])
  })
})

describe('options', () => {
  it('defaults, --quick and overrides', () => {
    expect(parseOptions([])).toMatchObject({ ...DEFAULTS, quick: false, help: false })
    expect(parseOptions(['--quick'])).toMatchObject({ ...QUICK, quick: true })
    expect(parseOptions(['--quick', '--lags', '3,7', '--models', 'lstm', '--seed', '0', '--lr', '1e-3', '--gate-bias', '0'])).toMatchObject({
      lags: [3, 7],
      models: ['lstm'],
      seed: 0,
      lr: 0.001,
      gateBias: 0,
      steps: QUICK.steps,
    })
    expect(parseOptions(['--quick', '--steps=50', '--out', 'o'])).toMatchObject({ lags: QUICK.lags, evalSize: QUICK.evalSize, steps: 50, out: 'o' })
    expect(parseOptions(['--tasks', 'recall', '--lags', '1'])).toMatchObject({ tasks: ['recall'], lags: [1] })
    expect(parseOptions(['-h']).help).toBe(true)
  })

  it('names the option and the value that are wrong', () => {
    const cases: [string[], RegExp][] = [
      [['--lags', '5,x'], /--lags must list whole numbers >= 1 and <= 100000, comma-separated; got 'x'/],
      [['--lags', '5,0'], /--lags must list whole numbers >= 1 and <= 100000, comma-separated; got '0'/],
      [['--lags', '5,5'], /--lags names 5 more than once/],
      [['--tasks', 'adding', '--lags', '1,5'], /the adding problem needs a sequence of at least 2 steps .* got lag 1/],
      [['--steps', '0'], /--steps must be a whole number >= 1, got '0'/],
      [['--hidden', '2.5'], /--hidden must be a whole number >= 1 and <= 4096, got '2.5'/],
      [['--models', 'lstm,transformer'], /--models: unknown model 'transformer'; choose from rnn, lstm, gru/],
      [['--models', 'lstm,lstm'], /--models names lstm more than once/],
      [['--tasks', 'reber'], /--tasks: unknown task 'reber'; choose from recall, adding/],
      [['--lr=-1'], /--lr must be a number > 0, got '-1'/],
      [['--gate-bias', 'big'], /--gate-bias must be a number, got 'big'/],
      [['--seed=-3'], /--seed must be a whole number >= 0, got '-3'/],
      [['--out', ' '], /--out expects a folder, got an empty string/],
      [['--quick=yes'], /--quick takes no value/],
      [['--frobnicate'], /unknown option --frobnicate \(see pnpm start --help\)/],
      [['extra'], /unexpected argument 'extra'/],
      [['--steps'], /--steps needs a value \(N\)/],
    ]
    for (const [argv, message] of cases) expect(() => parseOptions(argv), argv.join(' ')).toThrow(message)
    expect(() => parseOptions(['--steps', 'x'])).toThrow(UsageError)
  })
})

describe('output', () => {
  const run = (task: 'recall' | 'adding', lag: number, model: 'rnn' | 'lstm', score: number, solved: boolean): RunRecord => ({
    task,
    lag,
    model,
    hidden: 8,
    parameters: 100,
    metric: task === 'recall' ? 'accuracy' : 'mse',
    score,
    loss: 0,
    chance: task === 'recall' ? 0.125 : 1 / 6,
    chanceLoss: 1,
    solved,
    steps: 10,
    seconds: 1.25,
    curve: [],
    weights: '',
  })

  it('the table aligns its columns and gives each run a verdict', () => {
    const lines = formatTable([run('recall', 5, 'rnn', 1, true), run('recall', 50, 'lstm', 0.13, false), run('adding', 5, 'lstm', 0.05, false)])
    expect(lines[0]).toMatch(/^task +lag +model +hidden +params +metric +held-out +chance +result +steps +seconds$/)
    expect(lines[2]).toMatch(/^recall +5 +rnn +8 +100 +accuracy +100\.0% +12\.5% +learned +10 +1\.3$/)
    expect(lines[3]).toMatch(/ 13\.0% +12\.5% +at chance /)
    expect(lines[4]).toBe('')
    expect(lines[5]).toMatch(/ 0\.0500 +0\.1667 +partly /)
  })

  it('the ASCII chart draws each series with its letter and the chance level with dots', () => {
    const lines = asciiChart(
      't',
      [
        {
          name: 'rnn',
          points: [
            [1, 2],
            [10, 2],
          ],
        },
        {
          name: 'lstm',
          points: [
            [1, 2],
            [10, 0],
          ],
        },
      ],
      { width: 20, height: 5, reference: 1 },
    )
    expect(lines[0]).toBe('t')
    expect(lines[1]).toMatch(/\|L.*R$/)
    expect(lines[3]).toMatch(/^ *1\.00 \|.*\./)
    expect(lines[5]).toMatch(/L$/)
    expect(lines.at(-1)).toContain('R = rnn   L = lstm   . = chance')
  })
})

describe('the charted lag', () => {
  const at = (lag: number, model: 'rnn' | 'lstm' | 'gru', solved: boolean): RunRecord => ({
    task: 'recall',
    lag,
    model,
    hidden: 8,
    parameters: 100,
    metric: 'accuracy',
    score: 0,
    loss: 0,
    chance: 0.125,
    chanceLoss: 1,
    solved,
    steps: 10,
    seconds: 1,
    curve: [],
    weights: '',
  })
  it('is the longest lag where the LSTM learned and the RNN did not, else where models differ, else the longest', () => {
    const runs = [
      at(5, 'rnn', true),
      at(5, 'lstm', true),
      at(20, 'rnn', false),
      at(20, 'lstm', true),
      at(50, 'rnn', false),
      at(50, 'lstm', false),
      at(50, 'gru', true),
    ]
    expect(contrastLag(runs, 'recall')).toBe(20)
    expect(
      contrastLag(
        runs.filter((r) => r.model !== 'lstm'),
        'recall',
      ),
    ).toBe(50)
    expect(
      contrastLag(
        runs.filter((r) => r.lag === 5),
        'recall',
      ),
    ).toBe(5)
  })
})

describe('the memory estimate', () => {
  const GiB = 2 ** 30
  it('lets the default sweep run on any machine with 2 GiB, and refuses what no machine has', () => {
    expect(sweepProblem(DEFAULTS, { bytes: GiB, why: 'test' })).toBeUndefined()
    const huge = sweepProblem({ ...DEFAULTS, lags: [5, 100000], batchSize: 1000 }, { bytes: 64 * GiB, why: 'a test limit' })
    expect(huge).toMatch(
      /^the largest run \(recall lag 100000 (rnn|lstm|gru)\) needs about [\d.]+ GiB of memory \(.*training a batch [\d.]+ GiB.*\), more than the 64\.0 GiB allowed \(a test limit\); use smaller --lags, --batch, --eval or --hidden$/,
    )
    expect(sweepProblem({ ...DEFAULTS, evalSize: 100000, lags: [100000] }, { bytes: Infinity, why: 'none' })).toMatch(
      /^the held-out batch of recall at lag 100000 \[100000 x 100001 x 16\] would hold/,
    )
  })
})
