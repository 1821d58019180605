/**
 * The command line of `pnpm bench`.
 * @module
 */
import { IMPLS, type ImplName, OPT_IN, WORKLOADS, isImplName, workloadNamed } from './workloads.ts'

/** What `pnpm bench` was asked to do. */
export interface BenchArgs {
  /** Print one JSON object per line (and nothing else on stdout). */
  readonly json: boolean
  /** Also run the peers (tfjs-cpu, tfjs-wasm, jax-js, torch-1thr, torch-2thr), alternating with graphgrad per workload. */
  readonly compare: boolean
  /** Workload names, in run order. */
  readonly workloads: readonly string[]
  /** Implementations to run (graphgrad alone unless `--compare` or `--impls`). */
  readonly impls: readonly ImplName[]
  /** Counted runs per measurement, when fixed; otherwise sized to the time budget. */
  readonly runs?: number
  /** Time budget of each measurement's counted runs, in ms. */
  readonly budgetMs: number
  /** Where to write the whole run as JSON (`record.ts`), when asked. */
  readonly save?: string
}

/** Default time budget per measurement: enough for a median of several runs, short enough for `pnpm bench` to take ~1-2 minutes. */
export const DEFAULT_BUDGET_MS = 6000

/** `pnpm bench --help`. */
export const USAGE = `usage: pnpm bench [--compare] [--json] [--only NAME[,NAME...]] [--runs N] [--impls IMPL[,IMPL...]] [--budget-ms MS]
  --compare     also run tfjs-cpu, tfjs-wasm, jax-js and PyTorch (1 and 2 threads; skipped when
                /usr/bin/python3 has no torch) on every workload, alternating, and print the ratios
  --json        print one JSON object per measurement and line, nothing else
  --only        workloads to run (default: all but the opt-in ${[...OPT_IN].join(', ')})
  --runs N      count exactly N runs per measurement (default: as many as --budget-ms allows, 3 to 30)
  --impls       implementations to run (default graphgrad, or all with --compare)
  --budget-ms   time for each measurement's counted runs (default ${DEFAULT_BUDGET_MS})
  --save FILE   also write the run (machine, date, load, every outcome) as JSON to FILE, which
                \`pnpm bench:docs FILE\` turns into the README's and the performance page's figures
workloads: ${WORKLOADS.map((w) => w.name).join(', ')}
implementations: ${IMPLS.join(', ')}`

function list(flag: string, value: string | undefined): string[] {
  if (value === undefined || value === '' || value.startsWith('--')) throw new Error(`${flag} needs a comma-separated list`)
  return value.split(',').filter((s) => s !== '')
}

function fileName(flag: string, value: string | undefined): string {
  if (value === undefined || value === '' || value.startsWith('--')) throw new Error(`${flag} needs a file name`)
  return value
}

function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value)
  if (value === undefined || !Number.isInteger(n) || n < 1) throw new Error(`${flag} needs a positive integer, got '${value ?? ''}'`)
  return n
}

/** Parses the arguments (`--flag value` or `--flag=value`); throws naming the bad flag or name. */
export function parseArgs(argv: readonly string[]): BenchArgs | 'help' {
  let json = false
  let compare = false
  let runs: number | undefined
  let budgetMs = DEFAULT_BUDGET_MS
  const only: string[] = []
  let impls: string[] | undefined
  let save: string | undefined
  const args = argv.flatMap((a) => (a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a]))
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--json') json = true
    else if (arg === '--compare') compare = true
    else if (arg === '--help' || arg === '-h') return 'help'
    else if (arg === '--only') only.push(...list(arg, args[++i]))
    else if (arg === '--impls') impls = list(arg, args[++i])
    else if (arg === '--runs') runs = positiveInt(arg, args[++i])
    else if (arg === '--budget-ms') budgetMs = positiveInt(arg, args[++i])
    else if (arg === '--save') save = fileName(arg, args[++i])
    else if (arg !== '--') throw new Error(`unknown argument '${arg}' (try --help)`)
  }
  for (const name of only) workloadNamed(name)
  for (const name of impls ?? []) if (!isImplName(name)) throw new Error(`unknown implementation '${name}' (implementations: ${IMPLS.join(', ')})`)
  const workloads = only.length > 0 ? [...new Set(only)] : WORKLOADS.map((w) => w.name).filter((n) => !OPT_IN.has(n))
  const chosen = (impls ?? (compare ? [...IMPLS] : ['graphgrad'])) as ImplName[]
  return {
    json,
    compare: compare || chosen.some((i) => i !== 'graphgrad'),
    workloads,
    impls: chosen,
    budgetMs,
    ...(runs === undefined ? {} : { runs }),
    ...(save === undefined ? {} : { save }),
  }
}
