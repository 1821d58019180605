// The opt-in backward probe of `@graphgrad/core/internal`: once per node, nothing when unset.
import { describe, expect, it } from 'vitest'
import { type Tensor, grad, liveGraphNodes, mul, sum, tanh, tensor, valueAndGrad } from '@graphgrad/core'
import { backwardProbe, probeInside, setBackwardProbe } from '@graphgrad/core/internal'

const x = tensor([0.5, -1, 2], { dtype: 'float64' })
const w = tensor([1.5, 0.25, -0.75], { dtype: 'float64' })
const f = (a: Tensor): Tensor => sum(tanh(mul(a, w)))

describe('backward probe', () => {
  it('is unset by default, so a pass only checks it for null', () => {
    expect(backwardProbe()).toBeNull()
  })
  it('is called once per node, after its VJP, in reverse creation order', () => {
    let created = 0
    const counted = (a: Tensor): Tensor => {
      const before = liveGraphNodes()
      const y = f(a)
      created = liveGraphNodes() - before
      return y
    }
    const start = liveGraphNodes()
    const calls: [string, boolean][] = []
    const saved = setBackwardProbe((op, inside) => calls.push([op, inside]))
    try {
      valueAndGrad(counted)(x)
    } finally {
      setBackwardProbe(saved)
    }
    expect(created).toBe(3)
    expect(calls).toEqual([
      ['sum', false],
      ['tanh', false],
      ['mul', false],
    ])
    expect(liveGraphNodes()).toBe(start)
  })
  it('changes no gradient, and an uninstalled probe is never called again', () => {
    const plain = valueAndGrad(f)(x)
    let calls = 0
    const probe = (): void => void calls++
    const saved = setBackwardProbe(probe)
    const probed = valueAndGrad(f)(x)
    expect(setBackwardProbe(saved)).toBe(probe)
    expect(calls).toBe(3)
    expect(Array.from(probed[1].data)).toEqual(Array.from(plain[1].data))
    expect(probed[0].item()).toBe(plain[0].item())
    grad(f)(x)
    probeInside('a fused loop')
    expect(calls).toBe(3)
  })
  it('passes reports from inside a fused op on, marked inside', () => {
    const seen: [string, boolean][] = []
    const saved = setBackwardProbe((op, inside) => seen.push([op, inside]))
    try {
      probeInside('recurrent scan backward')
    } finally {
      setBackwardProbe(saved)
    }
    expect(seen).toEqual([['recurrent scan backward', true]])
  })
})
