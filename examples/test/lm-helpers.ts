// Shared by the lm tests: a tiny corpus, the CLI run in-process or as a real process, and checkpoint file access.
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { main } from '../src/lm/cli.ts'
import { sha256 } from '../src/lm/corpus.ts'
import { SOURCE_NODE_FLAGS } from '../../scripts/source-condition.ts'

const root = new URL('../../', import.meta.url).pathname

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'graphgrad-lm-'))
}

/** A small text with a repeating structure a tiny model can start to learn in a few dozen steps. */
export function writeTinyCorpus(dir: string): string {
  const lines = ['the cat sat on the mat.', 'the dog sat on the log.', 'a cat and a dog met on the mat.']
  const file = join(dir, 'tiny.txt')
  writeFileSync(file, Array.from({ length: 40 }, (_, i) => lines[i % lines.length]).join('\n'))
  return file
}

/** Options that keep a training run to a fraction of a second. */
export const TINY = ['--batch', '4', '--seq', '16', '--embed', '8', '--hidden', '16', '--layers', '1', '--log-every', '1000', '--sample-length', '20']

/** {@link TINY} with some options replaced, e.g. `tinyWith({ layers: '2' })`. */
export function tinyWith(overrides: Record<string, string>): string[] {
  const out = [...TINY]
  for (const [name, value] of Object.entries(overrides)) {
    const at = out.indexOf(`--${name}`)
    if (at >= 0) out[at + 1] = value
    else out.push(`--${name}`, value)
  }
  return out
}

/** What a CLI run printed and returned. */
export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `pnpm lm ...argv` in this process (fast), capturing its output. */
export async function lm(...argv: string[]): Promise<Run> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, { stdout: { write: (t: string) => void (stdout += t) }, stderr: { write: (t: string) => void (stderr += t) } })
  return { code, stdout, stderr }
}

/** Runs the real CLI as a child process: `node --import tsx examples/src/lm/cli.ts ...argv`. */
export function lmProcess(...argv: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...SOURCE_NODE_FLAGS, 'examples/src/lm/cli.ts', ...argv], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr })
    })
  })
}

/** The directory of a checkpoint's current version. */
export function versionDir(checkpoint: string): string {
  const pointer = JSON.parse(readFileSync(join(checkpoint, 'checkpoint.json'), 'utf8')) as { current: string }
  return join(checkpoint, pointer.current)
}

/** The entries of a checkpoint directory, sorted. */
export function entries(checkpoint: string): string[] {
  return readdirSync(checkpoint).sort()
}

/** The parsed progress.json of a checkpoint. */
export function progress(checkpoint: string): {
  step: number
  losses: number[]
  gradNorms: number[]
  validation: { step: number; loss: number; bpc: number }[]
} {
  return JSON.parse(readFileSync(join(versionDir(checkpoint), 'progress.json'), 'utf8'))
}

/** A copy of a checkpoint directory at `to`, to damage. */
export function copyCheckpoint(from: string, to: string): string {
  cpSync(from, to, { recursive: true })
  return to
}

/** Rewrites one file of a checkpoint's current version and, with `rehash`, updates checkpoint.json to match. */
export function rewrite(checkpoint: string, file: string, bytes: Uint8Array | string, rehash: boolean): void {
  writeFileSync(join(versionDir(checkpoint), file), bytes)
  if (!rehash) return
  const pointerPath = join(checkpoint, 'checkpoint.json')
  const pointer = JSON.parse(readFileSync(pointerPath, 'utf8'))
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes
  pointer.files[file] = { bytes: data.length, sha256: sha256(data) }
  writeFileSync(pointerPath, JSON.stringify(pointer))
}
