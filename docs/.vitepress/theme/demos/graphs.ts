/**
 * The graphs the docs draw, traced with the library's own `traceGraph`: when an op or the
 * LSTM cell changes, the DOT (and so the picture) changes with it. Plain TypeScript, so the
 * browser test and Node can check the same source the page renders.
 * @module
 */
import { type Tensor, add, matmul, randn, select, sum, tanh, traceGraph, transpose, zeros } from '@graphgrad/core'
import { lstmCell } from '@graphgrad/layers'

/** The expressions a `<GraphView expr="..." />` can show. */
export type GraphExpr = 'small' | 'rnn-unrolled' | 'lstm-cell'

/** A traced graph's DOT, the names of its inputs in argument order (so the picture says `x`, not `input 0`) and its layout direction. */
interface Traced {
  readonly dot: string
  readonly inputNames: readonly string[]
  /** Graphviz rankdir: the library draws left to right; a long graph reads better top to bottom in a page column. */
  readonly rankdir: 'LR' | 'TB'
}

const B = 2
const IN = 3
const H = 4

/** `sum(tanh(x W + b))`: one layer and a reduction, the smallest graph with a matmul in it. */
function traceSmall(): Traced {
  const graph = traceGraph((x: Tensor, w: Tensor, b: Tensor) => sum(tanh(add(matmul(x, w), b))), randn([B, IN], 1), randn([IN, H], 2), randn([H], 3))
  return { dot: graph.toDot(), inputNames: ['x', 'W', 'b'], rankdir: 'LR' }
}

/** Steps of the unrolled RNN: enough to show U and W shared by every step, few enough to read. */
const UNROLLED_STEPS = 3

/**
 * An Elman RNN unrolled over {@link UNROLLED_STEPS} steps, written with ops as the recurrent
 * networks page writes it (`s_t = U x_t + W h_(t-1) + b`, `h_t = tanh(s_t)`), loss `sum(h_T)`:
 * the picture shows one U and one W feeding every step, which is why their gradients are sums.
 */
function traceUnrolledRnn(): Traced {
  const graph = traceGraph(
    (x: Tensor, U: Tensor, W: Tensor, b: Tensor) => {
      let h = zeros([B, H])
      for (let t = 0; t < UNROLLED_STEPS; t++) h = tanh(add(add(matmul(select(x, 0, t), transpose(U)), matmul(h, transpose(W))), b))
      return sum(h)
    },
    randn([UNROLLED_STEPS, B, IN], 1),
    randn([H, IN], 2),
    randn([H, H], 3),
    randn([H], 4),
  )
  return { dot: graph.toDot(), inputNames: ['x', 'U', 'W', 'b'], rankdir: 'TB' }
}

/**
 * One step of the composed LSTM cell (the layers package's `lstmCell`, the code `lstm(...,
 * { fused: false })` runs each step), with the input projection in front of it as the
 * layer does: `gx = x W_ih^T + b`, then the gates from `gx + h W_hh^T`.
 */
function traceLstmCell(): Traced {
  const graph = traceGraph(
    (x: Tensor, wih: Tensor, bias: Tensor, h: Tensor, c: Tensor, whh: Tensor) => lstmCell(add(matmul(x, transpose(wih)), bias), h, c, whh).h,
    randn([B, IN], 1),
    randn([4 * H, IN], 2),
    randn([4 * H], 3),
    randn([B, H], 4),
    randn([B, H], 5),
    randn([4 * H, H], 6),
  )
  return { dot: graph.toDot(), inputNames: ['x', 'W_ih', 'b', 'h', 'c', 'W_hh'], rankdir: 'TB' }
}

/** The DOT with `input k` in node labels replaced by the argument's name, laid out in `rankdir`. */
function present({ dot, inputNames, rankdir }: Traced): string {
  return dot.replace(/rankdir=\w+;/, `rankdir=${rankdir};`).replace(/label="input (\d+)\\n/g, (whole, k: string) => {
    const name = inputNames[Number(k)]
    return name === undefined ? whole : `label="${name}\\n`
  })
}

/** The Graphviz DOT source of a named expression: `traceGraph(...).toDot()`, with the inputs named and the layout direction set. */
export function graphDot(expr: GraphExpr): string {
  if (expr === 'small') return present(traceSmall())
  if (expr === 'rnn-unrolled') return present(traceUnrolledRnn())
  if (expr === 'lstm-cell') return present(traceLstmCell())
  throw new Error(`GraphView: unknown expr ${JSON.stringify(expr)}; expected "small", "rnn-unrolled" or "lstm-cell"`)
}
