/**
 * Data utilities: seeded permutations and shuffles, batch iteration over tensors, arrays and
 * records of them, and padding variable-length sequences into one batch with their lengths.
 * Every random draw takes an explicit seed or key (a new one per epoch: `foldIn(key, epoch)`),
 * and the permutation is drawn with Fisher-Yates from {@link RandomStream}: xoshiro128**, whose
 * period (2^128 - 1) no training run comes near, so a shuffled set never starts to repeat.
 * @module
 */
import { ArgumentError, ShapeError, fmtShape } from './errors.ts'
import { type Seed, RandomStream } from './random.ts'
import { Tensor } from './tensor.ts'
import { tensor } from './creation.ts'
import { checkShape } from './shape.ts'
import { indexSelect } from './ops/indexing.ts'
import { pad, slice } from './ops/slice.ts'
import { stack } from './ops/join.ts'

/**
 * A random permutation of `0 .. n-1` as an int32 tensor, as `torch.randperm` (the numbers
 * differ from PyTorch's: the generators differ).
 * @example randperm(5, 0)  // e.g. tensor([3, 0, 4, 1, 2], dtype=int32)
 */
export function randperm(n: number, seed: Seed): Tensor {
  checkShape([n], 'randperm')
  return tensor(permutation(n, seed, 'randperm'), { shape: [n], dtype: 'int32' })
}

function permutation(n: number, seed: Seed, where: string): Int32Array {
  const stream = new RandomStream(seed, where)
  const p = Int32Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = stream.nextInt(0, i + 1)
    const t = p[i]
    p[i] = p[j]
    p[j] = t
  }
  return p
}

/** What {@link batches} and {@link shuffle} iterate over: a tensor (along axis 0), an array, or a record of them of one length. */
export type Dataset = Tensor | readonly unknown[] | { readonly [name: string]: Tensor | readonly unknown[] }

/** A dataset's type with every part cut to a batch: tensors stay tensors, arrays stay arrays. */
export type Batch<D extends Dataset> = D extends Tensor
  ? Tensor
  : D extends readonly (infer T)[]
    ? T[]
    : { [K in keyof D]: D[K] extends Tensor ? Tensor : D[K] extends readonly (infer T)[] ? T[] : never }

function isRecord(d: Dataset): d is { readonly [name: string]: Tensor | readonly unknown[] } {
  return !(d instanceof Tensor) && !Array.isArray(d)
}

function lengthOf(part: Tensor | readonly unknown[], where: string, name: string): number {
  if (part instanceof Tensor) {
    if (part.rank === 0) throw new ShapeError(`${where}: ${name} is a scalar (shape []); batches are taken along axis 0`)
    return part.shape[0]
  }
  if (Array.isArray(part)) return part.length
  throw new ArgumentError(`${where}: ${name} must be a Tensor or an array, got ${part === null ? 'null' : typeof part}`)
}

/** The common length of a dataset's parts, or an error naming the part that differs. */
function datasetLength(data: Dataset, where: string): number {
  if (!isRecord(data)) return lengthOf(data, where, 'the data')
  const names = Object.keys(data)
  if (names.length === 0) throw new ArgumentError(`${where}: the record of data has no entries`)
  const n = lengthOf(data[names[0]], where, `'${names[0]}'`)
  for (const name of names) {
    const m = lengthOf(data[name], where, `'${name}'`)
    if (m !== n) throw new ShapeError(`${where}: '${name}' has ${m} items but '${names[0]}' has ${n}; every entry needs one item per example`)
  }
  return n
}

/** The items at `rows` (contiguous from `start` when `rows` is null) of one part. */
function take(part: Tensor | readonly unknown[], start: number, size: number, rows: Int32Array | null): Tensor | unknown[] {
  if (part instanceof Tensor) {
    if (rows === null) return slice(part, [{ start, stop: start + size }])
    return indexSelect(part, 0, tensor(rows.subarray(start, start + size), { shape: [size], dtype: 'int32' }))
  }
  if (rows === null) return part.slice(start, start + size)
  return Array.from(rows.subarray(start, start + size), (i) => part[i])
}

function cut<D extends Dataset>(data: D, start: number, size: number, rows: Int32Array | null): Batch<D> {
  if (!isRecord(data)) return take(data, start, size, rows) as Batch<D>
  const out: Record<string, Tensor | unknown[]> = {}
  for (const name of Object.keys(data)) out[name] = take(data[name], start, size, rows)
  return out as Batch<D>
}

/**
 * The dataset in a random order (the same permutation for every part of a record), drawn
 * from `seed`: for a tensor, its rows along axis 0.
 * @example shuffle({ x, y }, foldIn(key(0), epoch))
 */
export function shuffle<D extends Dataset>(data: D, seed: Seed): Batch<D> {
  const n = datasetLength(data, 'shuffle')
  return cut(data, 0, n, permutation(n, seed, 'shuffle'))
}

/** Options of {@link batches}. */
export interface BatchOptions {
  /** Items per batch (the last may be smaller unless `dropLast`). */
  readonly batchSize: number
  /** Draw the order from this seed or key (a new one per epoch, e.g. `foldIn(key, epoch)`); without it the order is kept. */
  readonly shuffle?: Seed
  /** Leave out a last batch smaller than `batchSize` (default false), as PyTorch's `drop_last`. */
  readonly dropLast?: boolean
}

/**
 * Iterates over a dataset in batches, as PyTorch's `DataLoader` does over a tensor dataset:
 * a tensor gives tensors (a view of its rows when the order is kept), an array gives arrays,
 * a record of them gives records with the same keys, cut at the same rows.
 * @example
 * for (const { x, y } of batches({ x: inputs, y: labels }, { batchSize: 32, shuffle: foldIn(key(0), epoch) })) { ... }
 */
export function batches<D extends Dataset>(data: D, options: BatchOptions): Iterable<Batch<D>> {
  const n = datasetLength(data, 'batches')
  const size = options.batchSize
  if (!Number.isSafeInteger(size) || size < 1) throw new ArgumentError(`batches: batchSize must be a positive integer, got ${String(size)}`)
  const rows = options.shuffle === undefined ? null : permutation(n, options.shuffle, 'batches')
  const count = options.dropLast === true ? Math.floor(n / size) : Math.ceil(n / size)
  return {
    *[Symbol.iterator]() {
      for (let b = 0; b < count; b++) yield cut(data, b * size, Math.min(size, n - b * size), rows)
    },
  }
}

/** Options of {@link padSequences}. */
export interface PadOptions {
  /** The value of the padding (default 0). */
  readonly padValue?: number
  /** Lay the batch out as [batch, time, ...] (default true) instead of [time, batch, ...]. */
  readonly batchFirst?: boolean
  /** The dtype when the sequences are number arrays (default int32, as token ids); tensors keep theirs. */
  readonly dtype?: 'float32' | 'float64' | 'int32'
}

/**
 * Pads sequences of different lengths to one batch, as PyTorch's `pad_sequence`, and returns
 * their lengths too, which the recurrent layers take (`apply(p, padded, { lengths })`).
 * Sequences are number arrays (token ids) or tensors [length, ...features] with equal features.
 * @example padSequences([[5, 2, 7], [3]])  // { padded: [[5, 2, 7], [3, 0, 0]], lengths: [3, 1] }
 */
export function padSequences(sequences: readonly (readonly number[] | Tensor)[], options: PadOptions = {}): { padded: Tensor; lengths: number[] } {
  if (!Array.isArray(sequences) || sequences.length === 0) throw new ArgumentError('padSequences: expected a non-empty array of sequences')
  const seqs = sequences.map((s, i) => {
    if (s instanceof Tensor) {
      if (s.rank === 0) throw new ShapeError(`padSequences: sequence ${i} is a scalar (shape []); a sequence has its steps along axis 0`)
      return s
    }
    if (!Array.isArray(s)) throw new ArgumentError(`padSequences: sequence ${i} must be a number array or a Tensor, got ${s === null ? 'null' : typeof s}`)
    return tensor(s as number[], { shape: [s.length], dtype: options.dtype ?? 'int32' })
  })
  const first = seqs[0]
  seqs.forEach((s, i) => {
    if (s.rank !== first.rank || s.shape.some((d, k) => k > 0 && d !== first.shape[k])) {
      throw new ShapeError(
        `padSequences: sequence ${i} has shape ${fmtShape(s.shape)} but sequence 0 has ${fmtShape(first.shape)}; only the length (axis 0) may differ`,
      )
    }
    if (s.dtype !== first.dtype) throw new ArgumentError(`padSequences: sequence ${i} is ${s.dtype} but sequence 0 is ${first.dtype}`)
  })
  const lengths = seqs.map((s) => s.shape[0])
  const T = Math.max(...lengths)
  const rows = seqs.map((s) => pad(s, [[0, T - s.shape[0]], ...s.shape.slice(1).map((): [number, number] => [0, 0])], options.padValue ?? 0))
  return { padded: stack(rows, options.batchFirst === false ? 1 : 0), lengths }
}
