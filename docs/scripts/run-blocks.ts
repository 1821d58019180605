/**
 * Runs extracted code blocks (files given on the command line) one after another in this
 * process, each imported as its own module, as a reader would run them one by one. On the
 * first failure it names the block's file and exits 1.
 * @module
 */
import { basename } from 'node:path'
import { pathToFileURL } from 'node:url'

for (const file of process.argv.slice(2)) {
  try {
    await import(pathToFileURL(file).href)
  } catch (e) {
    console.error(`block ${basename(file)} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    process.exit(1)
  }
}
