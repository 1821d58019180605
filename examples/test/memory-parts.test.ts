// The pieces of the memory experiment: task generators, equal parameter budgets, options,
// table and chart (the progress bar is in shared.test.ts).
import { describe, expect, it } from 'vitest'
import { RandomStream, flattenParams, tensor } from '@graphgrad/core'
import { hiddenForBudget, makeModel, modelsForBudget, parameterCount } from '../src/memory/models.ts'
import { MODEL_NAMES } from '../src/memory/names.ts'
import { addingTask, recallTask } from '../src/memory/tasks.ts'
import { REBER_MAX_LENGTH, REBER_SYMBOLS, embeddedReber, reberTask } from '../src/memory/reber.ts'
import { DEFAULTS, LIMITS, QUICK, parseOptions } from '../src/memory/options.ts'
import { sweepProblem } from '../src/memory/needs.ts'
import { UsageError } from '../src/shared/args.ts'
import { asciiChart } from '../src/memory/chart.ts'
import { formatTable, median, runLine } from '../src/memory/table.ts'
import { contrastLag } from '../src/memory/report.ts'
import type { RunRecord } from '../src/memory/results.ts'

/** Whether a string is a Reber string: walks the grammar's graph (Reber 1967, as in Fahlman 1991). */
function walks(text: string): boolean {
  const graph: Record<number, Record<string, number>> = {
    0: { T: 1, P: 5 },
    1: { S: 1, X: 2 },
    2: { S: 3, X: 5 },
    3: { E: 6 },
    4: { V: 3, P: 2 },
    5: { V: 4, T: 5 },
  }
  if (text[0] !== 'B') return false
  let state = 0
  for (const c of text.slice(1)) {
    const to = graph[state]?.[c]
    if (to === undefined) return false
    state = to
  }
  return state === 6
}

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

  it("adding: two markers, one per half, and the target is the paper's 0.5 + (X1 + X2) / 4; right within 0.04", () => {
    const T = 12
    const { inputs, targets, right } = addingTask.batch(T, 40, 5)
    const shifted = Array.from(targets.data, (y, b) => y + (b % 2 === 0 ? 0.039 : -0.041))
    expect(right(tensor(shifted, { shape: [40, 1] }))).toEqual(shifted.map((_, b) => b % 2 === 0))
    expect(addingTask.solved({ loss: 0.009, right: 0.99 })).toBe(true)
    expect(addingTask.solved({ loss: 0.011, right: 1 })).toBe(false)
    expect(addingTask.solved({ loss: 0.001, right: 0.989 })).toBe(false)
    expect(inputs.shape).toEqual([40, T, 2])
    const x = inputs.data
    for (let b = 0; b < 40; b++) {
      const marked = [...Array(T).keys()].filter((t) => x[(b * T + t) * 2 + 1] === 1)
      expect(marked).toHaveLength(2)
      expect(marked[0]).toBeLessThan(T / 2)
      expect(marked[1]).toBeGreaterThanOrEqual(T / 2)
      expect(targets.data[b]).toBeCloseTo(0.5 + (x[(b * T + marked[0]) * 2] + x[(b * T + marked[1]) * 2]) / 4, 6)
      for (let t = 0; t < T; t++) expect(Math.abs(x[(b * T + t) * 2])).toBeLessThanOrEqual(1)
    }
  })

  it('sequenceLength is the length of the batches (the memory estimate relies on it), at most for the Reber grammar', () => {
    for (const task of [recallTask, addingTask]) for (const lag of [2, 7]) expect(task.batch(lag, 2, 0).inputs.shape[1]).toBe(task.sequenceLength(lag))
    expect(reberTask.batch(0, 500, 1).inputs.shape[1]).toBeLessThanOrEqual(reberTask.sequenceLength(0))
  })

  it('reber: every string is B, T or P, a Reber string, the same T or P, E; the next-symbol sets hold what follows', () => {
    const rng = new RandomStream(4)
    for (let n = 0; n < 300; n++) {
      const { symbols, next } = embeddedReber(rng)
      const text = symbols.map((c) => REBER_SYMBOLS[c]).join('')
      const outer = /^B([TP])(B.*E)\1E$/.exec(text)
      expect(outer, text).not.toBeNull()
      expect(walks(outer?.[2] ?? ''), text).toBe(true)
      expect(next).toHaveLength(symbols.length - 1)
      for (let t = 0; t + 1 < symbols.length; t++) expect((next[t] >> symbols[t + 1]) & 1).toBe(1)
      // The step that needs memory: after the inner E only the outer symbol may come.
      expect(next[symbols.length - 3]).toBe(1 << symbols[1])
      expect(text.length).toBeLessThanOrEqual(REBER_MAX_LENGTH)
    }
  })

  it('reber: a string is right only when the possible next symbols are the most active outputs at every step', () => {
    const batch = reberTask.batch(0, 3, 9)
    const [size, length, features] = batch.inputs.shape
    // The same strings, drawn again from the same seed, give the sets to put on top.
    const rng = new RandomStream(9, 'reber')
    const strings = Array.from({ length: size }, () => embeddedReber(rng))
    const logits = new Float32Array(size * length * features)
    strings.forEach((s, b) =>
      s.next.forEach((mask, t) => {
        for (let c = 0; c < features; c++) logits[(b * length + t) * features + c] = (mask >> c) & 1
      }),
    )
    expect(batch.right(tensor(logits, { shape: [size * length, features] }))).toEqual([true, true, true])
    // String 1 forgets which of T and P came second: its second to last step goes wrong.
    const at = (length + strings[1].symbols.length - 3) * features
    logits[at + 1] = logits[at + 2] = 0.5
    expect(batch.right(tensor(logits, { shape: [size * length, features] }))).toEqual([true, false, true])
  })

  it('a seed gives one batch; another seed another', () => {
    expect(Array.from(recallTask.batch(5, 8, 1).targets.data)).toEqual(Array.from(recallTask.batch(5, 8, 1).targets.data))
    expect(Array.from(addingTask.batch(5, 8, 1).inputs.data)).not.toEqual(Array.from(addingTask.batch(5, 8, 2).inputs.data))
    expect(Array.from(reberTask.batch(0, 8, 1).inputs.data)).toEqual(Array.from(reberTask.batch(0, 8, 1).inputs.data))
    expect(Array.from(reberTask.batch(0, 8, 1).inputs.data)).not.toEqual(Array.from(reberTask.batch(0, 8, 2).inputs.data))
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
    const shut = flattenParams(makeModel('lstm', 4, 5, 2, { gateBias: 3, inputBias: -3 }).init(0))
    const [si, sh] = ['cell.bias_ih_l0', 'cell.bias_hh_l0'].map((n) => shut.get(n)?.data as Float32Array)
    for (let i = 0; i < 20; i++) {
      if (i < 5) expect(si[i] + sh[i]).toBeCloseTo(-3, 6)
      else if (i < 10) expect(si[i] + sh[i]).toBeCloseTo(3, 6)
      else expect(si[i]).toBe(pb[i])
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
      budget: QUICK.budget,
      seeds: QUICK.seeds,
    })
    expect(parseOptions(['--quick', '--budget=50', '--seeds', '4', '--out', 'o'])).toMatchObject({
      lags: QUICK.lags,
      evalSize: QUICK.evalSize,
      budget: 50,
      seeds: 4,
      out: 'o',
    })
    expect(parseOptions(['--jobs', '1', '--all-lags', '--input-bias', '0'])).toMatchObject({ jobs: 1, allLags: true, inputBias: 0 })
    expect(parseOptions([])).toMatchObject({ gateBias: 5, inputBias: -3, seeds: 3, allLags: false, lags: [5, 20, 50, 100, 200] })
    expect(parseOptions(['--tasks', 'recall', '--lags', '1'])).toMatchObject({ tasks: ['recall'], lags: [1] })
    expect(parseOptions(['-h']).help).toBe(true)
  })

  it('names the option and the value that are wrong', () => {
    const cases: [string[], RegExp][] = [
      [['--lags', '5,x'], /--lags must list whole numbers >= 1 and <= 100000, comma-separated; got 'x'/],
      [['--lags', '5,0'], /--lags must list whole numbers >= 1 and <= 100000, comma-separated; got '0'/],
      [['--lags', '5,5'], /--lags names 5 more than once/],
      [['--tasks', 'adding', '--lags', '1,5'], /the adding problem needs a sequence of at least 2 steps .* got lag 1/],
      [['--budget', '0'], /--budget must be a whole number >= 1, got '0'/],
      [['--seeds', '0'], /--seeds must be a whole number >= 1 and <= 100, got '0'/],
      [['--jobs', '1.5'], /--jobs must be a whole number >= 1 and <= 64, got '1.5'/],
      [['--input-bias', 'shut'], /--input-bias must be a number, got 'shut'/],
      [['--all-lags=no'], /--all-lags takes no value/],
      [['--steps', '10'], /unknown option --steps \(see pnpm start --help\)/],
      [['--hidden', '2.5'], /--hidden must be a whole number >= 1 and <= 4096, got '2.5'/],
      [['--models', 'lstm,transformer'], /--models: unknown model 'transformer'; choose from rnn, lstm, gru/],
      [['--models', 'lstm,lstm'], /--models names lstm more than once/],
      [['--tasks', 'copy'], /--tasks: unknown task 'copy'; choose from reber, recall, adding/],
      [['--lr=-1'], /--lr must be a number > 0, got '-1'/],
      [['--gate-bias', 'big'], /--gate-bias must be a number, got 'big'/],
      [['--seed=-3'], /--seed must be a whole number >= 0, got '-3'/],
      [['--out', ' '], /--out expects a folder, got an empty string/],
      [['--quick=yes'], /--quick takes no value/],
      [['--frobnicate'], /unknown option --frobnicate \(see pnpm start --help\)/],
      [['extra'], /unexpected argument 'extra'/],
      [['--budget'], /--budget needs a value \(N\)/],
    ]
    for (const [argv, message] of cases) expect(() => parseOptions(argv), argv.join(' ')).toThrow(message)
    expect(() => parseOptions(['--budget', 'x'])).toThrow(UsageError)
  })
})

describe('output', () => {
  const run = (task: 'recall' | 'adding', lag: number, model: 'rnn' | 'lstm', seed: number, solvedAt: number | null, right = 1): RunRecord => ({
    task,
    lag,
    model,
    seed,
    hidden: 8,
    parameters: 100,
    notRunAfter: null,
    solvedAt,
    sequences: solvedAt ?? 1000,
    heldOut: { loss: 0.002, right },
    chance: 0.125,
    chanceLoss: 1,
    checks: 1,
    seconds: 1.25,
    curve: [],
    weights: '',
  })

  it('the table has a row per task, lag and model: solved k/n, the median sequences to solve, the paper beside it', () => {
    const lines = formatTable(
      [
        run('recall', 5, 'rnn', 0, 300),
        run('recall', 5, 'rnn', 1, null, 0.5),
        run('recall', 5, 'rnn', 2, 100),
        run('recall', 50, 'lstm', 0, null, 0.2),
        run('recall', 50, 'lstm', 1, 900),
        run('recall', 50, 'lstm', 2, null, 0.3),
        run('adding', 100, 'lstm', 0, 5000),
        { ...run('adding', 200, 'rnn', 0, null), notRunAfter: 100, heldOut: null, sequences: 0, seconds: 0, weights: null },
      ],
      1000,
    )
    expect(lines[0]).toMatch(/^task +lag +model +hidden +params +solved +sequences to solve \(median\) +paper LSTM +held-out right +seconds$/)
    // Median of 300, 100 and a failure (counted as never): 300.
    expect(lines[2]).toMatch(/^recall +5 +rnn +8 +100 +2\/3 +300 +100\.0% +4$/)
    expect(lines[3]).toMatch(/^recall +50 +lstm .* 1\/3 +not solved within 1,000 +30\.0% /)
    expect(lines[4]).toBe('')
    expect(lines[5]).toMatch(/^adding +100 +lstm .* 1\/1 +5,000 +74,000 +100\.0%, mse 0\.0020 +1$/)
    expect(lines[6]).toMatch(/^adding +200 +rnn .* 0\/1 +not run: not solved at lag 100 +- +0$/)
  })

  it('the median counts a failure as never solved', () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 2, 3])).toBe(2.5)
    expect(median([1, Infinity, Infinity])).toBe(Infinity)
    expect(median([Infinity, Infinity])).toBe(Infinity)
  })

  it('a finished run prints one line', () => {
    expect(runLine(run('recall', 5, 'lstm', 1, 4096), 2, 10)).toBe(
      '[ 3/10] recall lag 5 lstm seed 1: solved after 4,096 sequences, held-out 100.0% right (1.3 s)',
    )
    expect(runLine({ ...run('adding', 50, 'rnn', 0, null), notRunAfter: 20, heldOut: null }, 0, 1)).toBe(
      '[1/1] adding lag 50 rnn seed 0: not run (not solved at lag 20)',
    )
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
    seed: 0,
    hidden: 8,
    parameters: 100,
    notRunAfter: null,
    solvedAt: solved ? 10 : null,
    sequences: 10,
    heldOut: { loss: 0, right: 0 },
    chance: 0.125,
    chanceLoss: 1,
    checks: 1,
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
    expect(sweepProblem(DEFAULTS, DEFAULTS.jobs, { bytes: GiB, why: 'test' })).toBeUndefined()
    const huge = sweepProblem({ ...DEFAULTS, lags: [5, 100000], batchSize: 1000 }, 1, { bytes: 64 * GiB, why: 'a test limit' })
    expect(huge).toMatch(
      /^the largest run \(recall lag 100000 (rnn|lstm|gru)\) needs about [\d.]+ GiB of memory \(.*training a batch [\d.]+ GiB.*\), more than the 64\.0 GiB allowed \(a test limit\); use smaller --lags, --batch, --eval or --hidden$/,
    )
    expect(sweepProblem({ ...DEFAULTS, evalSize: 100000, lags: [100000] }, 1, { bytes: Infinity, why: 'none' })).toMatch(
      /^the held-out batch of recall at lag 100000 \[100000 x 100001 x 16\] would hold/,
    )
  })
})
