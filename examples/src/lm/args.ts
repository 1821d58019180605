/**
 * Command-line options: each subcommand declares its options once (name, kind, default,
 * range, help line), and the same declaration parses argv, checks every value and prints
 * `--help`. A mistake is an {@link LmError} naming the option and what it must be.
 * @module
 */
import { LmError } from './errors.ts'

/** What an option's value is: a whole number, a number, a string, or nothing (a switch). */
export type OptionKind = 'int' | 'number' | 'string' | 'flag'

/** One option of a subcommand. */
export interface OptionSpec {
  /** Its name without dashes (`steps` for `--steps`). */
  readonly name: string
  /** What its value is. */
  readonly kind: OptionKind
  /** One line for `--help`. */
  readonly help: string
  /** Placeholder of the value in `--help` (e.g. `FILE`). */
  readonly value?: string
  /** Value when the option is not given (none: the option is optional and absent). */
  readonly default?: number | string
  /** Smallest allowed value (numbers). */
  readonly min?: number
  /** Largest allowed value (numbers). */
  readonly max?: number
  /** Whether `min` itself is excluded (e.g. a learning rate > 0). */
  readonly minExclusive?: boolean
}

/** A subcommand: its name, what it does, and its options. */
export interface CommandSpec {
  /** As typed after `pnpm lm`. */
  readonly name: string
  /** What it does, in one line. */
  readonly summary: string
  /** Lines shown under the options in `--help` (examples, notes). */
  readonly notes?: readonly string[]
  /** Its options. */
  readonly options: readonly OptionSpec[]
}

/** Parsed options of one subcommand: typed getters, defaults applied, and which ones the user typed. */
export class ParsedArgs {
  constructor(
    private readonly values: ReadonlyMap<string, number | string | boolean>,
    /** Names of the options given on the command line (not defaulted). */
    readonly given: ReadonlySet<string>,
  ) {}

  /** A numeric option's value (its default when not given). */
  number(name: string): number {
    const v = this.values.get(name)
    if (typeof v !== 'number') throw new Error(`option --${name} is not a number option with a default`)
    return v
  }

  /** A string option's value, or undefined when neither given nor defaulted. */
  string(name: string): string | undefined {
    const v = this.values.get(name)
    return typeof v === 'string' ? v : undefined
  }

  /** Whether a switch was given. */
  flag(name: string): boolean {
    return this.values.get(name) === true
  }
}

/** Parses `argv` (the words after the subcommand); returns 'help' when `--help` or `-h` is among them. */
export function parseArgs(command: CommandSpec, argv: readonly string[]): ParsedArgs | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help'
  const hint = `(see pnpm lm ${command.name} --help)`
  const specs = new Map(command.options.map((o) => [o.name, o]))
  const values = new Map<string, number | string | boolean>()
  const given = new Set<string>()
  for (const o of command.options) if (o.default !== undefined) values.set(o.name, o.default)
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]
    if (!word.startsWith('--')) throw new LmError(`unexpected argument '${word}' ${hint}`)
    const eq = word.indexOf('=')
    const name = word.slice(2, eq < 0 ? undefined : eq)
    const spec = specs.get(name)
    if (spec === undefined) throw new LmError(`unknown option --${name} ${hint}`)
    if (given.has(name)) throw new LmError(`--${name} is given twice`)
    given.add(name)
    if (spec.kind === 'flag') {
      if (eq >= 0) throw new LmError(`--${name} takes no value`)
      values.set(name, true)
      continue
    }
    let raw: string
    if (eq >= 0) raw = word.slice(eq + 1)
    else if (i + 1 < argv.length) raw = argv[++i]
    else throw new LmError(`--${name} needs a value (${spec.value ?? spec.kind})`)
    values.set(name, spec.kind === 'string' ? raw : parseNumber(spec, raw))
  }
  return new ParsedArgs(values, given)
}

function parseNumber(spec: OptionSpec, raw: string): number {
  const v = spec.kind === 'int' ? (/^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : NaN) : raw.trim() === '' ? NaN : Number(raw)
  const low = spec.min === undefined || (spec.minExclusive === true ? v > spec.min : v >= spec.min)
  const high = spec.max === undefined || v <= spec.max
  if (!Number.isFinite(v) || !Number.isSafeInteger(spec.kind === 'int' ? v : 0) || !low || !high) {
    const range = [spec.min !== undefined ? `${spec.minExclusive === true ? '>' : '>='} ${spec.min}` : '', spec.max !== undefined ? `<= ${spec.max}` : ''].filter((s) => s !== '').join(' and ')
    throw new LmError(`--${spec.name} must be ${spec.kind === 'int' ? 'a whole number' : 'a number'}${range === '' ? '' : ` ${range}`}, got '${raw}'`)
  }
  return v
}

/** The `--help` text of a subcommand. */
export function helpText(command: CommandSpec): string {
  const rows = command.options.map((o) => {
    const left = `  --${o.name}${o.kind === 'flag' ? '' : ` ${o.value ?? (o.kind === 'string' ? 'TEXT' : 'N')}`}`
    const dflt = o.default === undefined ? '' : ` (default ${typeof o.default === 'string' ? JSON.stringify(o.default) : o.default})`
    return [left, `${o.help}${dflt}`]
  })
  const width = Math.max(...rows.map(([l]) => l.length)) + 2
  const lines = [`usage: pnpm lm ${command.name} [options]`, '', command.summary, '', 'options:']
  for (const [l, r] of rows) lines.push(`${l.padEnd(width)}${r}`)
  lines.push(`  --help${' '.repeat(Math.max(2, width - 8))}this text`)
  if (command.notes !== undefined) lines.push('', ...command.notes)
  return `${lines.join('\n')}\n`
}
