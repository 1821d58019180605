/**
 * Indexing ops: gather / scatterAdd along one axis (torch.gather, torch.scatter_add),
 * indexSelect / indexAdd (torch.index_select and index_add with an index of any shape: the
 * embedding lookup and its gradient), and oneHot. Each gather-like op's VJP is its
 * scatter-like partner and the other way round, so gradients of gradients work.
 * Indices are int32 and must lie in [0, size); negative indices are refused, as torch.gather does.
 * @module
 */
import { type DType, allocate, checkDType } from '../dtype.ts'
import { makeOutput } from '../autodiff/recording.ts'
import { noGradient } from '../autodiff/no-gradient.ts'
import { axisIndex, firstOutOfRange, oneHotInto, rowIndex } from '../kernels/indexing.ts'
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.ts'
import { checkShape, normAxis, shapesEqual, sizeOf, stridesOf } from '../shape.ts'
import { type Tensor, constant, zerosOf } from '../tensor.ts'
import { registerOps } from './registry.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { checkTensor } from './util.ts'

/** Checks the index dtype and range; returns the size of `axis` (1 for a scalar). */
function checkIndex(op: string, x: Tensor, axis: number, index: Tensor): number {
  checkTensor(index, op, 'index')
  if (index.dtype !== 'int32') throw new DTypeError(`${op}: index must be an int32 tensor, got ${index.dtype}`)
  const n = x.rank === 0 ? 1 : x.shape[axis]
  const bad = firstOutOfRange(index._data as Int32Array, n)
  if (bad >= 0) {
    throw new ArgumentError(
      `${op}: index ${index._data[bad]} is out of range for axis ${axis} of size ${n} (input ${fmtShape(x.shape)}); valid indices are in [0, ${n})`,
    )
  }
  return n
}

function checkSameDType(op: string, x: Tensor, src: Tensor): void {
  if (src.dtype !== x.dtype) throw new DTypeError(`${op}: src has dtype ${src.dtype} but the input has dtype ${x.dtype}`)
}

/** torch's rule: same rank, and index no larger than `x` on every axis except `axis` (or on all). */
function checkFits(op: string, what: string, x: Tensor, index: Tensor, axis: number, allAxes: boolean): void {
  const problem =
    index.rank !== x.rank
      ? `ranks ${index.rank} and ${x.rank} differ`
      : index.shape.map((d, i) => (d > x.shape[i] && (allAxes || i !== axis) ? `dimension ${i} is ${d} > ${x.shape[i]}` : '')).find((s) => s !== '')
  if (problem !== undefined) {
    throw new ShapeError(`${op}: index of shape ${fmtShape(index.shape)} does not fit ${what} of shape ${fmtShape(x.shape)} along axis ${axis}: ${problem}`)
  }
}

/** x's strides with 0 on `axis` (the index supplies that coordinate), and the axis stride. */
function axisStrides(x: Tensor, axis: number): [number[], number] {
  const strides = stridesOf(x.shape)
  const axisStride = x.rank === 0 ? 1 : strides[axis]
  return [strides.map((s, i) => (i === axis ? 0 : s)), axisStride]
}

/**
 * torch.gather: picks values of `x` along `axis` at the positions in `index` (int32, same
 * rank as `x`, no larger than `x` on the other axes). The result has index's shape; for a
 * matrix and `axis` 1, `out[i][j] = x[i][index[i][j]]`. Repeated indices are allowed (their
 * gradients add up).
 */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor(x, 'gather')
  const a = normAxis('gather', axis, x.rank)
  checkIndex('gather', x, a, index)
  checkFits('gather', 'input', x, index, a, false)
  const [base, axisStride] = axisStrides(x, a)
  const out = allocate(x.dtype, index.size)
  axisIndex('gather', x._data, index._data as Int32Array, out, index.shape, base, stridesOf(index.shape), axisStride)
  return makeOutput('gather', [x], out, index.shape, (g) => [scatterAdd(zerosOf(g.dtype, x.shape), a, index, g)], { axis: a, index })
}

/**
 * torch.scatter_add, out of place: a copy of `x` with `src[pos]` added at `x`'s position
 * `pos` with its `axis` coordinate replaced by `index[pos]`, for every position of `index`.
 * Repeated indices accumulate. `index` has the rank of `x`, is no larger than `x` except on
 * `axis`, and no larger than `src` anywhere; `src` has `x`'s dtype. Differentiable in `x`
 * and `src`.
 */
export function scatterAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  checkTensor(x, 'scatterAdd')
  checkTensor(src, 'scatterAdd', 'src')
  const a = normAxis('scatterAdd', axis, x.rank)
  checkSameDType('scatterAdd', x, src)
  checkIndex('scatterAdd', x, a, index)
  checkFits('scatterAdd', 'input', x, index, a, false)
  checkFits('scatterAdd', 'src', src, index, a, true)
  const [base, axisStride] = axisStrides(x, a)
  const out = x._data.slice()
  axisIndex('scatterAdd', src._data, index._data as Int32Array, out, index.shape, base, stridesOf(src.shape), axisStride)
  return makeOutput('scatterAdd', [x, src], out, x.shape, (g, needs) => [needs[0] ? g : null, needs[1] ? embedInto(gather(g, a, index), src.shape, a) : null], {
    axis: a,
    index,
  })
}

/** Places `t` at the front corner of a zero tensor of `shape` (scatterAdd's src may be larger than its index). */
function embedInto(t: Tensor, shape: readonly number[], axis: number): Tensor {
  if (sizeOf(shape) === t.size) return t
  // The position of each element along `axis` as an index, so the embedding is itself a scatterAdd.
  const positions = new Int32Array(t.size)
  const inner = sizeOf(t.shape.slice(axis + 1))
  for (let i = 0; i < positions.length; i++) positions[i] = Math.floor(i / inner) % t.shape[axis]
  return scatterAdd(zerosOf(t.dtype, shape), axis, constant(positions, t.shape), t)
}

/** Splits `x`'s shape around `axis` into [outer, n, inner] sizes. */
function rowView(x: Tensor, axis: number): [number, number, number] {
  if (x.rank === 0) return [1, 1, 1]
  return [sizeOf(x.shape.slice(0, axis)), x.shape[axis], sizeOf(x.shape.slice(axis + 1))]
}

function selectedShape(x: Tensor, axis: number, index: Tensor): number[] {
  return [...x.shape.slice(0, axis), ...index.shape, ...x.shape.slice(axis + 1)]
}

/**
 * torch.index_select with an index of any shape: `axis` of `x` is replaced by index's
 * shape, each entry picking a slice of `x`. With a weight `[V, D]` and ids `[B, T]`,
 * `indexSelect(weight, 0, ids)` is the `[B, T, D]` embedding lookup. Repeated indices are
 * allowed; the gradient adds them up and leaves unselected slices at zero.
 */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  checkTensor(x, 'indexSelect')
  const a = normAxis('indexSelect', axis, x.rank)
  checkIndex('indexSelect', x, a, index)
  const [outer, n, inner] = rowView(x, a)
  const shape = checkShape(selectedShape(x, a, index), 'indexSelect')
  const out = allocate(x.dtype, outer * index.size * inner)
  rowIndex('select', x._data, index._data as Int32Array, out, outer, n, inner)
  return makeOutput('indexSelect', [x], out, shape, (g) => [indexAdd(zerosOf(g.dtype, x.shape), a, index, g)], { axis: a, index })
}

/**
 * torch.index_add (out of place) with an index of any shape: a copy of `x` with each slice
 * of `src` added to the slice of `x` its index names along `axis`; repeated indices
 * accumulate. `src` has the shape {@link indexSelect} would give, and `x`'s dtype.
 * This is the VJP of indexSelect (the embedding gradient).
 */
export function indexAdd(x: Tensor, axis: number, index: Tensor, src: Tensor): Tensor {
  checkTensor(x, 'indexAdd')
  checkTensor(src, 'indexAdd', 'src')
  const a = normAxis('indexAdd', axis, x.rank)
  checkSameDType('indexAdd', x, src)
  checkIndex('indexAdd', x, a, index)
  const expected = selectedShape(x, a, index)
  if (!shapesEqual(expected, src.shape)) {
    throw new ShapeError(
      `indexAdd: src of shape ${fmtShape(src.shape)} does not match input ${fmtShape(x.shape)} with index ${fmtShape(index.shape)} along axis ${a}: expected src of shape ${fmtShape(expected)}`,
    )
  }
  const [outer, n, inner] = rowView(x, a)
  const out = x._data.slice()
  rowIndex('add', src._data, index._data as Int32Array, out, outer, n, inner)
  return makeOutput('indexAdd', [x, src], out, x.shape, (g, needs) => [needs[0] ? g : null, needs[1] ? indexSelect(g, a, index) : null], { axis: a, index })
}

/** Options of {@link oneHot}. */
export interface OneHotOptions {
  /** Element type of the result; default float32. */
  dtype?: DType
}

const oneHotNoGrad = noGradient('takes an int32 index; the result is piecewise constant')

/**
 * One-hot encoding: a tensor of index's shape plus a last axis of `numClasses`, 1 at each
 * index and 0 elsewhere (as torch.nn.functional.one_hot, float32 by default). No gradient.
 */
export function oneHot(index: Tensor, numClasses: number, options: OneHotOptions = {}): Tensor {
  checkTensor(index, 'oneHot', 'index')
  const dtype = checkDType(options.dtype ?? 'float32', 'oneHot')
  if (!Number.isInteger(numClasses) || numClasses < 0) throw new ArgumentError(`oneHot: numClasses must be a non-negative integer, got ${numClasses}`)
  if (index.dtype !== 'int32') throw new DTypeError(`oneHot: index must be an int32 tensor, got ${index.dtype}`)
  const bad = firstOutOfRange(index._data as Int32Array, numClasses)
  if (bad >= 0) throw new ArgumentError(`oneHot: index ${index._data[bad]} is out of range for ${numClasses} classes; valid indices are in [0, ${numClasses})`)
  const shape = checkShape([...index.shape, numClasses], 'oneHot')
  const out = allocate(dtype, index.size * numClasses)
  oneHotInto(index._data as Int32Array, numClasses, out)
  return makeOutput('oneHot', [index], out, shape, oneHotNoGrad)
}

/** An index shape for `x` along `axis`: longer than `x` on the axis (so repeats are certain), no larger elsewhere. */
function gatherCase(s: CaseSampler): { x: Tensor; axis: number; index: Tensor } {
  const x = s.values(s.shape({ minRank: 1, maxRank: 3, maxDim: 3 }))
  const axis = s.int(0, x.rank - 1)
  const shape = x.shape.map((d, i) => (i === axis ? d + s.int(1, 3) : s.int(1, d)))
  return { x, axis, index: s.indices(shape, 0, x.shape[axis]) }
}

/** An index of rank 1 or 2 with more entries than `x` has along `axis` (so repeats are certain). */
function selectCase(s: CaseSampler): { x: Tensor; axis: number; index: Tensor } {
  const x = s.values(s.shape({ minRank: 1, maxRank: 3, maxDim: 3 }))
  const axis = s.int(0, x.rank - 1)
  const m = x.shape[axis] + s.int(1, 3)
  const shape = s.coin() ? [m] : [2, s.int(Math.ceil(m / 2), m)]
  return { x, axis, index: s.indices(shape, 0, x.shape[axis]) }
}

const label = (x: Tensor, axis: number, index: Tensor): string => `${shapesLabel(x)} along ${axis} by ${fmtShape(index.shape)}`

registerOps('indexing', 'primitive', {
  gather: {
    sample: (s) => {
      const { x, axis, index } = gatherCase(s)
      return { inputs: [x], fn: (t: Tensor) => gather(t, axis, index), label: label(x, axis, index) }
    },
  },
  scatterAdd: {
    sample: (s) => {
      const { x, axis, index } = gatherCase(s)
      // The scatter is into a tensor of x's shape from src of the (longer-on-axis) index shape.
      const into = s.values(x.shape)
      const src = s.values(index.shape.map((d) => d + (s.coin(0.3) ? 1 : 0)))
      return {
        inputs: [into, src],
        fn: (t: Tensor, u: Tensor) => scatterAdd(t, axis, index, u),
        label: `${label(into, axis, index)} from ${fmtShape(src.shape)}`,
      }
    },
  },
  indexSelect: {
    sample: (s) => {
      const { x, axis, index } = selectCase(s)
      return { inputs: [x], fn: (t: Tensor) => indexSelect(t, axis, index), label: label(x, axis, index) }
    },
  },
  indexAdd: {
    sample: (s) => {
      const { x, axis, index } = selectCase(s)
      const src = s.values(selectedShape(x, axis, index))
      return { inputs: [x, src], fn: (t: Tensor, u: Tensor) => indexAdd(t, axis, index, u), label: `${label(x, axis, index)} from ${fmtShape(src.shape)}` }
    },
  },
  oneHot: oneHotNoGrad,
})
