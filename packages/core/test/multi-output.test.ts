/**
 * Ops with several results: one graph node shared by all of them, a backward that runs once
 * with a cotangent per result and a symbolic zero (null) for a result nobody used; and the
 * release of every node a grad recorded, reached or not.
 */
import { describe, expect, it } from 'vitest'
import { type Tensor, add, grad, jvp, liveGraphNodes, mul, randn, split, sum, tensor, traceGraph, valueAndGrad, vjp } from '@graphgrad/core'
import { makeOutputs } from '@graphgrad/core/internal'

const f64 = (data: number[], shape?: number[]): Tensor => tensor(data, { dtype: 'float64', shape })

/** sin and cos of x in one op, recording the cotangents its backward receives. */
function sinCos(x: Tensor, seen: (Tensor | null)[][]): Tensor[] {
  const data = x._data
  const s = Float64Array.from(data, Math.sin)
  const c = Float64Array.from(data, Math.cos)
  return makeOutputs(
    'sinCos',
    [x],
    [
      { data: s, shape: x.shape },
      { data: c, shape: x.shape },
    ],
    (gs) => {
      seen.push(gs.slice())
      // d sin = cos dx, d cos = -sin dx, written with ops so that it differentiates again.
      const [sinX, cosX] = sinCos(x, [])
      let dx: Tensor | null = null
      if (gs[0] !== null) dx = mul(gs[0], cosX)
      if (gs[1] !== null) dx = dx === null ? mul(gs[1], mul(sinX, -1)) : add(dx, mul(gs[1], mul(sinX, -1)))
      return [dx]
    },
  )
}

describe('an op with several results', () => {
  const x = f64([0.3, -1.2, 2])

  it('shares one graph node between its results and runs its backward once', () => {
    const seen: (Tensor | null)[][] = []
    const g = grad((t: Tensor) => {
      const [s, c] = sinCos(t, seen)
      expect(s.node).toBe(c.node)
      expect([s.outputIndex, c.outputIndex]).toEqual([0, 1])
      return add(sum(s), sum(mul(c, 2)))
    })(x) as Tensor
    expect(seen).toHaveLength(1)
    const want = Array.from(x._data, (v) => Math.cos(v) - 2 * Math.sin(v))
    Array.from(g._data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 14))
  })

  it('gives a result nobody used a symbolic zero (null), not a tensor of zeros', () => {
    const seen: (Tensor | null)[][] = []
    const g = grad((t: Tensor) => sum(sinCos(t, seen)[1]))(x) as Tensor
    expect(seen).toHaveLength(1)
    expect(seen[0][0]).toBeNull()
    expect(seen[0][1]?.shape).toEqual([3])
    Array.from(g._data).forEach((v, i) => expect(v).toBeCloseTo(-Math.sin(x._data[i]), 14))
  })

  it('has second derivatives when its VJP is written with ops', () => {
    // d²/dx² of sum(sin x) + sum(cos x) is -sin x - cos x.
    const second = grad((t: Tensor) =>
      sum(
        grad((u: Tensor) => {
          const [s, c] = sinCos(u, [])
          return add(sum(s), sum(c))
        })(t) as Tensor,
      ),
    )(x) as Tensor
    Array.from(second._data).forEach((v, i) => expect(v).toBeCloseTo(-Math.sin(x._data[i]) - Math.cos(x._data[i]), 12))
  })

  it('is counted as one node', () => {
    const before = liveGraphNodes()
    const [, pullback] = vjp((t: Tensor) => sum(sinCos(t, [])[0]), x)
    // The vjp keeps its graph for the pullback: sinCos (one node for both results) and sum.
    expect(liveGraphNodes() - before).toBe(2)
    pullback(f64([1], []))
    expect(liveGraphNodes() - before).toBe(2)
  })
})

describe('split is one op with a result per piece', () => {
  it('records one node for all pieces, and exports them as split[k]', () => {
    const g = traceGraph(
      (t: Tensor) => {
        const [a, b, c] = split(t, 2)
        expect(a.node).toBe(b.node)
        expect(b.node).toBe(c.node)
        return add(sum(a), sum(mul(c, 3)))
      },
      randn([5, 2], 1, { dtype: 'float64' }),
    )
    const labels = g.nodes.filter((n) => n.kind === 'op').map((n) => n.label)
    expect(labels.filter((l) => l.startsWith('split'))).toEqual(['split[0]', 'split[2]'])
  })

  it('gives zeros to the pieces nobody used', () => {
    const x = randn([3, 5], 2, { dtype: 'float64' })
    const g = grad((t: Tensor) => sum(mul(split(t, [1, 3, 1], 1)[1], 2)))(x) as Tensor
    expect(g.toArray()).toEqual([
      [0, 2, 2, 2, 0],
      [0, 2, 2, 2, 0],
      [0, 2, 2, 2, 0],
    ])
  })

  it('pieces along the leading axis are views of the input, not copies', () => {
    const x = randn([4, 3], 3)
    const [a, b] = split(x, 2)
    expect(a._data.buffer).toBe(x._data.buffer)
    expect(Array.from(b._data)).toEqual(Array.from(x._data.subarray(6)))
  })
})

describe('the graph a transform recorded is released when it returns', () => {
  const x = randn([4], 5, { dtype: 'float64' })
  const withDeadBranch = (t: Tensor): Tensor => {
    const [used, unused] = split(mul(t, t), 2)
    void mul(unused, 3) // a branch the loss never reads: the backward never reaches it
    return sum(used)
  }

  it('by grad and valueAndGrad, reached or not', () => {
    const before = liveGraphNodes()
    for (let i = 0; i < 5; i++) {
      grad(withDeadBranch)(x)
      valueAndGrad(withDeadBranch)(x)
    }
    expect(liveGraphNodes()).toBe(before)
  })

  it('by jvp', () => {
    const before = liveGraphNodes()
    const [, t] = jvp(withDeadBranch, [x], [f64([1, 1, 1, 1])])
    expect(t.item()).toBeCloseTo(2 * (x._data[0] + x._data[1]), 12)
    expect(liveGraphNodes()).toBe(before)
  })

  it('but not by vjp while its pullback can still be called; once the pullback is collected, no more', async () => {
    const gc = (globalThis as { gc?: () => void }).gc
    expect(gc).toBeTypeOf('function') // vitest.config.ts starts workers with --expose-gc
    // FinalizationRegistry callbacks run after a collection, on a later task: collect until
    // the count is still (earlier tests' pullbacks go too).
    const settle = async (): Promise<number> => {
      let last = -1
      for (let round = 0; round < 50 && liveGraphNodes() !== last; round++) {
        last = liveGraphNodes()
        gc?.()
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      return liveGraphNodes()
    }
    const before = await settle()
    let [, pullback] = vjp(withDeadBranch, x)
    const held = liveGraphNodes() - before
    expect(held).toBeGreaterThan(0)
    const [g] = pullback(f64([1], [])) as Tensor[]
    const want = [2 * x._data[0], 2 * x._data[1], 0, 0]
    Array.from(g._data).forEach((v, i) => expect(v).toBeCloseTo(want[i], 14))
    expect(liveGraphNodes()).toBe(before + held) // callable again: still counted
    // A hundred more, each called and dropped, as a loop over vjp does.
    for (let i = 0; i < 100; i++) vjp(withDeadBranch, x)[1](f64([1], []))
    expect(liveGraphNodes()).toBe(before + 101 * held)
    pullback = () => []
    expect(await settle()).toBe(before)
    void pullback
  })

  it('and at once by a vjp whose function throws', () => {
    const before = liveGraphNodes()
    expect(() =>
      vjp((t: Tensor) => {
        void mul(t, t)
        throw new Error('boom')
      }, x),
    ).toThrow('boom')
    expect(liveGraphNodes()).toBe(before)
  })
})

describe('concat', () => {
  it('refuses a result past the element cap by name, even of zero size', async () => {
    const { concat, zeros, MAX_ELEMENTS } = await import('@graphgrad/core')
    expect(() => concat([zeros([MAX_ELEMENTS, 0]), zeros([MAX_ELEMENTS, 0])])).toThrow(/concat: shape \[4294967294,0\] has a dimension of 4294967294/)
  })
})
