/**
 * Convolution layers, as `nn.Conv1d` and `nn.Conv2d`: PyTorch's constructor arguments in
 * camelCase, its parameter names and shapes (`weight` `[outChannels, inChannels / groups,
 * ...kernelSize]`, `bias` `[outChannels]`) and its default initialisation.
 * @module
 */
import { ArgumentError, ShapeError, conv1d as conv1dOp, conv2d as conv2dOp, fmtShape, foldIn } from '@graphgrad/core'
import type { CaseSampler, ConvOptions, DType, GradSpec, SizeArg, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { Layer, Params } from './layer.ts'
import { checkInput, checkOptions, checkSize, param } from './compose.ts'
import { type Initializer, kaimingUniform, uniformInit } from './init.ts'

/** Options of {@link conv1d} and {@link conv2d}: `nn.Conv2d`'s arguments in camelCase, plus dtype and initialisers. */
export interface ConvLayerOptions<D extends 1 | 2> {
  /** Channels of the input (its dimension 1, or 0 when unbatched). */
  inChannels: number
  /** Channels of the output: the number of filters. */
  outChannels: number
  /** Size of the kernel: a number for every dimension, or one per dimension. */
  kernelSize: SizeArg<D>
  /** Step between output positions (default 1). */
  stride?: SizeArg<D>
  /** Zero padding on both sides (default 0), or `'same'` (stride 1 only) or `'valid'` (none). */
  padding?: SizeArg<D> | 'same' | 'valid'
  /** Distance between kernel taps (default 1). */
  dilation?: SizeArg<D>
  /** Channel groups (default 1); it must divide `inChannels` and `outChannels`. */
  groups?: number
  /** Learn an additive bias per output channel (default true). */
  bias?: boolean
  /** Parameter dtype (default float32). */
  dtype?: DType
  /** Weight initialiser; default PyTorch's, `kaimingUniform` with `a = sqrt(5)`, i.e. U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn = inChannels / groups * kernel elements. */
  weightInit?: Initializer
  /** Bias initialiser; default PyTorch's U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
  biasInit?: Initializer
}

/** Options of {@link conv1d}. */
export type Conv1dLayerOptions = ConvLayerOptions<1>
/** Options of {@link conv2d}. */
export type Conv2dLayerOptions = ConvLayerOptions<2>

const KNOWN = {
  inChannels: true,
  outChannels: true,
  kernelSize: true,
  stride: true,
  padding: true,
  dilation: true,
  groups: true,
  bias: true,
  dtype: true,
  weightInit: true,
  biasInit: true,
} as const

/** `v` as one integer >= `min` per dimension (a number stands for all), refused by name otherwise. */
function sizesOf(where: string, name: string, v: unknown, dims: 1 | 2, min: number): number[] {
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= min
  if (ok(v)) return new Array<number>(dims).fill(v)
  if (Array.isArray(v) && v.length === dims && v.every(ok)) return (v as number[]).slice()
  const kind = min > 0 ? 'positive' : 'non-negative'
  throw new ArgumentError(`${where}: ${name} must be a ${kind} integer${dims === 2 ? ' or a pair of them' : ''}, got ${JSON.stringify(v) ?? String(v)}`)
}

function convLayer(where: string, options: ConvLayerOptions<1 | 2>, dims: 1 | 2): Layer {
  checkOptions(options, KNOWN, where)
  const inC = checkSize(options.inChannels, 'inChannels', where)
  const outC = checkSize(options.outChannels, 'outChannels', where)
  const groups = checkSize(options.groups ?? 1, 'groups', where)
  if (inC % groups !== 0) throw new ArgumentError(`${where}: inChannels (${inC}) must be divisible by groups (${groups})`)
  if (outC % groups !== 0) throw new ArgumentError(`${where}: outChannels (${outC}) must be divisible by groups (${groups})`)
  const kernel = sizesOf(where, 'kernelSize', options.kernelSize, dims, 1)
  // Refused now rather than at the first apply.
  const { stride, padding, dilation } = options
  const strides = stride === undefined ? [1] : sizesOf(where, 'stride', stride, dims, 1)
  if (dilation !== undefined) sizesOf(where, 'dilation', dilation, dims, 1)
  if (typeof padding === 'string') {
    if (padding !== 'same' && padding !== 'valid') throw new ArgumentError(`${where}: padding must be a size, 'same' or 'valid', got '${padding}'`)
    if (padding === 'same' && strides.some((v) => v !== 1))
      throw new ArgumentError(`${where}: padding 'same' is not supported for strided convolutions (as PyTorch), got stride ${JSON.stringify(stride)}`)
  } else if (padding !== undefined) {
    sizesOf(where, 'padding', padding, dims, 0)
  }
  const hasBias = options.bias ?? true
  const dtype = options.dtype ?? 'float32'
  const wShape = [outC, inC / groups, ...kernel]
  const fanIn = (inC / groups) * kernel.reduce((a, b) => a * b, 1)
  const weightInit = options.weightInit ?? ((shape, seed, o) => kaimingUniform(shape, seed, { ...o, a: Math.sqrt(5) }))
  const biasInit = options.biasInit ?? uniformInit(1 / Math.sqrt(fanIn))
  const opOptions: ConvOptions<1 | 2> = { stride, padding, dilation, groups }
  const op = dims === 1 ? conv1dOp : conv2dOp
  return {
    init(seed) {
      const weight = weightInit(wShape, foldIn(seed, 0), { dtype })
      if (!hasBias) return OrderedMap({ weight }) as Params
      return OrderedMap({ weight, bias: biasInit([outC], foldIn(seed, 1), { dtype }) }) as Params
    },
    apply(params, x) {
      checkInput(x, where)
      const rank = dims + 2
      const channels = x.rank === rank ? x.shape[1] : x.rank === rank - 1 ? x.shape[0] : -1
      if (channels !== inC) {
        const layout = dims === 1 ? ['N', 'L'] : ['N', 'H', 'W']
        throw new ShapeError(
          `${where}: expected an input [${layout[0]}, inChannels=${inC}, ${layout.slice(1).join(', ')}] (or unbatched, without ${layout[0]}), got shape ${fmtShape(x.shape)}`,
        )
      }
      const w = param(params, 'weight', where)
      if (w.shape.join() !== wShape.join()) throw new ShapeError(`${where}: weight must have shape ${fmtShape(wShape)}, got ${fmtShape(w.shape)}`)
      const b = hasBias ? param(params, 'bias', where) : null
      return (op as (x: Tensor, w: Tensor, b: Tensor | null, o: ConvOptions<1 | 2>) => Tensor)(x, w, b, opOptions)
    },
  }
}

/**
 * A 1-d convolution layer, as `nn.Conv1d`: `apply(params, x)` maps `x` `[N, inChannels, L]`
 * (or unbatched `[inChannels, L]`) to `[N, outChannels, outL]` with the core's `conv1d`.
 * Parameters `weight` `[outChannels, inChannels / groups, kernelSize]` and (unless
 * `bias: false`) `bias` `[outChannels]`, both drawn from U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 */
export function conv1d(options: Conv1dLayerOptions): Layer {
  return convLayer('conv1d', options, 1)
}

/**
 * A 2-d convolution layer, as `nn.Conv2d`: `apply(params, x)` maps `x` `[N, inChannels, H, W]`
 * (or unbatched `[inChannels, H, W]`) to `[N, outChannels, outH, outW]` with the core's
 * `conv2d`. Parameters `weight` `[outChannels, inChannels / groups, kH, kW]` and (unless
 * `bias: false`) `bias` `[outChannels]`, both drawn from U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
 */
export function conv2d(options: Conv2dLayerOptions): Layer {
  return convLayer('conv2d', options, 2)
}

/** Draws a conv layer case: channels, groups, kernel, stride or 'same', dilation; input, weight and bias as float64 inputs. */
function sampleConvLayer(s: CaseSampler, dims: 1 | 2, withBias: boolean) {
  const groups = s.pick([1, 2])
  const [inC, outC] = [groups * s.int(1, 2), groups * s.int(1, 2)]
  const kernel = Array.from({ length: dims }, () => s.int(1, 3))
  const same = s.coin(0.3)
  const stride = same ? 1 : s.int(1, 2)
  const padding = same ? ('same' as const) : s.int(0, 1)
  const dilation = s.int(1, 2)
  const spatial = kernel.map((k) => s.int(dilation * (k - 1) + 1, dilation * (k - 1) + 3))
  const x = s.values([s.int(1, 2), inC, ...spatial])
  const w = s.values([outC, inC / groups, ...kernel])
  const layer = convLayer(
    `conv${dims}d`,
    {
      inChannels: inC,
      outChannels: outC,
      kernelSize: dims === 1 ? kernel[0] : (kernel as [number, number]),
      stride,
      padding,
      dilation,
      groups,
      bias: withBias,
      dtype: 'float64',
    },
    dims,
  )
  const label = `x ${fmtShape(x.shape)}, weight ${fmtShape(w.shape)}, ${JSON.stringify({ stride, padding, dilation, groups })}${withBias ? '' : ', no bias'}`
  if (!withBias) return { inputs: [x, w], fn: (xi: Tensor, wi: Tensor): Tensor => layer.apply(OrderedMap({ weight: wi }) as Params, xi), label }
  const b = s.values([outC])
  return { inputs: [x, w, b], fn: (xi: Tensor, wi: Tensor, bi: Tensor): Tensor => layer.apply(OrderedMap({ weight: wi, bias: bi }) as Params, xi), label }
}

/** Gradient-check specs: input, weight and bias of both layers, random sizes and options. */
export const convSpecs: Record<string, GradSpec> = {
  conv1dLayer: { sample: (s: CaseSampler) => sampleConvLayer(s, 1, true) },
  conv2dLayer: { sample: (s: CaseSampler) => sampleConvLayer(s, 2, true) },
  conv2dLayerNoBias: { sample: (s: CaseSampler) => sampleConvLayer(s, 2, false) },
}
