/**
 * The fuzz suite's drawing and checking (fuzz-ops.test.ts): random shapes (zero, large beside a
 * zero, past the element cap, invalid), dtypes and values (NaN, +-Infinity, int32 extremes), and
 * the one check every case passes: a graphgrad error, or a well-formed result, in bounded time.
 */
import { expect } from 'vitest'
import fc from 'fast-check'
import { type DType, GraphgradError, Tensor, onesLike, tensor, vjp } from '@graphgrad/core'
import { MAX_ELEMENTS } from '../src/shape.ts'

/** Results above this many elements are not drawn (a legal but huge result would take gigabytes). */
const BUDGET = 2 ** 22
/** Milliseconds one case (forward, printing, backward) may take. */
const TIME_BOUND_MS = 3000

/** What a case draws from: fast-check's generator (shapes, arguments) and a seeded stream (values). */
export interface Draw {
  readonly g: fc.GeneratorValue
  readonly next: () => number
}

/** A seeded uniform [0, 1) stream (mulberry32): values are many, so they are not shrunk one by one. */
function stream(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A Draw from fast-check's generator (the value stream's seed drawn from it too). */
export function drawFrom(g: fc.GeneratorValue): Draw {
  return { g, next: stream(g(fc.integer, { min: 0, max: 0x7fffffff })) }
}

/** An integer in [lo, hi] drawn by fast-check (so it shrinks). */
export const int = (d: Draw, lo: number, hi: number): number => d.g(fc.integer, { min: lo, max: hi })
/** One of `items`. */
export const pick = <T>(d: Draw, items: readonly T[]): T => items[int(d, 0, items.length - 1)]
/** True with probability about `p`. */
export const coin = (d: Draw, p = 0.5): boolean => int(d, 0, 999) < p * 1000

/** A size for a tensor that is drawn: mostly small, sometimes 0. */
function inputDim(d: Draw): number {
  const r = int(d, 0, 9)
  return r < 2 ? 0 : 1 + (r % 4)
}

/**
 * A shape for an input tensor: small sizes and zeros; a shape of rank <= 2 holding a zero may
 * have one large size (2^16 to 2^20) too, so it still holds no data. Two large sizes in one
 * result exceed the cap, and one large size times small ones stays within {@link BUDGET}.
 */
export function inputShape(d: Draw, minRank = 0, maxRank = 3): number[] {
  const shape = Array.from({ length: int(d, minRank, maxRank) }, () => inputDim(d))
  const zero = shape.indexOf(0)
  if (zero >= 0 && shape.length === 2 && coin(d, 0.4)) shape[1 - zero] = int(d, 2 ** 16, 2 ** 20)
  return shape
}

/** A size given as an argument (a shape to make, a width, a class count): anything at all. */
export function argDim(d: Draw): number {
  switch (int(d, 0, 9)) {
    case 0:
      return pick(d, [MAX_ELEMENTS + 1, 2 ** 32, 2 ** 53, 1e20]) // past the cap
    case 1:
      return pick(d, [-1, 1.5, NaN, Infinity]) // not a size
    case 2:
      return pick(d, [2 ** 16, 2 ** 20 + 1, 2 ** 30, MAX_ELEMENTS]) // large but allowed
    case 3:
      return 0
    default:
      return int(d, 1, 5)
  }
}

/** A shape given as an argument (see {@link argDim}). */
export const argShape = (d: Draw, maxRank = 3): number[] => Array.from({ length: int(d, 0, maxRank) }, () => argDim(d))

/** How a shape argument must fare: refused (invalid or past the cap), too large to try here, or made. */
export function fate(shape: readonly number[]): 'refused' | 'huge' | 'ok' {
  if (shape.some((n) => !Number.isInteger(n) || n < 0 || n > MAX_ELEMENTS)) return 'refused'
  const n = elements(shape)
  return n > MAX_ELEMENTS ? 'refused' : n > BUDGET ? 'huge' : 'ok'
}

/** Number of elements of a shape. */
export const elements = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

const FLOAT_SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e308, -1e308, 5e-324, 3.5e38, 1e-40, 2147483647, -2147483648, 2 ** 31, 0.5, -1.5]
const INT_SPECIALS = [0, 1, -1, 2147483647, -2147483648, 46341, -46341, 65536]

/** Tensors drawn with every value in [-3, 3] (finite results are then expected of many ops). */
const tameTensors = new WeakSet<Tensor>()

/** True when every tensor was drawn tame (and is not int32, whose tame values hit poles at 0). */
export const allTame = (...ts: Tensor[]): boolean => ts.every((t) => tameTensors.has(t))

/** A random dtype. */
export const dtypeOf = (d: Draw): DType => pick(d, ['float32', 'float64', 'int32'] as const)

/** A tensor of `shape` and `dtype`: tame values, or tame ones mixed with specials. */
export function values(d: Draw, shape: readonly number[], dtype: DType = dtypeOf(d)): Tensor {
  const tame = coin(d, 0.6)
  const n = elements(shape)
  const data = dtype === 'int32' ? new Int32Array(n) : dtype === 'float32' ? new Float32Array(n) : new Float64Array(n)
  const specials = dtype === 'int32' ? INT_SPECIALS : FLOAT_SPECIALS
  for (let i = 0; i < n; i++) {
    const v = -3 + 6 * d.next()
    data[i] = !tame && d.next() < 0.5 ? specials[Math.floor(d.next() * specials.length)] : dtype === 'int32' ? Math.round(v) : v
  }
  const t = tensor(data, { shape })
  if (tame && dtype !== 'int32') tameTensors.add(t)
  return t
}

/** An int32 index tensor of `shape` with values in [0, n), or (sometimes) out of range. */
export function indices(d: Draw, shape: readonly number[], n: number): Tensor {
  const bad = coin(d, 0.15)
  const data = Int32Array.from({ length: elements(shape) }, () => (bad && d.next() < 0.3 ? pick(d, [-1, n, 2147483647]) : Math.floor(d.next() * n)))
  return tensor(data, { shape })
}

/** An axis for a tensor of rank `rank`: valid, or (sometimes) out of range or not an integer. */
export function axisOf(d: Draw, rank: number): number {
  if (coin(d, 0.1)) return pick(d, [rank, -rank - 2, 0.5, NaN])
  return int(d, -Math.max(rank, 1), Math.max(rank, 1) - 1)
}

/** Axes to reduce: all (undefined), one, or a list (possibly repeating or out of range). */
export function axesOf(d: Draw, rank: number): number | number[] | undefined {
  const k = int(d, 0, 2)
  if (k === 0) return undefined
  if (k === 1) return axisOf(d, rank)
  return Array.from({ length: int(d, 0, rank + 1) }, () => axisOf(d, rank))
}

/** The NumPy broadcast of two shapes, or null when they do not broadcast. */
export function broadcast(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1
    const y = b[b.length - n + i] ?? 1
    if (x !== y && x !== 1 && y !== 1) return null
    out.push(x === 1 ? y : x)
  }
  return out
}

/** A shape that broadcasts with `shape` (dims dropped or set to 1), or (sometimes) any shape. */
export function partnerShape(d: Draw, shape: readonly number[]): number[] {
  if (coin(d, 0.2)) return inputShape(d)
  return shape.slice(int(d, 0, shape.length)).map((n) => (coin(d, 0.3) ? 1 : n))
}

/** One fuzz case of an op. */
export interface Case {
  /** The tensors the op reads; differentiated when they are all float. */
  readonly inputs: readonly Tensor[]
  /** Calls the op (its other arguments closed over). */
  readonly run: (...inputs: Tensor[]) => Tensor | Tensor[]
  /** `ok`: must succeed; `error`: must throw a graphgrad error; unset: either. */
  readonly expect?: 'ok' | 'error'
  /** The result's shape, when it succeeds. */
  readonly shape?: readonly number[]
  /** Whether every value of a successful result (and of its gradient) must be finite. */
  readonly finite?: boolean
  /** A further check of the result or of the error. */
  readonly check?: (out: Tensor | Tensor[] | GraphgradError) => void
  /** A description for failure reports. */
  readonly label: string
}

function describeInputs(c: Case): string {
  return c.inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(', ')
}

/** Throws unless `t` is a well-formed tensor that prints quickly and briefly. */
export function wellFormed(t: unknown, where: string): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`${where}: returned ${typeof t}, not a Tensor`)
  for (const n of t.shape)
    if (!Number.isInteger(n) || n < 0 || n > MAX_ELEMENTS) throw new Error(`${where}: result shape [${t.shape.join(',')}] has an invalid size`)
  expect(t.size, `${where}: size`).toBe(elements(t.shape))
  expect(t._data.length, `${where}: data length`).toBe(t.size)
  expect(['float32', 'float64', 'int32']).toContain(t.dtype)
  expect(String(t).length, `${where}: printed length`).toBeLessThan(100_000)
  return t
}

function allFinite(t: Tensor): boolean {
  for (let i = 0; i < t._data.length; i++) if (!Number.isFinite(t._data[i])) return false
  return true
}

/** Runs one case of `name` and checks it (see the module comment); `differentiable` runs a VJP too. */
export function runCase(name: string, c: Case, differentiable: boolean): void {
  const where = `${name}(${describeInputs(c)}) ${c.label}`
  const start = performance.now()
  let out: Tensor | Tensor[] | undefined
  let error: unknown
  try {
    out = c.run(...c.inputs)
  } catch (e) {
    error = e
  }
  if (error !== undefined) {
    if (!(error instanceof GraphgradError)) throw new Error(`${where}: threw ${String(error)} (not a graphgrad error)`, { cause: error })
    if (c.expect === 'ok') throw new Error(`${where}: expected a result, got ${error.name}: ${error.message}`)
    // allocate's own refusal names no op: the op should have refused the shape itself, by name.
    if (error.message.startsWith('allocate:')) throw new Error(`${where}: reached allocate's backstop: ${error.message}`)
    c.check?.(error)
  } else {
    if (c.expect === 'error') throw new Error(`${where}: expected a graphgrad error, got a result`)
    const results = Array.isArray(out) ? out : [out]
    results.forEach((t) => wellFormed(t, where))
    if (c.shape !== undefined && !Array.isArray(out)) expect((out as Tensor).shape, `${where}: shape`).toEqual(c.shape)
    if (c.finite === true) for (const t of results as Tensor[]) if (!allFinite(t)) throw new Error(`${where}: non-finite result ${String(t)}`)
    c.check?.(out as Tensor | Tensor[])
    if (differentiable && !Array.isArray(out) && c.inputs.length > 0 && c.inputs.every((t) => t.dtype !== 'int32') && out?.dtype !== 'int32') backward(where, c)
  }
  expect(performance.now() - start, `${where}: milliseconds`).toBeLessThan(TIME_BOUND_MS)
}

function backward(where: string, c: Case): void {
  let grads: unknown[]
  try {
    const [y, pullback] = vjp((...ts: Tensor[]) => c.run(...ts) as Tensor, ...c.inputs)
    grads = pullback(onesLike(y))
  } catch (e) {
    if (e instanceof GraphgradError) return
    throw new Error(`${where}: the VJP threw ${String(e)} (not a graphgrad error)`, { cause: e })
  }
  grads.forEach((gr, i) => {
    const t = wellFormed(gr, `${where} gradient ${i}`)
    expect(t.shape, `${where}: gradient ${i} shape`).toEqual(c.inputs[i].shape)
    if (c.finite === true && !allFinite(t)) throw new Error(`${where}: non-finite gradient ${i}: ${String(t)}`)
  })
}
