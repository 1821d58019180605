/**
 * The command line of `pnpm start`: every option with its default, `--quick` for the
 * reduced sweep, `--help`, and a clear error for anything unknown or out of range.
 * @module
 */
import { parseArgs } from 'node:util'
import { MODEL_NAMES, type ModelName } from './models.ts'
import type { SweepSettings } from './results.ts'
import { TASKS, type TaskName } from './tasks.ts'

/** Parsed options: the sweep's settings plus where to write and whether to only print help. */
export interface CliOptions extends SweepSettings {
  /** Output folder for results.json, curves.svg and the weights. */
  readonly out: string
  /** Print the help text and exit. */
  readonly help: boolean
  /** Whether `--quick` chose the defaults. */
  readonly quick: boolean
}

/** A command-line mistake; its message says which option and what is allowed. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/** The default sweep (about five minutes on two cores). */
export const DEFAULTS: Omit<CliOptions, 'help' | 'quick'> = {
  tasks: ['recall', 'adding'],
  lags: [5, 20, 50, 100],
  models: MODEL_NAMES,
  hidden: 16,
  gateBias: 3,
  steps: 1000,
  batchSize: 16,
  lr: 0.003,
  clip: 1,
  evalSize: 1000,
  seed: 1,
  out: 'out/memory',
}

/** What `--quick` changes: two short lags, fewer steps, a smaller held-out batch (well under a minute). */
export const QUICK: Partial<CliOptions> = { lags: [5, 10], steps: 200, evalSize: 200, out: 'out/memory-quick' }

/** The text `--help` prints. */
export function helpText(): string {
  const d = DEFAULTS
  return `pnpm start [options]: the long-range memory experiment

Trains a plain RNN (rnn + linear), an LSTM and a GRU of equal parameter budget on
sequence tasks generated from a seed, sweeping the lag between what must be remembered
and the moment it is asked for, and shows where each model stops remembering.

Tasks:
  recall    delayed recall: the first step shows one of 8 symbols, then come LAG random
            distractors; the model must then name the first symbol (chance: 12.5%)
  adding    the adding problem (Hochreiter and Schmidhuber 1997): LAG steps of a random
            value and a marker; predict the sum of the two marked values, one marked in
            each half (mean squared error; always answering 1 scores 1/6, chance)

Options:
  --tasks LIST         tasks to run, comma-separated (default ${d.tasks.join(',')})
  --lags LIST          lags to sweep, comma-separated positive integers (default ${d.lags.join(',')});
                       for adding, the lag is the sequence length
  --models LIST        models, comma-separated, from ${MODEL_NAMES.join(', ')} (default all)
  --hidden N           hidden size of the LSTM; it sets the parameter budget, and the RNN
                       and the GRU get the hidden size that comes closest to it (default ${d.hidden})
  --gate-bias X        initial bias of the LSTM's forget gate and the GRU's update gate,
                       so that gated cells start by keeping their state; 0 is PyTorch's
                       plain initialisation (default ${d.gateBias})
  --steps N            Adam steps per run, each on a fresh batch (default ${d.steps})
  --batch N            sequences per training batch (default ${d.batchSize})
  --lr X               Adam's learning rate (default ${d.lr})
  --clip X             maximum gradient norm, clipGradNorm (default ${d.clip})
  --eval N             sequences in the held-out batch each model is scored on (default ${d.evalSize})
  --seed N             seed of every random draw: same seed, same numbers (default ${d.seed})
  --out DIR            output folder (default ${d.out}; ${QUICK.out} with --quick)
  --quick              a reduced sweep for a smoke test: lags ${QUICK.lags?.join(',')}, ${QUICK.steps} steps,
                       held-out batch ${QUICK.evalSize} (other options still apply)
  -h, --help           print this help

Output (in the output folder):
  results.json         settings and every run: held-out score, chance, learning curve
  curves.svg           learning curves, one panel per task and lag
  weights/TASK-lagLAG-MODEL.safetensors
                       trained weights with PyTorch state_dict names (cell.weight_ih_l0, ...)
`
}

function positiveInt(text: string, option: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${option} expects a positive integer, got '${text}'`)
  return n
}

function nonNegativeInt(text: string, option: string): number {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`--${option} expects a non-negative integer, got '${text}'`)
  return n
}

function finite(text: string, option: string, positive: boolean): number {
  const n = Number(text)
  if (text.trim() === '' || !Number.isFinite(n) || (positive && n <= 0)) throw new UsageError(`--${option} expects a ${positive ? 'positive ' : ''}number, got '${text}'`)
  return n
}

function list<T extends string>(text: string, option: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim())
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`--${option}: unknown ${option.replace(/s$/, '')} '${item}'; choose from ${allowed.join(', ')}`)
  }
  if (new Set(items).size !== items.length) throw new UsageError(`--${option}: '${text}' names one more than once`)
  return items as T[]
}

/** Parses the arguments after `pnpm start`; throws {@link UsageError} on a mistake. */
export function parseOptions(argv: readonly string[]): CliOptions {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        tasks: { type: 'string' }, lags: { type: 'string' }, models: { type: 'string' }, hidden: { type: 'string' },
        'gate-bias': { type: 'string' }, steps: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' },
        clip: { type: 'string' }, eval: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' },
        quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional argument.*$/s, ''))
  }
  const v = parsed.values
  const quick = v.quick === true
  const base = { ...DEFAULTS, ...(quick ? QUICK : {}) }
  const lags = v.lags === undefined ? base.lags : v.lags.split(',').map((s) => positiveInt(s, 'lags'))
  if (new Set(lags).size !== lags.length) throw new UsageError(`--lags: '${v.lags}' lists a lag more than once`)
  return {
    tasks: v.tasks === undefined ? base.tasks : list<TaskName>(v.tasks, 'tasks', Object.keys(TASKS) as TaskName[]),
    lags,
    models: v.models === undefined ? base.models : list<ModelName>(v.models, 'models', MODEL_NAMES),
    hidden: v.hidden === undefined ? base.hidden : positiveInt(v.hidden, 'hidden'),
    gateBias: v['gate-bias'] === undefined ? base.gateBias : finite(v['gate-bias'], 'gate-bias', false),
    steps: v.steps === undefined ? base.steps : positiveInt(v.steps, 'steps'),
    batchSize: v.batch === undefined ? base.batchSize : positiveInt(v.batch, 'batch'),
    lr: v.lr === undefined ? base.lr : finite(v.lr, 'lr', true),
    clip: v.clip === undefined ? base.clip : finite(v.clip, 'clip', true),
    evalSize: v.eval === undefined ? base.evalSize : positiveInt(v.eval, 'eval'),
    seed: v.seed === undefined ? base.seed : nonNegativeInt(v.seed, 'seed'),
    out: v.out === undefined ? base.out : v.out.trim() === '' ? (() => { throw new UsageError('--out expects a folder, got an empty string') })() : v.out,
    help: v.help === true,
    quick,
  }
}
