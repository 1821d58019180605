/**
 * Seeded drawing of gradient-check cases: shapes, broadcast pairs and values in a domain.
 * Specs use it so the same seed gives the same case in tests, the command and the docs.
 * @module
 */
import { type Seed, RandomStream } from '../random.ts'
import { Tensor } from '../tensor.ts'
import { fmtShape } from '../errors.ts'

/** Where values may be drawn: an interval, minus a margin around points to avoid (kinks, poles). */
export interface Domain {
  /** Lower bound (default -2). */
  min?: number
  /** Upper bound (default 2). */
  max?: number
  /** Points to stay away from, such as 0 for `abs` or `relu`. */
  avoid?: readonly number[]
  /** Distance kept from each avoided point (default 0.1). */
  margin?: number
}

/** Options for drawing a shape. */
export interface ShapeOptions {
  /** Smallest rank (default 0). */
  minRank?: number
  /** Largest rank (default 3). */
  maxRank?: number
  /** Smallest dimension (default 1). */
  minDim?: number
  /** Largest dimension (default 4). */
  maxDim?: number
}

/** Draws shapes and values for gradient checks from one seed. */
export class CaseSampler {
  private readonly rng: RandomStream

  constructor(seed: Seed) {
    this.rng = new RandomStream(seed)
  }

  /** A uniform integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return this.rng.nextInt(lo, hi + 1)
  }

  /** A uniform float in [lo, hi). */
  float(lo: number, hi: number): number {
    return lo + (hi - lo) * this.rng.nextFloat()
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.rng.nextInt(0, items.length)]
  }

  /** True with probability `p`. */
  coin(p = 0.5): boolean {
    return this.rng.nextFloat() < p
  }

  /** A random shape. */
  shape(options: ShapeOptions = {}): number[] {
    const rank = this.int(options.minRank ?? 0, options.maxRank ?? 3)
    return Array.from({ length: rank }, () => this.int(options.minDim ?? 1, options.maxDim ?? 4))
  }

  /** A shape that broadcasts to `full`: some leading dims dropped, some dims set to 1. */
  broadcastable(full: readonly number[]): number[] {
    return full.slice(this.int(0, full.length)).map((d) => (this.coin(0.3) ? 1 : d))
  }

  /** Two shapes that broadcast together, in random order. */
  broadcastPair(options: ShapeOptions = {}): [number[], number[]] {
    const full = this.shape(options)
    const part = this.broadcastable(full)
    return this.coin(0.5) ? [part, full] : [full, part]
  }

  /** A float64 tensor of `shape` with values drawn from `domain`. */
  values(shape: readonly number[], domain: Domain = {}): Tensor {
    const min = domain.min ?? -2
    const max = domain.max ?? 2
    const margin = domain.margin ?? 0.1
    const avoid = domain.avoid ?? []
    let n = 1
    for (const d of shape) n *= d
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      let v = this.float(min, max)
      for (let tries = 0; tries < 100 && avoid.some((a) => Math.abs(v - a) < margin); tries++) v = this.float(min, max)
      out[i] = v
    }
    return new Tensor(out, shape.slice())
  }

  /**
   * A float64 tensor of `shape` whose values are `spacing` apart (around 0), each plus a
   * draw from [0, jitter), in a shuffled order: no two within a finite-difference step, so a
   * max, a min or a max pooling meets no tie.
   */
  distinct(shape: readonly number[], spacing: number, jitter: number): Tensor {
    let n = 1
    for (const d of shape) n *= d
    const values = Array.from({ length: n }, (_, i) => (i - n / 2) * spacing + this.float(0, jitter))
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i)
      ;[values[i], values[j]] = [values[j], values[i]]
    }
    return new Tensor(Float64Array.from(values), shape.slice())
  }

  /** An int32 tensor of `shape` with values in [lo, hi). */
  indices(shape: readonly number[], lo: number, hi: number): Tensor {
    let n = 1
    for (const d of shape) n *= d
    const out = new Int32Array(n)
    for (let i = 0; i < n; i++) out[i] = this.rng.nextInt(lo, hi)
    return new Tensor(out, shape.slice())
  }
}

/** A readable label for a list of input shapes, e.g. `[2,3], [3]`. */
export function shapesLabel(...tensors: Tensor[]): string {
  return tensors.map((t) => fmtShape(t.shape)).join(', ')
}
