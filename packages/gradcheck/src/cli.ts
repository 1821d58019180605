/**
 * The `gradcheck` command: checks the gradients of every op registered in the core and every
 * layer and loss of @graphgrad/layers (or the checks a user's file exports), prints a table
 * and exits non-zero if anything fails.
 *
 * ```
 * pnpm gradcheck                      all ops, layers and losses, 4 cases each
 * pnpm gradcheck --only exp --only div
 * pnpm gradcheck --order 2            second derivatives
 * pnpm gradcheck --json               { ok, results: [{ name, ok, cases, maxAbsError, maxRelError }] }
 * pnpm gradcheck my-model.ts          the checks that file exports (see UserCheck)
 * ```
 * Exit codes: 0 all passed, 1 a check failed, 2 a usage error (bad option, unknown name,
 * a file without checks).
 * @module
 */
import { pathToFileURL } from 'node:url'
import { type CheckTarget, DEFAULT_CASES, type TargetResult, coreTargets, layerTargets, runTarget } from './registry-runner.ts'
import { nearestName } from '@graphgrad/core/internal'
import { formatTable } from './report.ts'
import { loadUserChecks } from './user-checks.ts'

/** The command's parsed arguments. */
export interface CliArgs {
  /** Print one JSON object instead of the table. */
  json: boolean
  /** Names to check (all when empty). */
  only: string[]
  /** Base seed of the cases. */
  seed: number
  /** Cases per target. */
  cases: number
  /** 1: gradients, 2: second derivatives. */
  order: 1 | 2
  /** User files whose exported checks are run instead of the registries. */
  files: string[]
  /** Print the usage and exit. */
  help: boolean
}

const USAGE = `usage: graphgrad-gradcheck [options] [checks.mjs|checks.ts ...]

Checks analytic gradients against central finite differences (float64) for every op
registered in @graphgrad/core and every layer and loss of @graphgrad/layers, or for the
checks exported by the given files (export const checks = [{ name, fn, inputs }]).

options:
  --json          print one JSON object: { ok, results: [{ name, ok, cases, maxAbsError, maxRelError }] }
  --only NAME     check only NAME (repeatable)
  --seed N        base seed of the random cases (default 0)
  --cases N       cases per op (default ${DEFAULT_CASES})
  --order 2       check second derivatives (gradgradcheck)
  -h, --help      show this help

exit codes: 0 all passed, 1 a check failed, 2 usage error`

/** Thrown for bad command lines; the command prints it with the usage and exits with 2. */
export class UsageError extends Error {}

function intArg(flag: string, value: string | undefined, min: number): number {
  const n = Number(value)
  if (value === undefined || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag} needs an integer >= ${min}, got ${value ?? 'nothing'}`)
  return n
}

/** Parses the command line (without `node` and the script). */
export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { json: false, only: [], seed: 0, cases: DEFAULT_CASES, order: 1, files: [], help: false }
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].indexOf('=')
    const [flag, inline] = argv[i].startsWith('--') && eq > 0 ? [argv[i].slice(0, eq), argv[i].slice(eq + 1)] : [argv[i], undefined]
    const value = (): string | undefined => inline ?? argv[++i]
    if (flag === '--json') args.json = true
    else if (flag === '-h' || flag === '--help') args.help = true
    else if (flag === '--only') {
      const v = value()
      if (v === undefined || v === '') throw new UsageError('--only needs a name')
      args.only.push(...v.split(',').filter((x) => x !== ''))
    } else if (flag === '--seed') args.seed = intArg('--seed', value(), 0)
    else if (flag === '--cases') args.cases = intArg('--cases', value(), 1)
    else if (flag === '--order') {
      const o = intArg('--order', value(), 1)
      if (o !== 1 && o !== 2) throw new UsageError(`--order must be 1 or 2, got ${o}`)
      args.order = o
    } else if (flag.startsWith('-')) throw new UsageError(`unknown option ${flag}`)
    else args.files.push(flag)
  }
  return args
}

async function collect(args: CliArgs, notes: string[]): Promise<CheckTarget[]> {
  let targets: CheckTarget[]
  if (args.files.length > 0) {
    targets = []
    for (const f of args.files) targets.push(...(await loadUserChecks(f)))
  } else {
    const layers = await layerTargets()
    if (layers.note !== null) notes.push(layers.note)
    targets = [...coreTargets(), ...layers.targets]
  }
  if (args.only.length === 0) return targets
  const names = targets.map((t) => t.name)
  for (const n of args.only) {
    if (!names.includes(n)) {
      const near = nearestName(n, names)
      throw new UsageError(`--only ${n}: no op, layer or check of that name${near === null ? '' : ` (did you mean ${near}?)`}`)
    }
  }
  return targets.filter((t) => args.only.includes(t.name))
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * The JSON document `--json` prints: `{ ok, order, seed, results: [{ name, source, ok, cases,
 * maxAbsError, maxRelError, skipped?, failures? }] }`. An error that is not finite (a case
 * that threw) is printed as null, as JSON has no Infinity.
 */
export function toJson(results: readonly TargetResult[], args: CliArgs): string {
  return JSON.stringify({
    ok: results.every((r) => r.ok),
    order: args.order,
    seed: args.seed,
    results: results.map((r) => ({
      name: r.name,
      source: r.source,
      ok: r.ok,
      cases: r.cases,
      maxAbsError: r.maxAbsError,
      maxRelError: r.maxRelError,
      ...(r.skipped === undefined ? {} : { skipped: r.skipped }),
      ...(r.failures.length === 0 ? {} : { failures: r.failures.map((f) => ({ case: f.index, label: f.label, report: f.report })) }),
    })),
  })
}

/**
 * Runs the command; returns its exit code. Output goes to `out`, notes and errors to `err`;
 * `command` is how a failure's reproduce line names the command.
 */
export async function main(
  argv: readonly string[],
  out: (s: string) => void = (s) => process.stdout.write(`${s}\n`),
  err: (s: string) => void = (s) => process.stderr.write(`${s}\n`),
  command = 'pnpm gradcheck',
): Promise<number> {
  let args: CliArgs
  const notes: string[] = []
  let targets: CheckTarget[]
  try {
    args = parseArgs(argv)
    if (args.help) {
      out(USAGE)
      return 0
    }
    targets = await collect(args, notes)
  } catch (e) {
    const usage = e instanceof UsageError
    err(`gradcheck: ${e instanceof Error ? e.message : String(e)}${usage ? `\n\n${USAGE}` : ''}`)
    return 2
  }
  const started = performance.now()
  const results = targets.map((t) => runTarget(t, { seed: args.seed, cases: args.cases, order: args.order }))
  const seconds = (performance.now() - started) / 1000
  for (const n of notes) err(`note: ${n}`)
  const ok = results.every((r) => r.ok)
  if (args.json) {
    out(toJson(results, args))
  } else {
    out(formatTable(results, args.order === 2 ? 'name (second order)' : 'name'))
    const failed = results.filter((r) => !r.ok)
    for (const r of failed) {
      for (const f of r.failures) {
        const again = [
          ...args.files,
          '--only',
          r.name,
          '--seed',
          String(args.seed),
          '--cases',
          String(f.index + 1),
          ...(args.order === 2 ? ['--order', '2'] : []),
        ]
        out(`\n${f.report}\n  reproduce: ${command} ${again.map(shellQuote).join(' ')}`)
      }
    }
    out(`\ntime: ${seconds.toFixed(1)} s`)
  }
  return ok ? 0 : 1
}

/**
 * Runs the command as a process does: sets `process.exitCode` from {@link main}'s result,
 * and reports an unexpected error in one line (exit code 2). The installed
 * `graphgrad-gradcheck` binary calls it.
 */
export function run(argv: readonly string[], command = 'graphgrad-gradcheck'): Promise<void> {
  const print =
    (stream: NodeJS.WriteStream) =>
    (s: string): void =>
      void stream.write(`${s}\n`)
  return main(argv, print(process.stdout), print(process.stderr), command).then(
    (code) => {
      process.exitCode = code
    },
    (e: unknown) => {
      process.stderr.write(`gradcheck: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`)
      process.exitCode = 2
    },
  )
}

const invoked = process.argv[1] === undefined ? '' : pathToFileURL(process.argv[1]).href
if (import.meta.url === invoked) void run(process.argv.slice(2), 'pnpm gradcheck')
