/**
 * `pnpm bench`: every workload measured in its own child process, graphgrad alone or, with
 * `--compare`, alternating with TensorFlow.js (cpu and wasm), jax-js and PyTorch (1 and 2
 * threads, when `/usr/bin/python3` has it); the results as JSON
 * lines (`--json`) or as markdown tables with the ratios. See `args.ts` for the flags.
 * @module
 */
import { type BenchArgs, USAGE, parseArgs } from './args.ts'
import { type BenchOutcome, isFailure } from './result.ts'
import { startMachineRecord, saveRunRecord } from './record.ts'
import { runInChild } from './spawn.ts'
import { TORCH_INSTALL_HINT, type TorchImpl, TORCH_THREADS, torchMissing } from './impls/torch-python.ts'
import { checksTable, summaryTable, timingTable, torchTable } from './table.ts'
import { IMPLS, type ImplName, implsFor, workloadNamed } from './workloads.ts'

/** One planned measurement. */
export interface Job {
  /** Workload name. */
  readonly workload: string
  /** Implementation. */
  readonly impl: ImplName
}

/**
 * The measurements in run order: workload by workload, the implementations alternating
 * (graphgrad first on one workload, last on the next) so that a machine's drift does not
 * always favour the same side.
 */
export function plan(args: BenchArgs): Job[] {
  return args.workloads.flatMap((name, i) => {
    const impls = implsFor(workloadNamed(name), args.impls)
    return (i % 2 === 0 ? impls : [...impls].reverse()).map((impl) => ({ workload: name, impl }))
  })
}

function isTorch(impl: ImplName): impl is TorchImpl {
  return impl in TORCH_THREADS
}

/**
 * `args` without the PyTorch implementations when `missing` (by default: can
 * `/usr/bin/python3` import torch?) gives a reason, with the one line saying why; `args`
 * unchanged, and no line, when PyTorch is there or was not asked for.
 */
export function skipMissingTorch(args: BenchArgs, missing: () => string | undefined = torchMissing): { args: BenchArgs; note?: string } {
  const asked = args.impls.filter(isTorch)
  if (asked.length === 0) return { args }
  const why = missing()
  if (why === undefined) return { args }
  const note = `${asked.join(' and ')} skipped: ${why} (Debian: ${TORCH_INSTALL_HINT}; or set GRAPHGRAD_BENCH_PYTHON to a Python that has torch)`
  return { args: { ...args, impls: args.impls.filter((i) => !isTorch(i)) }, note }
}

/** Outcomes ordered for the table: by workload as run, then graphgrad, graphgrad-1thr, tfjs-cpu, tfjs-wasm, jax-js, torch-1thr, torch-2thr. */
export function tableOrder(outcomes: readonly BenchOutcome[], workloads: readonly string[]): BenchOutcome[] {
  const key = (o: BenchOutcome): number => workloads.indexOf(o.name) * IMPLS.length + IMPLS.indexOf(o.impl as ImplName)
  return [...outcomes].sort((a, b) => key(a) - key(b))
}

function progress(o: BenchOutcome): string {
  if (isFailure(o)) return `error: ${o.error}`
  return `${o.median_ms} ms median of ${o.runs} (min ${o.min_ms}, max ${o.max_ms}), peak RSS ${o.peak_rss_mb} MiB${o.loss_first === undefined ? '' : `, loss ${o.loss_first.toFixed(5)} → ${o.loss_last?.toFixed(5)}`}`
}

/** Runs `pnpm bench` with `argv`; returns the exit code (1 when a measurement failed). */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed: BenchArgs | 'help'
  try {
    parsed = parseArgs(argv)
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`)
    return 2
  }
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const { args, note } = skipMissingTorch(parsed)
  // On stderr even with --json: stdout keeps only the result lines.
  if (note !== undefined) process.stderr.write(`${note}\n`)
  const jobs = plan(args)
  const log = (s: string): void => {
    if (!args.json) process.stderr.write(s)
  }
  log(`node ${process.version}, ${jobs.length} measurements, each in its own process\n`)
  const machine = startMachineRecord()
  const outcomes: BenchOutcome[] = []
  for (const [i, job] of jobs.entries()) {
    log(`[${i + 1}/${jobs.length}] ${job.workload} ${job.impl} ... `)
    const outcome = await runInChild({
      workload: job.workload,
      impl: job.impl,
      budgetMs: args.budgetMs,
      ...(args.runs === undefined ? {} : { runs: args.runs }),
    })
    log(`${progress(outcome)}\n`)
    if (args.json) process.stdout.write(`${JSON.stringify(outcome)}\n`)
    outcomes.push(outcome)
  }
  const ordered = tableOrder(outcomes, args.workloads)
  if (args.save !== undefined) saveRunRecord(args.save, { argv, machine: machine.finish(args.impls.some(isTorch)), outcomes: ordered })
  if (!args.json) {
    const versus = torchTable(ordered)
    process.stdout.write(`\n${summaryTable(ordered)}\n\n${versus === undefined ? '' : `${versus}\n\n`}${timingTable(ordered)}\n\n${checksTable(ordered)}\n`)
  }
  return outcomes.some(isFailure) ? 1 : 0
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  process.exitCode = await main(process.argv.slice(2))
}
