/**
 * Optimizers on a 2-D loss surface: the surface is written once with graphgrad ops and used
 * both for the contour grid (evaluated elementwise on a mesh) and for the optimizers' paths
 * (differentiated with `grad`, stepped by @graphgrad/optim's own update rules).
 * @module
 */
import { type Tensor, add, grad, mul, square, sub, tensor } from '@graphgrad/core'
import { adam, rmsprop, sgd } from '@graphgrad/optim'
import type { Optimizer } from '@graphgrad/optim'
import { OrderedMap } from 'immutable'

/** A loss of two variables, elementwise over tensors of the same shape. */
export interface Surface {
  /** Shown in the page. */
  readonly name: string
  /** The formula, as text for the caption. */
  readonly formula: string
  /** The loss, elementwise. */
  readonly f: (x: Tensor, y: Tensor) => Tensor
  /** Plotted range of x. */
  readonly xRange: readonly [number, number]
  /** Plotted range of y. */
  readonly yRange: readonly [number, number]
  /** Where every optimizer starts. */
  readonly start: readonly [number, number]
  /** The global minimum (marked on the plot). */
  readonly minimum: readonly [number, number]
}

/** Rosenbrock's banana valley, (1 - x)^2 + 100 (y - x^2)^2: easy to find, slow to follow. */
export const rosenbrock: Surface = {
  name: 'Rosenbrock',
  formula: '(1 − x)² + 100 (y − x²)²',
  f: (x, y) => add(square(sub(1, x)), mul(100, square(sub(y, square(x))))),
  xRange: [-2, 2],
  yRange: [-1, 3],
  start: [-1.2, 1],
  minimum: [1, 1],
}

/** One optimizer's trajectory. */
export interface OptimizerPath {
  /** Legend label, e.g. `adam (lr 0.05)`. */
  readonly label: string
  /** Points visited, the start first. */
  readonly points: readonly (readonly [number, number])[]
  /** Loss at the last point. */
  readonly finalLoss: number
  /** The iterate overflowed (the path stops at its last finite point). */
  readonly diverged: boolean
}

/** The optimizers compared, each with a learning rate that suits this surface at scale 1. */
const contenders: readonly { name: string; lr: number; make: (lr: number) => Optimizer }[] = [
  { name: 'sgd', lr: 2e-3, make: (lr) => sgd({ lr }) },
  { name: 'sgd + momentum 0.9', lr: 1e-3, make: (lr) => sgd({ lr, momentum: 0.9 }) },
  { name: 'rmsprop', lr: 3e-2, make: (lr) => rmsprop({ lr }) },
  { name: 'adam', lr: 2e-1, make: (lr) => adam({ lr }) },
]

/** Runs every optimizer for `steps` updates from the surface's start, learning rates times `lrScale`. */
export function optimizerPaths(surface: Surface, steps: number, lrScale = 1): OptimizerPath[] {
  type P = OrderedMap<string, Tensor>
  const loss = (p: P): Tensor => {
    const xy = p.get('xy') as Tensor
    return surface.f(xy.select(0, 0), xy.select(0, 1))
  }
  const gradient = grad(loss)
  return contenders.map(({ name, lr, make }) => {
    const opt = make(lr * lrScale)
    let params: P = OrderedMap({ xy: tensor([...surface.start], { dtype: 'float64' }) })
    let state = opt.init(params)
    const points: [number, number][] = [[surface.start[0], surface.start[1]]]
    let diverged = false
    for (let i = 0; i < steps && !diverged; i++) {
      ;({ params, state } = opt.step(params, gradient(params), state))
      const [x, y] = (params.get('xy') as Tensor).data
      diverged = !Number.isFinite(x) || !Number.isFinite(y)
      if (!diverged) points.push([x, y])
    }
    const last = points[points.length - 1]
    const finalLoss = surface.f(tensor([last[0]], { dtype: 'float64' }), tensor([last[1]], { dtype: 'float64' })).data[0]
    diverged ||= !Number.isFinite(finalLoss)
    return { label: `${name} (lr ${+(lr * lrScale).toPrecision(2)})`, points, finalLoss, diverged }
  })
}

/** The loss on an n x n mesh over the plotted ranges, row-major with y the row: `values[j * n + i]`. */
export function lossGrid(surface: Surface, n: number): Float64Array {
  const xs = new Float64Array(n * n)
  const ys = new Float64Array(n * n)
  const [x0, x1] = surface.xRange
  const [y0, y1] = surface.yRange
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      xs[j * n + i] = x0 + ((x1 - x0) * i) / (n - 1)
      ys[j * n + i] = y0 + ((y1 - y0) * j) / (n - 1)
    }
  }
  return Float64Array.from(surface.f(tensor(xs), tensor(ys)).data)
}
