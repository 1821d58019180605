/**
 * Pooling, as `torch.nn.functional`'s `max_pool1d/2d`, `avg_pool1d/2d` and
 * `adaptive_avg_pool1d/2d`, over `[N, C, L]` / `[N, C, H, W]` inputs (or unbatched ones).
 * A 1-d pooling is a 2-d one of height 1.
 *
 * Max pooling finds each window's maximum with a kernel (PyTorch's choice on ties: the first
 * in row-major order) and then gathers it: its gradient routes to those positions through
 * `gather` and `scatterAdd`, which differentiate into each other, so it differentiates again.
 * The averages are one linear primitive (a mean over separable windows) whose VJP is its
 * transpose, and the transpose's VJP is the mean again.
 * @module
 */
import { type DType, type TensorData, allocate } from '../dtype.ts'
import { noGradient } from '../autodiff/no-gradient.ts'
import { makeOutput } from '../autodiff/recording.ts'
import { type PoolAxis, adaptiveAxis, maxPoolIndices, slidingAxis, windowMean, windowMeanTranspose } from '../kernels/pool.ts'
import { checkOptionKeys } from '../messages.ts'
import { ArgumentError, ShapeError, fmtShape } from '../errors.ts'
import { checkShape, sizeOf } from '../shape.ts'
import type { OpAttributes, Tensor } from '../tensor.ts'
import { gather } from './indexing.ts'
import { reshape } from './reshape.ts'
import { type GradCase, registerOps } from './registry.ts'
import { type CaseSampler, shapesLabel } from './sampler.ts'
import { type SizeArg, batchedInput, fmtSizes, sizesOf, windowCount } from './window-args.ts'

/** Options of {@link maxPool1d} and {@link maxPool2d}: `nn.MaxPool2d`'s, in camelCase. */
export interface MaxPoolOptions<D extends 1 | 2> {
  /** Window size: a number for every dimension, or one per dimension. */
  kernelSize: SizeArg<D>
  /** Step between windows (default `kernelSize`). */
  stride?: SizeArg<D>
  /** Implicit -Infinity padding on both sides (default 0; at most half the kernel size, as PyTorch). */
  padding?: SizeArg<D>
  /** Distance between window taps (default 1). */
  dilation?: SizeArg<D>
  /** Count a last, partial window when the windows do not tile the input (default false: floor). */
  ceilMode?: boolean
}

/** Options of {@link avgPool1d} and {@link avgPool2d}: `nn.AvgPool2d`'s, in camelCase. */
export interface AvgPoolOptions<D extends 1 | 2> {
  /** Window size: a number for every dimension, or one per dimension. */
  kernelSize: SizeArg<D>
  /** Step between windows (default `kernelSize`). */
  stride?: SizeArg<D>
  /** Implicit zero padding on both sides (default 0; at most half the kernel size, as PyTorch). */
  padding?: SizeArg<D>
  /** Count a last, partial window when the windows do not tile the input (default false: floor). */
  ceilMode?: boolean
  /** Divide by the whole window, padding zeros included (default true, as PyTorch), or by the input elements in it only. */
  countIncludePad?: boolean
}

/** An adaptive pooling's output size: one number, or one per dimension where `null` keeps the input's size. */
export type OutputSizeArg<D extends 1 | 2> = number | (D extends 1 ? readonly [number] : readonly [number | null, number | null])

/** The pooling's input as planes: `[N * C]` planes of `rows.size x cols.size`, and the output's shape. */
interface Plan {
  readonly x: Tensor
  readonly planes: number
  readonly rows: PoolAxis
  readonly cols: PoolAxis
  readonly outShape: number[]
  /** The window's geometry in 2-d (a 1-d pooling has height 1), recorded on the graph node for exporters. */
  readonly attributes: OpAttributes
}

/** The unit axis a 1-d pooling has as its height. */
const unitAxis = (): PoolAxis => adaptiveAxis(1, 1)

/** The input, batched or not, and its channels and spatial sizes; non-batch dimensions must not be empty. */
function planesOf(op: string, input: Tensor, dims: 1 | 2): { x: Tensor; spatial: number[]; lead: number[] } {
  const { x } = batchedInput(op, input, dims)
  const spatial = x.shape.slice(x.rank - dims)
  const lead = x.shape.slice(0, x.rank - dims)
  if (x.shape.slice(x.rank === dims + 2 ? 1 : 0).some((d) => d === 0)) {
    throw new ShapeError(`${op}: expected non-empty channel and spatial dimensions (only the batch may be 0), got input ${fmtShape(x.shape)}`)
  }
  return { x, spatial, lead }
}

function booleanOption(op: string, name: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback
  if (typeof v !== 'boolean') throw new ArgumentError(`${op}: ${name} must be a boolean, got ${JSON.stringify(v) ?? String(v)}`)
  return v
}

/** Checks a sliding-window pooling's options, PyTorch's way, and lays out its windows. */
function slidingPlan(op: string, input: Tensor, options: MaxPoolOptions<1 | 2> & AvgPoolOptions<1 | 2>, dims: 1 | 2, max: boolean): Plan {
  if (typeof options !== 'object' || options === null || options.kernelSize === undefined) {
    throw new ArgumentError(`${op}: expected options with a kernelSize, e.g. ${op}(x, { kernelSize: 2 }), got ${JSON.stringify(options) ?? String(options)}`)
  }
  checkOptionKeys(
    options,
    max ? ['kernelSize', 'stride', 'padding', 'dilation', 'ceilMode'] : ['kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad'],
    op,
  )
  const { x, spatial, lead } = planesOf(op, input, dims)
  const kernel = sizesOf(op, 'kernelSize', options.kernelSize, dims, 1)
  const stride = sizesOf(op, 'stride', options.stride, dims, 1, kernel)
  const padding = sizesOf(op, 'padding', options.padding, dims, 0, new Array<number>(dims).fill(0))
  const dilation = sizesOf(op, 'dilation', options.dilation, dims, 1, new Array<number>(dims).fill(1))
  const ceil = booleanOption(op, 'ceilMode', options.ceilMode, false)
  const countPadding = booleanOption(op, 'countIncludePad', options.countIncludePad, true)
  if (padding.some((p, i) => p > Math.floor(kernel[i] / 2))) {
    throw new ArgumentError(
      `${op}: padding must be at most half the kernel size (as PyTorch), got padding ${fmtSizes(padding)} for kernelSize ${fmtSizes(kernel)}`,
    )
  }
  const span = kernel.map((k, i) => dilation[i] * (k - 1) + 1)
  const out = spatial.map((n, i) => windowCount(n, padding[i], padding[i], span[i], stride[i], ceil))
  if (out.some((n) => n < 1)) {
    throw new ShapeError(
      `${op}: the input ${fmtShape(x.shape)} padded by ${fmtSizes(padding)} is smaller than the window (${fmtSizes(span)}): the output would be ${fmtSizes(out)}`,
    )
  }
  const axes = spatial.map((n, i) => slidingAxis(n, out[i], kernel[i], stride[i], padding[i], padding[i], dilation[i], countPadding))
  if (axes.some((a) => a.lo.some((lo, o) => lo >= a.hi[o]))) {
    // Only dilated windows can miss the input entirely (e.g. size 1, kernel 2, dilation 2, padding 1).
    throw new ArgumentError(
      `${op}: some window of kernelSize ${fmtSizes(kernel)}, dilation ${fmtSizes(dilation)} and padding ${fmtSizes(padding)} covers only padding of the input ${fmtShape(x.shape)}`,
    )
  }
  const [rows, cols] = dims === 1 ? [unitAxis(), axes[0]] : [axes[0], axes[1]]
  const two = (v: number[], one: number): number[] => (dims === 1 ? [one, v[0]] : v)
  const attributes = {
    kernel: two(kernel, 1),
    stride: two(stride, 1),
    padding: two(padding, 0),
    dilation: two(dilation, 1),
    inputSize: two(spatial, 1),
    outSize: two(out, 1),
    ceilMode: ceil,
    countIncludePad: countPadding,
  }
  return { x, planes: sizeOf(lead), rows, cols, outShape: checkShape([...lead, ...out], op), attributes }
}

/** The data as float64, copied by the built-in conversion when it is float32. */
function float64Of(data: TensorData): Float64Array {
  return data instanceof Float64Array ? data : Float64Array.from(data)
}

/** Float64 results in `dtype`. */
function inDType(data: Float64Array, dtype: DType): TensorData {
  if (dtype === 'float64') return data
  const out = allocate(dtype, data.length)
  out.set(data)
  return out
}

const poolIndexNoGrad = noGradient("returns integer indices (the position of each window's maximum)")

function maxPoolNd(op: string, input: Tensor, options: MaxPoolOptions<1 | 2>, dims: 1 | 2): Tensor {
  const p = slidingPlan(op, input, options, dims, true)
  const positions = p.rows.lo.length * p.cols.lo.length
  const index = new Int32Array(p.planes * positions)
  maxPoolIndices(float64Of(p.x._data), p.planes, p.rows, p.cols, index)
  const flat = reshape(p.x, [p.planes, p.rows.size * p.cols.size])
  // The indices are an op of x (recorded when every op is, as for an export), not a constant: they depend on its values.
  const at = makeOutput('maxPoolIndex', [p.x], index, [p.planes, positions], poolIndexNoGrad, p.attributes)
  return reshape(gather(flat, 1, at), p.outShape)
}

/** The mean over separable windows: linear, its VJP {@link windowMeanBackward}. */
function meanOverWindows(op: string, x: Tensor, p: Plan): Tensor {
  const out = new Float64Array(sizeOf(p.outShape))
  windowMean(float64Of(x._data), p.planes, p.rows, p.cols, out)
  return makeOutput(op, [x], inDType(out, x.dtype), p.outShape, (g) => [windowMeanBackward(op, g, x.shape, p)], {
    ...p.attributes,
    rows: windows(p.rows),
    cols: windows(p.cols),
  })
}

/** An axis' windows as one list, `[lo, hi, divisor]` per output position (what an exporter rebuilds the mean from). */
function windows(a: PoolAxis): number[] {
  return Array.from(a.lo).flatMap((lo, o) => [lo, a.hi[o], a.divisor[o]])
}

/** The transpose of {@link meanOverWindows} (its VJP, whose own VJP is the mean again). */
function windowMeanBackward(op: string, g: Tensor, inputShape: readonly number[], p: Plan): Tensor {
  const dx = new Float64Array(sizeOf(inputShape))
  windowMeanTranspose(float64Of(g._data), p.planes, p.rows, p.cols, dx)
  return makeOutput(`${op}Backward`, [g], inDType(dx, g.dtype), inputShape.slice(), (c) => [meanOverWindows(op, c, p)])
}

function avgPoolNd(op: string, input: Tensor, options: AvgPoolOptions<1 | 2>, dims: 1 | 2): Tensor {
  const p = slidingPlan(op, input, options, dims, false)
  return meanOverWindows(op, p.x, p)
}

function adaptiveAvgPoolNd(op: string, input: Tensor, outputSize: unknown, dims: 1 | 2): Tensor {
  const { x, spatial, lead } = planesOf(op, input, dims)
  const given = Array.isArray(outputSize) ? outputSize.map((v: unknown, i) => (v === null && dims === 2 ? spatial[i] : v)) : outputSize
  const out = sizesOf(op, 'outputSize', given, dims, 0)
  // Checked before the bins are laid out: a size past the cap would allocate them by the billion.
  const outShape = checkShape([...lead, ...out], op)
  // An empty output needs no bins, and a large size beside a zero (or an empty batch) would still allocate them all.
  const bins = sizeOf(outShape) === 0 ? out.map(() => 0) : out
  const axes = spatial.map((n, i) => adaptiveAxis(n, bins[i]))
  const [rows, cols] = dims === 1 ? [unitAxis(), axes[0]] : [axes[0], axes[1]]
  return meanOverWindows(op, x, {
    x,
    planes: sizeOf(lead),
    rows,
    cols,
    outShape,
    attributes: { adaptive: true, inputSize: dims === 1 ? [1, spatial[0]] : spatial },
  })
}

/**
 * 1-d max pooling, as `torch.nn.functional.max_pool1d`: `x` `[N, C, L]` (or `[C, L]`) to
 * `[N, C, outL]`, `outL = floor((L + 2 padding - dilation (kernelSize - 1) - 1) / stride) + 1`
 * (ceil with `ceilMode`), each output the largest input in its window (padding is -Infinity).
 * The gradient goes to the first maximum of each window, as PyTorch's.
 * @throws ShapeError for a wrong rank, an empty input or an output smaller than 1; ArgumentError for a bad option.
 */
export function maxPool1d(x: Tensor, options: MaxPoolOptions<1>): Tensor {
  return maxPoolNd('maxPool1d', x, options, 1)
}

/**
 * 2-d max pooling, as `torch.nn.functional.max_pool2d`: `x` `[N, C, H, W]` (or `[C, H, W]`)
 * to `[N, C, outH, outW]`, sizes as in {@link maxPool1d} per dimension; options are a number
 * or an `[h, w]` pair. The gradient goes to the first maximum (row-major) of each window.
 * @throws ShapeError for a wrong rank, an empty input or an output smaller than 1; ArgumentError for a bad option.
 */
export function maxPool2d(x: Tensor, options: MaxPoolOptions<2>): Tensor {
  return maxPoolNd('maxPool2d', x, options, 2)
}

/**
 * 1-d average pooling, as `torch.nn.functional.avg_pool1d`: `x` `[N, C, L]` (or `[C, L]`) to
 * `[N, C, outL]`, `outL = floor((L + 2 padding - kernelSize) / stride) + 1`, each output the
 * mean of its window, the zero padding counted in the divisor unless `countIncludePad` is false.
 * @throws ShapeError for a wrong rank, an empty input or an output smaller than 1; ArgumentError for a bad option.
 */
export function avgPool1d(x: Tensor, options: AvgPoolOptions<1>): Tensor {
  return avgPoolNd('avgPool1d', x, options, 1)
}

/**
 * 2-d average pooling, as `torch.nn.functional.avg_pool2d`: `x` `[N, C, H, W]` (or
 * `[C, H, W]`) to `[N, C, outH, outW]`, sizes as in {@link avgPool1d} per dimension.
 * @throws ShapeError for a wrong rank, an empty input or an output smaller than 1; ArgumentError for a bad option.
 */
export function avgPool2d(x: Tensor, options: AvgPoolOptions<2>): Tensor {
  return avgPoolNd('avgPool2d', x, options, 2)
}

/**
 * 1-d adaptive average pooling, as `torch.nn.functional.adaptive_avg_pool1d`: `x` `[N, C, L]`
 * (or `[C, L]`) to `[N, C, outputSize]`; output `i` is the mean of inputs
 * `floor(i L / outputSize)` to `ceil((i + 1) L / outputSize)` (excluded), PyTorch's bins.
 * @throws ShapeError for a wrong rank or an empty input; ArgumentError for a bad size.
 */
export function adaptiveAvgPool1d(x: Tensor, outputSize: OutputSizeArg<1>): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool1d', x, outputSize, 1)
}

/**
 * 2-d adaptive average pooling, as `torch.nn.functional.adaptive_avg_pool2d`: `x`
 * `[N, C, H, W]` (or `[C, H, W]`) to `[N, C, outH, outW]` with the bins of
 * {@link adaptiveAvgPool1d} per dimension; `outputSize` is a number or an `[h, w]` pair in
 * which `null` keeps that dimension's size. `adaptiveAvgPool2d(x, 1)` is global average pooling.
 * @throws ShapeError for a wrong rank or an empty input; ArgumentError for a bad size.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: OutputSizeArg<2>): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool2d', x, outputSize, 2)
}

/** Draws a sliding-window pooling case: batched or not, kernel, stride, padding, dilation (max), ceil mode, count_include_pad (avg). */
function samplePool(s: CaseSampler, dims: 1 | 2, max: boolean): GradCase {
  const kernel = Array.from({ length: dims }, () => s.int(1, 3))
  const stride = kernel.map((k) => s.pick([k, 1, 2]))
  const dilation = max ? kernel.map(() => s.pick([1, 1, 2])) : kernel.map(() => 1)
  // No padding with a dilation: a dilated window could then cover padding only, which the op refuses.
  const padding = kernel.map((k, i) => (dilation[i] > 1 ? 0 : s.int(0, Math.floor(k / 2))))
  const spatial = kernel.map((k, i) => s.int(Math.max(1, dilation[i] * (k - 1) + 1 - 2 * padding[i]), dilation[i] * (k - 1) + 4))
  const shape = [...(s.coin(0.8) ? [s.int(1, 2)] : []), s.int(1, 2), ...spatial]
  const x = max ? s.distinct(shape, 0.25, 0.05) : s.values(shape)
  const pick = (v: number[]) => (dims === 1 ? v[0] : v) as SizeArg<2>
  const options: MaxPoolOptions<2> & AvgPoolOptions<2> = { kernelSize: pick(kernel), stride: pick(stride), padding: pick(padding), ceilMode: s.coin(0.3) }
  if (max) options.dilation = pick(dilation)
  else options.countIncludePad = s.coin(0.7)
  const run = (t: Tensor): Tensor => (max ? maxPoolNd : avgPoolNd)(max ? `maxPool${dims}d` : `avgPool${dims}d`, t, options, dims)
  return { inputs: [x], fn: run, label: `${shapesLabel(x)} ${JSON.stringify(options)}` }
}

/** Draws an adaptive average pooling case: output sizes below, at and above the input's. */
function sampleAdaptive(s: CaseSampler, dims: 1 | 2): GradCase {
  const spatial = Array.from({ length: dims }, () => s.int(1, 6))
  const out = spatial.map(() => s.int(1, 5))
  const x = s.values([...(s.coin(0.8) ? [s.int(1, 2)] : []), s.int(1, 2), ...spatial])
  const size = (dims === 1 ? out[0] : out) as OutputSizeArg<2>
  return {
    inputs: [x],
    fn: (t: Tensor) => adaptiveAvgPoolNd(`adaptiveAvgPool${dims}d`, t, size, dims),
    label: `${shapesLabel(x)} outputSize ${JSON.stringify(size)}`,
  }
}

registerOps('pool', 'composite', {
  maxPool1d: { sample: (s) => samplePool(s, 1, true) },
  maxPool2d: { sample: (s) => samplePool(s, 2, true) },
})
registerOps('pool', 'primitive', {
  avgPool1d: { sample: (s) => samplePool(s, 1, false) },
  avgPool2d: { sample: (s) => samplePool(s, 2, false) },
  adaptiveAvgPool1d: { sample: (s) => sampleAdaptive(s, 1) },
  adaptiveAvgPool2d: { sample: (s) => sampleAdaptive(s, 2) },
})
