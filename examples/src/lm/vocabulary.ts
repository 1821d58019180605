/**
 * The model's alphabet: every distinct character (Unicode code point) of the training
 * text, sorted by code point, so the same text always gives the same token ids.
 * @module
 */
import { LmError } from './errors.ts'

/** Characters and their token ids. */
export class Vocabulary {
  /** The characters, by token id. */
  readonly chars: readonly string[]
  private readonly ids: ReadonlyMap<string, number>

  constructor(chars: readonly string[]) {
    this.chars = Object.freeze([...chars])
    this.ids = new Map(chars.map((c, i) => [c, i]))
    if (this.ids.size !== chars.length) throw new LmError('vocabulary: the characters must be distinct')
  }

  /** The vocabulary of a text: its distinct code points, in code-point order. */
  static fromText(text: string): Vocabulary {
    // Iterated, not spread: an array of every character of a long text (over 2^27) cannot be made.
    const seen = new Set<string>()
    for (const c of text) seen.add(c)
    return new Vocabulary([...seen].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0)))
  }

  /** Number of tokens. */
  get size(): number {
    return this.chars.length
  }

  /** Whether `ch` is one of the characters. */
  has(ch: string): boolean {
    return this.ids.has(ch)
  }

  /**
   * Token ids of a text. A character outside the vocabulary is an {@link LmError} that
   * lists every such character; `what` names the text in that message (e.g. `the prompt`).
   */
  encode(text: string, what: string): Int32Array {
    // At most one id per UTF-16 unit; iterated, not spread into an array (see fromText).
    const out = new Int32Array(text.length)
    const unknown = new Set<string>()
    let n = 0
    for (const c of text) {
      const id = this.ids.get(c)
      if (id === undefined) unknown.add(c)
      else out[n++] = id
    }
    if (unknown.size > 0) {
      const list = [...unknown]
        .slice(0, 10)
        .map((c) => JSON.stringify(c))
        .join(', ')
      throw new LmError(`${what} has ${unknown.size} character(s) the model never saw in training: ${list}${unknown.size > 10 ? ', ...' : ''}`)
    }
    return n === out.length ? out : out.slice(0, n)
  }

  /** The text of token ids. */
  decode(ids: Iterable<number>): string {
    let out = ''
    for (const id of ids) out += this.chars[id]
    return out
  }
}
