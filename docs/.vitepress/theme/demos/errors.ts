/**
 * How a live figure reports a failure: to the console (where the browser test and a reader's
 * dev tools see it) and as a message for the figure to show instead of a blank space.
 * @module
 */

/** Logs `error` under the figure's name and returns the text the figure shows. */
export function reportError(figure: string, error: unknown): string {
  console.error(`${figure}:`, error)
  return error instanceof Error ? error.message : String(error)
}
