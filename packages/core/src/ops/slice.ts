/**
 * Slicing with Python's rules, one-index selection, and constant padding. A slice is one
 * strided read (an offset and a stride per result dimension); its VJP scatters the
 * cotangent back into zeros at the same positions, and the VJP of that scatter is the
 * slice again, so derivatives of any order stay inside these two primitives.
 * @module
 */
import { allocate, fitsInt32, int32Overflow } from '../dtype.ts'
import { isRecording, makeOutput } from '../autodiff/recording.ts'
import { ScatteredCotangent } from '../autodiff/accumulate.ts'
import { stridedAddInto, stridedCopy, stridedWriteInto } from '../kernels/elementwise.ts'
import { ArgumentError, fmtShape } from '../errors.ts'
import { checkShape, normAxis, shapesEqual, sizeOf, stridesOf } from '../shape.ts'
import type { Tensor } from '../tensor.ts'
import { registerOps } from './registry.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { checkTensor } from './util.ts'

/** A Python-style `start:stop:step` range; omitted or `null` bounds take the default for the step's sign. */
export interface SliceRange {
  /** First index taken (negative counts from the end); clamped to the axis. */
  readonly start?: number | null
  /** Index where the range stops, excluded (negative counts from the end); clamped to the axis. */
  readonly stop?: number | null
  /** Distance between taken indices, non-zero; negative walks backwards (default 1). */
  readonly step?: number
}

/**
 * One entry of a {@link slice} spec: `null` takes the whole axis, a number picks one index
 * (negative counts from the end) and removes the axis, a {@link SliceRange} is `start:stop:step`.
 */
export type SliceArg = number | null | SliceRange

/** A strided view of a row-major buffer: where it starts, and a shape and stride per dimension. */
interface View {
  readonly offset: number
  readonly shape: readonly number[]
  readonly strides: readonly number[]
}

function checkInt(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ArgumentError(`${op}: ${what} must be an integer, got ${String(v)}`)
  return v
}

/** Python's `slice.indices(n)` followed by `len(range(...))`: the first index, step and count. */
function resolveRange(op: string, axis: number, n: number, r: SliceRange): [number, number, number] {
  const step = r.step === undefined || r.step === null ? 1 : checkInt(op, `step of axis ${axis}`, r.step)
  if (step === 0) throw new ArgumentError(`${op}: step of axis ${axis} must not be zero`)
  // Bounds clamp to [0, n] walking forwards, to [-1, n-1] walking backwards (-1 being "before 0").
  const lo = step > 0 ? 0 : -1
  const hi = step > 0 ? n : n - 1
  const bound = (v: number | null | undefined, what: string, dflt: number): number => {
    if (v === undefined || v === null) return dflt
    const i = checkInt(op, `${what} of axis ${axis}`, v)
    return Math.min(Math.max(i < 0 ? i + n : i, lo), hi)
  }
  const start = bound(r.start, 'start', step > 0 ? 0 : n - 1)
  const stop = bound(r.stop, 'stop', step > 0 ? n : -1)
  const count = step > 0 ? Math.max(0, Math.ceil((stop - start) / step)) : Math.max(0, Math.ceil((start - stop) / -step))
  return [start, step, count]
}

function resolveIndex(op: string, axis: number, n: number, index: unknown): number {
  const i = checkInt(op, `index for axis ${axis}`, index)
  if (i < -n || i >= n) throw new ArgumentError(`${op}: index ${i} is out of range for axis ${axis} of size ${n}`)
  return i < 0 ? i + n : i
}

/**
 * The view of `x` a slice spec selects, and the spec resolved (for exporters): per axis of
 * `x`, its first index, step and count, with step 0 for an axis an index removed.
 */
function viewOf(op: string, x: Tensor, spec: readonly SliceArg[]): View & { readonly ranges: number[] } {
  if (!Array.isArray(spec)) throw new ArgumentError(`${op}: the spec must be an array with one entry per leading axis, got ${String(spec)}`)
  if (spec.length > x.rank) throw new ArgumentError(`${op}: ${spec.length} entries given for a tensor of rank ${x.rank} (${fmtShape(x.shape)})`)
  const base = stridesOf(x.shape)
  let offset = 0
  const shape: number[] = []
  const strides: number[] = []
  const ranges: number[] = []
  for (let axis = 0; axis < x.rank; axis++) {
    const arg: SliceArg | undefined = spec[axis]
    const n = x.shape[axis]
    if (arg === undefined || arg === null) {
      shape.push(n)
      strides.push(base[axis])
      ranges.push(0, 1, n)
    } else if (typeof arg === 'object' && !Array.isArray(arg)) {
      const [start, step, count] = resolveRange(op, axis, n, arg)
      if (count > 0) offset += start * base[axis]
      shape.push(count)
      strides.push(step * base[axis])
      ranges.push(start, step, count)
    } else {
      const index = resolveIndex(op, axis, n, arg)
      offset += index * base[axis]
      ranges.push(index, 0, 1)
    }
  }
  return { offset, shape, strides, ranges }
}

/** Reads `view` of `x` into a new tensor (sharing storage when the view is one contiguous run); `ranges` as {@link viewOf}'s. */
function readView(op: string, x: Tensor, view: View, ranges?: readonly number[]): Tensor {
  const { offset, shape, strides } = view
  if (offset === 0 && shapesEqual(shape, x.shape) && shapesEqual(strides, stridesOf(x.shape))) return x
  const n = sizeOf(shape)
  const dense = stridesOf(shape)
  const contiguous = n > 0 && shape.every((d, i) => d === 1 || strides[i] === dense[i])
  let data
  if (contiguous) {
    data = x._data.subarray(offset, offset + n)
  } else {
    data = allocate(x.dtype, n)
    stridedCopy(x._data, offset, strides, shape, data)
  }
  const from = x.shape
  // Outside a recorded pass the cotangent stays scattered: the backward adds only the view's elements.
  return makeOutput(
    op,
    [x],
    data,
    shape.slice(),
    (g) => [isRecording() ? scatterView(g, from, view) : new ScatteredCotangent(g, from, view.offset, view.strides)],
    ranges === undefined ? undefined : { ranges },
  )
}

/** Adds `g` (shaped like `view`) into zeros of `shape` at the view's positions: the slice's transpose. */
function scatterView(g: Tensor, shape: readonly number[], view: View): Tensor {
  const out = allocate(g.dtype, sizeOf(shape))
  stridedAddInto(g._data, out, view.offset, view.strides, view.shape)
  return makeOutput('sliceScatter', [g], out, shape.slice(), (c) => [readView('slice', c, view)])
}

/**
 * Slices `x` as Python/NumPy basic indexing: one spec entry per leading axis (missing
 * trailing axes are taken whole). `null` takes an axis whole, a number picks one index and
 * removes the axis, `{ start, stop, step }` is `start:stop:step` with Python's rules
 * (negative bounds count from the end, bounds clamp to the axis, a negative step walks
 * backwards, an empty range gives an empty axis).
 * @example slice(x, [null, { start: 1, stop: 6 }])  // x[:, 1:6]
 * @example slice(x, [{ start: 0, stop: 9, step: 2 }, -1])  // x[0:9:2, -1]
 * @throws ArgumentError for a zero step, a non-integer bound, an index out of range, or too many entries.
 */
export function slice(x: Tensor, spec: readonly SliceArg[]): Tensor {
  checkTensor(x, 'slice')
  const view = viewOf('slice', x, spec)
  return readView('slice', x, view, view.ranges)
}

/**
 * The slice of `x` at `index` along `axis`, with that axis removed (`x[:, index]` for
 * axis 1): the per-time-step read of a recurrent network. Negative axis and index count
 * from the end.
 */
export function select(x: Tensor, axis: number, index: number): Tensor {
  checkTensor(x, 'select')
  if (x.rank === 0) throw new ArgumentError(`select: cannot select from a scalar (shape [])`)
  const a = normAxis('select', axis, x.rank)
  const spec: SliceArg[] = new Array<SliceArg>(a).fill(null)
  spec.push(index)
  const view = viewOf('select', x, spec)
  return readView('select', x, view, view.ranges)
}

/**
 * Pads `x` with `value` (default 0): `widths[i] = [before, after]` elements are added
 * around axis i, for the leading `widths.length` axes (as `numpy.pad` with a constant).
 * The value is stored in `x`'s dtype, so an int32 tensor truncates it toward zero.
 * The gradient with respect to `x` is the slice of the cotangent that `x` occupies.
 * @example pad(x, [[0, 0], [1, 2]])  // one column of zeros before, two after
 * @throws ArgumentError for a negative or non-integer width, or more pairs than axes.
 */
export function pad(x: Tensor, widths: readonly (readonly [number, number])[], value = 0): Tensor {
  checkTensor(x, 'pad')
  if (!Array.isArray(widths)) throw new ArgumentError(`pad: widths must be an array of [before, after] pairs, got ${String(widths)}`)
  if (widths.length > x.rank) throw new ArgumentError(`pad: ${widths.length} width pairs given for a tensor of rank ${x.rank} (${fmtShape(x.shape)})`)
  if (typeof value !== 'number') throw new ArgumentError(`pad: value must be a number, got ${typeof value}`)
  const shape = x.shape.slice()
  widths.forEach((w, axis) => {
    const ok = Array.isArray(w) && w.length === 2 && w.every((v) => Number.isInteger(v) && v >= 0)
    if (!ok) throw new ArgumentError(`pad: widths for axis ${axis} must be two non-negative integers [before, after], got ${JSON.stringify(w)}`)
    shape[axis] += w[0] + w[1]
  })
  checkShape(shape, 'pad')
  // Stored in an int32 tensor, a value out of its range would wrap (NaN would become 0).
  if (x.dtype === 'int32' && !fitsInt32(value)) throw int32Overflow('pad', value)
  const strides = stridesOf(shape)
  const offset = widths.reduce((acc, w, axis) => acc + w[0] * strides[axis], 0)
  const view: View = { offset, shape: x.shape, strides }
  if (offset === 0 && shapesEqual(shape, x.shape)) return x
  const out = allocate(x.dtype, sizeOf(shape))
  if (value !== 0) out.fill(value)
  stridedWriteInto(x._data, out, offset, strides, x.shape)
  return makeOutput('pad', [x], out, shape, (g) => [readView('slice', g, view)], { widths: widths.flat(), value })
}

/** Draws a slice spec for `shape` whose result is not empty (negative steps and indices included). */
function sampleSpec(s: CaseSampler, shape: readonly number[]): SliceArg[] {
  const spec: SliceArg[] = []
  const entries = s.int(0, shape.length)
  for (let axis = 0; axis < entries; axis++) {
    const n = shape[axis]
    const kind = s.int(0, 3)
    if (kind === 0) spec.push(null)
    else if (kind === 1) spec.push(s.int(-n, n - 1))
    else {
      const step = s.pick([1, 2, 3, -1, -2, -3])
      // Start inside the axis so the range is never empty; stop anywhere, out of bounds included.
      const start = s.coin(0.2) ? null : s.int(-n, n - 1)
      const first = start === null ? (step > 0 ? 0 : n - 1) : start < 0 ? start + n : start
      const stop = s.coin(0.2) ? null : step > 0 ? s.int(first + 1, n + 2) : s.int(-n - 2, first - 1 - n)
      spec.push({ start, stop, step })
    }
  }
  return spec
}

registerOps('slice', 'primitive', {
  slice: {
    sample: (s) => {
      const x = s.values(s.shape({ minRank: 1, maxRank: 3, maxDim: 5 }))
      const spec = sampleSpec(s, x.shape)
      return { inputs: [x], fn: (t: Tensor) => slice(t, spec), label: `${shapesLabel(x)} [${JSON.stringify(spec)}]` }
    },
  },
  pad: {
    sample: (s) => {
      const x = s.values(s.shape({ minRank: 1 }))
      const widths = Array.from({ length: s.int(1, x.rank) }, (): [number, number] => [s.int(0, 2), s.int(0, 2)])
      const value = s.pick([0, 1.5])
      return { inputs: [x], fn: (t: Tensor) => pad(t, widths, value), label: `${shapesLabel(x)} widths ${JSON.stringify(widths)} value ${value}` }
    },
  },
})
registerOps('slice', 'composite', {
  select: {
    sample: (s) => {
      const x = s.values(s.shape({ minRank: 1 }))
      const axis = s.int(-x.rank, x.rank - 1)
      const n = x.shape[axis < 0 ? axis + x.rank : axis]
      const index = s.int(-n, n - 1)
      return { inputs: [x], fn: (t: Tensor) => select(t, axis, index), label: `${shapesLabel(x)} axis ${axis} index ${index}` }
    },
  },
})
