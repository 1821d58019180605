/**
 * The convolution and pooling fixtures (testdata/reference/conv_pool, written by
 * scripts/fixtures/conv_pool.py): reading the cases, their options in graphgrad's camelCase,
 * and the largest error against the fixtures' allclose rule.
 */
import { readFileSync } from 'node:fs'
import type { OrderedMap } from 'immutable'
import { type Tensor, loadSafetensors } from '@graphgrad/core'

const dir = new URL('./reference/conv_pool/', import.meta.url)

/** A conv_pool case of the manifest. */
export interface ConvPoolCase {
  file: string
  kind: 'conv1d' | 'conv2d' | 'max_pool1d' | 'max_pool2d' | 'avg_pool1d' | 'avg_pool2d' | 'adaptive_avg_pool1d' | 'adaptive_avg_pool2d'
  config: {
    module: string
    module_kwargs: Record<string, number | number[] | string | boolean>
    input_shape: number[]
    dtype: 'F32' | 'F64'
    param_names: string[]
    grads: string[]
    double?: { grads: string[] }
    ties?: boolean
  }
  tolerance: { atol: number; rtol: number }
  notes: string
}

/** Every case of the conv_pool manifest. */
export function convPoolCases(): ConvPoolCase[] {
  return (JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')) as { cases: ConvPoolCase[] }).cases
}

/** The tensors of a case's file, by name. */
export function convPoolTensors(c: ConvPoolCase): OrderedMap<string, Tensor> {
  return loadSafetensors(new Uint8Array(readFileSync(new URL(c.file, dir))))
}

/** A case's tensor `name`, failing clearly when the file has none. */
export function tensorOf(t: OrderedMap<string, Tensor>, name: string): Tensor {
  const v = t.get(name)
  if (v === undefined) throw new Error(`fixture has no tensor '${name}'`)
  return v
}

const camel = (k: string): string => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())

/** The module's keyword arguments in camelCase (`kernel_size` -> `kernelSize`), lists as they are. */
export function camelKwargs(c: ConvPoolCase): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c.config.module_kwargs).map(([k, v]) => [camel(k), v]))
}

/** The largest `|a - e| - (atol + rtol |e|)` (<= 0 passes) and the largest `|a - e|`; NaN where a NaN is unmatched. */
export function excessOver(actual: Tensor, expected: Tensor, tol: { atol: number; rtol: number }): { excess: number; maxAbs: number } {
  if (actual.shape.join(',') !== expected.shape.join(',')) throw new Error(`shape [${actual.shape.join(',')}] but expected [${expected.shape.join(',')}]`)
  const a = actual.data
  const e = expected.data
  let excess = -Infinity
  let maxAbs = 0
  for (let i = 0; i < e.length; i++) {
    const d = Math.abs(a[i] - e[i])
    if (Number.isNaN(d)) return { excess: NaN, maxAbs: NaN }
    maxAbs = Math.max(maxAbs, d)
    excess = Math.max(excess, d - (tol.atol + tol.rtol * Math.abs(e[i])))
  }
  return { excess: e.length === 0 ? 0 : excess, maxAbs }
}
