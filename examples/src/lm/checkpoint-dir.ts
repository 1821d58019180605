/**
 * The parts of a checkpoint directory that need no tensors: whether it holds a checkpoint,
 * and clearing what a killed run left behind. Apart from checkpoint.ts, so that `pnpm lm
 * train` checks its directory and its text before it loads the model code.
 * @module
 */
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** The file naming a checkpoint's current version (see checkpoint.ts). */
export const POINTER = 'checkpoint.json'

/** Whether `dir` holds a checkpoint (its `checkpoint.json` exists); says nothing of its health. */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return (await stat(join(dir, POINTER)).catch(() => null))?.isFile() === true
}

/**
 * Removes what a killed run left in `dir`: temporary files of checkpoint.json
 * (`.checkpoint.json.<pid>.<hex>.tmp`, written and renamed by every save) whose process is
 * gone. Nothing else is touched, nor the file of a process still running.
 */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const m = /^\.checkpoint\.json\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name)
    if (m !== null && !processAlive(Number(m[1]))) await rm(join(dir, name), { force: true })
  }
}

/** Whether a process of this id runs (signal 0 only asks; EPERM means it runs under another user). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return errorCode(e) === 'EPERM'
  }
}

/** The `code` of a Node system error (`ENOENT`), or the error as text. */
export function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException | undefined)?.code ?? String(e)
}
