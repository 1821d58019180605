/**
 * The ONNX graph under construction: nodes, initializers and unique value names, plus the
 * helpers every op mapping uses (constants, shape tensors whose dimensions may be symbolic).
 * @module
 */
import type { DType, Tensor } from '@graphgrad/core'
import { type AttributeValue, type NodeMessage, ONNX_TYPE, type TensorMessage } from './proto.ts'

/**
 * One dimension as the exporter knows it: `scale * product(symbols) + offset`, where the
 * symbols are dynamic axes (`batch`); a static dimension has no symbols.
 */
export interface Dim {
  /** The factor of the symbols' product (the size itself when there are none). */
  readonly scale: number
  /** The dynamic axes whose sizes multiply. */
  readonly symbols: readonly string[]
  /** Added after the product (only with one symbol: `seq - 1`). */
  readonly offset: number
}

/** A static dimension. */
export const fixedDim = (n: number): Dim => ({ scale: n, symbols: [], offset: 0 })

/** Whether a dimension depends on a dynamic axis. */
export const isDynamic = (d: Dim): boolean => d.symbols.length > 0

/** The ONNX element type of a graphgrad dtype. */
export function onnxType(dtype: DType): number {
  return dtype === 'float32' ? ONNX_TYPE.FLOAT : dtype === 'float64' ? ONNX_TYPE.DOUBLE : ONNX_TYPE.INT32
}

/** Where a symbol's size can be read at run time: a graph input's value name and axis. */
export interface SymbolSource {
  readonly value: string
  readonly axis: number
}

/** The ONNX graph being built. */
export class GraphBuilder {
  readonly nodes: NodeMessage[] = []
  readonly initializers: TensorMessage[] = []
  private readonly used = new Set<string>()
  private readonly symbolValues = new Map<string, string>()

  constructor(private readonly symbolSources: ReadonlyMap<string, SymbolSource>) {}

  /** A fresh value name based on `base`. */
  name(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v'
    let n = clean
    for (let k = 1; this.used.has(n); k++) n = `${clean}_${k}`
    this.used.add(n)
    return n
  }

  /** Claims a name exactly (a graph input or output); false when it is taken. */
  claim(name: string): boolean {
    if (this.used.has(name)) return false
    this.used.add(name)
    return true
  }

  /** Adds a node and returns its output names (fresh ones unless `outputs` names them). */
  node(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, outputs: number | readonly string[] = 1): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.name(opType.toLowerCase())) : outputs.slice()
    this.nodes.push({ opType, inputs, outputs: outs, name: this.name(`${opType}_node`), attributes })
    return outs
  }

  /** One output of {@link node}. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.node(opType, inputs, attributes)[0]
  }

  /** An initializer with these bytes; returns its name. */
  tensor(base: string, dataType: number, dims: readonly number[], raw: Uint8Array, exactName = false): string {
    const name = exactName && this.claim(base) ? base : this.name(base)
    this.initializers.push({ name, dataType, dims: dims.slice(), raw })
    return name
  }

  /** A graphgrad tensor's values as an initializer in its own dtype. */
  fromTensor(base: string, t: Tensor, exactName = false): string {
    const data = t._data
    const raw = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
    return this.tensor(base, onnxType(t.dtype), t.shape, raw, exactName)
  }

  /** A 1-D int64 constant. */
  int64s(values: readonly number[], base = 'ints'): string {
    const raw = new Uint8Array(8 * values.length)
    const view = new DataView(raw.buffer)
    values.forEach((v, i) => view.setBigInt64(8 * i, BigInt(v), true))
    return this.tensor(base, ONNX_TYPE.INT64, [values.length], raw)
  }

  /** A scalar constant of graphgrad dtype `dtype` (shape [] unless `dims` says otherwise). */
  scalar(value: number, dtype: DType, dims: readonly number[] = []): string {
    const raw = new Uint8Array(dtype === 'float64' ? 8 : 4)
    const view = new DataView(raw.buffer)
    if (dtype === 'float64') view.setFloat64(0, value, true)
    else if (dtype === 'float32') view.setFloat32(0, value, true)
    else view.setInt32(0, value, true)
    return this.tensor('scalar', onnxType(dtype), dims, raw)
  }

  /** The run-time size of a symbol, as a 1-D int64 tensor of one element. */
  private symbolValue(symbol: string): string {
    const known = this.symbolValues.get(symbol)
    if (known !== undefined) return known
    const source = this.symbolSources.get(symbol)
    if (source === undefined) throw new Error(`no graph input carries the dynamic axis '${symbol}'`)
    const shape = this.op('Shape', [source.value])
    const v = this.op('Gather', [shape, this.int64s([source.axis])], { axis: { int: 0 } })
    this.symbolValues.set(symbol, v)
    return v
  }

  /** One dimension as a 1-D int64 tensor of one element. */
  dimValue(d: Dim): string {
    if (!isDynamic(d)) return this.int64s([d.scale])
    let v = this.symbolValue(d.symbols[0])
    for (const s of d.symbols.slice(1)) v = this.op('Mul', [v, this.symbolValue(s)])
    if (d.scale !== 1) v = this.op('Mul', [v, this.int64s([d.scale])])
    if (d.offset !== 0) v = this.op('Add', [v, this.int64s([d.offset])])
    return v
  }

  /**
   * A shape as a 1-D int64 tensor: a constant when every dimension is static, `-1` in place
   * of the only dynamic one when `inferOne` (Reshape infers it), else built from the inputs' shapes.
   */
  shape(dims: readonly Dim[], inferOne = false): string {
    const dynamic = dims.filter(isDynamic).length
    if (dynamic === 0 || (inferOne && dynamic === 1))
      return this.int64s(
        dims.map((d) => (isDynamic(d) ? -1 : d.scale)),
        'shape',
      )
    return this.op(
      'Concat',
      dims.map((d) => this.dimValue(d)),
      { axis: { int: 0 } },
    )
  }
}
