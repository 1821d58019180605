/**
 * `pnpm bench`: every workload measured in its own child process, graphgrad alone or, with
 * `--compare`, alternating with TensorFlow.js (cpu and wasm) and jax-js; the results as JSON
 * lines (`--json`) or as markdown tables with the ratios. See `args.ts` for the flags.
 * @module
 */
import { type BenchArgs, USAGE, parseArgs } from './args.ts'
import { type BenchOutcome, isFailure } from './result.ts'
import { runInChild } from './spawn.ts'
import { checksTable, summaryTable, timingTable } from './table.ts'
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

/** Outcomes ordered for the table: by workload as run, then graphgrad, tfjs-cpu, tfjs-wasm, jax-js. */
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
  let args: BenchArgs | 'help'
  try {
    args = parseArgs(argv)
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`)
    return 2
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const jobs = plan(args)
  const log = (s: string): void => {
    if (!args.json) process.stderr.write(s)
  }
  log(`node ${process.version}, ${jobs.length} measurements, each in its own process\n`)
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
  if (!args.json) {
    const ordered = tableOrder(outcomes, args.workloads)
    process.stdout.write(`\n${summaryTable(ordered)}\n\n${timingTable(ordered)}\n\n${checksTable(ordered)}\n`)
  }
  return outcomes.some(isFailure) ? 1 : 0
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  process.exitCode = await main(process.argv.slice(2))
}
