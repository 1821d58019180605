/**
 * Durable file writes for checkpoints: data flushed to disk before it is renamed into
 * place, and the directory flushed after, so a crash leaves either the old file or the
 * complete new one.
 * @module
 */
import { open } from 'node:fs/promises'

export { syncDirectory, writeFileAtomic } from '@graphgrad/core/node'

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
