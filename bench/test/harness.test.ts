// The harness itself: argument parsing, statistics, the run plan, the JSON line's shape
// (in-process and through a real child process) and the tables.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_BUDGET_MS, parseArgs } from '../src/args.ts'
import { childArgv, parseChildArgs } from '../src/child.ts'
import { timeMajor, transpose2d } from '../src/data.ts'
import { torchMissing } from '../src/impls/torch-python.ts'
import { plan, skipMissingTorch, tableOrder } from '../src/main.ts'
import { measureRunner } from '../src/measure.ts'
import { type BenchOutcome, type BenchResult, RESULT_MARK, parseChildOutput } from '../src/result.ts'
import { childEnv, runInChild } from '../src/spawn.ts'
import { fakeResult } from './fake-result.ts'
import { plannedRuns, summarize } from '../src/stats.ts'
import { checksTable, formatRatio, speedup, summaryTable, timingTable, torchTable } from '../src/table.ts'
import { OPT_IN, WORKLOADS, workloadNamed } from '../src/workloads.ts'

describe('parseArgs', () => {
  it('defaults to graphgrad on every workload but the opt-in ones', () => {
    const a = parseArgs([])
    if (a === 'help') throw new Error('unexpected help')
    expect(a).toEqual({
      json: false,
      compare: false,
      workloads: WORKLOADS.map((w) => w.name).filter((n) => !OPT_IN.has(n)),
      impls: ['graphgrad'],
      budgetMs: DEFAULT_BUDGET_MS,
    })
    expect(a.workloads).not.toContain('memory_lstm_1000')
  })
  it('reads --compare, --json, --only (repeatable, = form), --runs, --impls, --budget-ms', () => {
    const a = parseArgs(['--compare', '--json', '--only', 'matmul_256,op_chain_2000', '--only=matmul_256', '--runs', '4', '--budget-ms=500'])
    expect(a).toEqual({
      json: true,
      compare: true,
      workloads: ['matmul_256', 'op_chain_2000'],
      impls: ['graphgrad', 'graphgrad-1thr', 'tfjs-cpu', 'tfjs-wasm', 'jax-js', 'torch-1thr', 'torch-2thr'],
      runs: 4,
      budgetMs: 500,
    })
    expect(parseArgs(['--impls', 'graphgrad,jax-js'])).toMatchObject({ compare: true, impls: ['graphgrad', 'jax-js'] })
    expect(parseArgs(['--only', 'memory_lstm_1000'])).toMatchObject({ workloads: ['memory_lstm_1000'] })
    expect(parseArgs(['--help'])).toBe('help')
  })
  it('names what is wrong', () => {
    expect(() => parseArgs(['--only', 'matmul_3'])).toThrow(/unknown workload 'matmul_3' \(workloads: lstm_train_step_h256/)
    expect(() => parseArgs(['--impls', 'torch'])).toThrow(/unknown implementation 'torch'/)
    expect(() => parseArgs(['--runs', '0'])).toThrow(/--runs needs a positive integer, got '0'/)
    expect(() => parseArgs(['--runs'])).toThrow(/--runs needs a positive integer/)
    expect(() => parseArgs(['--only'])).toThrow(/--only needs a comma-separated list/)
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument '--fast'/)
  })
})

describe('statistics', () => {
  it('median, min, max and count of the counted runs', () => {
    expect(summarize([3, 1, 2])).toEqual({ median_ms: 2, min_ms: 1, max_ms: 3, runs: 3 })
    expect(summarize([4, 1, 2, 3])).toEqual({ median_ms: 2.5, min_ms: 1, max_ms: 4, runs: 4 })
    expect(summarize([1.23456])).toEqual({ median_ms: 1.23, min_ms: 1.23, max_ms: 1.23, runs: 1 })
  })
  it('refuses empty or non-finite samples', () => {
    expect(() => summarize([])).toThrow(/no runs/)
    expect(() => summarize([1, Number.NaN])).toThrow(/not finite/)
  })
  it('sizes the run count to the budget, within bounds, unless fixed', () => {
    expect(plannedRuns(100, 1000, undefined)).toBe(10)
    expect(plannedRuns(15000, 10000, undefined)).toBe(3)
    expect(plannedRuns(1, 10000, undefined)).toBe(30)
    expect(plannedRuns(1, 10000, 7)).toBe(7)
  })
})

describe('the run plan', () => {
  it('alternates the implementations from one workload to the next; the soak is graphgrad only', () => {
    const a = parseArgs(['--compare', '--only', 'matmul_256,matmul_512,memory_lstm_1000'])
    if (a === 'help') throw new Error('unexpected help')
    expect(plan(a).map((j) => `${j.workload}:${j.impl}`)).toEqual([
      'matmul_256:graphgrad',
      'matmul_256:graphgrad-1thr',
      'matmul_256:tfjs-cpu',
      'matmul_256:tfjs-wasm',
      'matmul_256:jax-js',
      'matmul_256:torch-1thr',
      'matmul_256:torch-2thr',
      'matmul_512:torch-2thr',
      'matmul_512:torch-1thr',
      'matmul_512:jax-js',
      'matmul_512:tfjs-wasm',
      'matmul_512:tfjs-cpu',
      'matmul_512:graphgrad-1thr',
      'matmul_512:graphgrad',
      'memory_lstm_1000:graphgrad',
    ])
  })
  it('orders the table by workload, then graphgrad first', () => {
    const o = (name: string, impl: string): BenchOutcome => ({ name, impl, error: 'x' })
    expect(tableOrder([o('b', 'jax-js'), o('a', 'tfjs-cpu'), o('b', 'graphgrad'), o('a', 'graphgrad')], ['a', 'b']).map((x) => `${x.name}:${x.impl}`)).toEqual([
      'a:graphgrad',
      'a:tfjs-cpu',
      'b:graphgrad',
      'b:jax-js',
    ])
  })
  it('passes child arguments through the command line unchanged', () => {
    const a = { workload: 'matmul_256', impl: 'jax-js', runs: 3, budgetMs: 1500 }
    expect(parseChildArgs(childArgv(a))).toEqual(a)
    expect(() => parseChildArgs(['--impl', 'graphgrad'])).toThrow(/--workload and --impl are required/)
  })
})

const REQUIRED = ['name', 'impl', 'median_ms', 'min_ms', 'max_ms', 'runs', 'warmup', 'first_ms', 'peak_rss_mb']

describe('the JSON line', () => {
  it('has the issue fields, gflops for matmul and us_per_op for the chain', async () => {
    let calls = 0
    const runner = {
      run: () => {
        calls++
        return undefined
      },
      live: () => 7,
      dispose() {},
    }
    const m = await measureRunner(workloadNamed('matmul_256'), 'fake', runner, { runs: 4, budgetMs: 100 })
    for (const k of REQUIRED) expect(m).toHaveProperty(k)
    expect(m).toMatchObject({ name: 'matmul_256', impl: 'fake', runs: 4, live_start: 7, live_end: 7 })
    expect(calls).toBe(4 + m.warmup)
    expect(m.gflops).toBeGreaterThan(0)
    const c = await measureRunner(workloadNamed('op_chain_2000'), 'fake', { run: () => 1.5, dispose() {} }, { runs: 3, budgetMs: 100 })
    expect(c.us_per_op).toBeCloseTo((c.median_ms * 1000) / 6000, 2)
    expect(c).toMatchObject({ loss_first: 1.5, loss_last: 1.5 })
  })
  it('counts the time a library in its own process reports, and its RSS, and leaves out this process heap', async () => {
    const reported = [50, 40, 30, 31, 32]
    let i = 0
    const runner = {
      run: () => 2.5,
      lastRunMs: () => reported[i++],
      live: () => Promise.resolve(5),
      peakRssMb: () => Promise.resolve(321.456),
      dispose() {},
    }
    const m = await measureRunner(workloadNamed('lstm_train_step_h64'), 'torch-1thr', runner, { runs: 3, budgetMs: 100 })
    expect(m).toMatchObject({
      first_ms: 50,
      warmup: 2,
      median_ms: 31,
      min_ms: 30,
      max_ms: 32,
      runs: 3,
      peak_rss_mb: 321,
      live_start: 5,
      live_end: 5,
      loss_first: 2.5,
    })
    expect(m).not.toHaveProperty('heap_mb_start')
    expect(m).not.toHaveProperty('heap_mb_end')
  })
  it('finds the marked line among library chatter, and names a missing one', () => {
    const line = { name: 'matmul_256', impl: 'graphgrad', error: 'boom' }
    expect(parseChildOutput(`Hi there\n${RESULT_MARK}${JSON.stringify(line)}\n`)).toEqual(line)
    expect(() => parseChildOutput('Hi there\n')).toThrow(/no result line/)
    expect(() => parseChildOutput(`${RESULT_MARK}[1]\n`)).toThrow(/not a result/)
  })
  it('comes back from a real child process', async () => {
    const r = await runInChild({ workload: 'matmul_256', impl: 'graphgrad', runs: 3, budgetMs: 100 })
    if ('error' in r) throw new Error(r.error)
    for (const k of REQUIRED) expect(r).toHaveProperty(k)
    expect(r).toMatchObject({ name: 'matmul_256', impl: 'graphgrad', runs: 3 })
    expect(r.peak_rss_mb).toBeGreaterThan(10)
    expect(r.threads).toBe(Number(process.env.GRAPHGRAD_THREADS ?? availableParallelism()))
    const one = await runInChild({ workload: 'matmul_256', impl: 'graphgrad-1thr', runs: 3, budgetMs: 100 })
    expect(one).toMatchObject({ impl: 'graphgrad-1thr', threads: 1 })
    const bad = await runInChild({ workload: 'matmul_256', impl: 'torch', budgetMs: 100 })
    expect(bad).toEqual({ name: 'matmul_256', impl: 'torch', error: "unknown implementation 'torch'" })
  })
})

describe('the tables', () => {
  const result = (impl: string, median: number, extra: Partial<BenchResult> = {}): BenchResult => ({
    name: 'lstm_train_step_h64',
    impl,
    median_ms: median,
    min_ms: median,
    max_ms: median,
    runs: 3,
    warmup: 1,
    first_ms: median,
    peak_rss_mb: 100,
    ...extra,
  })
  const outcomes: BenchOutcome[] = [
    result('graphgrad', 20, {
      loss_first: 4.1622,
      loss_last: 4.1,
      step_heap_mb: 12,
      peak_heap_mb: 22,
      peak_at: 'recurrent scan backward (inside)',
      boundary_step_mb: 10,
      saved_activation_mb: 4.5,
      step_heap_vs_saved: 2.67,
    }),
    result('jax-js', 150, { live_start: 28, live_end: 28 }),
    { name: 'lstm_train_step_h64', impl: 'tfjs-cpu', error: 'Kernel | not registered' },
  ]
  it('ratio is the peer median over graphgrad median', () => {
    expect(speedup(outcomes[1] as BenchResult, outcomes)).toBe(7.5)
    expect(formatRatio(7.5)).toBe('7.5x')
    expect(formatRatio(123.4)).toBe('123x')
    expect(formatRatio(0.456)).toBe('0.46x')
  })
  it('timing table: markdown, one row per measurement, errors shown, pipes escaped', () => {
    const lines = timingTable(outcomes).split('\n')
    expect(lines).toHaveLength(5)
    expect(lines[0]).toBe('| workload | impl | median ms | min ms | max ms | runs | peak RSS MiB | rate | graphgrad is Nx faster |')
    expect(lines[3]).toBe('| lstm_train_step_h64 | jax-js | 150 | 150 | 150 | 3 (+1 warm-up) | 100 |  | 7.5x |')
    expect(lines[4]).toContain('error: Kernel / not registered')
  })
  it('summary table: one row per workload, one column per implementation, ratios for the peers', () => {
    expect(summaryTable(outcomes).split('\n')).toEqual([
      '| workload | graphgrad | jax-js | tfjs-cpu |',
      '| --- | --- | --- | --- |',
      '| lstm_train_step_h64 | 20 ms | 150 ms (7.5x) | error |',
    ])
  })
  it('checks table: losses, leak counts, memory against saved activations', () => {
    const t = checksTable(outcomes)
    expect(t).toContain(
      '| lstm_train_step_h64 | graphgrad | 4.162200 | 4.100000 |  | step peak +12 MiB live at recurrent scan backward (inside) (22 in all; +10 at the forward/backward boundary) vs 4.5 MiB saved activations (2.67x) |',
    )
    expect(t).toContain('objects 28 → 28')
  })
})

describe('layout helpers', () => {
  it('transposes [out, in] to [in, out] and batch-first to time-major', () => {
    expect([...transpose2d(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3)]).toEqual([1, 4, 2, 5, 3, 6])
    expect([...timeMajor(Int32Array.from([1, 2, 3, 4, 5, 6]), 2, 3)]).toEqual([1, 4, 2, 5, 3, 6])
    expect(() => transpose2d(new Float32Array(5), 2, 3)).toThrow(/5 values is not 2 x 3/)
  })
})

describe('PyTorch in the harness', () => {
  const r = fakeResult
  it('graphgrad against PyTorch: headline figures and graphgrad time over PyTorch time', () => {
    const outcomes: BenchOutcome[] = [
      r('lstm_train_step_h64', 'graphgrad', 48),
      r('lstm_train_step_h64', 'torch-1thr', 16),
      r('lstm_train_step_h64', 'torch-2thr', 12),
      r('matmul_512', 'graphgrad', 8, 33.6),
      r('matmul_512', 'torch-1thr', 2.7, 99.4),
      { name: 'matmul_512', impl: 'torch-2thr', error: 'boom' },
    ]
    expect(torchTable(outcomes)?.split('\n')).toEqual([
      '| workload | graphgrad time / torch-1thr time | graphgrad time / torch-2thr time | graphgrad | torch-1thr | torch-2thr |',
      '| --- | --- | --- | --- | --- | --- |',
      '| lstm_train_step_h64 | 3x | 4x | 48 ms | 16 ms | 12 ms |',
      '| matmul_512 | 3x |  | 33.6 GFLOP/s | 99.4 GFLOP/s | error or not run |',
    ])
    expect(torchTable([r('matmul_512', 'graphgrad', 8, 33.6), r('matmul_512', 'jax-js', 9)])).toBeUndefined()
  })
  it('sets PyTorch on one thread against graphgrad on one thread when that ran, and on two against graphgrad on every core', () => {
    const outcomes: BenchOutcome[] = [
      { ...r('lstm_train_step_h256', 'graphgrad', 120), threads: 2 },
      { ...r('lstm_train_step_h256', 'graphgrad-1thr', 200), threads: 1 },
      r('lstm_train_step_h256', 'torch-1thr', 80),
      r('lstm_train_step_h256', 'torch-2thr', 50),
    ]
    expect(torchTable(outcomes)?.split('\n')).toEqual([
      '| workload | graphgrad-1thr time / torch-1thr time | graphgrad time / torch-2thr time | graphgrad-1thr (1 thread) | graphgrad (2 threads) | torch-1thr | torch-2thr |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      '| lstm_train_step_h256 | 2.5x | 2.4x | 200 ms | 120 ms | 80 ms | 50 ms |',
    ])
  })
  it('runs graphgrad-1thr with GRAPHGRAD_THREADS=1 and leaves the others their environment', () => {
    expect(childEnv('graphgrad-1thr', { PATH: '/bin' })).toEqual({ PATH: '/bin', GRAPHGRAD_THREADS: '1' })
    expect(childEnv('graphgrad', { PATH: '/bin' })).toEqual({ PATH: '/bin' })
    expect(childEnv('torch-2thr', { PATH: '/bin', GRAPHGRAD_THREADS: '2' })).toEqual({ PATH: '/bin', GRAPHGRAD_THREADS: '2' })
  })
  it('skips the torch implementations, with one line saying why, when PyTorch is missing', () => {
    const a = parseArgs(['--impls', 'graphgrad,torch-1thr,torch-2thr'])
    if (a === 'help') throw new Error('unexpected help')
    const skipped = skipMissingTorch(a, () => '/usr/bin/python3 not found')
    expect(skipped.args.impls).toEqual(['graphgrad'])
    expect(skipped.note).toMatch(
      /^torch-1thr and torch-2thr skipped: \/usr\/bin\/python3 not found \(Debian: apt-get install -y python3-torch libopenblas0-openmp; or set GRAPHGRAD_BENCH_PYTHON to a Python that has torch\)$/,
    )
    expect(skipMissingTorch(a, () => undefined)).toEqual({ args: a })
    const alone = parseArgs(['--impls', 'graphgrad,jax-js'])
    if (alone === 'help') throw new Error('unexpected help')
    expect(
      skipMissingTorch(alone, () => {
        throw new Error('PyTorch was looked for although it was not asked for')
      }),
    ).toEqual({ args: alone })
  })
  it('says why a Python cannot run PyTorch', () => {
    expect(torchMissing('/nonexistent/python3')).toBe('/nonexistent/python3 not found')
    const dir = mkdtempSync(join(tmpdir(), 'graphgrad-no-torch-'))
    try {
      const python = join(dir, 'python3')
      writeFileSync(python, `#!/bin/sh\necho "ModuleNotFoundError: No module named 'torch'" >&2\nexit 1\n`, { mode: 0o755 })
      expect(torchMissing(python)).toBe(`${python} cannot import torch and numpy (ModuleNotFoundError: No module named 'torch')`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
