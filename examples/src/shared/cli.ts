/**
 * How the example commands end: every failure is one line on stderr and a non-zero exit
 * code, never a stack trace.
 *
 * - 2: a mistake on the command line ({@link UsageError}: an unknown option, a bad value, a
 *   combination of options that needs more memory than the machine has);
 * - 1: unusable input or a run that cannot go on ({@link InputError}, graphgrad's own
 *   `GraphgradError`s and the system's errors: a missing file, a corrupted checkpoint, a
 *   loss that became NaN, a full disk);
 * - 130: interrupted with Ctrl-C ({@link Interrupted}, see {@link watchSigint}), as a shell reports SIGINT;
 * - 70 (EX_SOFTWARE of sysexits.h): anything else, which is a bug in the example. Its line
 *   says so; with `GRAPHGRAD_DEBUG=1` in the environment the stack trace follows it.
 * @module
 */
import { UsageError } from './args.ts'

/** Unusable input, or a run that cannot go on; the message says what was wrong and, where it helps, what to do. */
export class InputError extends Error {
  override name = 'InputError'
}

/** The run was stopped with Ctrl-C; the message says what was kept. */
export class Interrupted extends Error {
  override name = 'Interrupted'
}

/** Where a failure's line goes. */
interface ErrorSink {
  write(text: string): unknown
}

/** Exit codes, see the module comment. */
const EXIT = { usage: 2, input: 1, interrupted: 130, bug: 70 } as const

/** Whether stack traces of bugs are wanted (`GRAPHGRAD_DEBUG=1`). */
function debugging(): boolean {
  const v = process.env.GRAPHGRAD_DEBUG
  return v !== undefined && v !== '' && v !== '0'
}

/**
 * Writes the one line of a failure (`prefix: message`) to `stderr` and returns the exit
 * code. A message spanning lines is joined into one, so the promise of one line holds
 * whatever a library's message looks like.
 */
export async function reportFailure(e: unknown, prefix: string, stderr: ErrorSink): Promise<number> {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s*\n\s*/g, ' ').trim()
  if (e instanceof UsageError) return say(stderr, `${prefix}: ${message}`, EXIT.usage)
  if (e instanceof Interrupted) return say(stderr, `${prefix}: ${message}`, EXIT.interrupted)
  if (e instanceof InputError || isSystemError(e) || (await isGraphgradError(e))) return say(stderr, `${prefix}: ${message}`, EXIT.input)
  const what = e instanceof Error ? `${e.name}: ${message}` : message
  const hint = debugging() ? '' : ' (set GRAPHGRAD_DEBUG=1 for the stack trace)'
  const code = say(stderr, `${prefix}: internal error, a bug in the example: ${what}${hint}`, EXIT.bug)
  if (debugging() && e instanceof Error && e.stack !== undefined) stderr.write(`${e.stack}\n`)
  return code
}

/**
 * Whether graphgrad raised it (a shape that does not fit, a file that is not safetensors):
 * bad input, not a bug. Imported only here, so that a mistake on the command line is
 * answered without loading graphgrad; an error graphgrad raised means it is loaded already.
 */
async function isGraphgradError(e: unknown): Promise<boolean> {
  if (!(e instanceof Error)) return false
  const { GraphgradError } = await import('@graphgrad/core')
  return e instanceof GraphgradError
}

/** An error of the system (a full disk, a permission, a file that vanished): the environment's fault, not a bug. */
function isSystemError(e: unknown): boolean {
  const { code, syscall } = e as Partial<NodeJS.ErrnoException>
  return e instanceof Error && typeof code === 'string' && typeof syscall === 'string'
}

function say(stderr: ErrorSink, line: string, code: number): number {
  stderr.write(`${line}\n`)
  return code
}

/**
 * Runs a command's `main` as the process: its result is the exit code, and a failure that
 * escapes it (thrown, rejected later, or raised on a stream) ends in {@link reportFailure}'s
 * line. A closed stdout (`pnpm lm sample | head -1`) ends the process quietly with 141, as
 * a shell reports a process stopped by SIGPIPE: the reader has all it asked for.
 */
export function runAsProcess(prefix: string, main: () => Promise<number>): void {
  const fail = (e: unknown): void => {
    void reportFailure(e, prefix, process.stderr).then((code) => {
      // Work still queued (a timer, a pending write) must not run on after a failure.
      process.exit(code)
    })
  }
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141)
    fail(e)
  })
  process.on('uncaughtException', fail)
  process.on('unhandledRejection', fail)
  main().then((code) => {
    process.exitCode = code
  }, fail)
}

/** Ctrl-C, remembered until the loop looks. */
export interface SigintWatch {
  /** Whether SIGINT came since the watch started. */
  readonly received: boolean
  /** One turn of the event loop, in which a pending signal's handler runs. */
  turn(): Promise<void>
  /** Ends the watch: Ctrl-C kills the process again. */
  stop(): void
}

/**
 * Starts watching Ctrl-C: instead of killing the process at once, SIGINT is remembered, so
 * that a command can stop cleanly between steps (training does: see lm/train-loop.ts).
 */
export function watchSigint(): SigintWatch {
  let received = false
  const onSigint = (): void => {
    received = true
  }
  process.on('SIGINT', onSigint)
  return {
    get received() {
      return received
    },
    // A pending signal's handler runs in the loop's poll phase, before the immediate's check phase.
    turn: () => new Promise<void>((resolve) => setImmediate(resolve)),
    stop: () => void process.off('SIGINT', onSigint),
  }
}
