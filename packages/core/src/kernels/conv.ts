/**
 * Convolution kernels: im2col + GEMM. A 2-d convolution (a 1-d one is one of height 1) of
 * one sample and one group is one matrix product: the weights of the group, `[outC/groups,
 * inC/groups * kH * kW]`, times the input's columns, `[inC/groups * kH * kW, outH * outW]`,
 * whose column `p` holds the input values under the kernel at output position `p` (0 in the
 * padding). The same column layout gives the two other products of the backward pass: the
 * input gradient is the transposed product scattered back (col2im) and the weight gradient
 * the product of the output gradient with the columns' transpose, summed over the batch.
 *
 * Where each column entry comes from is one map of `kH * kW * outH * outW` int32 positions
 * inside one input channel (-1 in the padding), computed once per call by integer loops;
 * only the copies along the map touch the numbers. Those are written once per float dtype
 * (two distinct function literals, so V8 sees one array class in each; see `specialize.ts`).
 * @module
 */
import type { TensorData } from '../dtype.ts'
import { gemm } from './matmul.ts'

/** The float data a convolution reads and writes (int32 convolutions are refused by the op). */
type FloatData = Float32Array | Float64Array

/** Sizes of a 2-d convolution, all resolved (1-d convolutions have height 1). */
export interface ConvGeometry {
  /** Samples in the batch (N). */
  readonly batch: number
  /** Input channels (C). */
  readonly inChannels: number
  /** Input height and width. */
  readonly height: number
  /** See {@link ConvGeometry.height}. */
  readonly width: number
  /** Output channels (the weight's first dimension). */
  readonly outChannels: number
  /** Kernel height and width. */
  readonly kernelH: number
  /** See {@link ConvGeometry.kernelH}. */
  readonly kernelW: number
  /** Channel groups: inChannels and outChannels are both multiples of it. */
  readonly groups: number
  /** Strides. */
  readonly strideH: number
  /** See {@link ConvGeometry.strideH}. */
  readonly strideW: number
  /** Dilations (the distance between kernel taps). */
  readonly dilationH: number
  /** See {@link ConvGeometry.dilationH}. */
  readonly dilationW: number
  /** Zeros before the first row and column (the padding after them only changes outH, outW). */
  readonly padTop: number
  /** See {@link ConvGeometry.padTop}. */
  readonly padLeft: number
  /** Output height and width. */
  readonly outH: number
  /** See {@link ConvGeometry.outH}. */
  readonly outW: number
}

/** A geometry's derived sizes: per group channels, one column's length, positions per plane. */
interface Blocks {
  /** Input channels per group. */
  readonly cg: number
  /** Output channels per group. */
  readonly og: number
  /** Kernel taps per channel (kH * kW). */
  readonly taps: number
  /** Rows of a column matrix (cg * taps): the length of one weight row. */
  readonly rows: number
  /** Output positions per plane (outH * outW). */
  readonly positions: number
  /** Elements of one input plane (H * W). */
  readonly plane: number
  /** Whether the columns are the input itself (1x1 kernel, stride 1, no padding). */
  readonly identity: boolean
}

function blocksOf(g: ConvGeometry): Blocks {
  const taps = g.kernelH * g.kernelW
  const cg = g.inChannels / g.groups
  const identity = taps === 1 && g.strideH === 1 && g.strideW === 1 && g.padTop === 0 && g.padLeft === 0 && g.outH === g.height && g.outW === g.width
  return { cg, og: g.outChannels / g.groups, taps, rows: cg * taps, positions: g.outH * g.outW, plane: g.height * g.width, identity }
}

/**
 * The im2col map: entry `tap * positions + p` is the position inside one input plane that
 * kernel tap `tap` (row-major over kH, kW) reads at output position `p`, or -1 in the padding.
 */
function convIndexMap(g: ConvGeometry): Int32Array {
  const positions = g.outH * g.outW
  const map = new Int32Array(g.kernelH * g.kernelW * positions)
  let j = 0
  for (let kh = 0; kh < g.kernelH; kh++) {
    for (let kw = 0; kw < g.kernelW; kw++) {
      for (let oh = 0; oh < g.outH; oh++) {
        const ih = oh * g.strideH - g.padTop + kh * g.dilationH
        const rowInside = ih >= 0 && ih < g.height
        for (let ow = 0; ow < g.outW; ow++) {
          const iw = ow * g.strideW - g.padLeft + kw * g.dilationW
          map[j++] = rowInside && iw >= 0 && iw < g.width ? ih * g.width + iw : -1
        }
      }
    }
  }
  return map
}

// The copies along the map, once per float dtype (identical bodies, distinct literals).

function im2col64(x: Float64Array, xOffset: number, map: Int32Array, channels: number, plane: number, col: Float64Array): void {
  const n = map.length
  for (let c = 0; c < channels; c++) {
    const base = xOffset + c * plane
    const out = c * n
    for (let j = 0; j < n; j++) {
      const m = map[j]
      col[out + j] = m < 0 ? 0 : x[base + m]
    }
  }
}

function im2col32(x: Float32Array, xOffset: number, map: Int32Array, channels: number, plane: number, col: Float32Array): void {
  const n = map.length
  for (let c = 0; c < channels; c++) {
    const base = xOffset + c * plane
    const out = c * n
    for (let j = 0; j < n; j++) {
      const m = map[j]
      col[out + j] = m < 0 ? 0 : x[base + m]
    }
  }
}

function col2imAdd64(col: Float64Array, map: Int32Array, channels: number, plane: number, dx: Float64Array, dxOffset: number): void {
  const n = map.length
  for (let c = 0; c < channels; c++) {
    const base = dxOffset + c * plane
    const from = c * n
    for (let j = 0; j < n; j++) {
      const m = map[j]
      if (m >= 0) dx[base + m] += col[from + j]
    }
  }
}

function col2imAdd32(col: Float32Array, map: Int32Array, channels: number, plane: number, dx: Float32Array, dxOffset: number): void {
  const n = map.length
  for (let c = 0; c < channels; c++) {
    const base = dxOffset + c * plane
    const from = c * n
    for (let j = 0; j < n; j++) {
      const m = map[j]
      if (m >= 0) dx[base + m] += col[from + j]
    }
  }
}

function accumulate64(acc: Float64Array, at: number, part: Float64Array): void {
  for (let i = 0; i < part.length; i++) acc[at + i] += part[i]
}

function accumulate32(acc: Float64Array, at: number, part: Float32Array): void {
  for (let i = 0; i < part.length; i++) acc[at + i] += part[i]
}

/** Fills `col` with the columns of the input block at `xOffset` (cg channels). */
function im2col(x: FloatData, xOffset: number, map: Int32Array, b: Blocks, col: FloatData): void {
  if (x instanceof Float64Array) im2col64(x, xOffset, map, b.cg, b.plane, col as Float64Array)
  else im2col32(x, xOffset, map, b.cg, b.plane, col as Float32Array)
}

/** Adds the columns `col` back into the input-shaped block of `dx` at `dxOffset`. */
function col2imAdd(col: FloatData, map: Int32Array, b: Blocks, dx: FloatData, dxOffset: number): void {
  if (dx instanceof Float64Array) col2imAdd64(col as Float64Array, map, b.cg, b.plane, dx, dxOffset)
  else col2imAdd32(col as Float32Array, map, b.cg, b.plane, dx as Float32Array, dxOffset)
}

/** A scratch column matrix of the data's dtype. */
function columns(like: TensorData, size: number): FloatData {
  return like instanceof Float64Array ? new Float64Array(size) : new Float32Array(size)
}

/**
 * The forward convolution: `out` `[N, outC, outH, outW]` from `x` `[N, inC, H, W]` and `w`
 * `[outC, inC/groups, kH, kW]`, all of one float dtype, row-major. `out` is overwritten.
 */
export function convForward(x: FloatData, w: FloatData, out: FloatData, g: ConvGeometry): void {
  if (g.batch === 0 || g.outChannels === 0) return
  const b = blocksOf(g)
  const map = b.identity ? null : convIndexMap(g)
  const col = map === null ? null : columns(x, b.rows * b.positions)
  for (let n = 0; n < g.batch; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xOffset = (n * g.inChannels + grp * b.cg) * b.plane
      const outOffset = (n * g.outChannels + grp * b.og) * b.positions
      if (map === null || col === null) {
        gemm(w, grp * b.og * b.rows, false, x, xOffset, false, out, outOffset, b.og, b.positions, b.rows)
      } else {
        im2col(x, xOffset, map, b, col)
        gemm(w, grp * b.og * b.rows, false, col, 0, false, out, outOffset, b.og, b.positions, b.rows)
      }
    }
  }
}

/**
 * The input gradient (a transposed convolution): `dx` `[N, inC, H, W]` from the output
 * gradient `gy` `[N, outC, outH, outW]` and `w`. `dx` must start zeroed.
 */
export function convInputGrad(gy: FloatData, w: FloatData, dx: FloatData, g: ConvGeometry): void {
  if (g.batch === 0 || g.outChannels === 0) return
  const b = blocksOf(g)
  const map = b.identity ? null : convIndexMap(g)
  const col = map === null ? null : columns(dx, b.rows * b.positions)
  for (let n = 0; n < g.batch; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xOffset = (n * g.inChannels + grp * b.cg) * b.plane
      const gOffset = (n * g.outChannels + grp * b.og) * b.positions
      // W_g^T [rows, og] @ gy_g [og, positions]: the columns' gradient (each block of dx is written by one (n, group)).
      if (map === null || col === null) {
        gemm(w, grp * b.og * b.rows, true, gy, gOffset, false, dx, xOffset, b.rows, b.positions, b.og)
      } else {
        gemm(w, grp * b.og * b.rows, true, gy, gOffset, false, col, 0, b.rows, b.positions, b.og)
        col2imAdd(col, map, b, dx, xOffset)
      }
    }
  }
}

/**
 * The weight gradient: `dw` `[outC, inC/groups, kH, kW]` from `x` and the output gradient
 * `gy`: one product per sample and group, summed over the batch in float64. `dw` is overwritten.
 */
export function convWeightGrad(x: FloatData, gy: FloatData, dw: FloatData, g: ConvGeometry): void {
  if (g.batch === 0 || g.outChannels === 0) return
  const b = blocksOf(g)
  const map = b.identity ? null : convIndexMap(g)
  const col = map === null ? null : columns(x, b.rows * b.positions)
  const acc = new Float64Array(g.outChannels * b.rows)
  // Each sample's product in the data's dtype (float32 products run on the float32 GEMM), summed in float64.
  const part = columns(x, b.og * b.rows)
  for (let n = 0; n < g.batch; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xOffset = (n * g.inChannels + grp * b.cg) * b.plane
      const gOffset = (n * g.outChannels + grp * b.og) * b.positions
      // gy_g [og, positions] @ col^T [positions, rows].
      if (map === null || col === null) {
        gemm(gy, gOffset, false, x, xOffset, true, part, 0, b.og, b.rows, b.positions)
      } else {
        im2col(x, xOffset, map, b, col)
        gemm(gy, gOffset, false, col, 0, true, part, 0, b.og, b.rows, b.positions)
      }
      if (part instanceof Float64Array) accumulate64(acc, grp * b.og * b.rows, part)
      else accumulate32(acc, grp * b.og * b.rows, part)
    }
  }
  dw.set(acc)
}
