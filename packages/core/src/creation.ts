/**
 * Creating tensors: from data, constant fills, ranges and seeded random draws.
 * @module
 */
import { type DType, type TensorData, allocate, checkDType, checkInt32Values, dtypeOfData, fitsInt32, int32Overflow } from './dtype.ts'
import { ArgumentError, DTypeError, ShapeError, fmtShape } from './errors.ts'
import { type Seed, RandomStream } from './random.ts'
import { checkShape, sizeOf } from './shape.ts'
import { type NestedArray, Tensor } from './tensor.ts'

/** Options of {@link tensor}. */
export interface TensorOptions {
  /** Element type; default float32 (float64 for a Float64Array, int32 for an Int32Array). */
  dtype?: DType
  /** Shape; required with flat data (typed arrays or flat number arrays that are not 1-d). */
  shape?: readonly number[]
}

/** Options of the fill and random functions. */
export interface DTypeOption {
  /** Element type; default float32. */
  dtype?: DType
}

function inferShape(data: NestedArray, where: string): number[] {
  const shape: number[] = []
  let level: NestedArray = data
  while (Array.isArray(level)) {
    shape.push(level.length)
    if (level.length === 0) break
    level = level[0]
  }
  return checkShape(shape, where)
}

function flatten(data: NestedArray, shape: readonly number[], out: TensorData, where: string): void {
  let pos = 0
  const int = out instanceof Int32Array
  const walk = (v: NestedArray, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new ShapeError(`${where}: ragged nested array: expected a number at depth ${dim}, found an array`)
      if (typeof v !== 'number') throw new DTypeError(`${where}: expected numbers, found ${typeof v} ${JSON.stringify(v)} at flat position ${pos}`)
      if (int && !fitsInt32(v)) throw int32Overflow(where, v)
      out[pos++] = v
      return
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new ShapeError(`${where}: ragged nested array: expected ${shape[dim]} entries at depth ${dim}, found ${Array.isArray(v) ? v.length : typeof v}`)
    }
    for (const e of v) walk(e, dim + 1)
  }
  walk(data, 0)
}

/**
 * Creates a tensor from a number, nested arrays, or a flat typed array with `shape`.
 * @example tensor([[1, 2], [3, 4]], { dtype: 'float64' })
 */
export function tensor(data: NestedArray | TensorData | readonly number[], options: TensorOptions = {}): Tensor {
  const where = 'tensor'
  if (ArrayBuffer.isView(data)) {
    const fromDType = dtypeOfData(data as TensorData)
    const dtype = options.dtype === undefined ? fromDType : checkDType(options.dtype, where)
    const shape = options.shape === undefined ? [data.length] : checkShape(options.shape, where)
    if (sizeOf(shape) !== data.length) {
      throw new ShapeError(`${where}: shape ${fmtShape(shape)} needs ${sizeOf(shape)} elements but the data has ${data.length}`)
    }
    // Float data stored as int32 would wrap modulo 2^32 (NaN as 0): refuse what does not fit.
    if (dtype === 'int32' && fromDType !== 'int32') checkInt32Values(data as TensorData, where)
    const copy = allocate(dtype, data.length)
    copy.set(data as TensorData)
    return new Tensor(copy, shape.slice())
  }
  const dtype = checkDType(options.dtype ?? 'float32', where)
  const inferred = inferShape(data as NestedArray, where)
  const out = allocate(dtype, sizeOf(inferred))
  flatten(data as NestedArray, inferred, out, where)
  if (options.shape !== undefined) {
    const shape = checkShape(options.shape, where)
    if (sizeOf(shape) !== out.length) {
      throw new ShapeError(`${where}: shape ${fmtShape(shape)} needs ${sizeOf(shape)} elements but the data has ${out.length}`)
    }
    return new Tensor(out, shape.slice())
  }
  return new Tensor(out, inferred)
}

/** An int32 tensor (token ids, class targets, indices): `tensor(data, { dtype: 'int32', shape })`. @example intTensor([[1, 2, 3]]) */
export function intTensor(data: NestedArray | TensorData | readonly number[], shape?: readonly number[]): Tensor {
  return tensor(data, shape === undefined ? { dtype: 'int32' } : { dtype: 'int32', shape })
}

/** The fill behind {@link full} and its relatives; `where` is the function the user called. */
function filled(shape: readonly number[], value: number, dtype: DType | undefined, where: string): Tensor {
  const s = checkShape(shape, where)
  const d = checkDType(dtype ?? 'float32', where)
  if (typeof value !== 'number') throw new ArgumentError(`${where}: value must be a number, got ${typeof value}`)
  if (d === 'int32' && !fitsInt32(value)) throw int32Overflow(where, value)
  const out = allocate(d, sizeOf(s))
  if (value !== 0) out.fill(value)
  return new Tensor(out, s.slice())
}

/** A tensor filled with `value` (for int32, a finite value in int32's range, truncated toward zero). */
export function full(shape: readonly number[], value: number, options: DTypeOption = {}): Tensor {
  return filled(shape, value, options.dtype, 'full')
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options: DTypeOption = {}): Tensor {
  return filled(shape, 0, options.dtype, 'zeros')
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options: DTypeOption = {}): Tensor {
  return filled(shape, 1, options.dtype, 'ones')
}

/** Zeros with the shape and (by default) dtype of `x`. */
export function zerosLike(x: Tensor, options: DTypeOption = {}): Tensor {
  return filled(x.shape, 0, options.dtype ?? x.dtype, 'zerosLike')
}

/** Ones with the shape and (by default) dtype of `x`. */
export function onesLike(x: Tensor, options: DTypeOption = {}): Tensor {
  return filled(x.shape, 1, options.dtype ?? x.dtype, 'onesLike')
}

/**
 * Values from `start` (inclusive) to `stop` (exclusive) by `step`, as NumPy's arange.
 * `arange(5)` is 0..4.
 */
export function arange(start: number, stop?: number, step = 1, options: DTypeOption = {}): Tensor {
  if (stop === undefined) {
    stop = start
    start = 0
  }
  if (!Number.isFinite(start) || !Number.isFinite(stop) || !Number.isFinite(step))
    throw new ArgumentError(`arange: start, stop and step must be finite, got ${start}, ${stop}, ${step}`)
  if (step === 0) throw new ArgumentError('arange: step must not be zero')
  const n = Math.max(0, Math.ceil((stop - start) / step))
  checkShape([n], 'arange')
  const dtype = checkDType(options.dtype ?? 'float32', 'arange')
  // The values are monotonic, so the two ends decide whether all of them fit an int32.
  if (dtype === 'int32' && n > 0) for (const v of [start, start + (n - 1) * step]) if (!fitsInt32(v)) throw int32Overflow('arange', v)
  const out = allocate(dtype, n)
  for (let i = 0; i < n; i++) out[i] = start + i * step
  return new Tensor(out, [n])
}

/** `num` evenly spaced values from `start` to `stop`, both included. */
export function linspace(start: number, stop: number, num: number, options: DTypeOption = {}): Tensor {
  if (!Number.isInteger(num) || num < 0) throw new ArgumentError(`linspace: num must be a non-negative integer, got ${num}`)
  checkShape([num], 'linspace')
  const dtype = checkDType(options.dtype ?? 'float32', 'linspace')
  if (dtype === 'int32' && num > 0) for (const v of [start, stop]) if (!fitsInt32(v)) throw int32Overflow('linspace', v)
  const out = allocate(dtype, num)
  const step = num > 1 ? (stop - start) / (num - 1) : 0
  for (let i = 0; i < num; i++) out[i] = i === num - 1 && num > 1 ? stop : start + i * step
  return new Tensor(out, [num])
}

/** The `n` by `m` identity matrix (ones on the main diagonal). */
export function eye(n: number, m = n, options: DTypeOption = {}): Tensor {
  checkShape([n, m], 'eye')
  const out = allocate(checkDType(options.dtype ?? 'float32', 'eye'), n * m)
  for (let i = 0; i < Math.min(n, m); i++) out[i * m + i] = 1
  return new Tensor(out, [n, m])
}

function drawn(shape: readonly number[], dtype: DType | undefined, where: string, draw: (out: TensorData) => void): Tensor {
  const s = checkShape(shape, where)
  const out = allocate(checkDType(dtype ?? 'float32', where), sizeOf(s))
  draw(out)
  return new Tensor(out, s.slice())
}

/** Uniform draws in [0, 1) from an explicit seed or key. */
export function rand(shape: readonly number[], seed: Seed, options: DTypeOption = {}): Tensor {
  return uniformDraws(shape, 0, 1, seed, options.dtype, 'rand')
}

/** Uniform draws in [low, high) from an explicit seed or key. */
export function uniform(shape: readonly number[], low: number, high: number, seed: Seed, options: DTypeOption = {}): Tensor {
  return uniformDraws(shape, low, high, seed, options.dtype, 'uniform')
}

/** The draws of {@link uniform} (the stream is named 'uniform' for both callers); `where` names the caller. */
function uniformDraws(shape: readonly number[], low: number, high: number, seed: Seed, dtype: DType | undefined, where: string): Tensor {
  if (!(high >= low) || !Number.isFinite(low) || !Number.isFinite(high))
    throw new ArgumentError(`${where}: need finite low <= high, got low=${low}, high=${high}`)
  // Draws stay below `high`, so truncated they fit an int32 when both bounds do.
  if (dtype === 'int32') for (const v of [low, high]) if (!fitsInt32(v)) throw int32Overflow(where, v, 'bound')
  const rng = new RandomStream(seed, 'uniform')
  return drawn(shape, dtype, where, (out) => {
    for (let i = 0; i < out.length; i++) {
      // Rounding to float32 can land on `high` itself; draw again to keep [low, high).
      do out[i] = low + (high - low) * rng.nextFloat()
      while (out[i] >= high && high > low)
    }
  })
}

/** Standard normal draws (mean 0, std 1) from an explicit seed or key. */
export function randn(shape: readonly number[], seed: Seed, options: DTypeOption = {}): Tensor {
  const rng = new RandomStream(seed, 'randn')
  return drawn(shape, options.dtype, 'randn', (out) => {
    for (let i = 0; i < out.length; i++) out[i] = rng.nextNormal()
  })
}

/** Uniform integers in [low, high) from an explicit seed or key; int32 unless told otherwise. */
export function randint(low: number, high: number, shape: readonly number[], seed: Seed, options: DTypeOption = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low)
    throw new ArgumentError(`randint: need integers low < high, got low=${low}, high=${high}`)
  if ((options.dtype ?? 'int32') === 'int32' && (low < -0x80000000 || high > 0x80000000)) {
    throw new ArgumentError(`randint: [${low}, ${high}) does not fit int32; pass { dtype: 'float64' } for a wider range`)
  }
  const rng = new RandomStream(seed, 'randint')
  return drawn(shape, options.dtype ?? 'int32', 'randint', (out) => {
    for (let i = 0; i < out.length; i++) out[i] = rng.nextInt(low, high)
  })
}
