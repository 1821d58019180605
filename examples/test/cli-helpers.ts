// Shared by the end-to-end tests of the example commands (memory, seq2seq): temporary
// directories removed after the file's tests, and an example's command line run as a process.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { SOURCE_NODE_FLAGS } from '../../scripts/source-condition.ts'

const root = new URL('../../', import.meta.url).pathname

/** A maker of fresh temporary directories (`graphgrad-<prefix>-...`), all removed after the calling file's tests. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = []
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
  return () => {
    const d = mkdtempSync(join(tmpdir(), `graphgrad-${prefix}-`))
    dirs.push(d)
    return d
  }
}

/** How a run of a command ended. */
export interface CommandRun {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The command line of the example `name` (`examples/src/<name>/cli.ts`), run by Node from the repository root. */
export function exampleCli(name: string): { output: (...args: string[]) => string; run: (...args: string[]) => CommandRun } {
  const argv = (args: string[]): string[] => [...SOURCE_NODE_FLAGS, join(root, `examples/src/${name}/cli.ts`), ...args]
  return {
    /** What a successful run printed (a failed run throws). */
    output: (...args) => execFileSync(process.execPath, argv(args), { cwd: root, encoding: 'utf8' }),
    /** A run to its end, successful or not. */
    run: (...args) => {
      const r = spawnSync(process.execPath, argv(args), { cwd: root, encoding: 'utf8' })
      return { status: r.status, stdout: r.stdout, stderr: r.stderr }
    },
  }
}
