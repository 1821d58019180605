/**
 * Command-line options of the example commands (`pnpm start`, `pnpm lm train`, `pnpm lm
 * sample`): each command declares its options once (name, kind, default, range, help
 * line), and the same declaration parses argv, checks every value and prints `--help`.
 * A mistake is a {@link UsageError} naming the option and what it must be.
 * @module
 */

/**
 * What an option's value is: a whole number, a number, a string, nothing (a switch), a
 * comma-separated list of whole numbers, or a comma-separated list of words.
 */
type OptionKind = 'int' | 'number' | 'string' | 'flag' | 'ints' | 'words'

/** A parsed option value. */
export type OptionValue = number | string | boolean | readonly number[] | readonly string[]

/** One option of a command. */
interface OptionSpec {
  /** Its name without dashes (`steps` for `--steps`). */
  readonly name: string
  /** What its value is. */
  readonly kind: OptionKind
  /** Its line in `--help`; a `\n` continues it on the next line, aligned. */
  readonly help: string
  /** Placeholder of the value in `--help` (e.g. `FILE`). */
  readonly value?: string
  /** Value when the option is not given (none: the option is optional and absent). */
  readonly default?: OptionValue
  /** Smallest allowed value (numbers, and each number of a list). */
  readonly min?: number
  /** Largest allowed value (numbers, and each number of a list). */
  readonly max?: number
  /** Whether `min` itself is excluded (e.g. a learning rate > 0). */
  readonly minExclusive?: boolean
  /** The words a `words` list may hold (none: any word). */
  readonly choices?: readonly string[]
}

/** A command: how it is typed, what it does, and its options. */
export interface CommandSpec {
  /** As typed, without options (`pnpm lm train`); `--help` and error hints use it. */
  readonly usage: string
  /** What it does, in one line. */
  readonly summary: string
  /** Lines shown between the summary and the options (what the command works on). */
  readonly about?: readonly string[]
  /** Lines shown under the options in `--help` (outputs, examples, notes). */
  readonly notes?: readonly string[]
  /** Its options. */
  readonly options: readonly OptionSpec[]
}

/** A command-line mistake; its message says which option and what is allowed. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** Parsed options of one command: typed getters, defaults applied, and which ones the user typed. */
export class ParsedArgs {
  constructor(
    private readonly values: ReadonlyMap<string, OptionValue>,
    /** Names of the options given on the command line (not defaulted). */
    readonly given: ReadonlySet<string>,
  ) {}

  /** A numeric option's value (its default when not given). */
  number(name: string): number {
    const v = this.values.get(name)
    if (typeof v !== 'number') throw undeclared(name)
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

  /** A list option's value (its default when not given). */
  list<T extends number | string>(name: string): readonly T[] {
    const v = this.values.get(name)
    if (!Array.isArray(v)) throw undeclared(name)
    return v as readonly T[]
  }
}

/** A programming mistake (a command reads an option it did not declare so), not a user's: a plain Error. */
function undeclared(name: string): Error {
  return new Error(`option --${name} is not declared with this kind and a default`)
}

/** Parses `argv` (the words after the command); returns 'help' when `--help` or `-h` is among them. */
export function parseArgs(command: CommandSpec, argv: readonly string[]): ParsedArgs | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help'
  const hint = `(see ${command.usage} --help)`
  const specs = new Map(command.options.map((o) => [o.name, o]))
  const values = new Map<string, OptionValue>()
  const given = new Set<string>()
  for (const o of command.options) if (o.default !== undefined) values.set(o.name, o.default)
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]
    if (!word.startsWith('--')) throw new UsageError(`unexpected argument '${word}' ${hint}`)
    const eq = word.indexOf('=')
    const name = word.slice(2, eq < 0 ? undefined : eq)
    const spec = specs.get(name)
    if (spec === undefined) throw new UsageError(`unknown option --${name} ${hint}`)
    if (given.has(name)) throw new UsageError(`--${name} is given twice`)
    given.add(name)
    if (spec.kind === 'flag') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`)
      values.set(name, true)
      continue
    }
    let raw: string
    if (eq >= 0) raw = word.slice(eq + 1)
    else if (i + 1 < argv.length) raw = argv[++i]
    else throw new UsageError(`--${name} needs a value (${placeholder(spec)}) ${hint}`)
    values.set(name, parseValue(spec, raw))
  }
  return new ParsedArgs(values, given)
}

function parseValue(spec: OptionSpec, raw: string): OptionValue {
  switch (spec.kind) {
    case 'string':
      return raw
    case 'int':
    case 'number': {
      const v = parseNumber(spec, raw)
      if (v === undefined) throw new UsageError(`--${spec.name} must be ${numberText(spec, 'a whole number', 'a number')}, got '${raw}'`)
      return v
    }
    case 'ints': {
      const items = raw.split(',').map((item) => {
        const v = parseNumber(spec, item)
        if (v === undefined) throw new UsageError(`--${spec.name} must list ${numberText(spec, 'whole numbers', 'numbers')}, comma-separated; got '${item}'`)
        return v
      })
      return unique(spec, items)
    }
    case 'words': {
      const items = raw.split(',').map((s) => s.trim())
      const bad = spec.choices === undefined ? items.find((s) => s === '') : items.find((s) => !(spec.choices as readonly string[]).includes(s))
      if (bad !== undefined) {
        const choose = spec.choices === undefined ? 'empty item' : `${spec.name.replace(/s$/, '')} '${bad}'; choose from ${spec.choices.join(', ')}`
        throw new UsageError(`--${spec.name}: unknown ${choose}`)
      }
      return unique(spec, items)
    }
    case 'flag':
      throw new Error('a switch has no value')
  }
}

/** A whole number (for `int` and `ints`) or a number, in the option's range; undefined if not. */
function parseNumber(spec: OptionSpec, raw: string): number | undefined {
  const whole = spec.kind === 'int' || spec.kind === 'ints'
  const v = whole ? (/^[+-]?\d+$/.test(raw.trim()) ? Number(raw) : NaN) : raw.trim() === '' ? NaN : Number(raw)
  const low = spec.min === undefined || (spec.minExclusive === true ? v > spec.min : v >= spec.min)
  const high = spec.max === undefined || v <= spec.max
  return Number.isFinite(v) && (!whole || Number.isSafeInteger(v)) && low && high ? v : undefined
}

/** `a whole number >= 1`, `a number > 0 and <= 0.99`: what a numeric option accepts. */
function numberText(spec: OptionSpec, whole: string, real: string): string {
  const low = spec.min === undefined ? [] : [`${spec.minExclusive === true ? '>' : '>='} ${spec.min}`]
  const range = [...low, ...(spec.max === undefined ? [] : [`<= ${spec.max}`])].join(' and ')
  const what = spec.kind === 'int' || spec.kind === 'ints' ? whole : real
  return range === '' ? what : `${what} ${range}`
}

function unique<T>(spec: OptionSpec, items: T[]): T[] {
  const twice = items.find((item, i) => items.indexOf(item) !== i)
  if (twice !== undefined) throw new UsageError(`--${spec.name} names ${String(twice)} more than once`)
  return items
}

function placeholder(spec: OptionSpec): string {
  return spec.value ?? { int: 'N', number: 'X', string: 'TEXT', flag: '', ints: 'LIST', words: 'LIST' }[spec.kind]
}

/** The `--help` text of a command. */
export function helpText(command: CommandSpec): string {
  const rows = command.options.map((o) => {
    const left = `  --${o.name}${o.kind === 'flag' ? '' : ` ${placeholder(o)}`}`
    const dflt = o.default === undefined ? '' : ` (default ${Array.isArray(o.default) ? o.default.join(',') : String(o.default)})`
    return [left, `${o.help}${dflt}`]
  })
  rows.push(['  -h, --help', 'print this help'])
  const width = Math.max(...rows.map(([l]) => l.length)) + 2
  const lines = [`usage: ${command.usage} [options]`, '', command.summary]
  if (command.about !== undefined) lines.push('', ...command.about)
  lines.push('', 'options:')
  for (const [l, r] of rows) lines.push(`${l.padEnd(width)}${r.split('\n').join(`\n${' '.repeat(width)}`)}`)
  if (command.notes !== undefined) lines.push('', ...command.notes)
  return `${lines.join('\n')}\n`
}
