/**
 * Pooling layers, as `nn.MaxPool1d/2d`, `nn.AvgPool1d/2d` and `nn.AdaptiveAvgPool1d/2d`:
 * parameterless layers (`init` returns an empty map) over the core's pooling ops, with
 * PyTorch's constructor arguments in camelCase.
 * @module
 */
import {
  ArgumentError,
  adaptiveAvgPool1d as adaptive1d,
  adaptiveAvgPool2d as adaptive2d,
  avgPool1d as avg1d,
  avgPool2d as avg2d,
  fmtShape,
  maxPool1d as max1d,
  maxPool2d as max2d,
  tensor,
} from '@graphgrad/core'
import type { AvgPoolOptions, CaseSampler, GradSpec, MaxPoolOptions, OutputSizeArg, Tensor } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { Layer, Params } from './layer.ts'
import { checkInput, checkOptions } from './compose.ts'

/** Options of {@link maxPool1d}: `nn.MaxPool1d`'s (`kernelSize`, `stride` defaulting to it, `padding`, `dilation`, `ceilMode`). */
export type MaxPool1dOptions = MaxPoolOptions<1>
/** Options of {@link maxPool2d}: `nn.MaxPool2d`'s; sizes are a number or an `[h, w]` pair. */
export type MaxPool2dOptions = MaxPoolOptions<2>
/** Options of {@link avgPool1d}: `nn.AvgPool1d`'s (`kernelSize`, `stride` defaulting to it, `padding`, `ceilMode`, `countIncludePad`). */
export type AvgPool1dOptions = AvgPoolOptions<1>
/** Options of {@link avgPool2d}: `nn.AvgPool2d`'s; sizes are a number or an `[h, w]` pair. */
export type AvgPool2dOptions = AvgPoolOptions<2>

/** Options of {@link adaptiveAvgPool1d} and {@link adaptiveAvgPool2d}, as `nn.AdaptiveAvgPool2d`'s. */
export interface AdaptiveAvgPoolOptions<D extends 1 | 2> {
  /** The output's spatial size: a number, or (2-d) an `[h, w]` pair in which `null` keeps the input's size. */
  outputSize: OutputSizeArg<D>
}

const MAX_KEYS = { kernelSize: true, stride: true, padding: true, dilation: true, ceilMode: true } as const
const AVG_KEYS = { kernelSize: true, stride: true, padding: true, ceilMode: true, countIncludePad: true } as const

/** A parameterless layer applying `op` (which checks the options and the input, naming itself). */
function poolLayer<O extends object>(
  where: string,
  options: O,
  known: Readonly<Record<keyof O, true>>,
  required: keyof O & string,
  op: (x: Tensor, o: O) => Tensor,
): Layer {
  checkOptions(options, known, where)
  if ((options as Record<string, unknown>)[required] === undefined)
    throw new ArgumentError(`${where}: ${required} is required, e.g. ${where}({ ${required}: 2 })`)
  return {
    init: () => OrderedMap() as Params,
    apply(_params, x) {
      checkInput(x, where)
      return op(x, options)
    },
  }
}

/** A 1-d max pooling layer, as `nn.MaxPool1d`: `[N, C, L]` (or `[C, L]`) to `[N, C, outL]`; see the core's `maxPool1d`. */
export function maxPool1d(options: MaxPool1dOptions): Layer {
  return poolLayer('maxPool1d', options, MAX_KEYS, 'kernelSize', max1d)
}

/** A 2-d max pooling layer, as `nn.MaxPool2d`: `[N, C, H, W]` (or `[C, H, W]`) to `[N, C, outH, outW]`; see the core's `maxPool2d`. */
export function maxPool2d(options: MaxPool2dOptions): Layer {
  return poolLayer('maxPool2d', options, MAX_KEYS, 'kernelSize', max2d)
}

/** A 1-d average pooling layer, as `nn.AvgPool1d`: `[N, C, L]` (or `[C, L]`) to `[N, C, outL]`; see the core's `avgPool1d`. */
export function avgPool1d(options: AvgPool1dOptions): Layer {
  return poolLayer('avgPool1d', options, AVG_KEYS, 'kernelSize', avg1d)
}

/** A 2-d average pooling layer, as `nn.AvgPool2d`: `[N, C, H, W]` (or `[C, H, W]`) to `[N, C, outH, outW]`; see the core's `avgPool2d`. */
export function avgPool2d(options: AvgPool2dOptions): Layer {
  return poolLayer('avgPool2d', options, AVG_KEYS, 'kernelSize', avg2d)
}

/** A 1-d adaptive average pooling layer, as `nn.AdaptiveAvgPool1d`: `[N, C, L]` (or `[C, L]`) to `[N, C, outputSize]`. */
export function adaptiveAvgPool1d(options: AdaptiveAvgPoolOptions<1>): Layer {
  return poolLayer('adaptiveAvgPool1d', options, { outputSize: true }, 'outputSize', (x, o) => adaptive1d(x, o.outputSize))
}

/** A 2-d adaptive average pooling layer, as `nn.AdaptiveAvgPool2d`: `[N, C, H, W]` (or `[C, H, W]`) to `[N, C, outH, outW]`. */
export function adaptiveAvgPool2d(options: AdaptiveAvgPoolOptions<2>): Layer {
  return poolLayer('adaptiveAvgPool2d', options, { outputSize: true }, 'outputSize', (x, o) => adaptive2d(x, o.outputSize))
}

/** Values spread apart, shuffled: no two in a window within a finite-difference step of each other. */
function distinct(s: CaseSampler, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1)
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.25 + s.float(0, 0.05))
  for (let i = n - 1; i > 0; i--) {
    const j = s.int(0, i)
    ;[values[i], values[j]] = [values[j], values[i]]
  }
  return tensor(Float64Array.from(values), { shape, dtype: 'float64' })
}

function poolCase(s: CaseSampler, dims: 1 | 2, kind: 'max' | 'avg' | 'adaptive') {
  const spatial = Array.from({ length: dims }, () => s.int(2, 6))
  const shape = [s.int(1, 2), s.int(1, 3), ...spatial]
  const x = kind === 'max' ? distinct(s, shape) : s.values(shape)
  const k = s.int(1, 2)
  const size = (v: number) => (dims === 1 ? v : ([v, v] as const)) as never
  const layer =
    kind === 'adaptive'
      ? (dims === 1 ? adaptiveAvgPool1d : adaptiveAvgPool2d)({ outputSize: size(s.int(1, 4)) })
      : kind === 'max'
        ? (dims === 1 ? maxPool1d : maxPool2d)({ kernelSize: size(k), stride: s.int(1, 2), padding: s.int(0, Math.floor(k / 2)) })
        : (dims === 1 ? avgPool1d : avgPool2d)({ kernelSize: size(k), stride: s.int(1, 2), padding: s.int(0, Math.floor(k / 2)) })
  return { inputs: [x], fn: (t: Tensor): Tensor => layer.apply(OrderedMap() as Params, t), label: `${kind} ${fmtShape(x.shape)}` }
}

/** Gradient-check specs of the pooling layers (random sizes and options). */
export const poolSpecs: Record<string, GradSpec> = {
  maxPool1dLayer: { sample: (s: CaseSampler) => poolCase(s, 1, 'max') },
  maxPool2dLayer: { sample: (s: CaseSampler) => poolCase(s, 2, 'max') },
  avgPool1dLayer: { sample: (s: CaseSampler) => poolCase(s, 1, 'avg') },
  avgPool2dLayer: { sample: (s: CaseSampler) => poolCase(s, 2, 'avg') },
  adaptiveAvgPool1dLayer: { sample: (s: CaseSampler) => poolCase(s, 1, 'adaptive') },
  adaptiveAvgPool2dLayer: { sample: (s: CaseSampler) => poolCase(s, 2, 'adaptive') },
}
