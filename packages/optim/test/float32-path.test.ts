/**
 * The Adam family's float32 path (float32 parameter and gradient: the kernel runs on the
 * float32 arrays, nothing widened) gives exactly what the widened float64 path gives after
 * rounding. The widened path is taken for the same parameter when its gradient is float64,
 * so the same float32 gradient values, cast exactly to float64, drive both.
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, astype, randn } from '@graphgrad/core'
import { OrderedMap } from 'immutable'
import { adam, adamax, adamw, nadam, radam } from '../src/index.ts'
import type { Optimizer, OptimizerState } from '../src/optimizer.ts'

type Tree = OrderedMap<string, Tensor>

const CASES: [string, () => Optimizer<OptimizerState>][] = [
  ['adam', () => adam({ lr: 1e-2 })],
  ['adam amsgrad, weight decay, maximize', () => adam({ lr: 1e-2, amsgrad: true, weightDecay: 0.1, maximize: true })],
  ['adamw', () => adamw({ lr: 1e-2, weightDecay: 0.05 })],
  ['adamax', () => adamax({ lr: 1e-2 })],
  ['nadam (a float64 scalar slot)', () => nadam({ lr: 1e-2 })],
  ['radam', () => radam({ lr: 1e-2 })],
]

function bits(tree: Tree): Record<string, number[]> {
  return Object.fromEntries([...tree.entries()].map(([k, v]) => [k, Array.from(v._data)]))
}

describe('Adam family: float32 path = widened path, bit for bit', () => {
  for (const [label, make] of CASES) {
    it(label, () => {
      const opt = make()
      const start: Tree = OrderedMap([
        ['w', randn([7, 5], 1)],
        ['b', randn([5], 2)],
      ])
      let native = { params: start, state: opt.init(start) }
      let widened = { params: start, state: opt.init(start) }
      for (let step = 0; step < 12; step++) {
        const grads: Tree = OrderedMap([
          ['w', randn([7, 5], 10 + step)],
          ['b', randn([5], 30 + step)],
        ])
        const next = opt.step(native.params, grads, native.state)
        const wide = opt.step(
          widened.params,
          grads.map((g) => astype(g, 'float64')),
          widened.state,
        )
        native = { params: next.params as Tree, state: next.state }
        widened = { params: wide.params as Tree, state: wide.state }
        expect((native.params.get('w') as Tensor).dtype).toBe('float32')
        expect(bits(native.params)).toEqual(bits(widened.params))
        for (const [name, slots] of native.state.slots) {
          const other = widened.state.slots.get(name) as OrderedMap<string, Tensor>
          for (const [s, t] of slots) {
            expect(t.dtype).toBe((other.get(s) as Tensor).dtype)
            expect(Array.from(t._data)).toEqual(Array.from((other.get(s) as Tensor)._data))
          }
        }
      }
    })
  }
})
