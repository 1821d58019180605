/**
 * Optimizer state through safetensors: training resumed from a saved state continues with
 * exactly the numbers of an uninterrupted run.
 */
import { describe, expect, it } from 'vitest'
import { OrderedMap } from 'immutable'
import { Tensor, type TensorTree } from '@graphgrad/core'
import {
  OPTIMIZER_STATE_FORMAT,
  adam,
  cosineAnnealingLR,
  loadOptimizerState,
  optimizerStateFromTensors,
  optimizerStateToTensors,
  saveOptimizerState,
  sgd,
  type ConfiguredOptimizer,
  type OptimizerState,
  type ParamTree,
} from '../src/index.ts'
import { CONFIGS, make } from './configs.ts'
import { f32, f64, snapshot } from './helpers.ts'

/** A small problem with nested, float32 and float64 parameters; gradients depend on the parameters. */
const initial = (): ParamTree =>
  OrderedMap<TensorTree>({
    encoder: OrderedMap({ weight: f64([0.5, -1, 1.5, 2], [2, 2]), bias: f32([0.1, -0.2]) }),
    'head.scale': f64([1.25], []),
  })

function gradients(params: ParamTree): ParamTree {
  const g = (t: Tensor): Tensor =>
    new Tensor(
      t._data.map((x, i) => Math.sin(3 * x + i) + 0.5 * x),
      t.shape,
    )
  return params.map((v) => (v instanceof Tensor ? g(v) : gradients(v as ParamTree))) as ParamTree
}

function train(opt: ConfiguredOptimizer<unknown>, params: ParamTree, state: OptimizerState, steps: number): { params: ParamTree; state: OptimizerState } {
  for (let k = 0; k < steps; k++) ({ params, state } = opt.step(params, gradients(params), state))
  return { params, state }
}

/** Saves a state to safetensors bytes and reads it back. */
function roundTrip(state: OptimizerState): OptimizerState {
  return loadOptimizerState(saveOptimizerState(state))
}

describe('resuming from a saved state gives exactly the uninterrupted numbers', () => {
  const configs = [
    ...CONFIGS,
    { label: 'adam with a cosine lr schedule', name: 'adam', options: { lr: cosineAnnealingLR({ lr: 0.05, tMax: 7 }), amsgrad: true } },
    { label: 'sgd with a scheduled momentum', name: 'sgd', options: { lr: 0.05, momentum: (k: number) => (k < 3 ? 0 : 0.9) } },
  ]
  for (const config of configs) {
    it(config.label, () => {
      const opt = make(config)
      const params = initial()
      const straight = train(opt, params, opt.init(params), 10)
      const half = train(opt, params, opt.init(params), 4)
      const restored = roundTrip(half.state)
      expect(restored.step).toBe(4)
      expect(snapshot(restored.slots)).toEqual(snapshot(half.state.slots))
      const resumed = train(opt, half.params, restored, 6)
      expect(resumed.state.step).toBe(10)
      expect(snapshot(resumed.params)).toEqual(snapshot(straight.params))
      expect(snapshot(resumed.state.slots)).toEqual(snapshot(straight.state.slots))
    })
  }
})

describe('serialized layout', () => {
  it('names tensors state.<param>.<slot> and keeps step and parameter names in the metadata', () => {
    const opt = adam({ amsgrad: true })
    const params = initial()
    const { state } = train(opt, params, opt.init(params), 3)
    const { tensors, metadata } = optimizerStateToTensors(state)
    expect(metadata).toEqual({
      format: OPTIMIZER_STATE_FORMAT,
      optimizer: 'adam',
      step: '3',
      params: JSON.stringify(['encoder.weight', 'encoder.bias', 'head.scale']),
    })
    expect([...tensors.keys()].slice(0, 3)).toEqual(['state.encoder.weight.exp_avg', 'state.encoder.weight.exp_avg_sq', 'state.encoder.weight.max_exp_avg_sq'])
    expect(tensors.get('state.encoder.bias.exp_avg')?.dtype).toBe('float32')
    expect(tensors.get('state.head.scale.exp_avg')?.shape).toEqual([])
  })

  it('keeps parameters that have no state yet', () => {
    const opt = sgd({ lr: 0.1, momentum: 0.9 })
    const params = initial()
    const restored = roundTrip(opt.init(params))
    expect([...restored.slots.keys()]).toEqual(['encoder.weight', 'encoder.bias', 'head.scale'])
    expect(restored.slots.every((s) => s.size === 0)).toBe(true)
    expect(() => opt.step(params, gradients(params), restored)).not.toThrow()
  })

  it('refuses metadata or names it does not understand', () => {
    const opt = adam()
    const { tensors, metadata } = optimizerStateToTensors(opt.init(initial()))
    const load = (m: Record<string, string>, t = tensors): OptimizerState => optimizerStateFromTensors({ tensors: t, metadata: m })
    expect(() => load({ ...metadata, format: 'other' })).toThrow(/metadata format is "other", expected 'graphgrad-optimizer-state\/1'/)
    expect(() => load({ ...metadata, step: '-1' })).toThrow(/metadata step must be a non-negative integer, got "-1"/)
    expect(() => load({ ...metadata, step: '1.5' })).toThrow(/step must be a non-negative integer/)
    expect(() => load({ ...metadata, params: 'nope' })).toThrow(/metadata params must be a JSON array/)
    expect(() => load({ ...metadata, params: '["a","a"]' })).toThrow(/distinct parameter names/)
    expect(() => load(metadata, tensors.set('state.other.exp_avg', f64([1])))).toThrow(
      /tensor 'state.other.exp_avg' is not named state.<parameter>.<slot> for a parameter listed/,
    )
    expect(() => load(metadata, tensors.set('weights', f64([1])))).toThrow(/tensor 'weights'/)
    const { optimizer: _o, ...noName } = metadata
    expect(() => load(noName)).toThrow(/metadata has no optimizer name/)
  })

  it('a restored state is checked against the parameters', () => {
    const opt = adam()
    const saved = roundTrip(opt.init(OrderedMap({ w: f64([1, 2]) })))
    expect(() => opt.step(OrderedMap({ w: f64([1, 2, 3]) }), OrderedMap({ w: f64([1, 1, 1]) }), saved)).toThrow(
      /state 'exp_avg' of parameter 'w' has shape \[2\], expected \[3\]/,
    )
    expect(() => sgd({ lr: 1 }).step(OrderedMap({ w: f64([1, 2]) }), OrderedMap({ w: f64([1, 1]) }), saved)).toThrow(/made by adam, not sgd/)
  })
})
