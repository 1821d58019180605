/**
 * Durable file writes for checkpoints: data flushed to disk before it is renamed into
 * place, and the directory flushed after, so a crash leaves either the old file or the
 * complete new one.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Creates `path` (which must not exist), writes `bytes` and flushes them to disk. */
export async function writeNewFile(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx')
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Replaces `path` with `bytes` atomically: a flushed temporary sibling renamed over it. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeNewFile(temp, bytes)
    await rename(temp, path)
  } catch (e) {
    await unlink(temp).catch(() => undefined)
    throw e
  }
  await syncDirectory(dirname(path))
}

/** Makes renames and new entries in `dir` durable; best effort, since some platforms cannot open a directory. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // Only durability across a power loss is at stake; the data is already in place.
  }
}
