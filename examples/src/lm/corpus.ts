/**
 * The training text: a file the user names, or the project's own documentation gathered
 * at run time. Whatever the source, the text is checked before training (it must exist,
 * be UTF-8 text and not be empty) and line endings are normalised to `\n`.
 * @module
 */
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { LmError } from './errors.ts'

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

/** Reads and checks one text file (see {@link decodeText}); a missing file or a directory gets a clear message. */
export function readCorpusFile(path: string): Corpus {
  let bytes: Buffer
  try {
    if (statSync(path).isDirectory()) throw new LmError(`--text ${path} is a directory; give a text file`)
    bytes = readFileSync(path)
  } catch (e) {
    if (e instanceof LmError) throw e
    const code = (e as NodeJS.ErrnoException).code
    throw new LmError(code === 'ENOENT' ? `--text ${path}: no such file` : `--text ${path}: cannot read it (${code ?? String(e)})`)
  }
  const text = decodeText(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path)
  return { text, source: path, files: [path], sha256: sha256(text) }
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
  const parts = files.map((f) => decodeText(new Uint8Array(readFileSync(f)), relative(root, f)).trim())
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
