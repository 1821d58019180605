/**
 * The fused recurrent scans (`lstmScan`, `gruScan`, `rnn_tanhScan`, `rnn_reluScan`: one node
 * per layer and direction) as ONNX's own LSTM, GRU and RNN nodes, not unrolled: PyTorch's gate
 * blocks reordered to ONNX's (LSTM i,f,g,o to i,o,f,c; GRU r,z,n to z,r,h), both bias vectors,
 * `linear_before_reset = 1` for the GRU, the direction, the lengths as `sequence_lens`, and
 * the initial state as `initial_h` / `initial_c` (left out when it is a constant zero).
 * @module
 */
import type { Tensor } from '@graphgrad/core'
import type { GraphBuilder } from './builder.ts'
import { onnxType } from './builder.ts'
import type { OpMapping } from './ops.ts'
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

function scanMapping(family: ScanFamily): OpMapping {
  return (g, c) => {
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
    const stacked = (v: string): string => g.op('Unsqueeze', [v, g.int64s([0])])
    // W: W_ih, or, for a scan over a precomputed projection, the identity (X is then gx itself).
    const wih = value('wih')
    const w = wih !== null ? reorder(wih) : reorder(floats(g, dtype, [gh, gh], (i) => (Math.floor(i / gh) === i % gh ? 1 : 0)))
    const r = reorder(value('whh') as string)
    const bx = value('bx')
    const bhh = value('bhh')
    const zeros = (): string => floats(g, dtype, [gh], () => 0)
    const bias = bx === null && bhh === null ? '' : stacked(g.op('Concat', [reorder(bx ?? zeros()), reorder(bhh ?? zeros())], { axis: { int: 0 } }))
    const lengths = c.attributes.lengths as readonly number[] | null | undefined
    const seqLens =
      lengths === null || lengths === undefined
        ? ''
        : g.tensor('sequence_lens', ONNX_TYPE.INT32, [lengths.length], new Uint8Array(Int32Array.from(lengths).buffer))
    const initial = (n: string): string => {
      const t = tensorOf(n)
      if (t === null || c.isZeroConstant(t)) return ''
      return stacked(value(n) as string)
    }
    const inputs = [value('gx') as string, stacked(w), stacked(r), bias, seqLens, initial('h0')]
    if (family.opType === 'LSTM') inputs.push(initial('c0'))
    while (inputs[inputs.length - 1] === '') inputs.pop()
    const direction = c.attributes.reverse === true ? 'reverse' : 'forward'
    const outs = g.node(
      family.opType,
      inputs,
      { hidden_size: { int: hidden }, direction: { string: direction }, ...family.attributes },
      family.opType === 'LSTM' ? 3 : 2,
    )
    let output = g.op('Squeeze', [outs[0], g.int64s([1])])
    if (c.attributes.batchFirst === true) output = g.op('Transpose', [output], { perm: { ints: [1, 0, 2] } })
    const final = outs.slice(1).map((v) => g.op('Squeeze', [v, g.int64s([0])]))
    return [output, ...final]
  }
}

/** The recurrent scans' mappings, by graphgrad op name. */
export const SCAN_MAPPINGS: Readonly<Record<string, OpMapping>> = Object.fromEntries(Object.entries(FAMILIES).map(([op, f]) => [op, scanMapping(f)]))
