import { describe, expect, it } from 'vitest'
import { OrderedMap } from 'immutable'
import {
  AnomalyError,
  GradientError,
  type Tensor,
  add,
  detectAnomaly,
  exp,
  grad,
  jvp,
  liveGraphNodes,
  log,
  mean,
  mul,
  noGrad,
  randn,
  sin,
  square,
  stopGradient,
  sub,
  sum,
  tanh,
  tensor,
  traceGraph,
  valueAndGrad,
  vjp,
} from '@graphgrad/core'

const f64 = (data: number[] | number[][]): Tensor => tensor(data, { dtype: 'float64' })
const arr = (t: unknown): number[] => Array.from((t as Tensor).data)

describe('grad and valueAndGrad', () => {
  it('differentiates a scalar function', () => {
    const x = f64([1, 2, 3])
    expect(arr(grad((t: Tensor) => sum(square(t)))(x))).toEqual([2, 4, 6])
    const [v, g] = valueAndGrad((t: Tensor) => sum(mul(t, 3)))(x)
    expect(v.item()).toBe(18)
    expect(arr(g)).toEqual([3, 3, 3])
    expect(v.requiresGrad).toBe(false)
  })
  it('adds the gradients of a tensor used twice', () => {
    const x = f64([2])
    // f = x*x + x*x*x: f' = 2x + 3x^2 = 16 at 2
    expect(arr(grad((t: Tensor) => sum(add(mul(t, t), mul(mul(t, t), t))))(x))).toEqual([16])
  })
  it('selects arguments with argnums and returns a tuple for an array', () => {
    const a = f64([1, 2])
    const b = f64([3, 4])
    const f = (x: Tensor, y: Tensor): Tensor => sum(mul(x, y))
    expect(arr(grad(f, { argnums: 1 })(a, b))).toEqual([1, 2])
    const [ga, gb] = grad(f, { argnums: [0, 1] })(a, b) as Tensor[]
    expect(arr(ga)).toEqual([3, 4])
    expect(arr(gb)).toEqual([1, 2])
  })
  it('keeps the structure of arrays and Immutable maps', () => {
    const params = OrderedMap({ w: f64([1, 2]), inner: OrderedMap({ b: f64([3]) }) })
    const g = grad((p: typeof params) => sum(mul(p.get('w') as Tensor, p.getIn(['inner', 'b']) as Tensor)))(params)
    expect([...g.keys()]).toEqual(['w', 'inner'])
    expect(arr(g.get('w'))).toEqual([3, 3])
    expect(arr(g.getIn(['inner', 'b']))).toEqual([3])
    const ga = grad((xs: Tensor[]) => sum(mul(xs[0], xs[1])))([f64([2]), f64([5])]) as Tensor[]
    expect(ga.map(arr)).toEqual([[5], [2]])
  })
  it('gives zeros for an input that does not influence the output', () => {
    expect(arr(grad((x: Tensor, _y: Tensor) => sum(x), { argnums: 1 })(f64([1]), f64([1, 2])))).toEqual([0, 0])
  })
  it('refuses non-scalar outputs and int inputs with clear errors', () => {
    expect(() => grad((t: Tensor) => mul(t, 2))(f64([1, 2]))).toThrow(/must return a scalar \(one element\), got shape \[2\]/)
    expect(() => grad((t: Tensor) => sum(t))(tensor([1], { dtype: 'int32' }))).toThrow(GradientError)
  })
})

describe('higher order', () => {
  it('takes grad of grad on scalars', () => {
    // d2/dx2 sin(x) = -sin(x)
    const x = f64([0.7])
    const d2 = grad((t: Tensor) => sum(grad((u: Tensor) => sum(sin(u)))(t) as Tensor))(x)
    expect(arr(d2)[0]).toBeCloseTo(-Math.sin(0.7), 12)
    const d3 = grad((t: Tensor) => sum(grad((u: Tensor) => sum(grad((v: Tensor) => sum(sin(v)))(u) as Tensor))(t) as Tensor))(x)
    expect(arr(d3)[0]).toBeCloseTo(-Math.cos(0.7), 12)
  })
  it('computes Hessian-vector products', () => {
    // f(x) = sum(x^3) has Hessian diag(6x)
    const x = f64([1, -2, 3])
    const v = f64([1, 1, 2])
    const hvp = grad((t: Tensor) => sum(mul(grad((u: Tensor) => sum(mul(mul(u, u), u)))(t) as Tensor, v)))(x)
    expect(arr(hvp)).toEqual([6, -12, 36])
  })
  it('jvp matches finite differences and vjp is its transpose', () => {
    const f = (t: Tensor): Tensor => tanh(mul(t, f64([1, 2, 3])))
    const x = f64([0.1, -0.2, 0.3])
    const u = f64([1, 0.5, -1])
    const [y, tangent] = jvp(f, [x], [u])
    const eps = 1e-6
    const plus = arr(f(add(x, mul(u, eps))))
    const minus = arr(f(sub(x, mul(u, eps))))
    arr(tangent).forEach((t, i) => expect(t).toBeCloseTo((plus[i] - minus[i]) / (2 * eps), 8))
    expect(arr(y)).toEqual(arr(f(x)))
    const [, pullback] = vjp(f, x)
    const w = f64([0.3, -1, 2])
    const [g] = pullback(w) as Tensor[]
    // <w, J u> == <J^T w, u>
    const lhs = arr(tangent).reduce((s, t, i) => s + t * arr(w)[i], 0)
    const rhs = arr(g).reduce((s, t, i) => s + t * arr(u)[i], 0)
    expect(lhs).toBeCloseTo(rhs, 12)
    // The pullback can run again.
    expect(arr((pullback(w) as Tensor[])[0])).toEqual(arr(g))
  })
})

describe('noGrad and stopGradient', () => {
  it('stopGradient blocks the gradient', () => {
    const g = grad((t: Tensor) => sum(mul(t, stopGradient(t))))(f64([3]))
    expect(arr(g)).toEqual([3])
  })
  it('noGrad records nothing', () => {
    const before = liveGraphNodes()
    const g = grad((t: Tensor) => {
      const c = noGrad(() => exp(t))
      expect(c.requiresGrad).toBe(false)
      return sum(mul(t, c))
    })(f64([0]))
    expect(arr(g)).toEqual([1])
    expect(liveGraphNodes()).toBe(before)
  })
})

describe('anomaly mode', () => {
  it('names the op whose forward produced NaN', () => {
    expect(() => detectAnomaly(() => log(f64([1, -1])))).toThrow(AnomalyError)
    expect(() => detectAnomaly(() => log(f64([[1, -1]])))).toThrow(/forward of log produced NaN at element 1; input shapes \[1,2\]/)
  })
  it('names the op whose backward produced Infinity', () => {
    // sqrt'(0) is infinite.
    const f = (t: Tensor): Tensor => sum(mul(t, t).sqrt())
    expect(() => detectAnomaly(() => grad(f)(f64([0, 1])))).toThrow(/backward of sqrt/)
  })
  it('stays silent without anomaly mode', () => expect(arr(log(f64([-1])))[0]).toBeNaN())
})

describe('memory', () => {
  it('keeps the live graph flat across thousands of training steps', () => {
    let w = randn([8, 8], 1, { dtype: 'float64' })
    const x = randn([4, 8], 2, { dtype: 'float64' })
    const step = valueAndGrad((p: Tensor) => mean(square(tanh(mul(x.reshape([4, 8, 1]), p.reshape([1, 8, 8])).sum(1)))))
    const start = liveGraphNodes()
    const gc = (globalThis as { gc?: () => void }).gc
    // vitest.config.ts starts workers with --expose-gc; without it this test would prove less.
    expect(gc).toBeTypeOf('function')
    let heapAfterWarmup = 0
    for (let i = 0; i < 3000; i++) {
      const [, g] = step(w)
      w = sub(w, mul(g as Tensor, 0.01))
      expect(liveGraphNodes()).toBe(start)
      if (i === 500 && gc !== undefined) {
        gc()
        heapAfterWarmup = process.memoryUsage().heapUsed
      }
    }
    if (gc !== undefined) {
      gc()
      // Flat: no growth beyond noise (a leak of one graph per step would add many MB).
      expect(process.memoryUsage().heapUsed - heapAfterWarmup).toBeLessThan(4 * 1024 * 1024)
    }
  })
})

describe('traceGraph', () => {
  it('exports the ops between inputs and output', () => {
    const g = traceGraph((a: Tensor, b: Tensor) => sum(tanh(add(mul(a, b), 1))), f64([1, 2]), f64([3, 4]))
    const labels = g.nodes.map((n) => n.label)
    expect(labels).toContain('input 0')
    expect(labels).toContain('input 1')
    expect(labels.filter((l) => ['mul', 'add', 'tanh', 'sum'].includes(l))).toEqual(['mul', 'add', 'tanh', 'sum'])
    expect(g.nodes[g.nodes.length - 1]).toMatchObject({ label: 'sum', output: true, shape: [] })
    const dot = g.toDot()
    expect(dot).toMatch(/^digraph graphgrad \{/)
    expect(dot).toContain('tanh\\n[2] float64')
    const json = JSON.parse(JSON.stringify(g.toJSON())) as { nodes: unknown[]; edges: { from: number; to: number }[] }
    expect(json.edges.length).toBe(g.edges.length)
    for (const e of json.edges) expect(e.from).toBeLessThan(e.to)
  })
})

describe('customOp', () => {
  it('records a user VJP that grad uses, also for second derivatives', async () => {
    const { customOp } = await import('@graphgrad/core')
    const cube = customOp({ name: 'cube', forward: (x) => mul(mul(x, x), x), vjp: (g, [x]) => [mul(g, mul(square(x), 3))] })
    const x = f64([2, -1])
    expect(arr(grad((t: Tensor) => sum(cube(t)))(x))).toEqual([12, 3])
    expect(arr(grad((t: Tensor) => sum(grad((u: Tensor) => sum(cube(u)))(t) as Tensor))(x))).toEqual([12, -6])
    expect(traceGraph((t: Tensor) => sum(cube(t)), x).nodes.map((n) => n.label)).toEqual(['input 0', 'cube', 'sum'])
  })
  it('refuses a VJP that returns the wrong number or shape of cotangents', async () => {
    const { customOp } = await import('@graphgrad/core')
    const bad = customOp({ name: 'bad', forward: (x) => mul(x, 2), vjp: (g) => [g, g] })
    expect(() => grad((t: Tensor) => sum(bad(t)))(f64([1]))).toThrow('bad: vjp must return one cotangent (or null) per input: expected 1, got 2')
    const wrongShape = customOp({ name: 'wrongShape', forward: (x) => mul(x, 2), vjp: (g) => [sum(g)] })
    expect(() => grad((t: Tensor) => sum(wrongShape(t)))(f64([1, 2]))).toThrow('wrongShape: vjp returned a cotangent of shape [] for input 0 of shape [2]')
  })
})

describe('accumulating slice cotangents', () => {
  it('sums scattered and dense contributions exactly, first and second order', async () => {
    const { select, slice } = await import('@graphgrad/core')
    const x = randn([5, 3], 4, { dtype: 'float64' })
    // Every row read on its own (scattered parts), overlapping ranges, and x used whole (dense parts).
    const f = (t: Tensor): Tensor => {
      let s = sum(mul(t, t))
      for (let i = 0; i < 5; i++) s = add(s, sum(mul(select(t, 0, i), i + 1)))
      s = add(s, sum(square(slice(t, [{ start: 1, stop: 4 }]))))
      return add(s, sum(slice(t, [{ start: 0, stop: 5, step: 2 }, 1])))
    }
    const g = arr(grad(f)(x))
    const xs = arr(x)
    xs.forEach((v, k) => {
      const [r, c] = [Math.floor(k / 3), k % 3]
      const expected = 2 * v + (r + 1) + (r >= 1 && r < 4 ? 2 * v : 0) + (r % 2 === 0 && c === 1 ? 1 : 0)
      expect(g[k]).toBeCloseTo(expected, 12)
    })
    // Second order records the same sums as ops: the Hessian diagonal is 2, or 4 on rows 1..3.
    const h = arr(grad((t: Tensor) => sum(grad(f)(t) as Tensor))(x))
    h.forEach((v, k) => expect(v).toBeCloseTo(Math.floor(k / 3) >= 1 && Math.floor(k / 3) < 4 ? 4 : 2, 12))
  })
})

describe('prod with zeros', () => {
  it('gives the product of the other elements, as PyTorch does', async () => {
    const { prod } = await import('@graphgrad/core')
    // one zero: only it gets a gradient; two zeros: none; none: prod / x
    const x = f64([
      [2, 0, 3],
      [0, 0, 5],
      [1, 2, 4],
    ])
    expect(arr(grad((t: Tensor) => sum(prod(t, 1)))(x))).toEqual([0, 6, 0, 0, 0, 0, 8, 4, 2])
    // second order through the zero-safe rule: d2/dx0dx2 of x0*x1*x2 at x1 = 0 is x1 = 0, d2/dx1dx2 = x0
    const h = grad((t: Tensor) => sum(mul(grad((u: Tensor) => sum(prod(u)))(t), f64([0, 0, 1]))))(f64([2, 0, 3]))
    expect(arr(h)).toEqual([0, 2, 0])
  })
})
