/**
 * Joining and splitting along an axis: concat (a primitive whose VJP slices the cotangent
 * back into pieces), split (a primitive with one result per piece, whose VJP joins their
 * cotangents with concat), and stack built from concat.
 * @module
 */
import { type DType, allocate, promote } from '../dtype.ts'
import { makeOutput, makeOutputs } from '../autodiff/recording.ts'
import { stridedCopy, stridedWriteInto } from '../kernels/elementwise.ts'
import { ArgumentError, ShapeError, fmtShape } from '../errors.ts'
import { checkShape, normAxis, shapesEqual, sizeOf, stridesOf } from '../shape.ts'
import { type Tensor, zerosOf } from '../tensor.ts'
import { add, mul } from './binary.ts'
import { astype } from './cast.ts'
import { sum } from './reduce.ts'
import { unsqueeze } from './reshape.ts'
import { registerOps } from './registry.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { type SliceArg, slice } from './slice.ts'
import { checkTensor } from './util.ts'

function checkList(op: string, xs: readonly Tensor[]): void {
  if (!Array.isArray(xs)) throw new ArgumentError(`${op}: expected an array of tensors, got ${xs === null ? 'null' : typeof xs}`)
  if (xs.length === 0) throw new ArgumentError(`${op}: expected at least one tensor, got an empty array`)
  xs.forEach((x, i) => checkTensor(x, op, `tensor ${i}`))
}

/** The spec slicing `[start, stop)` along `axis`, every other axis whole. */
function rangeAlong(axis: number, start: number, stop: number): SliceArg[] {
  const spec: SliceArg[] = new Array<SliceArg>(axis).fill(null)
  spec.push({ start, stop })
  return spec
}

/**
 * Joins tensors along an existing axis (default 0), as `torch.cat`: all must have the same
 * rank and the same sizes except along `axis`. Mixed dtypes are promoted as in binary ops.
 * @example concat([a, b], 1)  // [2,3] and [2,6] give [2,9]
 * @throws ShapeError naming the first tensor whose rank or sizes do not fit tensor 0.
 */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  checkList('concat', xs)
  const first = xs[0]
  xs.forEach((x, i) => {
    if (x.rank === 0) throw new ShapeError(`concat: tensor ${i} is a scalar (shape []), which cannot be concatenated; unsqueeze it or use stack`)
  })
  const a = normAxis('concat', axis, first.rank)
  xs.forEach((x, i) => {
    if (x.rank !== first.rank) {
      throw new ShapeError(
        `concat: tensor ${i} has shape ${fmtShape(x.shape)} of rank ${x.rank}, but tensor 0 has shape ${fmtShape(first.shape)} of rank ${first.rank}`,
      )
    }
    const d = x.shape.findIndex((n, j) => j !== a && n !== first.shape[j])
    if (d >= 0) {
      throw new ShapeError(
        `concat: cannot join tensor ${i} of shape ${fmtShape(x.shape)} to tensor 0 of shape ${fmtShape(first.shape)} along axis ${a}: dimension ${d} is ${x.shape[d]} vs ${first.shape[d]}`,
      )
    }
  })
  const dtype = xs.reduce<DType>((acc, x) => promote(acc, x.dtype), first.dtype)
  const parts = xs.map((x) => astype(x, dtype))
  if (parts.length === 1) return parts[0]
  const starts: number[] = []
  let total = 0
  for (const p of parts) {
    starts.push(total)
    total += p.shape[a]
  }
  const shape = first.shape.slice()
  shape[a] = total
  checkShape(shape, 'concat')
  const strides = stridesOf(shape)
  const out = allocate(dtype, sizeOf(shape))
  parts.forEach((p, k) => stridedWriteInto(p._data, out, starts[k] * strides[a], strides, p.shape))
  return makeOutput(
    'concat',
    parts,
    out,
    shape,
    (g, needs) => parts.map((p, k) => (needs[k] ? slice(g, rangeAlong(a, starts[k], starts[k] + p.shape[a])) : null)),
    { axis: a },
  )
}

/**
 * Joins same-shaped tensors along a new axis (default 0), as `torch.stack`.
 * @example stack([a, b, c], 1)  // three [2,4] give [2,3,4]
 * @throws ShapeError naming the first tensor whose shape differs from tensor 0.
 */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  checkList('stack', xs)
  const first = xs[0]
  xs.forEach((x, i) => {
    if (!shapesEqual(x.shape, first.shape)) {
      throw new ShapeError(`stack: tensor ${i} has shape ${fmtShape(x.shape)} but tensor 0 has shape ${fmtShape(first.shape)}; all shapes must match`)
    }
  })
  const a = normAxis('stack', axis, first.rank + 1)
  return concat(
    xs.map((x) => unsqueeze(x, a)),
    a,
  )
}

/**
 * Splits `x` along `axis` (default 0), as `torch.split`: a number is the size of each piece
 * (the last may be smaller), an array lists the sizes, which must sum to the axis size.
 * @example split(x, 2, 1)  // x of shape [3,5] gives [3,2], [3,2], [3,1]
 * @throws ArgumentError for a size that is not a positive integer (non-negative in an array)
 * or sizes that do not sum to the axis size.
 */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  checkTensor(x, 'split')
  if (x.rank === 0) throw new ArgumentError(`split: cannot split a scalar (shape [])`)
  const a = normAxis('split', axis, x.rank)
  const n = x.shape[a]
  let pieces: number[]
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new ArgumentError(`split: piece size must be a positive integer, got ${sizes}`)
    pieces = Array.from({ length: Math.max(1, Math.ceil(n / sizes)) }, (_, i) => Math.min(sizes, n - i * sizes))
  } else {
    if (!Array.isArray(sizes)) throw new ArgumentError(`split: sizes must be a number or an array of numbers, got ${typeof sizes}`)
    if (!sizes.every((v) => Number.isInteger(v) && v >= 0)) throw new ArgumentError(`split: sizes ${JSON.stringify(sizes)} must be non-negative integers`)
    const total = sizes.reduce((s, v) => s + v, 0)
    if (total !== n) throw new ArgumentError(`split: sizes ${JSON.stringify(sizes)} sum to ${total}, but axis ${a} of ${fmtShape(x.shape)} has size ${n}`)
    pieces = sizes.slice()
  }
  const strides = stridesOf(x.shape)
  const outer = sizeOf(x.shape.slice(0, a))
  let start = 0
  const outputs = pieces.map((size) => {
    const shape = x.shape.slice()
    shape[a] = size
    const at = start * strides[a]
    start += size
    // A piece along the leading axis (or of one outer row) is contiguous: a view, no copy.
    if (outer === 1) return { data: x._data.subarray(at, at + sizeOf(shape)), shape }
    const data = allocate(x.dtype, sizeOf(shape))
    stridedCopy(x._data, at, strides, shape, data)
    return { data, shape }
  })
  // One node for all pieces: the backward joins their cotangents, zeros for a piece not used.
  return makeOutputs(
    'split',
    [x],
    outputs,
    (gs) => [
      concat(
        gs.map((g, k) => g ?? zerosOf(x.dtype, outputs[k].shape)),
        a,
      ),
    ],
    { axis: a },
  )
}

function sampleParts(s: CaseSampler): { xs: Tensor[]; axis: number } {
  const base = s.shape({ minRank: 1 })
  const axis = s.int(-base.length, base.length - 1)
  const xs = Array.from({ length: s.int(1, 3) }, () => {
    const shape = base.slice()
    shape[axis < 0 ? axis + base.length : axis] = s.int(1, 3)
    return s.values(shape)
  })
  return { xs, axis }
}

registerOps('join', 'primitive', {
  concat: {
    sample: (s) => {
      const { xs, axis } = sampleParts(s)
      return { inputs: xs, fn: (...ts: Tensor[]) => concat(ts, axis), label: `${shapesLabel(...xs)} axis ${axis}` }
    },
  },
  split: {
    sample: (s) => {
      const x = s.values(s.shape({ minRank: 1, maxDim: 5 }))
      const axis = s.int(-x.rank, x.rank - 1)
      const size = s.int(1, x.shape[axis < 0 ? axis + x.rank : axis])
      // Weight each piece differently so a mix-up between pieces changes the result, and leave
      // piece 1 unused so its cotangent is a symbolic zero (null) in the backward.
      const fn = (t: Tensor): Tensor =>
        split(t, size, axis)
          .filter((_, i) => i !== 1)
          .map((p, i) => sum(mul(mul(p, p), i + 1)))
          .reduce((acc, p) => add(acc, p))
      return { inputs: [x], fn, label: `${shapesLabel(x)} size ${size} axis ${axis}` }
    },
  },
})
registerOps('join', 'composite', {
  stack: {
    sample: (s) => {
      const shape = s.shape()
      const xs = Array.from({ length: s.int(1, 3) }, () => s.values(shape))
      const axis = s.int(-shape.length - 1, shape.length)
      return { inputs: xs, fn: (...ts: Tensor[]) => stack(ts, axis), label: `${shapesLabel(...xs)} axis ${axis}` }
    },
  },
})
