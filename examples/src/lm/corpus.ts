/**
 * The training text: a file the user names, or the project's own documentation gathered
 * at run time. Whatever the source, the text is checked before training (it must exist,
 * be UTF-8 text and not be empty) and line endings are normalised to `\n`.
 * @module
 */
import { createHash } from 'node:crypto'
import { type Stats, closeSync, constants, fstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { formatBytes } from '../shared/resources.ts'
import { LmError } from './errors.ts'
import { MAX_TEXT_BYTES } from './limits.ts'

/** A checked training text and where it came from. */
export interface Corpus {
  /** The text, with `\n` line endings. */
  readonly text: string
  /** Where it came from, for messages: a path, or `project documentation (N files)`. */
  readonly source: string
  /** The files read, in order (one for `--text`). */
  readonly files: readonly string[]
  /** SHA-256 of the text (hex), recorded in checkpoints so that `--resume` trains on the same text. */
  readonly sha256: string
}

/** Directories never read for the default corpus: dependencies and build output. */
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'cache', 'api'])

/** Above this share of control characters (other than tab, newline, carriage return, form feed) a file is not text. */
const MAX_CONTROL_SHARE = 0.01

/**
 * Checks raw bytes as training text and decodes them: refuses an empty file, a binary one
 * (a NUL byte, invalid UTF-8, or more than 1% control characters) and one of blanks only,
 * each with a message naming `name`.
 */
export function decodeText(bytes: Uint8Array, name: string): string {
  if (bytes.length === 0) throw new LmError(`${name} is empty: the language model needs some text to learn from`)
  if (bytes.includes(0)) throw new LmError(`${name} looks like a binary file (it contains NUL bytes); give a UTF-8 text file`)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw new LmError(`${name} is not valid UTF-8 text (a binary file?); give a UTF-8 text file`)
  }
  text = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')
  let control = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 32 && c !== 9 && c !== 10 && c !== 12) || c === 127) control++
  }
  if (control > MAX_CONTROL_SHARE * text.length) {
    throw new LmError(`${name} looks like a binary file (${control} of its ${text.length} characters are control characters); give a UTF-8 text file`)
  }
  if (text.trim() === '') throw new LmError(`${name} holds only whitespace: the language model needs some text to learn from`)
  return text
}

/** Reads and checks one text file (see {@link readTextFile} and {@link decodeText}). */
export function readCorpusFile(path: string): Corpus {
  const text = decodeText(readTextFile(path, `--text ${path}`, MAX_TEXT_BYTES), path)
  return { text, source: path, files: [path], sha256: sha256(text) }
}

/** What fstat says a path is, for the message refusing anything but a regular file. */
function kindOf(st: Stats): string {
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  return 'not a file'
}

/**
 * The bytes of a regular file of at most `limit` bytes; `what` names it in messages. Anything
 * else is an {@link LmError}: a missing file, a directory, a device, a FIFO or a socket (which
 * could be read forever, like /dev/zero, or block, like a FIFO without a writer), and a file
 * longer than the limit (checked before reading, and again while reading, in case it grows).
 */
export function readTextFile(path: string, what: string, limit: number): Uint8Array {
  let fd: number
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new LmError(`${what}: no such file`)
    // A socket cannot be opened at all (ENXIO): say what it is, as for a device.
    const st = statSync(path, { throwIfNoEntry: false })
    if (st !== undefined && !st.isFile() && !st.isDirectory()) throw new LmError(`${what} is not a regular file (${kindOf(st)}); give a text file`)
    throw new LmError(`${what}: cannot open it (${code ?? String(e)})`)
  }
  try {
    const st = fstatSync(fd)
    if (st.isDirectory()) throw new LmError(`${what} is a directory; give a text file`)
    if (!st.isFile()) throw new LmError(`${what} is not a regular file (${kindOf(st)}); give a text file`)
    const allowed = `the ${formatBytes(limit).replace('.0 ', ' ')} (${limit} bytes) a training text may have; use a shorter text`
    if (st.size > limit) throw new LmError(`${what} is ${formatBytes(st.size)}, more than ${allowed}`)
    // One byte more than fstat promises, so the end shows as a read of 0 without growing the buffer.
    let bytes = new Uint8Array(Math.min(limit, st.size) + 1)
    let filled = 0
    for (;;) {
      if (filled === bytes.length) {
        // The file is longer than fstat said (it grows, or it is a /proc file of size 0): read on, up to the limit.
        if (filled > limit) throw new LmError(`${what} grew while it was read, past ${allowed}`)
        const grown = new Uint8Array(Math.min(limit + 1, 2 * bytes.length))
        grown.set(bytes)
        bytes = grown
      }
      const n = readSync(fd, bytes, filled, bytes.length - filled, null)
      if (n === 0) return bytes.subarray(0, filled)
      filled += n
    }
  } catch (e) {
    if (e instanceof LmError) throw e
    throw new LmError(`${what}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
  } finally {
    closeSync(fd)
  }
}

/**
 * The default corpus: the project's documentation as it is on disk now, the top-level
 * Markdown files (README.md first) and every Markdown file under docs/, in path order,
 * skipping hidden folders (the docs site's cache and build), node_modules and build output.
 */
export function projectDocsCorpus(root: string): Corpus {
  const top = readdirSync(root).filter((n) => n.endsWith('.md') && statSync(join(root, n)).isFile())
  top.sort((a, b) => (a === 'README.md' ? -1 : b === 'README.md' ? 1 : a < b ? -1 : a > b ? 1 : 0))
  const files = [...top.map((n) => join(root, n)), ...markdownUnder(join(root, 'docs'))]
  if (files.length === 0) throw new LmError(`no documentation found under ${root} (README.md, docs/**/*.md); pass --text FILE`)
  let total = 0
  const parts = files.map((f) => {
    const bytes = readTextFile(f, relative(root, f), MAX_TEXT_BYTES)
    total += bytes.length
    if (total > MAX_TEXT_BYTES)
      throw new LmError(`the project documentation is more than the ${formatBytes(MAX_TEXT_BYTES)} a training text may have; pass --text FILE`)
    return decodeText(bytes, relative(root, f)).trim()
  })
  const text = `${parts.join('\n\n')}\n`
  return { text, source: `project documentation (${files.length} files: ${files.map((f) => relative(root, f)).join(', ')})`, files, sha256: sha256(text) }
}

function markdownUnder(dir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dir).sort()
  } catch {
    return []
  }
  const out: string[] = []
  for (const name of names) {
    if (name.startsWith('.') || SKIPPED_DIRS.has(name)) continue
    const path = join(dir, name)
    const st = statSync(path)
    if (st.isDirectory()) out.push(...markdownUnder(path))
    else if (st.isFile() && name.endsWith('.md')) out.push(path)
  }
  return out
}

/** Hex SHA-256 of a string's UTF-8 bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Number of characters (code points) of a text, counted without an array of them (a long text would not fit one). */
export function characterCount(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++
    n++
  }
  return n
}
