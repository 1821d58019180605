// Batch and group normalisation beyond the PyTorch fixtures: the state tree (fresh, threaded
// through training steps, untouched in eval mode, loaded from a PyTorch state_dict), and errors
// that name the layer and the shapes.
import { describe, expect, it } from 'vitest'
import { ArgumentError, ShapeError, type Tensor, flattenParams, randn, zeros } from '@graphgrad/core'
import { batchNorm1d, batchNorm2d, groupNorm } from '../src/batch-norm.ts'
import { loadStateDict } from '../src/checkpoint.ts'
import { casesOf, tensorsOf } from './attention-util.ts'
import { errorOf, maxDiff } from './test-util.ts'

describe('batch norm state', () => {
  const bn = batchNorm1d({ numFeatures: 3, dtype: 'float64' })
  const params = bn.init(0)
  const x = randn([4, 3], 1, { dtype: 'float64' })

  it("parameters and state have PyTorch's names, shapes and initial values", () => {
    expect([...flattenParams(params)].map(([k, v]) => [k, v.shape, v.toArray()])).toEqual([
      ['weight', [3], [1, 1, 1]],
      ['bias', [3], [0, 0, 0]],
    ])
    const s = bn.initState()
    expect([...flattenParams(s)].map(([k, v]) => [k, v.dtype, v.toArray()])).toEqual([
      ['running_mean', 'float64', [0, 0, 0]],
      ['running_var', 'float64', [1, 1, 1]],
      ['num_batches_tracked', 'int32', 0],
    ])
    expect(batchNorm2d({ numFeatures: 2, affine: false, trackRunningStats: false }).init(0).size).toBe(0)
    expect(batchNorm2d({ numFeatures: 2, trackRunningStats: false }).initState().size).toBe(0)
  })

  it('training returns a new state and leaves the old one as it was; eval returns the same state', () => {
    const s0 = bn.initState()
    const { state: s1 } = bn.apply(params, x, { train: true, state: s0 })
    expect((s0.get('num_batches_tracked') as Tensor).item()).toBe(0)
    expect((s1.get('num_batches_tracked') as Tensor).item()).toBe(1)
    expect(maxDiff(s1.get('running_mean') as Tensor, x.mean(0).mul(0.1))).toBeLessThan(1e-15)
    const evalRun = bn.apply(params, x, { state: s1 })
    expect(evalRun.state).toBe(s1)
    const expected = x.sub(s1.get('running_mean') as Tensor).div((s1.get('running_var') as Tensor).add(1e-5).sqrt())
    expect(maxDiff(evalRun.output, expected)).toBeLessThan(1e-14)
  })

  it('the running statistics carry no gradient', () => {
    const { state } = bn.apply(params, x.mul(1), { train: true, state: bn.initState() })
    for (const [, t] of flattenParams(state)) expect(t.requiresGrad).toBe(false)
  })

  it("loads a PyTorch state_dict: parameters into init's tree, buffers into initState's", () => {
    const c = casesOf('batch_norm')[0]
    const { get } = tensorsOf(c)
    const sd = {
      weight: get('weight'),
      bias: get('bias'),
      running_mean: get('step3.running_mean'),
      running_var: get('step3.running_var'),
      num_batches_tracked: get('step3.num_batches_tracked'),
    }
    const layer = batchNorm1d({ numFeatures: 4, dtype: 'float64' })
    const p = loadStateDict(layer.init(0), sd, { strict: false })
    const s = loadStateDict(layer.initState(), sd, { strict: false })
    expect(maxDiff(p.get('weight') as Tensor, sd.weight)).toBe(0)
    expect(maxDiff(s.get('running_var') as Tensor, sd.running_var)).toBe(0)
    expect((s.get('num_batches_tracked') as Tensor).item()).toBe(3)
    expect(maxDiff(layer.apply(p, get('eval.x'), { state: s }).output, get('eval.output'))).toBeLessThan(1e-12)
  })
})

describe('normalisation errors name the layer and the shapes', () => {
  const bn = batchNorm1d({ numFeatures: 3 })
  const p = bn.init(0)
  it.each([
    [
      'a wrong channel count',
      () => bn.apply(p, zeros([4, 2]), { state: bn.initState() }),
      ShapeError,
      'batchNorm1d: expected an input [N, C] or [N, C, L] with C = numFeatures = 3, got shape [4,2]',
    ],
    ['a 4-d input to batchNorm1d', () => bn.apply(p, zeros([2, 3, 2, 2]), { state: bn.initState() }), ShapeError, 'got shape [2,3,2,2]'],
    [
      'a 3-d input to batchNorm2d',
      () => batchNorm2d({ numFeatures: 3 }).apply(p, zeros([2, 3, 2]), { state: bn.initState() }),
      ShapeError,
      'batchNorm2d: expected an input [N, C, H, W] with C = numFeatures = 3, got shape [2,3,2]',
    ],
    [
      'no state',
      () => bn.apply(p, zeros([4, 3])),
      ArgumentError,
      'batchNorm1d: pass the running statistics as { state } (layer.initState() to start, then the state the previous call returned)',
    ],
    [
      'a state without tracking',
      () => batchNorm1d({ numFeatures: 3, trackRunningStats: false }).apply(p, zeros([4, 3]), { state: bn.initState() }),
      ArgumentError,
      'batchNorm1d: trackRunningStats is false, so there is no state to pass',
    ],
    [
      'one value per channel in training',
      () => bn.apply(p, zeros([1, 3]), { train: true, state: bn.initState() }),
      ArgumentError,
      'batchNorm1d: expected more than 1 value per channel when training, got input of shape [1,3]',
    ],
    [
      'a state of the wrong size',
      () => bn.apply(p, zeros([4, 3]), { state: batchNorm1d({ numFeatures: 2 }).initState() }),
      ShapeError,
      'batchNorm1d state: running_mean must have shape [3], got [2]',
    ],
    [
      'a missing state entry',
      () => bn.apply(p, zeros([4, 3]), { state: bn.initState().delete('running_var') }),
      ArgumentError,
      "batchNorm1d state: parameter 'running_var' is missing",
    ],
    [
      'a bad momentum',
      () => batchNorm1d({ numFeatures: 3, momentum: 2 }),
      ArgumentError,
      'batchNorm1d: momentum must be a number in [0, 1] or null (a cumulative average), got 2',
    ],
    [
      'groupNorm: groups not dividing channels',
      () => groupNorm({ numGroups: 4, numChannels: 6 }),
      ArgumentError,
      'groupNorm: numChannels=6 must be divisible by numGroups=4',
    ],
    [
      'groupNorm: a wrong channel count',
      () => groupNorm({ numGroups: 2, numChannels: 4 }).apply(groupNorm({ numGroups: 2, numChannels: 4 }).init(0), zeros([2, 3, 5])),
      ShapeError,
      'groupNorm: expected an input [N, C, *] with C = numChannels = 4, got shape [2,3,5]',
    ],
    ["PyTorch's snake_case option", () => batchNorm1d({ num_features: 3 } as never), ArgumentError, "did you mean 'numFeatures'"],
  ] as const)('%s', (_, fn, kind, message) => {
    const e = errorOf(fn)
    expect(e).toBeInstanceOf(kind)
    expect(e.message).toContain(message)
  })
})
