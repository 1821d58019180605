/**
 * The child process of one measurement: `child.ts --workload NAME --impl IMPL [--runs N]
 * [--budget-ms MS]`. Prints one marked JSON line (a result or a failure) on stdout; the
 * parent (`main.ts`) gathers them. A fresh process per measurement keeps `peak_rss_mb`
 * meaningful and one library's leftovers out of another's timings.
 * @module
 */
import { measureRunner } from './measure.ts'
import { runnerFactory } from './impls/index.ts'
import { type BenchOutcome, RESULT_MARK } from './result.ts'
import { runSoak } from './soak.ts'
import { isImplName, workloadNamed } from './workloads.ts'

/** What the parent asks one child to measure. */
export interface ChildArgs {
  /** Workload name. */
  readonly workload: string
  /** Implementation name. */
  readonly impl: string
  /** Counted runs, when fixed. */
  readonly runs?: number
  /** Time budget of the counted runs, in ms. */
  readonly budgetMs: number
}

/** The child's command-line arguments for `a`, the inverse of {@link parseChildArgs}. */
export function childArgv(a: ChildArgs): string[] {
  return ['--workload', a.workload, '--impl', a.impl, '--budget-ms', String(a.budgetMs), ...(a.runs === undefined ? [] : ['--runs', String(a.runs)])]
}

/** Parses the child's arguments; throws naming the flag that is missing or malformed. */
export function parseChildArgs(argv: readonly string[]): ChildArgs {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag)
    return i < 0 ? undefined : argv[i + 1]
  }
  const workload = get('--workload')
  const impl = get('--impl')
  if (workload === undefined || impl === undefined) throw new Error('child: --workload and --impl are required')
  const runs = get('--runs')
  const budget = Number(get('--budget-ms') ?? 10_000)
  if (!(budget > 0)) throw new Error(`child: --budget-ms must be a positive number, got ${get('--budget-ms')}`)
  return { workload, impl, budgetMs: budget, ...(runs === undefined ? {} : { runs: Number(runs) }) }
}

/** Measures what `argv` names and returns the outcome; never throws (a failure is an outcome). */
export async function runChild(argv: readonly string[]): Promise<BenchOutcome> {
  let name = '?'
  let impl = '?'
  try {
    const a = parseChildArgs(argv)
    ;({ workload: name, impl } = a)
    const w = workloadNamed(a.workload)
    if (!isImplName(a.impl)) throw new Error(`unknown implementation '${a.impl}'`)
    if (w.kind === 'memory') return await runSoak(w, a.runs)
    const runner = await (await runnerFactory(a.impl))(w)
    try {
      return await measureRunner(w, a.impl, runner, a)
    } finally {
      runner.dispose()
    }
  } catch (e) {
    return { name, impl, error: (e instanceof Error ? e.message : String(e)).split('\n')[0] }
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const outcome = await runChild(process.argv.slice(2))
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(outcome)}\n`)
  // jax-js and tfjs-wasm may keep handles open; the result is out, so leave now.
  process.exit(0)
}
