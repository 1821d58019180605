/**
 * Node-only helpers, imported as `@graphgrad/core/node`: reading and writing safetensors
 * files. Kept out of the main entry so that `@graphgrad/core` stays browser-safe.
 * @module
 */
import { constants as bufferConstants } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { type FileHandle, chmod, open, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Map as IMap, OrderedMap } from 'immutable'
import { loadSafetensors, saveSafetensors } from './safetensors.ts'
import { fail, headerLength, parseHeader } from './safetensors-header.ts'
import type { Tensor } from './tensor.ts'
import type { TensorTree } from './tree.ts'

// One read returns at most 2 GiB - 1 bytes (and fs.readFile refuses bigger files outright), so files are read in pieces.
const CHUNK_BYTES = 2 ** 30

/**
 * Reads a safetensors file into tensors, in header order (see {@link loadSafetensors}).
 * A malformed file is refused with a `SafetensorsError` whose message names the file. The
 * header is read and checked first, so a corrupt or hostile file is refused before its data
 * is read; files past 2 GiB are read in pieces, up to the largest `Uint8Array` the
 * JavaScript engine allows (4 GiB in Node 20, more in later versions).
 */
export async function readSafetensorsFile(path: string | URL): Promise<OrderedMap<string, Tensor>> {
  const file = toPath(path)
  const where = `safetensors file '${file}'`
  const handle = await open(file, 'r')
  try {
    const { size } = await handle.stat()
    const n = headerLength(await readRange(handle, 0, Math.min(size, 8), where), where, size)
    parseHeader(await readRange(handle, 0, 8 + n, where), where, size)
    if (size > bufferConstants.MAX_LENGTH)
      fail(where, `file is ${size} bytes, more than the ${bufferConstants.MAX_LENGTH} bytes of the largest Uint8Array this JavaScript engine makes`)
    return loadSafetensors(await readRange(handle, 0, size, where), { source: file })
  } finally {
    await handle.close()
  }
}

/** Bytes [start, start + length) of an open file, read in pieces; refused if the file ends early (it shrank while being read). */
async function readRange(handle: FileHandle, start: number, length: number, where: string): Promise<Uint8Array> {
  const out = new Uint8Array(length)
  for (let done = 0; done < length;) {
    const { bytesRead } = await handle.read(out, done, Math.min(CHUNK_BYTES, length - done), start + done)
    if (bytesRead === 0) fail(where, `the file ended after ${start + done} of ${start + length} bytes (it shrank while being read)`)
    done += bytesRead
  }
  return out
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
