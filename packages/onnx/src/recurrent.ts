/**
 * The fused recurrent scans (`lstmScan`, `gruScan`, `rnn_tanhScan`, `rnn_reluScan`: one node
 * per layer and direction) as ONNX's own LSTM, GRU and RNN nodes, not unrolled: PyTorch's gate
 * blocks reordered to ONNX's (LSTM i,f,g,o to i,o,f,c; GRU r,z,n to z,r,h), both bias vectors,
 * `linear_before_reset = 1` for the GRU, the direction, the lengths as `sequence_lens`, and
 * the initial state as `initial_h` / `initial_c` (left out when it is a constant zero). A
 * bidirectional layer's forward and reverse scans become one node with `direction = "bidirectional"`.
 * @module
 */
import type { Tensor } from '@graphgrad/core'
import type { GraphBuilder } from './builder.ts'
import { onnxType } from './builder.ts'
import type { OpAttributes } from '@graphgrad/core/internal'
import type { OpCall, OpMapping } from './ops.ts'
import { ONNX_TYPE } from './proto.ts'

interface ScanFamily {
  /** The ONNX op. */
  readonly opType: 'LSTM' | 'GRU' | 'RNN'
  /** For each ONNX gate block, the PyTorch block it comes from. */
  readonly order: readonly number[]
  /** Extra ONNX attributes. */
  readonly attributes: Record<string, { int: number } | { strings: string[] }>
}

const FAMILIES: Readonly<Record<string, ScanFamily>> = {
  lstmScan: { opType: 'LSTM', order: [0, 3, 1, 2], attributes: {} },
  gruScan: { opType: 'GRU', order: [1, 0, 2], attributes: { linear_before_reset: { int: 1 } } },
  rnn_tanhScan: { opType: 'RNN', order: [0], attributes: { activations: { strings: ['Tanh'] } } },
  rnn_reluScan: { opType: 'RNN', order: [0], attributes: { activations: { strings: ['Relu'] } } },
}

/** Row indices that reorder [G*H, ...] gate blocks from PyTorch's order to ONNX's. */
function gateRows(order: readonly number[], hidden: number): number[] {
  return order.flatMap((block) => Array.from({ length: hidden }, (_, j) => block * hidden + j))
}

/** A float constant of `dtype` and `dims` filled by `at(i)`. */
function floats(g: GraphBuilder, dtype: Tensor['dtype'], dims: readonly number[], at: (i: number) => number): string {
  const n = dims.reduce((a, b) => a * b, 1)
  const data = dtype === 'float64' ? Float64Array.from({ length: n }, (_, i) => at(i)) : Float32Array.from({ length: n }, (_, i) => at(i))
  return g.tensor('const', onnxType(dtype), dims, new Uint8Array(data.buffer))
}

/** One direction's ONNX inputs, each without the leading direction axis. */
interface Direction {
  readonly gx: string
  readonly w: string
  readonly r: string
  /** `''` when the layer has no biases. */
  readonly bias: string
  readonly seqLens: string
  /** `''` when the state is a constant zero (ONNX's default). */
  readonly h0: string
  readonly c0: string
  /** The same states, constant zeros included. */
  readonly h0Value: string
  readonly c0Value: string
  readonly hidden: number
  readonly batchFirst: boolean
}

function directionOf(g: GraphBuilder, family: ScanFamily, c: OpCall): Direction {
  const names = c.attributes.inputs as readonly string[] | undefined
  if (names === undefined) throw new Error(`${c.op}: the graph node records no input names (needs a newer @graphgrad/layers)`)
  const at = (n: string): number => names.indexOf(n)
  const value = (n: string): string | null => (at(n) < 0 ? null : c.inputs[at(n)])
  const tensorOf = (n: string): Tensor | null => (at(n) < 0 ? null : c.inputTensors[at(n)])
  const h0 = tensorOf('h0') as Tensor
  const [, hidden] = h0.shape
  const dtype = h0.dtype
  const gh = family.order.length * hidden
  const rows = g.int64s(gateRows(family.order, hidden), 'gate_order')
  const reorder = (v: string): string => g.op('Gather', [v, rows], { axis: { int: 0 } })
  // W: W_ih, or, for a scan over a precomputed projection, the identity (X is then gx itself).
  const wih = value('wih')
  const w = wih !== null ? reorder(wih) : reorder(floats(g, dtype, [gh, gh], (i) => (Math.floor(i / gh) === i % gh ? 1 : 0)))
  const r = reorder(value('whh') as string)
  const bx = value('bx')
  const bhh = value('bhh')
  const zeros = (): string => floats(g, dtype, [gh], () => 0)
  const bias = bx === null && bhh === null ? '' : g.op('Concat', [reorder(bx ?? zeros()), reorder(bhh ?? zeros())], { axis: { int: 0 } })
  const lengths = c.attributes.lengths as readonly number[] | null | undefined
  const seqLens =
    lengths === null || lengths === undefined
      ? ''
      : g.tensor('sequence_lens', ONNX_TYPE.INT32, [lengths.length], new Uint8Array(Int32Array.from(lengths).buffer))
  const initial = (n: string): string => {
    const t = tensorOf(n)
    return t === null || c.isZeroConstant(t) ? '' : (value(n) as string)
  }
  return {
    gx: value('gx') as string,
    w,
    r,
    bias,
    seqLens,
    h0: initial('h0'),
    c0: initial('c0'),
    h0Value: value('h0') as string,
    c0Value: value('c0') ?? '',
    hidden,
    batchFirst: c.attributes.batchFirst === true,
  }
}

/** The recurrent node over `dirs` (one, or forward and reverse), its inputs stacked along the direction axis; returns its outputs. */
function recurrentNode(g: GraphBuilder, family: ScanFamily, dirs: readonly Direction[], direction: string): string[] {
  const stacked = (pick: (d: Direction) => string): string => {
    const parts = dirs.map((d) => g.op('Unsqueeze', [pick(d), g.int64s([0])]))
    return parts.length === 1 ? parts[0] : g.op('Concat', parts, { axis: { int: 0 } })
  }
  // A state is left out when every direction's is zero; otherwise each direction gives its own.
  const state = (given: (d: Direction) => string, all: (d: Direction) => string): string => (dirs.every((d) => given(d) === '') ? '' : stacked(all))
  const [first] = dirs
  const inputs = [
    first.gx,
    stacked((d) => d.w),
    stacked((d) => d.r),
    first.bias === '' ? '' : stacked((d) => d.bias),
    first.seqLens,
    state(
      (d) => d.h0,
      (d) => d.h0Value,
    ),
  ]
  if (family.opType === 'LSTM')
    inputs.push(
      state(
        (d) => d.c0,
        (d) => d.c0Value,
      ),
    )
  while (inputs[inputs.length - 1] === '') inputs.pop()
  const attributes: Record<string, { int: number } | { string: string } | { strings: string[] }> = {
    hidden_size: { int: first.hidden },
    direction: { string: direction },
    ...family.attributes,
  }
  // An RNN's activations are listed once per direction.
  const activations = family.attributes.activations
  if (activations !== undefined && 'strings' in activations) attributes.activations = { strings: dirs.flatMap(() => activations.strings) }
  return g.node(family.opType, inputs, attributes, family.opType === 'LSTM' ? 3 : 2)
}

function scanMapping(family: ScanFamily): OpMapping {
  return (g, c) => {
    const d = directionOf(g, family, c)
    const outs = recurrentNode(g, family, [d], c.attributes.reverse === true ? 'reverse' : 'forward')
    let output = g.op('Squeeze', [outs[0], g.int64s([1])])
    if (d.batchFirst) output = g.op('Transpose', [output], { perm: { ints: [1, 0, 2] } })
    const final = outs.slice(1).map((v) => g.op('Squeeze', [v, g.int64s([0])]))
    return [output, ...final]
  }
}

/** The recurrent scans' mappings, by graphgrad op name. */
export const SCAN_MAPPINGS: Readonly<Record<string, OpMapping>> = Object.fromEntries(Object.entries(FAMILIES).map(([op, f]) => [op, scanMapping(f)]))

/** Whether two recorded scans are the forward and reverse directions of one bidirectional layer: the same op over the same input, lengths and layout. */
export function isBidirectionalPair(forward: ScanNode, reverse: ScanNode): boolean {
  const a = forward.attributes ?? {}
  const b = reverse.attributes ?? {}
  const names = a.inputs as readonly string[] | undefined
  if (FAMILIES[forward.op] === undefined || forward.op !== reverse.op || names === undefined) return false
  const gx = names.indexOf('gx')
  return (
    a.reverse !== true &&
    b.reverse === true &&
    a.batchFirst !== true &&
    b.batchFirst !== true &&
    JSON.stringify(names) === JSON.stringify(b.inputs) &&
    JSON.stringify(a.lengths ?? null) === JSON.stringify(b.lengths ?? null) &&
    forward.inputs[gx] === reverse.inputs[gx]
  )
}

/** A recorded scan as {@link isBidirectionalPair} reads it. */
export interface ScanNode {
  readonly op: string
  readonly inputs: readonly Tensor[]
  readonly attributes: OpAttributes | undefined
}

/**
 * A bidirectional layer's two scans as ONE ONNX node with `direction = "bidirectional"`;
 * returns the forward scan's results and the reverse scan's, as the two mappings would.
 */
export function bidirectionalMapping(g: GraphBuilder, forward: OpCall, reverse: OpCall): [string[], string[]] {
  const family = FAMILIES[forward.op]
  const outs = recurrentNode(g, family, [directionOf(g, family, forward), directionOf(g, family, reverse)], 'bidirectional')
  // Y is [T, 2, B, H], Y_h and Y_c [2, B, H]: each direction's part, without the direction axis.
  const halves = (v: string, axis: number): string[] =>
    g.node('Split', [v, g.int64s([1, 1])], { axis: { int: axis } }, 2).map((part) => g.op('Squeeze', [part, g.int64s([axis])]))
  const [y, ...finals] = [halves(outs[0], 1), ...outs.slice(1).map((v) => halves(v, 0))]
  return [
    [y[0], ...finals.map((f) => f[0])],
    [y[1], ...finals.map((f) => f[1])],
  ]
}
