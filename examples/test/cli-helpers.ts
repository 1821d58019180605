// Shared by the end-to-end tests of the example commands (memory, seq2seq): temporary
// directories removed after the file's tests, and an example's command line run as a process.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
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
export function exampleCli(name: string): {
  run: (...args: string[]) => CommandRun
  quick: <R>(out: string) => { stdout: string; results: R }
} {
  const argv = (args: string[]): string[] => [...SOURCE_NODE_FLAGS, join(root, `examples/src/${name}/cli.ts`), ...args]
  const output = (...args: string[]): string => execFileSync(process.execPath, argv(args), { cwd: root, encoding: 'utf8' })
  return {
    /** `--quick --out out`: what it printed and the results.json it wrote (a failed run throws). */
    quick: <R>(out: string) => {
      const stdout = output('--quick', '--out', out)
      return { stdout, results: JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as R }
    },
    /** A run to its end, successful or not. */
    run: (...args) => {
      const r = spawnSync(process.execPath, argv(args), { cwd: root, encoding: 'utf8' })
      return { status: r.status, stdout: r.stdout, stderr: r.stderr }
    },
  }
}
