/**
 * Helpers of the recurrent-layer tests: reading the PyTorch reference fixtures, comparing
 * with the fixtures' allclose rule, and a central finite-difference gradient check.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Tensor, loadSafetensors, mul, sum, valueAndGrad } from '@graphgrad/core'
import type { OrderedMap } from 'immutable'

const ROOT = fileURLToPath(new URL('../../../testdata/reference/', import.meta.url))

/** A fixture case of the manifest. */
export interface FixtureCase {
  file: string
  kind: string
  config: {
    module_kwargs: { input_size: number; hidden_size: number; num_layers: number; bias: boolean; batch_first: boolean; bidirectional?: boolean; nonlinearity?: string }
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

/**
 * Checks the gradient of `f` (any tensor output, reduced with fixed random weights) at
 * `inputs` against central differences; returns the largest error beyond `atol + rtol|fd|`
 * (<= 0 passes) and the largest absolute difference.
 */
export function fdCheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], eps = 1e-6, atol = 1e-6, rtol = 1e-5): { excess: number; maxAbs: number } {
  // No noGrad here: f may itself take gradients (second-order checks), which need recording.
  const probe = f(...inputs)
  const w = new Float64Array(probe.size).map((_, i) => Math.sin(1.7 * i + 0.3))
  const weights = new Tensor(w, probe.shape)
  const scalar = (...xs: Tensor[]): number => {
    const y = f(...xs)._data
    let s = 0
    for (let i = 0; i < y.length; i++) s += y[i] * w[i]
    return s
  }
  const loss = (xs: Tensor[]): Tensor => {
    const y = f(...xs)
    return sum(mul(y, weights))
  }
  const [, g] = valueAndGrad(loss)(inputs)
  const grads = g as Tensor[]
  let excess = -Infinity
  let maxAbs = 0
  inputs.forEach((x, k) => {
    for (let i = 0; i < x.size; i++) {
      const plus = Float64Array.from(x._data)
      const minus = Float64Array.from(x._data)
      plus[i] += eps
      minus[i] -= eps
      const at = (d: Float64Array): Tensor[] => inputs.map((y, j) => (j === k ? new Tensor(d, x.shape) : y))
      const fd = (scalar(...at(plus)) - scalar(...at(minus))) / (2 * eps)
      const d = Math.abs(grads[k]._data[i] - fd)
      maxAbs = Math.max(maxAbs, d)
      excess = Math.max(excess, d - atol - rtol * Math.abs(fd))
    }
  })
  return { excess, maxAbs }
}

