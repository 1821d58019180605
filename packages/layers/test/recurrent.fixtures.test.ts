/**
 * The recurrent layers against PyTorch 1.13: every rnn_tanh, rnn_relu, lstm and gru case of
 * the reference fixtures, outputs, final states and every gradient, with the fused and the
 * composed cells, in the fixture's dtype and (float64 cases) again in float32.
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, add, astype, mul, sum, valueAndGrad } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import { type RecurrentKind, recurrentLayer } from '../src/recurrent.ts'
import type { Params } from '../src/layer.ts'
import { type FixtureCase, compare, loadCase, recurrentCases } from './recurrent-util.ts'

type DTypeName = 'float32' | 'float64'

/** Worst error per family, printed at the end for the report. */
const worst = new Map<string, number>()

function layerFor(c: FixtureCase, fused: boolean) {
  const k = c.config.module_kwargs
  return recurrentLayer(c.kind as RecurrentKind, {
    inputSize: k.input_size,
    hiddenSize: k.hidden_size,
    numLayers: k.num_layers,
    bias: k.bias,
    batchFirst: k.batch_first,
    bidirectional: k.bidirectional === true,
    fused,
  })
}

function run(c: FixtureCase, fused: boolean, dtype: DTypeName): void {
  const t = loadCase(c)
  const get = (name: string): Tensor => {
    const x = t.get(name)
    if (x === undefined) throw new Error(`${c.file}: no tensor ${name}`)
    return x.dtype === 'int32' ? x : astype(x, dtype)
  }
  const hasCell = c.kind === 'lstm'
  const diff: [string, Tensor][] = [['x', get('x')]]
  if (c.config.initial_state) {
    diff.push(['h0', get('h0')])
    if (hasCell) diff.push(['c0', get('c0')])
  }
  for (const p of c.config.param_names) diff.push([p, get(p)])
  const lengths = c.config.lengths === true ? Array.from(get('lengths')._data) : undefined
  const layer = layerFor(c, fused)
  let outputs: Record<string, Tensor> = {}
  const loss = (m: OrderedMap<string, Tensor>): Tensor => {
    const params = OrderedMap(c.config.param_names.map((p) => [p, m.get(p) as Tensor])) as Params
    const r = layer.apply(params, m.get('x') as Tensor, { h0: m.get('h0'), c0: m.get('c0'), lengths })
    outputs = { output: r.output, h_n: r.hN, ...(r.cN === undefined ? {} : { c_n: r.cN }) }
    let l = add(sum(mul(r.output, get('r_output'))), sum(mul(r.hN, get('r_h_n'))))
    if (r.cN !== undefined) l = add(l, sum(mul(r.cN, get('r_c_n'))))
    return l
  }
  const [value, g] = valueAndGrad(loss)(OrderedMap(diff))
  const grads = g as OrderedMap<string, Tensor>
  const tol = dtype === 'float32' ? { atol: Math.max(1e-5, c.tolerance.atol), rtol: Math.max(1e-4, c.tolerance.rtol) } : c.tolerance
  const checks: [string, Tensor, Tensor][] = [
    ['loss', value, get('loss')],
    ...Object.entries(outputs).map(([n, v]): [string, Tensor, Tensor] => [n, v, get(n)]),
    ...diff.map(([n]): [string, Tensor, Tensor] => [`grad.${n}`, grads.get(n) as Tensor, get(`grad.${n}`)]),
  ]
  expect(checks.length).toBe(1 + (hasCell ? 3 : 2) + diff.length)
  for (const [name, actual, expected] of checks) {
    const { excess, maxAbs } = compare(actual, expected, tol.rtol)
    const key = `${c.kind} ${c.config.dtype === 'F32' ? 'float32' : 'float64'} fixtures computed in ${dtype}`
    worst.set(key, Math.max(worst.get(key) ?? 0, maxAbs))
    expect(excess, `${c.file} ${fused ? 'fused' : 'composed'} ${dtype}: ${name} max |diff| ${maxAbs}`).toBeLessThanOrEqual(tol.atol)
  }
}

describe('recurrent layers match PyTorch', () => {
  const cases = recurrentCases()
  it('has the recurrent fixtures', () => {
    expect(cases.length).toBeGreaterThan(0)
  })
  for (const c of cases) {
    const native: DTypeName = c.config.dtype === 'F32' ? 'float32' : 'float64'
    const dtypes: DTypeName[] = native === 'float64' ? ['float64', 'float32'] : ['float32', 'float64']
    for (const fused of [true, false]) {
      for (const dtype of dtypes) {
        it(`${c.file} (${fused ? 'fused' : 'composed'}, ${dtype})`, () => run(c, fused, dtype))
      }
    }
  }
  it('reports the worst differences', () => {
    console.log([...worst].map(([k, v]) => `${k}: ${v.toExponential(2)}`).join('\n'))
  })
})
