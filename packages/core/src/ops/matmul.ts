/**
 * Matrix products: `matmul` with NumPy/PyTorch semantics (vectors, batches, broadcasting),
 * `dot` and `outer`.
 *
 * Everything goes through one primitive that multiplies batches of matrices with optional
 * transpose flags on either side. Its VJP is expressed with the same primitive, so
 * `g @ B^T` reaches the GEMM kernel as a transposed read instead of a materialised
 * transpose, and second derivatives come for free.
 * @module
 */
import { allocate, fitsInt32, promote } from '../dtype.ts'
import { noGradient } from '../autodiff/no-gradient.ts'
import { makeOutput } from '../autodiff/recording.ts'
import { gemm } from '../kernels/matmul.ts'
import { ArgumentError, DTypeError, ShapeError, fmtShape } from '../errors.ts'
import { MAX_ELEMENTS, broadcastStrides, checkShape, sizeOf } from '../shape.ts'
import type { Tensor } from '../tensor.ts'
import { mul } from './binary.ts'
import { sumToShape } from './broadcast.ts'
import { astype } from './cast.ts'
import { reshape } from './reshape.ts'
import { type GradCase, registerOps } from './registry.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { checkTensor } from './util.ts'

/** Rows and columns of the matrix a rank >= 2 tensor stands for, after the optional transpose. */
function matrixDims(x: Tensor, trans: boolean): [number, number] {
  const r = x.shape[x.rank - 2]
  const c = x.shape[x.rank - 1]
  return trans ? [c, r] : [r, c]
}

/** Calls `visit(aOffset, bOffset, outIndex)` for every matrix of the broadcast batch. */
function forEachBatch(
  batchA: readonly number[],
  batchB: readonly number[],
  batch: readonly number[],
  visit: (ia: number, ib: number, io: number) => void,
): void {
  const sa = broadcastStrides(batchA, batch)
  const sb = broadcastStrides(batchB, batch)
  const count = sizeOf(batch)
  const idx = new Array<number>(batch.length).fill(0)
  let ia = 0
  let ib = 0
  for (let io = 0; io < count; io++) {
    visit(ia, ib, io)
    for (let d = batch.length - 1; d >= 0; d--) {
      idx[d]++
      ia += sa[d]
      ib += sb[d]
      if (idx[d] < batch[d]) break
      ia -= sa[d] * batch[d]
      ib -= sb[d] * batch[d]
      idx[d] = 0
    }
  }
}

/**
 * @internal The primitive: `op(a) @ op(b)` over broadcast batch dimensions, where op
 * transposes the last two dimensions when its flag is set, without copying the transpose:
 * `matmulT(x, w, false, true)` is `x @ w^T` read straight from `w`. Both operands need
 * rank >= 2; mixed dtypes are promoted.
 */
export function matmulT(x: Tensor, y: Tensor, transA: boolean, transB: boolean): Tensor {
  if (x.rank < 2 || y.rank < 2) throw new ShapeError(`matmul: transposed operands need rank >= 2, got ${fmtShape(x.shape)} and ${fmtShape(y.shape)}`)
  const dtype = promote(x.dtype, y.dtype)
  if (dtype === 'int32') return int32Product(x, y, transA, transB)
  const a = astype(x, dtype)
  const b = astype(y, dtype)
  const [M, K] = matrixDims(a, transA)
  const [K2, N] = matrixDims(b, transB)
  if (K !== K2)
    throw new ShapeError(
      `matmul: inner dimensions ${K} and ${K2} differ (${fmtShape(a.shape)}${transA ? '^T' : ''} by ${fmtShape(b.shape)}${transB ? '^T' : ''})`,
    )
  const batchA = a.shape.slice(0, -2)
  const batchB = b.shape.slice(0, -2)
  const batch = batchShape(a, b, batchA, batchB)
  const shape = [...batch, M, N]
  // The message is built only for a result past the cap, not on every product.
  if (sizeOf(shape) > MAX_ELEMENTS) checkShape(shape, `matmul: ${fmtShape(a.shape)}${transA ? '^T' : ''} by ${fmtShape(b.shape)}${transB ? '^T' : ''}`)
  const out = allocate(a.dtype, sizeOf(shape))
  if (sizeOf(batchB) === 1 && sizeOf(batchA) === sizeOf(batch) && !transA) {
    // One shared right matrix: the left batch is one tall matrix, a single GEMM.
    gemm(a._data, 0, false, b._data, 0, transB, out, 0, sizeOf(batch) * M, N, K)
  } else {
    forEachBatch(batchA, batchB, batch, (ia, ib, io) => gemm(a._data, ia * M * K, transA, b._data, ib * K * N, transB, out, io * M * N, M, N, K))
  }
  return makeOutput('matmul', [a, b], out, shape, (g, needs) => [
    needs[0] ? sumToShape(transA ? matmulT(b, g, transB, true) : matmulT(g, b, false, !transB), a.shape) : null,
    needs[1] ? rightCotangent(g, a, b, transA, transB) : null,
  ])
}

/**
 * An int32 product, computed in float64 and checked on the way back: stored in an int32
 * output, an entry past int32's range would wrap modulo 2^32 without a word. (The float64
 * sums are exact while every partial sum stays below 2^53.) No gradient: int32 has none.
 */
function int32Product(x: Tensor, y: Tensor, transA: boolean, transB: boolean): Tensor {
  const wide = matmulT(astype(x, 'float64'), astype(y, 'float64'), transA, transB)
  const out = new Int32Array(wide.size)
  for (let i = 0; i < out.length; i++) {
    const v = wide._data[i]
    if (!fitsInt32(v)) {
      throw new DTypeError(
        `matmul: the int32 product of ${fmtShape(x.shape)}${transA ? '^T' : ''} by ${fmtShape(y.shape)}${transB ? '^T' : ''} has an entry ${v} that does not fit int32; cast to float64 first (astype)`,
      )
    }
    out[i] = v
  }
  return makeOutput('matmul', [x, y], out, wide.shape, int32NoGrad)
}

const int32NoGrad = noGradient('an int32 product has no gradient')

/**
 * The cotangent of the right operand. When it is one matrix shared by a batch of left
 * matrices, the sum over the batch is a single product of the flattened batch.
 */
function rightCotangent(g: Tensor, a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  if (b.rank === 2 && a.rank > 2 && !transA) {
    const rows = sizeOf(a.shape.slice(0, -1))
    const af = reshape(a, [rows, a.shape[a.rank - 1]])
    const gf = reshape(g, [rows, g.shape[g.rank - 1]])
    return transB ? matmulT(gf, af, true, false) : matmulT(af, gf, true, false)
  }
  return sumToShape(transB ? matmulT(g, a, true, transA) : matmulT(a, g, !transA, false), b.shape)
}

function batchShape(a: Tensor, b: Tensor, batchA: readonly number[], batchB: readonly number[]): number[] {
  const n = Math.max(batchA.length, batchB.length)
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const da = batchA[batchA.length - n + i] ?? 1
    const db = batchB[batchB.length - n + i] ?? 1
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(
        `matmul: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)}: batch dimensions ${fmtShape(batchA)} and ${fmtShape(batchB)} do not broadcast`,
      )
    }
    out[i] = da === 1 ? db : da
  }
  return out
}

/**
 * Matrix product with NumPy/PyTorch semantics (`torch.matmul`, Python's `@`):
 * - two vectors give their inner product (a scalar);
 * - a vector on the left is a row ([K] as [1,K]) and one on the right a column ([K] as [K,1]),
 *   the added dimension being removed from the result;
 * - tensors of rank >= 2 are stacks of matrices in their last two dimensions, and the
 *   leading (batch) dimensions broadcast: [2,1,3,4] @ [5,4,6] is [2,5,3,6].
 *
 * Mixed dtypes are promoted as for binary ops; int32 products stay int32 (an entry past
 * int32's range is refused with a DTypeError rather than wrapped). Sums are
 * accumulated in float64, except float32 products on the default (WebAssembly SIMD) GEMM,
 * which accumulate in float32 as PyTorch does; see `setGemmBackend` in `@graphgrad/core/internal`.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor(a, 'matmul', 'a')
  checkTensor(b, 'matmul', 'b')
  const what = `matmul: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)}`
  if (a.rank === 0 || b.rank === 0) throw new ShapeError(`${what}: both operands need at least one dimension (use mul for scalars)`)
  const ka = a.shape[a.rank - 1]
  const kb = b.shape[b.rank === 1 ? 0 : b.rank - 2]
  if (ka !== kb) throw new ShapeError(`${what}: inner dimensions ${ka} and ${kb} differ`)
  const dtype = promote(a.dtype, b.dtype)
  const x = a.rank === 1 ? reshape(astype(a, dtype), [1, ka]) : astype(a, dtype)
  const y = b.rank === 1 ? reshape(astype(b, dtype), [kb, 1]) : astype(b, dtype)
  const out = matmulT(x, y, false, false)
  if (a.rank > 1 && b.rank > 1) return out
  const shape = out.shape.slice(0, -2)
  if (a.rank > 1) shape.push(out.shape[out.rank - 2])
  if (b.rank > 1) shape.push(out.shape[out.rank - 1])
  return reshape(out, shape)
}

function requireVector(op: string, a: Tensor, b: Tensor): void {
  checkTensor(a, op, 'a')
  checkTensor(b, op, 'b')
  if (a.rank !== 1 || b.rank !== 1) throw new ArgumentError(`${op}: expects two 1-D tensors, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`)
}

/** Inner product of two vectors of the same length (a scalar), as `torch.dot`. */
export function dot(a: Tensor, b: Tensor): Tensor {
  requireVector('dot', a, b)
  if (a.size !== b.size) throw new ShapeError(`dot: cannot multiply ${fmtShape(a.shape)} by ${fmtShape(b.shape)}: lengths ${a.size} and ${b.size} differ`)
  return matmul(a, b)
}

/** Outer product of two vectors: `outer(a, b)[i, j] = a[i] * b[j]`, as `torch.outer`. */
export function outer(a: Tensor, b: Tensor): Tensor {
  requireVector('outer', a, b)
  return mul(reshape(a, [a.size, 1]), reshape(b, [1, b.size]))
}

/** Draws a matmul case: vectors, matrices, batches, broadcast batches, or transpose flags. */
function sampleMatmul(s: CaseSampler): GradCase {
  const [M, K, N] = [s.int(1, 4), s.int(1, 4), s.int(1, 4)]
  const kind = s.pick(['vv', 'vm', 'mv', 'mm', 'batched', 'broadcast', 'flags'] as const)
  if (kind === 'flags') {
    const [ta, tb] = [s.coin(), s.coin()]
    const [ba, bb] = s.broadcastPair({ maxRank: 2, maxDim: 3 })
    const a = s.values([...ba, ...(ta ? [K, M] : [M, K])])
    const b = s.values([...bb, ...(tb ? [N, K] : [K, N])])
    const label = `${fmtShape(a.shape)}${ta ? '^T' : ''} x ${fmtShape(b.shape)}${tb ? '^T' : ''}`
    return { inputs: [a, b], fn: (x: Tensor, z: Tensor) => matmulT(x, z, ta, tb), label }
  }
  const batch = kind === 'batched' ? s.shape({ minRank: 1, maxRank: 2, maxDim: 3 }) : []
  const [ba, bb] = kind === 'broadcast' ? s.broadcastPair({ minRank: 1, maxRank: 3, maxDim: 3 }) : [batch, batch]
  const a = s.values(kind === 'vv' || kind === 'vm' ? [K] : [...ba, M, K])
  const b = s.values(kind === 'vv' || kind === 'mv' ? [K] : [...bb, K, N])
  return { inputs: [a, b], fn: matmul, label: shapesLabel(a, b) }
}

registerOps('matmul', 'primitive', {
  matmul: { sample: sampleMatmul },
})
registerOps('matmul', 'composite', {
  dot: {
    sample: (s) => {
      const n = s.int(1, 6)
      const a = s.values([n])
      const b = s.values([n])
      return { inputs: [a, b], fn: dot, label: shapesLabel(a, b) }
    },
  },
  outer: {
    sample: (s) => {
      const a = s.values([s.int(1, 5)])
      const b = s.values([s.int(1, 5)])
      return { inputs: [a, b], fn: outer, label: shapesLabel(a, b) }
    },
  },
})
