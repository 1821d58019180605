/**
 * Helpers of the recurrent-layer tests: reading the PyTorch reference fixtures, comparing
 * with the fixtures' allclose rule (the finite-difference check is testdata/testing.ts's fdCheck).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Tensor, loadSafetensors } from '@graphgrad/core'
import type { OrderedMap } from 'immutable'

const ROOT = fileURLToPath(new URL('../../../testdata/reference/', import.meta.url))

/** A fixture case of the manifest. */
export interface FixtureCase {
  file: string
  kind: string
  config: {
    module_kwargs: {
      input_size: number
      hidden_size: number
      num_layers: number
      bias: boolean
      batch_first: boolean
      bidirectional?: boolean
      nonlinearity?: string
    }
    initial_state: boolean
    lengths?: boolean
    dtype: 'F32' | 'F64'
    param_names: string[]
  }
  tolerance: { atol: number; rtol: number }
}

/** The recurrent cases of the public fixtures. */
export function recurrentCases(): FixtureCase[] {
  const manifest = JSON.parse(readFileSync(ROOT + 'manifest.json', 'utf8')) as { cases: FixtureCase[] }
  return manifest.cases.filter((c) => ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'].includes(c.kind))
}

/** The tensors of a fixture file by name. */
export function loadCase(c: FixtureCase): OrderedMap<string, Tensor> {
  return loadSafetensors(new Uint8Array(readFileSync(ROOT + c.file)))
}

/** The largest `|a - e| - rtol |e|` (<= atol means allclose passes), and the largest plain |a - e|. */
export function compare(actual: Tensor, expected: Tensor, rtol: number): { excess: number; maxAbs: number } {
  if (actual.shape.join() !== expected.shape.join()) throw new Error(`shape ${actual.shape} != expected ${expected.shape}`)
  let excess = -Infinity
  let maxAbs = 0
  const a = actual._data
  const e = expected._data
  for (let i = 0; i < e.length; i++) {
    const d = Math.abs(a[i] - e[i])
    if (!(d <= maxAbs)) maxAbs = d
    const x = d - rtol * Math.abs(e[i])
    if (!(x <= excess)) excess = x
  }
  return { excess: e.length === 0 ? 0 : excess, maxAbs }
}
