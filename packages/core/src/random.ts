/**
 * Seeded randomness. Every draw comes from an explicit seed or {@link Key}; the same key
 * gives the same numbers in Node and in the browser (only 32-bit integer arithmetic and
 * V8's deterministic Math functions are used).
 * @module
 */
import { ArgumentError } from './errors.ts'

/** A random key: an explicit, splittable source of randomness (as JAX's PRNG keys). */
export interface Key {
  /** Two 32-bit words. */
  readonly words: readonly [number, number]
}

/** A seed (any integer) or a key. */
export type Seed = number | Key

function mix32(x: number): number {
  // murmur3's finaliser: a bijection on 32-bit words with good avalanche.
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}

/** Makes a key from an integer seed. */
export function key(seed: number): Key {
  if (!Number.isSafeInteger(seed)) throw new ArgumentError(`key: seed must be a safe integer, got ${seed}`)
  const lo = seed >>> 0
  const hi = Math.floor(seed / 0x100000000) >>> 0
  return { words: [mix32(lo ^ 0x9e3779b9), mix32(hi ^ mix32(lo + 0x7f4a7c15))] }
}

/** Splits a key into `n` independent keys. */
export function splitKey(k: Seed, n = 2): Key[] {
  const base = toKey(k, 'splitKey')
  const out: Key[] = []
  for (let i = 0; i < n; i++) out.push(foldIn(base, i))
  return out
}

/** Derives a new key from `k` and an integer `data` (e.g. a step number or layer index). */
export function foldIn(k: Seed, data: number): Key {
  const [a, b] = toKey(k, 'foldIn').words
  if (!Number.isSafeInteger(data)) throw new ArgumentError(`foldIn: data must be a safe integer, got ${data}`)
  const lo = data >>> 0
  const hi = Math.floor(data / 0x100000000) >>> 0
  return { words: [mix32(a ^ mix32(lo + 0x632be5ab)), mix32(b ^ mix32(lo ^ 0x1b873593) ^ a ^ mix32(hi + 0x2545f491))] }
}

/** @internal Accepts a seed or a key; `where` names the caller in errors. */
function toKey(s: Seed, where = 'random'): Key {
  if (typeof s === 'number') {
    if (!Number.isSafeInteger(s)) throw new ArgumentError(`${where}: the seed must be a safe integer, got ${s}`)
    return key(s)
  }
  if (s === null || typeof s !== 'object' || !Array.isArray(s.words)) {
    throw new ArgumentError(`${where}: expected a seed (an integer) or a key, got ${String(s)}; every random draw needs an explicit seed`)
  }
  return s
}

/**
 * A stream of random numbers from a key: xoshiro128** seeded by the key's words.
 * Public: the creation functions, dropout, initialisers, the examples and gradcheck draw from it.
 */
export class RandomStream {
  private s0: number
  private s1: number
  private s2: number
  private s3: number
  private spare: number | null = null

  constructor(seed: Seed, where = 'RandomStream') {
    const [a, b] = toKey(seed, where).words
    this.s0 = mix32(a ^ 0x243f6a88) | 0
    this.s1 = mix32(b ^ 0x85a308d3) | 0
    this.s2 = mix32(a + 0x13198a2e) | 0
    this.s3 = mix32(b + 0x03707344) | 0
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9)
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result >>> 0
  }

  /** A uniform float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5
    const lo = this.nextUint32() >>> 6
    return (hi * 67108864 + lo) / 9007199254740992
  }

  /** A standard normal draw (Box-Muller, both values used). */
  nextNormal(): number {
    if (this.spare !== null) {
      const v = this.spare
      this.spare = null
      return v
    }
    let u = 0
    while (u === 0) u = this.nextFloat()
    const v = this.nextFloat()
    const r = Math.sqrt(-2 * Math.log(u))
    this.spare = r * Math.sin(2 * Math.PI * v)
    return r * Math.cos(2 * Math.PI * v)
  }

  /** A uniform integer in [lo, hi). */
  nextInt(lo: number, hi: number): number {
    return lo + Math.floor(this.nextFloat() * (hi - lo))
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
