/**
 * Tokens. The input is read word by word, with every digit and every punctuation mark a token
 * of its own (`december 3rd, 2026` is `december 3 rd , 2 0 2 6`), so numbers never seen in
 * training are still made of known tokens; the output is read character by character. Both
 * vocabularies are fixed by the task's word lists, not by the data drawn, so every date the
 * task can write is covered.
 * @module
 */
import { FILLER_WORDS, MONTHS, MONTH_ABBREVIATIONS, ONES, ORDINALS, TENS } from './dates.ts'

/** Padding, in both vocabularies. */
export const PAD = 0
/** Start of the output (the decoder's first input). */
export const BOS = 1
/** End of the output. */
export const EOS = 2

/** The tokens of a written-out date: words, single digits and punctuation marks. */
export function tokenize(text: string): string[] {
  return text.match(/[a-z]+|[0-9]|[^a-z0-9\s]/g) ?? []
}

/** A vocabulary: token ids both ways. */
export interface Vocabulary {
  /** Tokens by id (id 0 is padding). */
  readonly tokens: readonly string[]
  /** Ids by token. */
  readonly ids: ReadonlyMap<string, number>
}

function vocabulary(tokens: readonly string[]): Vocabulary {
  return { tokens, ids: new Map(tokens.map((t, i) => [t, i])) }
}

const words = [...MONTHS, ...MONTH_ABBREVIATIONS, ...ONES, ...TENS, ...ORDINALS, ...FILLER_WORDS].flatMap(tokenize)

/** The input vocabulary: padding, then every word of the task's lists, the digits and `, . -`. */
export const SOURCE_VOCABULARY = vocabulary(['<pad>', ...new Set([...words, ...'0123456789', ',', '.', '-'])])

/** The output vocabulary: padding, start, end, the digits and `-`. */
export const TARGET_VOCABULARY = vocabulary(['<pad>', '<s>', '</s>', ...'0123456789', '-'])

/** The token ids of a written-out date; a token outside the vocabulary is a bug of the generator. */
export function encodeSource(text: string): number[] {
  return tokenize(text).map((t) => {
    const id = SOURCE_VOCABULARY.ids.get(t)
    if (id === undefined) throw new Error(`encodeSource: '${t}' (in '${text}') is not in the input vocabulary`)
    return id
  })
}

/** The output ids of an ISO date, ending with {@link EOS}. */
export function encodeTarget(iso: string): number[] {
  return [...iso]
    .map((ch) => {
      const id = TARGET_VOCABULARY.ids.get(ch)
      if (id === undefined || id <= EOS) throw new Error(`encodeTarget: '${ch}' (in '${iso}') is not an output character`)
      return id
    })
    .concat(EOS)
}

/** The text of output ids (up to the first {@link EOS}; padding and start left out). */
export function decodeTarget(ids: readonly number[]): string {
  let out = ''
  for (const id of ids) {
    if (id === EOS) break
    if (id > EOS) out += TARGET_VOCABULARY.tokens[id] ?? '?'
  }
  return out
}
