/**
 * Parameter initialisers, as `torch.nn.init`: every one draws from an explicit seed, so the
 * same seed gives the same parameters everywhere. Each has the {@link Initializer} shape
 * `(shape, seed, options)` and can be passed to a layer's `weightInit` / `biasInit` option.
 * @module
 */
import { ArgumentError, RandomStream, fmtShape, full, randn, tensor, uniform } from '@graphgrad/core'
import type { DType, Seed, Tensor } from '@graphgrad/core'
import { nearestName } from '@graphgrad/core/internal'
import { checkOptions } from './compose.ts'

/** Options every initialiser takes. */
export interface InitOptions {
  /** Element type of the result (default float32). */
  dtype?: DType
}

/** Something that makes a parameter tensor of a given shape from a seed. */
export type Initializer = (shape: readonly number[], seed: Seed, options?: InitOptions) => Tensor

/** Nonlinearities known to {@link calculateGain}, as `torch.nn.init.calculate_gain`. */
export type GainNonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu'

/**
 * The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain`; `param` is the
 * negative slope of `leaky_relu` (default 0.01).
 */
export function calculateGain(nonlinearity: GainNonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1
    case 'tanh':
      return 5 / 3
    case 'relu':
      return Math.SQRT2
    case 'leaky_relu': {
      const slope = param ?? 0.01
      return Math.sqrt(2 / (1 + slope * slope))
    }
    case 'selu':
      return 3 / 4
    default:
      throw new ArgumentError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'`)
  }
}

/**
 * `[fanIn, fanOut]` of a weight shape as PyTorch computes them: `shape[1]` and `shape[0]`
 * times the product of the remaining (receptive field) dimensions. Needs rank >= 2.
 */
export function fans(shape: readonly number[], where = 'fans'): [number, number] {
  if (shape.length < 2) throw new ArgumentError(`${where}: fan in and fan out need a shape of rank >= 2, got ${fmtShape(shape)}`)
  let receptive = 1
  for (const d of shape.slice(2)) receptive *= d
  return [shape[1] * receptive, shape[0] * receptive]
}

/** An initialiser drawing uniformly from `[-bound, bound)` (PyTorch's default for recurrent layers, with bound `1/sqrt(hidden)`). */
export function uniformInit(bound: number): Initializer {
  return (shape, seed, options = {}) => uniform(shape, -bound, bound, seed, options)
}

/** An initialiser drawing from N(mean, std^2) (PyTorch's default for embeddings is N(0, 1)). */
export function normalInit(mean = 0, std = 1): Initializer {
  return (shape, seed, options = {}) => {
    const z = randn(shape, seed, { dtype: 'float64' })
    const out = new Float64Array(z.size)
    const src = z.data
    for (let i = 0; i < out.length; i++) out[i] = mean + std * src[i]
    return cast(out, shape, options.dtype)
  }
}

/** An initialiser giving a constant tensor (zeros by default); it ignores the seed. */
export function constantInit(value = 0): Initializer {
  return (shape, _seed, options = {}) => full(shape, value, options)
}

/** Options of {@link kaimingUniform}. */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the rectifier after this layer (PyTorch's `a`, default 0). */
  a?: number
  /** Preserve the variance of the forward pass (`fanIn`, default) or of the backward pass (`fanOut`). */
  mode?: 'fanIn' | 'fanOut'
  /** The nonlinearity after this layer (default `leaky_relu`, as PyTorch). */
  nonlinearity?: GainNonlinearity
}

/**
 * He initialisation, as `torch.nn.init.kaiming_uniform_`: U(-b, b) with
 * `b = gain * sqrt(3 / fan)`. With `a = sqrt(5)` this is PyTorch's default for
 * `nn.Linear` weights, U(-1/sqrt(in), 1/sqrt(in)).
 */
export function kaimingUniform(shape: readonly number[], seed: Seed, options: KaimingOptions = {}): Tensor {
  checkOptions(options, { dtype: true, a: true, mode: true, nonlinearity: true }, 'kaimingUniform')
  const mode = options.mode ?? 'fanIn'
  if (mode !== 'fanIn' && mode !== 'fanOut') {
    // PyTorch spells them 'fan_in' and 'fan_out'; anything but 'fanIn' used to mean fanOut.
    const near = nearestName(String(mode), ['fanIn', 'fanOut'])
    throw new ArgumentError(`kaimingUniform: mode must be 'fanIn' or 'fanOut', got ${JSON.stringify(mode)}${near === null ? '' : ` (did you mean '${near}'?)`}`)
  }
  const [fanIn, fanOut] = fans(shape, 'kaimingUniform')
  const fan = mode === 'fanIn' ? fanIn : fanOut
  const gain = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0)
  const bound = fan === 0 ? 0 : gain * Math.sqrt(3 / fan)
  return uniform(shape, -bound, bound, seed, options)
}

/** Options of {@link xavierUniform} and {@link orthogonal}. */
export interface GainOptions extends InitOptions {
  /** Scaling factor (default 1). */
  gain?: number
}

const GAIN_KEYS = { dtype: true, gain: true } as const satisfies Record<keyof GainOptions, true>

/** Glorot initialisation, as `torch.nn.init.xavier_uniform_`: U(-b, b) with `b = gain * sqrt(6 / (fanIn + fanOut))`. */
export function xavierUniform(shape: readonly number[], seed: Seed, options: GainOptions = {}): Tensor {
  checkOptions(options, GAIN_KEYS, 'xavierUniform')
  const [fanIn, fanOut] = fans(shape, 'xavierUniform')
  const bound = fanIn + fanOut === 0 ? 0 : (options.gain ?? 1) * Math.sqrt(6 / (fanIn + fanOut))
  return uniform(shape, -bound, bound, seed, options)
}

/** Glorot initialisation with a normal distribution, as `torch.nn.init.xavier_normal_`. */
export function xavierNormal(shape: readonly number[], seed: Seed, options: GainOptions = {}): Tensor {
  checkOptions(options, GAIN_KEYS, 'xavierNormal')
  const [fanIn, fanOut] = fans(shape, 'xavierNormal')
  const std = fanIn + fanOut === 0 ? 0 : (options.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut))
  return normalInit(0, std)(shape, seed, options)
}

/**
 * A (semi-)orthogonal matrix, as `torch.nn.init.orthogonal_`: the Q factor of the QR
 * decomposition of a standard normal matrix (rows = `shape[0]`, the other dimensions
 * flattened), with signs fixed so the decomposition is unique, times `gain`.
 */
export function orthogonal(shape: readonly number[], seed: Seed, options: GainOptions = {}): Tensor {
  checkOptions(options, GAIN_KEYS, 'orthogonal')
  if (shape.length < 2) throw new ArgumentError(`orthogonal: needs a shape of rank >= 2, got ${fmtShape(shape)}`)
  const rows = shape[0]
  const cols = shape.slice(1).reduce((a, b) => a * b, 1)
  const gain = options.gain ?? 1
  const out = new Float64Array(rows * cols)
  if (rows > 0 && cols > 0) {
    // Orthonormalise the columns of a tall n x m matrix (n >= m); transposed when wide.
    const tall = rows >= cols
    const n = tall ? rows : cols
    const m = tall ? cols : rows
    const rng = new RandomStream(seed)
    const a = Array.from({ length: m }, () => new Float64Array(n))
    // Draw in row-major order of the rows x cols matrix, as the shape suggests.
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < cols; j++) {
        const v = rng.nextNormal()
        if (tall) a[j][i] = v
        else a[i][j] = v
      }
    gramSchmidtQ(a, n)
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (tall ? a[j][i] : a[i][j])
  }
  return cast(out, shape, options.dtype)
}

/**
 * Replaces the columns `a[0..m)` (each of length n) with the Q of a QR decomposition whose R
 * has a positive diagonal (so Q is unique, as PyTorch's sign correction makes it).
 * Modified Gram-Schmidt, applied twice for orthogonality to working precision.
 */
function gramSchmidtQ(a: Float64Array[], n: number): void {
  for (let k = 0; k < a.length; k++) {
    const v = a[k]
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < k; j++) {
        const q = a[j]
        let dot = 0
        for (let i = 0; i < n; i++) dot += q[i] * v[i]
        for (let i = 0; i < n; i++) v[i] -= dot * q[i]
      }
    }
    let norm = 0
    for (let i = 0; i < n; i++) norm += v[i] * v[i]
    norm = Math.sqrt(norm)
    // A normal draw is almost surely full rank; guard the degenerate case anyway.
    if (norm === 0) throw new ArgumentError('orthogonal: the random matrix is rank deficient; try another seed')
    for (let i = 0; i < n; i++) v[i] /= norm
  }
}

function cast(data: Float64Array, shape: readonly number[], dtype: DType | undefined): Tensor {
  return tensor(data, { shape, dtype: dtype ?? 'float32' })
}
