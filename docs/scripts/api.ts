/**
 * Generates the API reference (docs/api/, gitignored) from the packages' TSDoc with TypeDoc,
 * typedoc-plugin-markdown and typedoc-vitepress-theme, using the options in the root
 * typedoc.json. Generated, never written by hand, so it cannot drift from the code.
 * @module
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { Application, LogLevel } from 'typedoc'

/** The repository root. */
export const repoRoot = new URL('../../', import.meta.url).pathname

/** Where the generated reference lands (the `out` of typedoc.json). */
export const apiDir = join(repoRoot, 'docs', 'api')

/** The sidebar typedoc-vitepress-theme writes next to the pages. */
export const apiSidebarFile = join(apiDir, 'typedoc-sidebar.json')

/** Thrown when TypeDoc fails or finds an export without documentation or a broken `{@link}`. */
export class ApiReferenceError extends Error {}

// Warnings that mean the reference would be wrong or incomplete: an export without TSDoc, or a
// `{@link}` to nothing. Others (a type referenced but not exported) are printed, not fatal.
const FATAL_WARNING = /does not have any documentation|Failed to resolve link/

/** True when docs/api/ holds a generated reference (with its sidebar). */
export function apiReferenceExists(): boolean {
  return existsSync(apiSidebarFile) && existsSync(join(apiDir, 'index.md'))
}

/** Runs TypeDoc over the four packages; returns the warnings it printed. Throws {@link ApiReferenceError} on errors or fatal warnings. */
export async function generateApiReference(): Promise<string[]> {
  const warnings: string[] = []
  const app = await Application.bootstrapWithPlugins({ options: join(repoRoot, 'typedoc.json') })
  const log = app.logger.log.bind(app.logger)
  app.logger.log = (message: string, level: Exclude<LogLevel, LogLevel.None>): void => {
    if (level === LogLevel.Warn) warnings.push(message)
    log(message, level)
  }
  const project = await app.convert()
  if (project === undefined) throw new ApiReferenceError('TypeDoc could not convert the packages (see the errors above)')
  app.validate(project)
  const fatal = warnings.filter((w) => FATAL_WARNING.test(w))
  if (app.logger.errorCount > 0 || fatal.length > 0) {
    throw new ApiReferenceError(
      `API reference: ${app.logger.errorCount} error(s), ${fatal.length} undocumented export(s) or broken link(s):\n${fatal.join('\n')}`,
    )
  }
  await app.generateOutputs(project)
  return warnings
}
