/**
 * Node-only helpers, imported as `@graphgrad/core/node`: reading and writing safetensors
 * files. Kept out of the main entry so that `@graphgrad/core` stays browser-safe.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { chmod, open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Map as IMap, OrderedMap } from 'immutable'
import { loadSafetensors, saveSafetensors } from './safetensors.ts'
import type { Tensor } from './tensor.ts'
import type { TensorTree } from './tree.ts'

/**
 * Reads a safetensors file into tensors, in header order (see {@link loadSafetensors}).
 * A malformed file is refused with a `SafetensorsError` whose message names the file.
 */
export async function readSafetensorsFile(path: string | URL): Promise<OrderedMap<string, Tensor>> {
  const file = toPath(path)
  const buf = await readFile(file)
  return loadSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), { source: file })
}

/**
 * Writes tensors (see {@link saveSafetensors}) to a safetensors file, atomically: the
 * bytes go to a temporary file in the same directory, which is flushed to disk and then
 * renamed over `path`. Readers therefore see either the old file or the complete new one,
 * never a partial write; on any failure the temporary file is removed and an existing
 * file at `path` is left untouched.
 */
export async function writeSafetensorsFile(path: string | URL, params: IMap<string, TensorTree>, metadata?: Record<string, string>): Promise<void> {
  // Encode first, so that bad params fail before anything touches the disk.
  await writeFileAtomic(path, saveSafetensors(params, metadata))
}

/**
 * Replaces the file at `path` with `data` atomically: the bytes go to a temporary file in
 * the same directory, which is flushed to disk and then renamed over `path`, and the
 * directory is flushed after. Readers see either the old file or the complete new one; on
 * any failure the temporary file is removed and an existing file is left untouched. A
 * replaced file keeps its permissions. Strings are written as UTF-8.
 */
export async function writeFileAtomic(path: string | URL, data: Uint8Array | string): Promise<void> {
  const file = toPath(path)
  // Same directory, so the rename stays within one filesystem and is atomic.
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  let created = false
  try {
    const handle = await open(temp, 'wx')
    created = true
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    // Keep the permissions of the file being replaced rather than the umask default.
    const old = await stat(file).catch(() => null)
    if (old?.isFile()) await chmod(temp, old.mode & 0o7777)
    await rename(temp, file)
    created = false
  } catch (e) {
    if (created) await unlink(temp).catch(() => undefined)
    throw e
  }
  await syncDirectory(dirname(file))
}

/**
 * Flushes a directory's entries (renames, new files) to disk; best effort, since some
 * platforms cannot open a directory, and only durability across a power loss is at stake.
 */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // The data is already in place; see above.
  }
}

function toPath(path: string | URL): string {
  return typeof path === 'string' ? path : fileURLToPath(path)
}
