/**
 * How the text becomes training batches for truncated backpropagation through time. The
 * token stream is cut into `rows` contiguous streams, one per batch row, and window k of
 * the epoch holds characters [k*seq, (k+1)*seq) of every stream. Consecutive windows thus
 * continue each row's text exactly where the previous window stopped, which is what makes
 * the LSTM state carried from one window into the next meaningful.
 * @module
 */
import { type Tensor, tensor } from '@graphgrad/core'
import { LmError } from './errors.ts'

/** One window: inputs [rows, seq] and the next characters, the targets [rows, seq]. */
export interface Window {
  /** Token ids read, [rows, seq]. */
  readonly input: Tensor
  /** Token ids to predict (each input shifted by one), [rows, seq]. */
  readonly target: Tensor
}

/** A text laid out as parallel streams, read window by window. */
export class Streams {
  /** Characters per stream (each stream also reads one character past for its last target). */
  readonly streamLength: number
  /** Windows in one pass over the streams. */
  readonly windows: number

  constructor(
    private readonly ids: Int32Array,
    /** Batch rows (parallel streams). */
    readonly rows: number,
    /** Characters per window. */
    readonly seq: number,
    what: string,
  ) {
    this.streamLength = Math.floor((ids.length - 1) / rows)
    this.windows = Math.floor(this.streamLength / seq)
    if (this.windows < 1) {
      throw new LmError(
        `${what} has ${ids.length} characters, too few for batches of ${rows} rows x ${seq} characters (it needs at least ${rows * seq + 1}); use a longer text or a smaller --batch or --seq`,
      )
    }
  }

  /** Window `k` (0 <= k < windows). */
  window(k: number): Window {
    const input = new Int32Array(this.rows * this.seq)
    const target = new Int32Array(this.rows * this.seq)
    for (let b = 0; b < this.rows; b++) {
      const start = b * this.streamLength + k * this.seq
      input.set(this.ids.subarray(start, start + this.seq), b * this.seq)
      target.set(this.ids.subarray(start + 1, start + this.seq + 1), b * this.seq)
    }
    const shape = [this.rows, this.seq]
    return { input: tensor(input, { shape }), target: tensor(target, { shape }) }
  }
}

/** The training and validation parts of a token stream. */
export interface Split {
  /** The first part, trained on. */
  readonly train: Int32Array
  /** The last part, only ever evaluated. */
  readonly validation: Int32Array
}

/**
 * Splits the tokens deterministically: the last `fraction` of the text is held out for
 * validation (a contiguous tail, so no training window overlaps it).
 */
export function splitTokens(ids: Int32Array, fraction: number): Split {
  const cut = ids.length - Math.round(ids.length * fraction)
  return { train: ids.subarray(0, cut), validation: ids.subarray(cut) }
}
