/**
 * The command line of `pnpm seq2seq`: every option with its default and its bounds, `--quick`
 * for the smoke-test run, `--help`, and a {@link UsageError} (one line, exit 2) for anything
 * unknown or out of range.
 * @module
 */
import { type CommandSpec, UsageError, parseArgs } from '../shared/args.ts'

/** The models, in the order they are trained and listed. */
const MODEL_NAMES = ['lstm', 'transformer'] as const
/** A model's name. */
export type ModelName = (typeof MODEL_NAMES)[number]

/** How many dates the task has (1900-01-01 to 2099-12-31; dates.ts counts them, a test checks this copy, which spares the command line loading graphgrad). */
export const TASK_DATES = 73049

/** Bounds of the options that size a run: every tensor stays far below the engine's limits and a few GB. */
const LIMITS = { hidden: 512, batch: 1024, epochs: 1000, beam: 16, heldOut: 10000 } as const

/** Everything a run is defined by. */
export interface Settings {
  /** Models to train, from {@link MODEL_NAMES}. */
  readonly models: readonly ModelName[]
  /** Training examples (one per training date). */
  readonly train: number
  /** Held-out examples (on other dates). */
  readonly heldOut: number
  /** Passes over the training examples. */
  readonly epochs: number
  /** Examples per batch. */
  readonly batchSize: number
  /** The LSTM's hidden size; it sets the parameter budget the transformer is sized to. */
  readonly hidden: number
  /** Adam's initial learning rate (cosine-annealed to a tenth). */
  readonly lr: number
  /** Largest gradient norm. */
  readonly clip: number
  /** Beam width of beam search. */
  readonly beam: number
  /** Seed of every random draw. */
  readonly seed: number
}

/** Parsed options: the settings, where to write, and whether only help was asked for. */
export interface CliOptions extends Settings {
  /** Output folder for results.json and attention.svg. */
  readonly out: string
  /** Print the help text and exit. */
  readonly help: boolean
  /** Whether `--quick` chose the defaults. */
  readonly quick: boolean
}

/**
 * The default run: both models at about 60k parameters. On two cores (AMD EPYC, Node 20) it
 * took 1m45s with the machine otherwise quiet and 2m29s to 5m13s when shared with other work
 * (about 2 minutes of CPU time); the LSTM reached 99.8-100% held-out exact match over seeds 1-3.
 */
export const DEFAULTS: Omit<CliOptions, 'help' | 'quick'> = {
  models: MODEL_NAMES,
  train: 6000,
  heldOut: 1000,
  epochs: 6,
  batchSize: 64,
  hidden: 64,
  lr: 0.004,
  clip: 1,
  beam: 5,
  seed: 1,
  out: 'out/seq2seq',
}

/** What `--quick` changes (each unless given): a smoke test of some seconds. */
export const QUICK = { train: 640, heldOut: 100, epochs: 2, out: 'out/seq2seq-quick' } as const satisfies Partial<CliOptions>

const d = DEFAULTS

/** The options of `pnpm seq2seq`; the defaults shown are those without `--quick`. */
export const SEQ2SEQ_COMMAND: CommandSpec = {
  usage: 'pnpm seq2seq',
  summary: 'Sequence to sequence: written-out dates to ISO dates, an LSTM with attention beside a transformer.',
  about: [
    'Generates dates written out in seven ways ("third of december 2026", "december 3rd, 2026",',
    '"3 dec 2026", "the 3rd of december, two thousand twenty-six", ...) with their ISO form',
    '("2026-12-03"), held-out dates disjoint from the training dates. Trains an LSTM',
    'encoder-decoder with Luong attention and a transformer of about the same number of',
    'parameters on them (teacher forcing, Adam, gradient clipping), then decodes the held-out',
    'dates greedily and with beam search and counts the exact matches.',
  ],
  options: [
    { name: 'models', kind: 'words', choices: MODEL_NAMES, default: d.models, help: 'models to train, comma-separated' },
    { name: 'train', kind: 'int', min: 1, max: TASK_DATES - 1, default: d.train, help: 'training examples, each on its own date' },
    { name: 'held-out', kind: 'int', min: 1, max: LIMITS.heldOut, default: d.heldOut, help: 'held-out examples, on dates no training example has' },
    { name: 'epochs', kind: 'int', min: 1, max: LIMITS.epochs, default: d.epochs, help: 'passes over the training examples' },
    { name: 'batch', kind: 'int', min: 1, max: LIMITS.batch, default: d.batchSize, help: 'examples per batch' },
    {
      name: 'hidden',
      kind: 'int',
      min: 2,
      max: LIMITS.hidden,
      default: d.hidden,
      help: 'hidden size of the LSTM decoder (even: the encoder has two directions\nof half of it); the transformer is sized to the same parameter count',
    },
    { name: 'lr', kind: 'number', min: 0, minExclusive: true, max: 1, default: d.lr, help: "Adam's initial learning rate, annealed to a tenth on a cosine" },
    { name: 'clip', kind: 'number', min: 0, minExclusive: true, default: d.clip, help: 'largest gradient norm (clipGradNorm)' },
    { name: 'beam', kind: 'int', min: 1, max: LIMITS.beam, default: d.beam, help: 'beam width of beam search (1 is greedy decoding)' },
    { name: 'seed', kind: 'int', min: 0, default: d.seed, help: 'seed of every random draw (data, parameters, shuffles)' },
    { name: 'out', kind: 'string', value: 'DIR', default: d.out, help: 'output folder' },
    {
      name: 'quick',
      kind: 'flag',
      help: `a smoke test: ${QUICK.train} training and ${QUICK.heldOut} held-out examples, ${QUICK.epochs} epochs,\noutput folder ${QUICK.out} (each unless given)`,
    },
  ],
  notes: [
    'output (in the output folder):',
    '  results.json    settings, and per model: parameters, training losses, held-out',
    '                  exact match (greedy and beam), a few mistakes, seconds',
    "  attention.svg   the LSTM's attention over the input for one held-out example",
  ],
}

/** Parses the arguments after `pnpm seq2seq`; throws {@link UsageError} on a mistake. */
export function parseOptions(argv: readonly string[]): CliOptions {
  const args = parseArgs(SEQ2SEQ_COMMAND, argv)
  if (args === 'help') return { ...DEFAULTS, help: true, quick: false }
  const quick = args.flag('quick')
  // `--quick` replaces the defaults of the options it lists; what the user typed still wins.
  const pick = <T>(option: string, typed: () => T, fallback: T, quickValue: T): T => (args.given.has(option) ? typed() : quick ? quickValue : fallback)
  const hidden = args.number('hidden')
  if (hidden % 2 !== 0) throw new UsageError(`--hidden must be even (the encoder has two directions of half of it), got ${hidden}`)
  const out = pick('out', () => args.string('out') ?? d.out, d.out, QUICK.out)
  if (out.trim() === '') throw new UsageError('--out expects a folder, got an empty string')
  const train = pick('train', () => args.number('train'), d.train, QUICK.train)
  const heldOut = pick('held-out', () => args.number('held-out'), d.heldOut, QUICK.heldOut)
  if (train + heldOut > TASK_DATES) throw new UsageError(`--train and --held-out add up to ${train + heldOut}, but the task has only ${TASK_DATES} dates`)
  return {
    models: args.list<ModelName>('models'),
    train,
    heldOut,
    epochs: pick('epochs', () => args.number('epochs'), d.epochs, QUICK.epochs),
    batchSize: args.number('batch'),
    hidden,
    lr: args.number('lr'),
    clip: args.number('clip'),
    beam: args.number('beam'),
    seed: args.number('seed'),
    out,
    help: false,
    quick,
  }
}
