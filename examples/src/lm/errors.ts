/**
 * The one error class of the lm command for mistakes a user can fix (a missing file, a bad
 * option, a checkpoint that does not fit): the CLI prints its message as one line and
 * exits non-zero, without a stack trace.
 * @module
 */

/** A user mistake or unusable input; the message says what was wrong and, where it helps, what to do. */
export class LmError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'LmError'
  }
}
