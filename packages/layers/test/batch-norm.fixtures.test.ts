/**
 * Batch and group normalisation against PyTorch 1.13 (testdata/reference/attention-norm):
 * for batch norm, a few training steps (outputs, gradients of input, weight and bias, and
 * the running statistics after each step) and then eval mode on the statistics they left.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { type Tensor, astype, mul, sum, valueAndGrad } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import { batchNorm1d, batchNorm2d, groupNorm } from '../src/batch-norm.ts'
import type { Params } from '../src/layer.ts'
import { casesOf, checkCase, configOf, expectClose, tensorsOf, worst } from './attention-util.ts'

describe('batchNorm1d / batchNorm2d against nn.BatchNorm1d / nn.BatchNorm2d', () => {
  for (const c of casesOf('batch_norm')) {
    it(c.file, () => {
      const cfg = configOf<{
        module: string
        kwargs: { eps?: number; momentum?: number | null; affine?: boolean; track_running_stats?: boolean }
        shape: number[]
        steps: number
      }>(c)
      const { all, get, dtype } = tensorsOf(c)
      const k = cfg.kwargs
      const make = cfg.module === 'BatchNorm1d' ? batchNorm1d : batchNorm2d
      const layer = make({ numFeatures: cfg.shape[1], eps: k.eps, momentum: k.momentum, affine: k.affine, trackRunningStats: k.track_running_stats, dtype })
      const affine = k.affine ?? true
      const track = k.track_running_stats ?? true
      let params = (affine ? OrderedMap({ weight: get('weight'), bias: get('bias') }) : OrderedMap()) as Params
      let state = layer.initState()
      for (let step = 1; step <= cfg.steps + 1; step++) {
        const train = step <= cfg.steps
        const tag = train ? `step${step}` : 'eval'
        let output: Tensor | undefined
        let next = state
        const loss = (m: OrderedMap<string, Tensor>): Tensor => {
          const p = (affine ? OrderedMap({ weight: m.get('weight'), bias: m.get('bias') }) : OrderedMap()) as Params
          const r = layer.apply(p, m.get('x') as Tensor, { train, state: track ? state : undefined })
          output = r.output
          next = r.state
          return sum(mul(r.output, get(`${tag}.r_output`)))
        }
        const diff = OrderedMap({ x: get(`${tag}.x`), ...(affine ? { weight: params.get('weight') as Tensor, bias: params.get('bias') as Tensor } : {}) })
        const [, grads] = valueAndGrad(loss)(diff)
        expectClose(c, `${tag}.output`, output as Tensor, get(`${tag}.output`))
        for (const n of diff.keys()) expectClose(c, `${tag}.grad.${n}`, grads.get(n) as Tensor, get(`${tag}.grad.${n}`))
        if (track) {
          for (const n of ['running_mean', 'running_var']) expectClose(c, `${tag}.${n}`, next.get(n) as Tensor, get(`${tag}.${n}`))
          expect((next.get('num_batches_tracked') as Tensor).item()).toBe(get(`${tag}.num_batches_tracked`).item())
          expect((next.get('num_batches_tracked') as Tensor).dtype).toBe('int32')
        } else {
          expect(next.size).toBe(0)
          expect([...all.keys()].some((n) => n.includes('running'))).toBe(false)
        }
        if (!train) expect(next).toBe(state)
        state = next
        params = params.map((p) => astype(p as Tensor, dtype)) as Params
      }
    })
  }
})

describe('groupNorm against nn.GroupNorm', () => {
  for (const c of casesOf('group_norm')) {
    it(c.file, () => {
      const k = configOf<{ kwargs: { num_groups: number; num_channels: number; eps?: number; affine?: boolean } }>(c).kwargs
      const layer = groupNorm({ numGroups: k.num_groups, numChannels: k.num_channels, eps: k.eps, affine: k.affine, dtype: 'float64' })
      checkCase(c, layer.init(0), ['x'], (params, x) => ({ output: layer.apply(params, x.x) }))
    })
  }
})

afterAll(() => {
  if (process.env.FIXTURE_REPORT !== undefined) for (const [file, err] of worst) console.log(`${file}\t${err.toExponential(2)}`)
})
