/**
 * Helpers of the attention and normalisation fixture tests: the cases of
 * testdata/reference/attention-norm (written by scripts/fixtures/attention_norm.py), a check
 * of a case's outputs and gradients against them, and the worst error per case for the report.
 */
import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import { type Tensor, add, astype, flattenParams, loadSafetensors, mul, sum, unflattenParams, valueAndGrad } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import type { Params } from '../src/layer.ts'
import { compare } from './recurrent-util.ts'

const DIR = new URL('../../../testdata/reference/attention-norm/', import.meta.url)

/** One case of the manifest. */
export interface NormCase {
  file: string
  kind: string
  config: Record<string, unknown> & { dtype: 'F32' | 'F64' }
  tolerance: { atol: number; rtol: number }
  notes: string
}

/** A case's configuration read as the shape its generator wrote (the JSON is the generator's, not checked here). */
export function configOf<T>(c: NormCase): T {
  return c.config as unknown as T
}

/** The cases of one kind. */
export function casesOf(kind: string): NormCase[] {
  const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as { cases: NormCase[] }
  return manifest.cases.filter((c) => c.kind === kind)
}

/** A case's tensors; `get` throws for a missing name. */
export function tensorsOf(c: NormCase): { all: OrderedMap<string, Tensor>; get: (name: string) => Tensor; dtype: 'float32' | 'float64' } {
  const all = loadTensors(c.file)
  const get = (name: string): Tensor => {
    const t = all.get(name)
    if (t === undefined) throw new Error(`${c.file}: no tensor ${name}`)
    return t
  }
  return { all, get, dtype: c.config.dtype === 'F32' ? 'float32' : 'float64' }
}

function loadTensors(file: string): OrderedMap<string, Tensor> {
  return loadSafetensors(new Uint8Array(readFileSync(new URL(file, DIR))))
}

/** Worst absolute error per case file, for the report. */
export const worst = new Map<string, number>()

/** Asserts `actual` allclose to the case's `expected` (the manifest's rule), recording the worst error. */
export function expectClose(c: NormCase, name: string, actual: Tensor, expected: Tensor): void {
  const { excess, maxAbs } = compare(actual, expected, c.tolerance.rtol)
  worst.set(c.file, Math.max(worst.get(c.file) ?? 0, maxAbs))
  expect(excess, `${c.file} ${name}: max |a - e| = ${maxAbs}`).toBeLessThanOrEqual(c.tolerance.atol)
}

/**
 * Runs `forward` on the case's parameters (the names of `template`, PyTorch's state_dict
 * names, which the file must hold exactly) and its `inputs`, and checks every output, the
 * loss `sum(out * r_out)` and the gradient of every parameter and input.
 */
export function checkCase(
  c: NormCase,
  template: Params,
  inputs: readonly string[],
  forward: (params: Params, x: Record<string, Tensor>) => Record<string, Tensor>,
): void {
  const { all, get } = tensorsOf(c)
  const paramNames = [...flattenParams(template).keys()]
  const reserved = new Set([
    ...inputs,
    'loss',
    'attn_mask',
    'key_padding_mask',
    'lengths',
    'src_mask',
    'src_key_padding_mask',
    'tgt_mask',
    'memory_mask',
    'tgt_key_padding_mask',
    'memory_key_padding_mask',
  ])
  const fileParams = [...all.keys()].filter((k) => !reserved.has(k) && !k.startsWith('r_') && !k.startsWith('grad.') && !all.has(`r_${k}`))
  expect(fileParams.sort(), `${c.file}: PyTorch's parameter names`).toEqual([...paramNames].sort())
  const diff = OrderedMap([...paramNames, ...inputs].map((n) => [n, get(n)] as [string, Tensor]))
  let outputs: Record<string, Tensor> = {}
  const loss = (m: OrderedMap<string, Tensor>): Tensor => {
    const params = unflattenParams(m.filter((_, k) => paramNames.includes(k))) as Params
    outputs = forward(params, Object.fromEntries(inputs.map((n) => [n, m.get(n) as Tensor])))
    return Object.entries(outputs)
      .map(([n, y]) => sum(mul(y, get(`r_${n}`))))
      .reduce((a, b) => add(a, b))
  }
  const [value, grads] = valueAndGrad(loss)(diff)
  expectClose(c, 'loss', value, astype(get('loss'), value.dtype))
  const outs = Object.keys(outputs)
  expect(outs.sort()).toEqual([...all.keys()].filter((k) => all.has(`r_${k}`)).sort())
  for (const [n, y] of Object.entries(outputs)) expectClose(c, n, y, get(n))
  for (const n of [...paramNames, ...inputs]) expectClose(c, `grad.${n}`, (grads as OrderedMap<string, Tensor>).get(n) as Tensor, get(`grad.${n}`))
}
