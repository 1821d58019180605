/**
 * The one error class of the lm command for mistakes a user can fix (a missing file, a bad
 * option, a checkpoint that does not fit): the CLI prints its message as one line and
 * exits non-zero, without a stack trace (see ../shared/cli.ts).
 * @module
 */
import { InputError } from '../shared/cli.ts'

/** A user mistake or unusable input; the message says what was wrong and, where it helps, what to do. */
export class LmError extends InputError {
  override name = 'LmError'
}
