/**
 * `pnpm lm`: the character language model on the command line.
 *
 * ```
 * pnpm lm train [--text FILE] [--checkpoint DIR] [--steps N] [--resume] ...
 * pnpm lm sample --checkpoint DIR --prompt "..." --temperature T --length N
 * ```
 *
 * A user mistake ends with one line on stderr and a non-zero exit code: 2 for a mistake on
 * the command line (a missing or unknown subcommand, a bad option), 1 for unusable input
 * (unreadable text, unusable checkpoint, prompt outside the vocabulary); only a bug prints
 * a stack trace.
 * @module
 */
import { fileURLToPath } from 'node:url'
import { GraphgradError } from '@graphgrad/core'
import { type CommandSpec, type ParsedArgs, UsageError, helpText, parseArgs } from '../shared/args.ts'
import type { ProgressSink } from '../shared/progress.ts'
import { LmError } from './errors.ts'
import { SAMPLE_COMMAND, sampleCommand } from './sample-command.ts'
import { TRAIN_COMMAND, trainCommand } from './train-command.ts'

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
  sample   generate text from a checkpoint

pnpm lm <command> --help lists a command's options.
`

/** Runs the CLI on `argv` (the words after `pnpm lm`) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ;(name === undefined ? io.stderr : io.stdout).write(USAGE)
    return name === undefined ? 2 : 0
  }
  const commands: Record<string, [CommandSpec, (args: ParsedArgs) => Promise<void>]> = {
    train: [TRAIN_COMMAND, (args) => trainCommand(args, io.stdout, ROOT)],
    sample: [SAMPLE_COMMAND, (args) => sampleCommand(args, io.stdout)],
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (command === undefined) {
    io.stderr.write(`lm: unknown command '${name}' (commands: train, sample; see pnpm lm --help)\n`)
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
    const code = e instanceof UsageError ? 2 : e instanceof LmError || e instanceof GraphgradError ? 1 : undefined
    if (code === undefined) throw e
    io.stderr.write(`lm ${name}: ${e instanceof Error ? e.message : String(e)}\n`)
    return code
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2))
}
