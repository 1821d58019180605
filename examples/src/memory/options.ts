/**
 * The command line of `pnpm start`: every option with its default, `--quick` for the
 * reduced sweep, `--help`, and a clear {@link UsageError} for anything unknown or out of range.
 * @module
 */
import { availableParallelism } from 'node:os'
import { type CommandSpec, UsageError, parseArgs } from '../shared/args.ts'
import { MODEL_NAMES, type ModelName, TASK_NAMES, type TaskName } from './names.ts'
import type { SweepSettings } from './results.ts'

/** Parsed options: the sweep's settings plus where to write and whether to only print help. */
export interface CliOptions extends SweepSettings {
  /** Output folder for results.json, curves.svg and the weights. */
  readonly out: string
  /** Print the help text and exit. */
  readonly help: boolean
  /** Whether `--quick` chose the defaults. */
  readonly quick: boolean
  /** Runs at once, each in its own process (1: one after another, in this process). */
  readonly jobs: number
}

/**
 * The largest value of the options that size a run. Each run's memory is estimated from them
 * as well before the sweep starts (see needs.ts); these bounds keep every single tensor
 * possible: the RNN of the LSTM's budget at hidden 4096 is 8190 wide, 67 M weights.
 */
export const LIMITS = { lag: 100000, hidden: 4096, batch: 100000, eval: 100000, seeds: 100, jobs: 64 } as const

/** The default sweep (see the README for its time on two cores). */
export const DEFAULTS: Omit<CliOptions, 'help' | 'quick'> = {
  tasks: TASK_NAMES,
  lags: [5, 20, 50, 100, 200],
  models: MODEL_NAMES,
  hidden: 16,
  gateBias: 5,
  inputBias: -3,
  budget: 100_000,
  batchSize: 32,
  lr: 0.003,
  clip: 1,
  evalSize: 1000,
  seed: 1,
  seeds: 3,
  allLags: false,
  jobs: Math.min(2, availableParallelism()),
  out: 'out/memory',
}

/** What `--quick` changes: two short lags, a small budget, a smaller held-out batch (a few seconds). */
export const QUICK = { lags: [5, 10], budget: 20_000, evalSize: 200, seeds: 1, out: 'out/memory-quick' } as const satisfies Partial<CliOptions>

const d = DEFAULTS

/** The options of `pnpm start`; the defaults shown are those without `--quick`. */
export const START_COMMAND: CommandSpec = {
  usage: 'pnpm start',
  summary: 'The long-range memory experiment: can a model remember across a lag?',
  about: [
    'Trains a plain RNN (rnn + linear), an LSTM and a GRU of equal parameter budget on',
    'sequence tasks generated from a seed, sweeping the lag between what must be remembered',
    'and the moment it is asked for, and shows where each model stops remembering.',
    '',
    "Each run trains until it meets its task's success criterion on held-out sequences, or",
    'until its budget of training sequences runs out; the table gives the training sequences',
    'each model needed (the median over the seeds), as Hochreiter and Schmidhuber (1997) did.',
    '',
    'tasks:',
    "  reber     the embedded Reber grammar (the paper's experiment 1): predict the next symbol;",
    '            a string is right when every possible next symbol is predicted at every',
    '            step; solved when every held-out string is right (no lag)',
    '  recall    delayed recall: the first step shows one of 8 symbols, then come LAG random',
    '            distractors; the model must then name the first symbol (chance: 12.5%);',
    '            solved at 99% held-out accuracy',
    "  adding    the adding problem (the paper's experiment 4): LAG steps of a value in [-1, 1]",
    '            and a marker; predict 0.5 + (X1 + X2) / 4 of the two marked values, one in each',
    '            half; right when the absolute error is below 0.04, solved when 99% of the',
    '            held-out sequences are right and their mean squared error is below 0.01',
  ],
  options: [
    { name: 'tasks', kind: 'words', choices: TASK_NAMES, default: d.tasks, help: 'tasks to run, comma-separated' },
    {
      name: 'lags',
      kind: 'ints',
      min: 1,
      max: LIMITS.lag,
      default: d.lags,
      help: 'lags to sweep, comma-separated; for adding, the lag is the\nsequence length, at least 2',
    },
    { name: 'models', kind: 'words', choices: MODEL_NAMES, default: d.models, help: `models, comma-separated, from ${MODEL_NAMES.join(', ')}` },
    {
      name: 'hidden',
      kind: 'int',
      min: 1,
      max: LIMITS.hidden,
      default: d.hidden,
      help: 'hidden size of the LSTM; it sets the parameter budget, and the RNN\nand the GRU get the hidden size that comes closest to it',
    },
    {
      name: 'gate-bias',
      kind: 'number',
      value: 'X',
      default: d.gateBias,
      help: "initial bias of the LSTM's forget gate and the GRU's update gate,\nso that gated cells start by keeping their state; 0 is PyTorch's\nplain initialisation",
    },
    {
      name: 'input-bias',
      kind: 'number',
      value: 'X',
      default: d.inputBias,
      help: "initial bias of the LSTM's input gate; negative (as in the 1997\npaper) it starts nearly shut, so that distractors do not write into\nthe cell; 0 is PyTorch's plain initialisation",
    },
    {
      name: 'budget',
      kind: 'int',
      min: 1,
      default: d.budget,
      help: 'training sequences a run may see before it counts as not solved\n(a fresh batch every Adam step)',
    },
    { name: 'batch', kind: 'int', min: 1, max: LIMITS.batch, default: d.batchSize, help: 'sequences per training batch' },
    { name: 'lr', kind: 'number', min: 0, minExclusive: true, default: d.lr, help: "Adam's learning rate" },
    { name: 'clip', kind: 'number', min: 0, minExclusive: true, default: d.clip, help: 'maximum gradient norm, clipGradNorm' },
    { name: 'eval', kind: 'int', min: 1, max: LIMITS.eval, default: d.evalSize, help: 'sequences in the held-out batch the criterion is checked on' },
    { name: 'seed', kind: 'int', min: 0, default: d.seed, help: 'seed of every random draw: same seed, same numbers' },
    { name: 'seeds', kind: 'int', min: 1, max: LIMITS.seeds, default: d.seeds, help: 'runs per task, lag and model, each from its own seed' },
    {
      name: 'jobs',
      kind: 'int',
      min: 1,
      max: LIMITS.jobs,
      default: d.jobs,
      help: 'runs at once, each in its own process (default: 2, or 1 on one\ncore); the numbers are the same for any value',
    },
    { name: 'out', kind: 'string', value: 'DIR', default: d.out, help: 'output folder' },
    {
      name: 'all-lags',
      kind: 'flag',
      help: 'run every lag; without it a seed of a model that did not solve a task\nat one lag is not run at its longer lags (the table says so)',
    },
    {
      name: 'quick',
      kind: 'flag',
      help: `a reduced sweep for a smoke test: lags ${QUICK.lags.join(',')}, budget ${QUICK.budget},\n${QUICK.seeds} seed, held-out batch ${QUICK.evalSize}, output folder ${QUICK.out} (each unless given)`,
    },
  ],
  notes: [
    'output (in the output folder):',
    '  results.json         settings and every run (every seed): sequences to solve,',
    '                       held-out score, chance, learning curve',
    '  solve.svg            sequences to solve against the lag, per task and model (log scales)',
    '  curves.svg           learning curves of the first seed, one panel per task and lag',
    '  weights/TASK-lagLAG-MODEL-seedN.safetensors (reber: weights/reber-MODEL-seedN...)',
    '                       trained weights with PyTorch state_dict names (cell.weight_ih_l0, ...)',
    '',
    "A sweep whose largest run would need more than half of this machine's memory (estimated",
    'from --lags, --batch, --eval and --hidden) is refused before it starts.',
  ],
}

/** Parses the arguments after `pnpm start`; throws {@link UsageError} on a mistake. */
export function parseOptions(argv: readonly string[]): CliOptions {
  const args = parseArgs(START_COMMAND, argv)
  if (args === 'help') return { ...DEFAULTS, help: true, quick: false }
  const quick = args.flag('quick')
  // `--quick` replaces the defaults of the options it lists; what the user typed still wins.
  const pick = <T>(option: string, typed: () => T, fallback: T, quickValue?: T): T =>
    args.given.has(option) ? typed() : quick && quickValue !== undefined ? quickValue : fallback
  const lags = pick('lags', () => args.list<number>('lags'), d.lags, QUICK.lags)
  const tasks = args.list<TaskName>('tasks')
  if (tasks.includes('adding') && lags.includes(1)) {
    throw new UsageError('--lags: the adding problem needs a sequence of at least 2 steps (one marked value in each half), got lag 1')
  }
  const out = pick('out', () => args.string('out') ?? d.out, d.out, QUICK.out)
  if (out.trim() === '') throw new UsageError('--out expects a folder, got an empty string')
  return {
    tasks,
    lags,
    models: args.list<ModelName>('models'),
    hidden: args.number('hidden'),
    gateBias: args.number('gate-bias'),
    inputBias: args.number('input-bias'),
    budget: pick('budget', () => args.number('budget'), d.budget, QUICK.budget),
    batchSize: args.number('batch'),
    lr: args.number('lr'),
    clip: args.number('clip'),
    evalSize: pick('eval', () => args.number('eval'), d.evalSize, QUICK.evalSize),
    seed: args.number('seed'),
    seeds: pick('seeds', () => args.number('seeds'), d.seeds, QUICK.seeds),
    allLags: args.flag('all-lags'),
    jobs: args.number('jobs'),
    out,
    help: false,
    quick,
  }
}
