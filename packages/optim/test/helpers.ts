/**
 * Test helpers: the reference fixtures (manifest + safetensors), option-name conversion
 * from PyTorch's snake_case, closeness checks that report the largest error, and small
 * tensor utilities.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { OrderedMap } from 'immutable'
import { Tensor } from '@graphgrad/core'
import { loadSafetensors } from '@graphgrad/core'
import {
  adagrad,
  adam,
  adamax,
  adamw,
  nadam,
  radam,
  rmsprop,
  sgd,
  cosineAnnealingLR,
  exponentialLR,
  linearLR,
  multiStepLR,
  oneCycleLR,
  stepLR,
  type ConfiguredOptimizer,
  type OneCycleSchedule,
  type Schedule,
} from '../src/index.ts'

const DATA_DIR = new URL('../../../testdata/reference/', import.meta.url)

export interface Tolerance {
  readonly atol: number
  readonly rtol: number
}

export interface Case {
  readonly file: string | null
  readonly kind: string
  readonly config: Record<string, any>
  readonly tolerance: Tolerance
  readonly notes: string
  readonly expected?: Record<string, number[]>
}

export function manifest(): { cases: Case[] } {
  return JSON.parse(readFileSync(new URL('manifest.json', DATA_DIR), 'utf8')) as { cases: Case[] }
}

export function loadCase(c: Case): OrderedMap<string, Tensor> {
  const path = fileURLToPath(new URL(c.file as string, DATA_DIR))
  return loadSafetensors(new Uint8Array(readFileSync(path)), { source: path })
}

/** PyTorch's snake_case argument name in camelCase (`T_max` -> `tMax`, `lr_decay` -> `lrDecay`). */
function camel(name: string): string {
  const c = name.replace(/_([a-zA-Z])/g, (_, ch: string) => ch.toUpperCase())
  return c.charAt(0).toLowerCase() + c.slice(1)
}

/** torch arguments that only pick an implementation, with no effect on the numbers. */
const IMPLEMENTATION_ONLY = new Set(['foreach', 'capturable', 'differentiable', 'fused', 'verbose'])

export function camelKwargs(kwargs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(kwargs)) if (!IMPLEMENTATION_ONLY.has(k)) out[camel(k)] = v
  return out
}

type Factory = (options: any) => ConfiguredOptimizer<any>
export const OPTIMIZERS: Record<string, Factory> = {
  SGD: sgd,
  Adam: adam,
  AdamW: adamw,
  RMSprop: rmsprop,
  Adagrad: adagrad,
  Adamax: adamax,
  NAdam: nadam,
  RAdam: radam,
}

type ScheduleFactory = (options: any) => Schedule | OneCycleSchedule
export const SCHEDULERS: Record<string, ScheduleFactory> = {
  StepLR: stepLR,
  MultiStepLR: multiStepLR,
  ExponentialLR: exponentialLR,
  CosineAnnealingLR: cosineAnnealingLR,
  LinearLR: linearLR,
  OneCycleLR: oneCycleLR,
}

/** Tracks the largest errors seen, per family of cases. */
export class ErrorLog {
  readonly families = new Map<string, { maxAbs: number; maxRatio: number; checks: number }>()
  record(family: string, absErr: number, ratio: number): void {
    const f = this.families.get(family) ?? { maxAbs: 0, maxRatio: 0, checks: 0 }
    f.maxAbs = Math.max(f.maxAbs, absErr)
    f.maxRatio = Math.max(f.maxRatio, ratio)
    f.checks++
    this.families.set(family, f)
  }
  report(): string {
    return [...this.families]
      .map(([k, v]) => `${k}: max |A-E| = ${v.maxAbs.toExponential(2)}, max |A-E|/(atol+rtol|E|) = ${v.maxRatio.toExponential(2)} over ${v.checks} comparisons`)
      .join('\n')
  }
}

/**
 * NumPy allclose of `actual` against `expected`, elementwise; returns the first failing
 * index (or -1) and the largest absolute error and tolerance ratio.
 */
export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): { bad: number; maxAbs: number; maxRatio: number } {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`)
  let bad = -1
  let maxAbs = 0
  let maxRatio = 0
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i])
    const allowed = tol.atol + tol.rtol * Math.abs(expected[i])
    if (!(err <= allowed) && bad < 0) bad = i
    maxAbs = Math.max(maxAbs, err)
    maxRatio = Math.max(maxRatio, err / allowed)
  }
  return { bad, maxAbs, maxRatio }
}

export function f64(values: number[], shape: number[] = [values.length]): Tensor {
  return new Tensor(Float64Array.from(values), shape)
}

export function f32(values: number[], shape: number[] = [values.length]): Tensor {
  return new Tensor(Float32Array.from(values), shape)
}

/** A deep snapshot of every tensor's bytes in a map of maps, for no-mutation checks. */
export function snapshot(tree: unknown): unknown {
  if (tree instanceof Tensor) return [tree.dtype, [...tree.shape], Array.from(tree._data)]
  if (OrderedMap.isOrderedMap(tree) || (tree !== null && typeof tree === 'object' && 'entrySeq' in (tree as object))) {
    return [...(tree as OrderedMap<string, unknown>).entries()].map(([k, v]) => [k, snapshot(v)])
  }
  return tree
}

/** mulberry32: a small seeded generator of uniform numbers in [0, 1), for reproducible test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
