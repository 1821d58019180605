/**
 * Convolution and pooling as ONNX nodes: `conv2d` (and `conv1d`, recorded as a `conv2d` of
 * height 1) as `Conv`; a max pool's window indices (`maxPoolIndex`, which the max pool then
 * gathers) from `MaxPool`'s `Indices` output; the sliding average pools as `AveragePool`, and
 * the adaptive ones (and a `ceilMode` average, whose partial windows `AveragePool` divides
 * differently, and a float64 one, which ONNX Runtime's `AveragePool` has no kernel for) as the products `R X Cᵀ` of the per-axis window matrices they are.
 * @module
 */
import type { Tensor } from '@graphgrad/core'
import { type GraphBuilder, isDynamic, onnxType } from './builder.ts'
import type { OpCall, OpMapping } from './ops.ts'
import { ONNX_TYPE } from './proto.ts'

function numbers(c: OpCall, name: string): readonly number[] {
  const v = c.attributes[name]
  if (!Array.isArray(v)) throw new Error(`${c.op}: the graph node has no '${name}' attribute (recorded by an older @graphgrad/core?)`)
  return v as readonly number[]
}

/**
 * The end padding that gives a window count of `out` under ONNX's floor rule, for windows
 * starting at `o * stride - padBefore` (the rows past the last window are simply not read).
 */
function endPad(size: number, out: number, span: number, stride: number, padBefore: number): number {
  return Math.max(0, (out - 1) * stride + span - size - padBefore)
}

/** Refuses a pooling or convolution whose spatial axes (the last `n`) move with a dynamic axis, unless `ok`. */
function staticSpatial(c: OpCall, t: Tensor, n: number, what: string): void {
  if (
    c
      .dims(t)
      .slice(t.rank - n)
      .some(isDynamic)
  )
    throw new Error(`${c.op}: ${what} along a dynamic axis is not exported (leave the spatial axes fixed)`)
}

const conv2d: OpMapping = (g, c) => {
  const [x, w] = c.inputTensors
  const stride = numbers(c, 'stride')
  const dilation = numbers(c, 'dilation')
  const padding = numbers(c, 'padding')
  const groups = c.attributes.groups as number
  const kernel = w.shape.slice(2)
  const out = c.outputs[0].shape.slice(2)
  if (stride.some((s) => s !== 1)) staticSpatial(c, x, 2, 'a strided convolution')
  const ends = kernel.map((k, i) => endPad(x.shape[2 + i], out[i], dilation[i] * (k - 1) + 1, stride[i], padding[i]))
  const attributes = {
    kernel_shape: { ints: kernel },
    strides: { ints: stride },
    dilations: { ints: dilation },
    pads: { ints: [...padding, ...ends] },
    group: { int: groups },
  }
  return [g.op('Conv', c.inputs, attributes)]
}

/** The pooling's input as `[planes, 1, H, W]` (a 1-d pooling has H = 1): the layout ONNX's pools take. */
function asPlanes(g: GraphBuilder, c: OpCall): { planes: string; size: readonly number[] } {
  const size = numbers(c, 'inputSize')
  const x = c.inputTensors[0]
  staticSpatial(c, x, size[0] === 1 ? 1 : 2, 'pooling')
  return { planes: g.op('Reshape', [c.inputs[0], g.int64s([-1, 1, size[0], size[1]])]), size }
}

/** The ONNX pads of a sliding window: PyTorch's padding before, and what keeps ONNX's floor count at graphgrad's after. */
function windowPads(c: OpCall, size: readonly number[]): number[] {
  const [kernel, stride, padding, dilation, out] = ['kernel', 'stride', 'padding', 'dilation', 'outSize'].map((n) => numbers(c, n))
  return [...padding, ...[0, 1].map((i) => endPad(size[i], out[i], dilation[i] * (kernel[i] - 1) + 1, stride[i], padding[i]))]
}

const maxPoolIndex: OpMapping = (g, c) => {
  const { planes, size } = asPlanes(g, c)
  const attributes = {
    kernel_shape: { ints: numbers(c, 'kernel') },
    strides: { ints: numbers(c, 'stride') },
    dilations: { ints: numbers(c, 'dilation') },
    pads: { ints: windowPads(c, size) },
  }
  // MaxPool's indices count over the whole [planes, 1, H, W] tensor; graphgrad's within a plane.
  const [, indices] = g.node('MaxPool', [planes], attributes, 2)
  const local = g.op('Mod', [indices, g.int64s([size[0] * size[1]])])
  return [g.op('Cast', [g.op('Reshape', [local, g.int64s([-1, c.outputs[0].shape[1]])])], { to: { int: ONNX_TYPE.INT32 } })]
}

/** One axis' window matrix `[out, size]`: row o averages its window (1 / divisor over [lo, hi)), transposed when `columns`. */
function windowMatrix(g: GraphBuilder, dtype: Tensor['dtype'], triples: readonly number[], size: number, columns: boolean): string {
  const out = triples.length / 3
  const data = dtype === 'float64' ? new Float64Array(out * size) : new Float32Array(out * size)
  for (let o = 0; o < out; o++) {
    const [lo, hi, divisor] = triples.slice(3 * o, 3 * o + 3)
    for (let i = lo; i < hi; i++) data[columns ? i * out + o : o * size + i] = 1 / divisor
  }
  return g.tensor('pool_windows', onnxType(dtype), columns ? [size, out] : [out, size], new Uint8Array(data.buffer))
}

const avgPool: OpMapping = (g, c) => {
  const { planes, size } = asPlanes(g, c)
  const y = c.outputs[0]
  let pooled: string
  // ONNX Runtime's AveragePool has no float64 kernel; the window matrices' product does the same in any float dtype.
  if (c.attributes.adaptive !== true && c.attributes.ceilMode !== true && y.dtype !== 'float64') {
    const attributes = {
      kernel_shape: { ints: numbers(c, 'kernel') },
      strides: { ints: numbers(c, 'stride') },
      pads: { ints: windowPads(c, size) },
      count_include_pad: { int: c.attributes.countIncludePad === true ? 1 : 0 },
    }
    pooled = g.op('AveragePool', [planes], attributes)
  } else {
    const rows = windowMatrix(g, y.dtype, numbers(c, 'rows'), size[0], false)
    const cols = windowMatrix(g, y.dtype, numbers(c, 'cols'), size[1], true)
    pooled = g.op('MatMul', [rows, g.op('MatMul', [planes, cols])])
  }
  return [g.op('Reshape', [pooled, g.shape(c.dims(y), true)])]
}

/** The convolution and pooling mappings, by graphgrad op name. */
export const CONV_POOL_MAPPINGS: Readonly<Record<string, OpMapping>> = {
  conv2d,
  maxPoolIndex,
  avgPool1d: avgPool,
  avgPool2d: avgPool,
  adaptiveAvgPool1d: avgPool,
  adaptiveAvgPool2d: avgPool,
}
