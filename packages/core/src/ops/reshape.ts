/**
 * Ops that rearrange elements without changing them: reshape (a view, no copy, since
 * tensors never change), squeeze/unsqueeze/flatten (reshapes), and permute/transpose (copies).
 * @module
 */
import { allocate } from '../dtype.ts'
import { makeOutput } from '../autodiff/recording.ts'
import { stridedCopy } from '../kernels/elementwise.ts'
import { ArgumentError, ShapeError, fmtShape } from '../errors.ts'
import { checkShape, normAxis, sizeOf, stridesOf } from '../shape.ts'
import type { Tensor } from '../tensor.ts'
import { registerOps } from './registry.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { checkTensor } from './util.ts'

/** The same elements in a new shape; one size may be -1 (inferred). Shares storage. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, 'reshape')
  const target = shape.slice()
  let infer = -1
  for (let i = 0; i < target.length; i++) {
    const d = target[i]
    if (d === -1 && infer < 0) infer = i
    else if (!Number.isInteger(d) || d < 0) throw new ArgumentError(`reshape: invalid size ${d} in ${fmtShape(shape)}`)
  }
  if (infer >= 0) {
    const rest = sizeOf(target.filter((_, i) => i !== infer))
    if (rest === 0 || x.size % rest !== 0) throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`)
    target[infer] = x.size / rest
  }
  if (sizeOf(target) !== x.size)
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)} (${sizeOf(target)} elements)`)
  // An empty tensor reshapes to any shape with a zero in it, [1e20, 0] included: keep the cap.
  checkShape(target, 'reshape')
  const from = x.shape
  return makeOutput('reshape', [x], x._data, target, (g) => [reshape(g, from)])
}

/** Merges dimensions `startDim..endDim` (inclusive) into one, as PyTorch's flatten. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor(x, 'flatten')
  if (x.rank === 0) return reshape(x, [1])
  const s = normAxis('flatten', startDim, x.rank)
  const e = normAxis('flatten', endDim, x.rank)
  if (s > e) throw new ArgumentError(`flatten: startDim ${startDim} comes after endDim ${endDim}`)
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)])
}

/** Removes size-1 dimensions: all of them, or the given ones (which must have size 1). */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  checkTensor(x, 'squeeze')
  if (x.rank === 0) {
    if (axis !== undefined) for (const a of typeof axis === 'number' ? [axis] : axis) normAxis('squeeze', a, 0)
    return x
  }
  if (axis === undefined)
    return reshape(
      x,
      x.shape.filter((d) => d !== 1),
    )
  const axes = (typeof axis === 'number' ? [axis] : axis).map((a) => normAxis('squeeze', a, x.rank))
  for (const a of axes) if (x.shape[a] !== 1) throw new ShapeError(`squeeze: dimension ${a} of ${fmtShape(x.shape)} has size ${x.shape[a]}, not 1`)
  return reshape(
    x,
    x.shape.filter((_, i) => !axes.includes(i)),
  )
}

/** Inserts a size-1 dimension at `axis` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor(x, 'unsqueeze')
  const a = normAxis('unsqueeze', axis, x.rank + 1)
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)])
}

/** Reorders dimensions: result dimension i is input dimension `dims[i]`. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor(x, 'permute')
  if (dims.length !== x.rank) throw new ArgumentError(`permute: ${dims.length} dims given for a tensor of rank ${x.rank} (${fmtShape(x.shape)})`)
  const perm = dims.map((d) => normAxis('permute', d, x.rank))
  if (new Set(perm).size !== perm.length) throw new ArgumentError(`permute: dims ${fmtShape(dims)} repeat a dimension`)
  if (perm.every((d, i) => d === i)) return x
  const strides = stridesOf(x.shape)
  const shape = perm.map((d) => x.shape[d])
  const out = allocate(x.dtype, x.size)
  stridedCopy(
    x._data,
    0,
    perm.map((d) => strides[d]),
    shape,
    out,
  )
  const inverse = new Array<number>(perm.length)
  perm.forEach((d, i) => (inverse[d] = i))
  return makeOutput('permute', [x], out, shape, (g) => [permute(g, inverse)], { perm })
}

/** Swaps two dimensions (by default the last two: the matrix transpose). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  checkTensor(x, 'transpose')
  if (x.rank < 2 && dim0 === -2 && dim1 === -1) return x
  const a = normAxis('transpose', dim0, x.rank)
  const b = normAxis('transpose', dim1, x.rank)
  const perm = x.shape.map((_, i) => (i === a ? b : i === b ? a : i))
  return permute(x, perm)
}

function shuffled(s: CaseSampler, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i)
  for (let i = n - 1; i > 0; i--) {
    const j = s.int(0, i)
    ;[p[i], p[j]] = [p[j], p[i]]
  }
  return p
}

registerOps('reshape', 'primitive', {
  reshape: {
    sample: (s) => {
      const x = s.values(s.shape())
      const target = s.coin() ? [x.size] : [...x.shape].reverse()
      return { inputs: [x], fn: (t: Tensor) => reshape(t, target), label: `${shapesLabel(x)} -> ${fmtShape(target)}` }
    },
  },
  permute: {
    sample: (s) => {
      const x = s.values(s.shape({ minRank: 1, maxRank: 4 }))
      const perm = shuffled(s, x.rank)
      return { inputs: [x], fn: (t: Tensor) => permute(t, perm), label: `${shapesLabel(x)} by ${fmtShape(perm)}` }
    },
  },
})
registerOps('reshape', 'composite', {
  flatten: {
    sample: (s) => {
      const x = s.values(s.shape({ minRank: 1 }))
      return { inputs: [x], fn: (t: Tensor) => flatten(t), label: shapesLabel(x) }
    },
  },
  squeeze: {
    sample: (s) => {
      const x = s.values(s.shape({ minDim: 1, maxDim: 2 }))
      return { inputs: [x], fn: (t: Tensor) => squeeze(t), label: shapesLabel(x) }
    },
  },
  unsqueeze: {
    sample: (s) => {
      const x = s.values(s.shape())
      const a = s.int(-x.rank - 1, x.rank)
      return { inputs: [x], fn: (t: Tensor) => unsqueeze(t, a), label: `${shapesLabel(x)} at ${a}` }
    },
  },
  transpose: {
    sample: (s) => {
      const x = s.values(s.shape({ minRank: 2 }))
      return { inputs: [x], fn: (t: Tensor) => transpose(t), label: shapesLabel(x) }
    },
  },
})
