/**
 * Convolutions, as `torch.nn.functional.conv1d` and `conv2d`: strides, zero padding (also
 * PyTorch's `'same'` and `'valid'`), dilation and groups. A 1-d convolution is a 2-d one of
 * height 1.
 *
 * Three primitives, closed under differentiation as in PyTorch's derivatives.yaml: the
 * convolution, its input gradient (a transposed convolution) and its weight gradient. Each
 * is bilinear in its two tensors, so each one's VJP is made of the other two, and gradients
 * of every order stay inside these three kernels (im2col + GEMM, `kernels/conv.ts`).
 * @module
 */
import { allocate, promote } from '../dtype.ts'
import { makeOutput } from '../autodiff/recording.ts'
import { type ConvGeometry, convForward, convInputGrad, convWeightGrad } from '../kernels/conv.ts'
import { checkOptionKeys } from '../messages.ts'
import { ArgumentError, ShapeError, fmtShape } from '../errors.ts'
import { checkShape, sizeOf } from '../shape.ts'
import type { Tensor } from '../tensor.ts'
import { add } from './binary.ts'
import { astype } from './cast.ts'
import { reshape } from './reshape.ts'
import { registerOps } from './registry.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { checkTensor } from './util.ts'
import { type SizeArg, batchedInput, fmtSizes, requireFloat, sizesOf, windowCount } from './window-args.ts'

export type { SizeArg } from './window-args.ts'

/** Options of {@link conv1d} and {@link conv2d}: `torch.nn.functional.conv2d`'s, in camelCase. */
export interface ConvOptions<D extends 1 | 2> {
  /** Step between output positions (default 1): a number for every dimension, or one per dimension. */
  stride?: SizeArg<D>
  /**
   * Zeros added on both sides of each spatial dimension (default 0); `'valid'` is 0 and
   * `'same'` pads so that the output has the input's size (stride 1 only, as PyTorch; an odd
   * total padding puts the extra zero after, as PyTorch).
   */
  padding?: SizeArg<D> | 'same' | 'valid'
  /** Distance between kernel taps (default 1). */
  dilation?: SizeArg<D>
  /** Channel groups (default 1): input and output channels both split into this many groups, each convolved with its own weights. */
  groups?: number
}

/** Options of {@link conv1d}. */
export type Conv1dOptions = ConvOptions<1>
/** Options of {@link conv2d}. */
export type Conv2dOptions = ConvOptions<2>

const OPTION_KEYS = ['stride', 'padding', 'dilation', 'groups']

/** The padding before and after each dimension. */
function paddingOf(op: string, padding: unknown, dims: 1 | 2, stride: number[], dilation: number[], kernel: number[]): [number[], number[]] {
  if (padding === 'valid') return [new Array<number>(dims).fill(0), new Array<number>(dims).fill(0)]
  if (padding === 'same') {
    if (stride.some((s) => s !== 1)) throw new ArgumentError(`${op}: padding 'same' needs stride 1 (as PyTorch), got stride ${fmtSizes(stride)}`)
    const total = kernel.map((k, i) => dilation[i] * (k - 1))
    const before = total.map((t) => Math.floor(t / 2))
    return [before, total.map((t, i) => t - before[i])]
  }
  if (typeof padding === 'string')
    throw new ArgumentError(`${op}: padding must be a non-negative integer${dims === 2 ? ' or a pair of them' : ''}, 'same' or 'valid', got '${padding}'`)
  const p = sizesOf(op, 'padding', padding, dims, 0, new Array<number>(dims).fill(0))
  return [p, p]
}

/**
 * Checks the operands and options of a convolution with `dims` spatial dimensions and
 * resolves its geometry (in 2-d; a 1-d convolution gets height 1).
 */
function resolve(op: string, x: Tensor, w: Tensor, options: ConvOptions<1 | 2>, dims: 1 | 2): ConvGeometry {
  checkTensor(w, op, 'weight')
  requireFloat(op, 'weight', w)
  const layout = dims === 1 ? '[outChannels, inChannels/groups, kL]' : '[outChannels, inChannels/groups, kH, kW]'
  if (w.rank !== dims + 2) throw new ShapeError(`${op}: weight must be ${dims + 2}-d ${layout}, got shape ${fmtShape(w.shape)}`)
  checkOptionKeys(options, OPTION_KEYS, op)
  const groups = options.groups ?? 1
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1)
    throw new ArgumentError(`${op}: groups must be a positive integer, got ${String(groups)}`)
  const [outC, cg] = w.shape
  const kernel = w.shape.slice(2)
  const spatial = x.shape.slice(2)
  if (outC % groups !== 0) throw new ShapeError(`${op}: weight ${fmtShape(w.shape)} has ${outC} output channels, which groups=${groups} does not divide`)
  if (x.shape[1] !== cg * groups) {
    throw new ShapeError(
      `${op}: weight ${fmtShape(w.shape)} with groups=${groups} expects an input with ${cg * groups} channels, got input ${fmtShape(x.shape)} with ${x.shape[1]} channels`,
    )
  }
  if (kernel.some((k) => k === 0)) throw new ShapeError(`${op}: weight ${fmtShape(w.shape)} has an empty kernel (${fmtSizes(kernel)})`)
  const stride = sizesOf(op, 'stride', options.stride, dims, 1, new Array<number>(dims).fill(1))
  const dilation = sizesOf(op, 'dilation', options.dilation, dims, 1, new Array<number>(dims).fill(1))
  const [before, after] = paddingOf(op, options.padding, dims, stride, dilation, kernel)
  const span = kernel.map((k, i) => dilation[i] * (k - 1) + 1)
  const out = spatial.map((n, i) => windowCount(n, before[i], after[i], span[i], stride[i]))
  if (out.some((n) => n < 1)) {
    const padded = spatial.map((n, i) => n + before[i] + after[i])
    throw new ShapeError(
      `${op}: the dilated kernel (${fmtSizes(span)}, weight ${fmtShape(w.shape)} with dilation ${fmtSizes(dilation)}) is larger than the padded input ` +
        `(${fmtSizes(padded)}, input ${fmtShape(x.shape)} with padding ${fmtSizes(before)}${before.join() === after.join() ? '' : `+${fmtSizes(after)}`}): the output would be ${fmtSizes(out)}`,
    )
  }
  checkShape([x.shape[0], outC, ...out], op)
  // The kernel's scratch: one sample and group's columns (and their map), allocated only when there is work.
  if (x.shape[0] > 0 && outC > 0)
    checkShape([Math.max(cg, 1), ...kernel, ...out], `${op}: the im2col columns of one sample (channels per group, kernel, output)`)
  // 2-d from here on: a 1-d convolution is one of height 1.
  const two = (v: number[], one: number): [number, number] => (dims === 1 ? [one, v[0]] : [v[0], v[1]])
  const [height, width] = two(spatial, 1)
  const [kernelH, kernelW] = two(kernel, 1)
  const [strideH, strideW] = two(stride, 1)
  const [dilationH, dilationW] = two(dilation, 1)
  const [padTop, padLeft] = two(before, 0)
  const [outH, outW] = two(out, 1)
  return {
    batch: x.shape[0],
    inChannels: x.shape[1],
    height,
    width,
    outChannels: outC,
    kernelH,
    kernelW,
    groups,
    strideH,
    strideW,
    dilationH,
    dilationW,
    padTop,
    padLeft,
    outH,
    outW,
  }
}

const inputShape = (g: ConvGeometry): number[] => [g.batch, g.inChannels, g.height, g.width]
const weightShape = (g: ConvGeometry): number[] => [g.outChannels, g.inChannels / g.groups, g.kernelH, g.kernelW]
const outputShape = (g: ConvGeometry): number[] => [g.batch, g.outChannels, g.outH, g.outW]

type Float = Float32Array | Float64Array

/** Both operands in their common float dtype. */
function common(a: Tensor, b: Tensor): [Tensor, Tensor] {
  const dtype = promote(a.dtype, b.dtype)
  return [astype(a, dtype), astype(b, dtype)]
}

/**
 * The three primitives, each bilinear in its two operands `(a, b)`: the convolution
 * `conv2d(x, w)`, its input gradient `conv2dInputGrad(gy, w)` (a transposed convolution,
 * `<conv(x, w), gy> = <x, inputGrad(gy, w)>`) and its weight gradient `conv2dWeightGrad(x, gy)`
 * (`<conv(x, w), gy> = <w, weightGrad(x, gy)>`), with the shape of their result.
 */
const PRIMITIVES = {
  conv2d: { kernel: convForward, shape: outputShape },
  conv2dInputGrad: { kernel: convInputGrad, shape: inputShape },
  conv2dWeightGrad: { kernel: convWeightGrad, shape: weightShape },
}

type Primitive = keyof typeof PRIMITIVES

/** Primitive `op` of `left` and `right` (in their common float dtype), recorded with its VJP. */
function primitive(op: Primitive, left: Tensor, right: Tensor, g: ConvGeometry): Tensor {
  const [a, b] = common(left, right)
  const { kernel, shape: shapeOf } = PRIMITIVES[op]
  const shape = shapeOf(g)
  const out = allocate(a.dtype, sizeOf(shape)) as Float
  kernel(a._data as Float, b._data as Float, out, g)
  return makeOutput(
    op,
    [a, b],
    out,
    shape,
    (c, needs) => [needs[0] ? operandGrad(op, 0, c, a, b, g) : null, needs[1] ? operandGrad(op, 1, c, a, b, g) : null],
    // The geometry, for the ONNX exporter (conv2d becomes a Conv node).
    { stride: [g.strideH, g.strideW], dilation: [g.dilationH, g.dilationW], padding: [g.padTop, g.padLeft], groups: g.groups },
  )
}

/** The gradient of operand `k` of `op(a, b)` for the cotangent `c`: by bilinearity, another of the three primitives. */
function operandGrad(op: Primitive, k: 0 | 1, c: Tensor, a: Tensor, b: Tensor, g: ConvGeometry): Tensor {
  switch (op) {
    case 'conv2d':
      return k === 0 ? primitive('conv2dInputGrad', c, b, g) : primitive('conv2dWeightGrad', a, c, g)
    case 'conv2dInputGrad':
      return k === 0 ? primitive('conv2d', c, b, g) : primitive('conv2dWeightGrad', c, a, g)
    case 'conv2dWeightGrad':
      return k === 0 ? primitive('conv2dInputGrad', b, c, g) : primitive('conv2d', a, c, g)
  }
}

/** The convolution of `x` with `dims` spatial dimensions, in any layout PyTorch accepts. */
function convNd(op: string, input: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvOptions<1 | 2>, dims: 1 | 2): Tensor {
  const { x, batched } = batchedInput(op, input, dims)
  const x4 = batched ? x : reshape(x, [1, ...x.shape])
  const g = resolve(op, x4, weight, options, dims)
  const w4 = dims === 1 ? reshape(weight, weightShape(g)) : weight
  let y = primitive('conv2d', dims === 1 ? reshape(x4, inputShape(g)) : x4, w4, g)
  if (bias !== undefined && bias !== null) {
    checkTensor(bias, op, 'bias')
    requireFloat(op, 'bias', bias)
    if (bias.rank !== 1 || bias.shape[0] !== g.outChannels) {
      throw new ShapeError(
        `${op}: bias must have shape [${g.outChannels}] (one value per output channel of weight ${fmtShape(weight.shape)}), got ${fmtShape(bias.shape)}`,
      )
    }
    y = add(y, reshape(bias, [g.outChannels, 1, 1]))
  }
  const spatial = dims === 1 ? [g.outW] : [g.outH, g.outW]
  return reshape(y, batched ? [g.batch, g.outChannels, ...spatial] : [g.outChannels, ...spatial])
}

/**
 * 1-d convolution (cross-correlation, as every deep-learning library), as
 * `torch.nn.functional.conv1d`: `x` `[N, C, L]` (or unbatched `[C, L]`), `weight`
 * `[outC, C/groups, k]`, optional `bias` `[outC]`; the result is `[N, outC, outL]` with
 * `outL = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1`:
 * `y[n, o, t] = bias[o] + sum_{c, j} weight[o, c, j] x[n, g(o) C/groups + c, t stride + j dilation - padding]`.
 * Mixed float dtypes are promoted; int32 is refused.
 * @throws ShapeError for a wrong rank, a channel count the weight and groups do not match, a bias of the wrong shape, or an output smaller than 1.
 * @throws ArgumentError for a bad option (a non-integer or negative size, 'same' with a stride, an unknown key).
 */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv1dOptions = {}): Tensor {
  return convNd('conv1d', x, weight, bias, options, 1)
}

/**
 * 2-d convolution (cross-correlation), as `torch.nn.functional.conv2d`: `x` `[N, C, H, W]`
 * (or unbatched `[C, H, W]`), `weight` `[outC, C/groups, kH, kW]`, optional `bias` `[outC]`;
 * the result is `[N, outC, outH, outW]`, each output size as in {@link conv1d}. `stride`,
 * `padding` and `dilation` are a number or an `[h, w]` pair; `padding` may also be `'same'`
 * or `'valid'`. Differentiable to any order in `x`, `weight` and `bias`.
 * @throws ShapeError for a wrong rank, a channel count the weight and groups do not match, a bias of the wrong shape, or an output smaller than 1.
 * @throws ArgumentError for a bad option (a non-integer or negative size, 'same' with a stride, an unknown key).
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  return convNd('conv2d', x, weight, bias, options, 2)
}

/** Draws a convolution case: batch, groups, channels, kernel, stride, padding ('same' too), dilation, bias or not. */
function sampleConv(s: CaseSampler, dims: 1 | 2) {
  const groups = s.pick([1, 1, 2])
  const [cg, og, batch] = [s.int(1, 2), s.int(1, 2), s.int(1, 2)]
  const kernel = Array.from({ length: dims }, () => s.int(1, 3))
  const stride = Array.from({ length: dims }, () => s.pick([1, 1, 2]))
  const dilation = Array.from({ length: dims }, () => s.pick([1, 1, 2]))
  const same = stride.every((v) => v === 1) && s.coin(0.25)
  const pad = Array.from({ length: dims }, () => s.int(0, 2))
  const spatial = kernel.map((k, i) => {
    const least = Math.max(1, dilation[i] * (k - 1) + 1 - (same ? 0 : 2 * pad[i]))
    return s.int(least, least + 3)
  })
  const x = s.values([batch, cg * groups, ...spatial])
  const w = s.values([og * groups, cg, ...kernel])
  const withBias = s.coin()
  const options = {
    stride: dims === 1 ? stride[0] : stride,
    padding: same ? 'same' : dims === 1 ? pad[0] : pad,
    dilation: dims === 1 ? dilation[0] : dilation,
    groups,
  } as ConvOptions<1 | 2>
  const op = (a: Tensor, w2: Tensor, b: Tensor | null, o: ConvOptions<1 | 2>): Tensor => convNd(`conv${dims}d`, a, w2, b, o, dims)
  const label = `${shapesLabel(x, w)} ${JSON.stringify(options)}${withBias ? ' bias' : ''}`
  if (!withBias) return { inputs: [x, w], fn: (a: Tensor, b: Tensor) => op(a, b, null, options), label }
  const b = s.values([og * groups])
  return { inputs: [x, w, b], fn: (a: Tensor, b2: Tensor, c: Tensor) => op(a, b2, c, options), label }
}

registerOps('conv', 'primitive', {
  conv2d: { sample: (s) => sampleConv(s, 2) },
})
registerOps('conv', 'composite', {
  conv1d: { sample: (s) => sampleConv(s, 1) },
})
