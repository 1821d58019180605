/**
 * The benchmark runner: `pnpm bench [--json] [--only matmul,overhead]`.
 * Prints one JSON object per result on stdout; without `--json` it also prints a readable
 * line per result and, at the end, a side-by-side summary table on stderr.
 * @module
 */
import { matmulGroup } from './matmul.ts'
import { overheadGroup } from './overhead.ts'
import { lstmGroup } from './lstm.ts'
import type { BenchGroup, BenchResult } from './timing.ts'

/** Every group, in run order. A new group is one file plus one entry here. */
export const GROUPS: readonly BenchGroup[] = [matmulGroup, overheadGroup, lstmGroup]

/** Parsed command line. */
export interface BenchArgs {
  /** Print JSON lines only. */
  readonly json: boolean
  /** The groups to run. */
  readonly groups: readonly BenchGroup[]
}

/** Parses `--json`, `--only a,b` (or `--only=a,b`, repeatable) and `--help`. */
export function parseArgs(argv: readonly string[]): BenchArgs | 'help' {
  let json = false
  const only: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--json') json = true
    else if (arg === '--help' || arg === '-h') return 'help'
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length)
      if (value === undefined) throw new Error('--only needs a list of groups')
      only.push(...value.split(',').filter((s) => s !== ''))
    } else if (arg !== '--') throw new Error(`unknown argument '${arg}' (try --help)`)
  }
  for (const name of only) {
    if (!GROUPS.some((g) => g.name === name)) throw new Error(`unknown group '${name}' (groups: ${GROUPS.map((g) => g.name).join(', ')})`)
  }
  return { json, groups: only.length === 0 ? GROUPS : GROUPS.filter((g) => only.includes(g.name)) }
}

/** Measured fields, in the order the summary prefers them; every other field names the case. */
const METRICS = ['gflops', 'usPerOp', 'msPerStep', 'ms', 'cpuGflops', 'cpuMs']

/** Fields that say how a result was measured, not which case it is: kept out of the row label, so libraries timed with different repeat counts share a row. */
const RUN_FIELDS = ['steps']

function describe(r: BenchResult): string {
  const fields = Object.entries(r).filter(([k]) => k !== 'bench' && k !== 'lib').map(([k, v]) => `${k}=${v}`)
  return `${r.bench.padEnd(9)} ${r.lib.padEnd(10)} ${fields.join('  ')}`
}

/** A side-by-side table: one row per case, one column per library, the case's main metric in the cells. */
export function summaryTable(results: readonly BenchResult[]): string {
  const libs = [...new Set(results.map((r) => r.lib))]
  const rows = new Map<string, Map<string, string>>()
  for (const r of results) {
    const metric = METRICS.find((m) => m in r)
    if (metric === undefined) continue
    const label = [r.bench, ...Object.entries(r).filter(([k]) => k !== 'bench' && k !== 'lib' && !METRICS.includes(k) && !RUN_FIELDS.includes(k)).map(([k, v]) => `${k}=${v}`), `(${metric})`].join(' ')
    if (!rows.has(label)) rows.set(label, new Map())
    rows.get(label)?.set(r.lib, String(r[metric]))
  }
  const width = Math.max(4, ...[...rows.keys()].map((l) => l.length))
  const lines = [['case'.padEnd(width), ...libs.map((l) => l.padStart(10))].join('  ')]
  for (const [label, cells] of rows) lines.push([label.padEnd(width), ...libs.map((l) => (cells.get(l) ?? '-').padStart(10))].join('  '))
  return lines.join('\n')
}

/** Runs the selected groups; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArgs | 'help'
  try {
    args = parseArgs(argv)
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`)
    return 2
  }
  if (args === 'help') {
    process.stderr.write(`usage: pnpm bench [--json] [--only ${GROUPS.map((g) => g.name).join(',')}]\n`)
    return 0
  }
  if (!args.json) process.stderr.write(`node ${process.version}, groups: ${args.groups.map((g) => g.name).join(', ')}\n`)
  const results: BenchResult[] = []
  for (const group of args.groups) {
    for await (const r of group.run()) {
      process.stdout.write(`${JSON.stringify(r)}\n`)
      if (!args.json) process.stderr.write(`${describe(r)}\n`)
      results.push(r)
    }
  }
  if (!args.json) process.stderr.write(`\n${summaryTable(results)}\n`)
  return 0
}

process.exitCode = await main(process.argv.slice(2))
