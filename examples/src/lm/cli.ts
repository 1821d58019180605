/**
 * `pnpm lm`: the character language model on the command line.
 *
 * ```
 * pnpm lm train [--text FILE] [--checkpoint DIR] [--steps N] [--resume] ...
 * pnpm lm sample --checkpoint DIR --prompt "..." --temperature T --top-k K --length N --seed S
 * pnpm lm export --checkpoint DIR --out model.onnx
 * pnpm lm sample --onnx model.onnx --prompt "..." ...
 * ```
 *
 * Every failure ends with one line on stderr and a non-zero exit code, never a stack trace
 * (see ../shared/cli.ts): 2 for a mistake on the command line (a missing or unknown
 * subcommand, a bad option, a run too large for this machine), 1 for unusable input
 * (unreadable text, unusable checkpoint, prompt outside the vocabulary, a loss that became
 * NaN), 130 after Ctrl-C, 70 for a bug (its stack trace with GRAPHGRAD_DEBUG=1).
 * @module
 */
import { fileURLToPath } from 'node:url'
import { type CommandSpec, type ParsedArgs, helpText, parseArgs } from '../shared/args.ts'
import { reportFailure, runAsProcess } from '../shared/cli.ts'
import type { ProgressSink } from '../shared/progress.ts'
import { EXPORT_COMMAND, SAMPLE_COMMAND, TRAIN_COMMAND } from './commands.ts'

/** Where the CLI writes: standard output (progress, results) and standard error (the error line). */
export interface CliIO {
  /** Progress and results. */
  readonly stdout: ProgressSink
  /** The one-line message of a failed command. */
  readonly stderr: { write(text: string): void }
}

/** The repository root: the default corpus is the documentation found there. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

const USAGE = `usage: pnpm lm <command> [options]

A character-level LSTM language model: it learns to predict each character from the ones before it.

commands:
  train    train on a text (default: the project's documentation), with checkpoints and --resume
  sample   generate text from a checkpoint (or, with --onnx, from an exported model in ONNX Runtime)
  export   write a checkpoint's model as an ONNX file

pnpm lm <command> --help lists a command's options.
`

/** Runs the CLI on `argv` (the words after `pnpm lm`) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    io.stderr.write('lm: no command given (commands: train, sample, export; see pnpm lm --help)\n')
    return 2
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE)
    return 0
  }
  // The commands load the model code only once their options are parsed: help and typos are answered at once.
  const commands: Record<string, [CommandSpec, (args: ParsedArgs) => Promise<void>]> = {
    train: [TRAIN_COMMAND, async (args) => (await import('./train-command.ts')).trainCommand(args, io.stdout, ROOT)],
    sample: [SAMPLE_COMMAND, async (args) => (await import('./sample-command.ts')).sampleCommand(args, io.stdout)],
    export: [EXPORT_COMMAND, async (args) => (await import('./onnx-export.ts')).exportCommand(args, io.stdout)],
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (command === undefined) {
    io.stderr.write(`lm: unknown command '${name}' (commands: train, sample, export; see pnpm lm --help)\n`)
    return 2
  }
  try {
    const args = parseArgs(command[0], rest)
    if (args === 'help') {
      io.stdout.write(helpText(command[0]))
      return 0
    }
    await command[1](args)
    return 0
  } catch (e) {
    return await reportFailure(e, `lm ${name}`, io.stderr)
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  runAsProcess('lm', () => main(process.argv.slice(2)))
}
