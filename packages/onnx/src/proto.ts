/**
 * The ONNX messages the exporter writes, encoded by hand in protobuf's wire format (varints,
 * length-delimited fields, packed repeated ints). Field numbers are those of the official
 * `onnx/onnx.proto`; only the fields the exporter sets are written.
 * @module
 */

/** ONNX's TensorProto.DataType numbers for the element types the exporter uses. */
export const ONNX_TYPE = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const

/** A tensor value: an initializer or a constant. */
export interface TensorMessage {
  /** Its value name. */
  readonly name: string
  /** A {@link ONNX_TYPE} number. */
  readonly dataType: number
  /** Its shape. */
  readonly dims: readonly number[]
  /** Little-endian element bytes (`raw_data`). */
  readonly raw: Uint8Array
}

/** One dimension of a declared shape: a size, or a symbolic name. */
export type DimMessage = number | string

/** A graph input or output: name, element type, shape. */
export interface ValueInfoMessage {
  /** Its value name. */
  readonly name: string
  /** A {@link ONNX_TYPE} number. */
  readonly elemType: number
  /** Its shape (a string is a symbolic dimension). */
  readonly dims: readonly DimMessage[]
}

/** A node attribute value: an int, a float, a string, a list of ints or of floats, a list of strings, or a tensor. */
export type AttributeValue =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly string: string }
  | { readonly ints: readonly number[] }
  | { readonly floats: readonly number[] }
  | { readonly strings: readonly string[] }
  | { readonly tensor: TensorMessage }

/** One node: an op applied to named values. */
export interface NodeMessage {
  /** The ONNX op type (`MatMul`). */
  readonly opType: string
  /** Input value names (`''` for an omitted optional input). */
  readonly inputs: readonly string[]
  /** Output value names. */
  readonly outputs: readonly string[]
  /** A unique node name. */
  readonly name: string
  /** Attributes by name. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>
}

/** A whole model. */
export interface ModelMessage {
  /** The IR version (8 for opset 17). */
  readonly irVersion: number
  /** The default domain's opset. */
  readonly opset: number
  /** Who wrote it. */
  readonly producerName: string
  /** Its version. */
  readonly producerVersion: string
  /** The graph's name. */
  readonly graphName: string
  /** Nodes in topological order. */
  readonly nodes: readonly NodeMessage[]
  /** Parameters and constants. */
  readonly initializers: readonly TensorMessage[]
  /** Graph inputs. */
  readonly inputs: readonly ValueInfoMessage[]
  /** Graph outputs. */
  readonly outputs: readonly ValueInfoMessage[]
}

const utf8 = new TextEncoder()

/** A growing byte buffer with protobuf's primitive encodings. */
class Writer {
  private buf = new Uint8Array(256)
  private len = 0

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  /** An unsigned varint; negative int64 values are written as their ten-byte two's complement. */
  varint(value: number): void {
    this.reserve(10)
    if (value < 0) {
      let v = BigInt.asUintN(64, BigInt(value))
      while (v >= 0x80n) {
        this.buf[this.len++] = Number(v & 0x7fn) | 0x80
        v >>= 7n
      }
      this.buf[this.len++] = Number(v)
      return
    }
    let v = value
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.len++] = v
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length)
    this.buf.set(data, this.len)
    this.len += data.length
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire)
  }

  /** Field `field` as a varint. */
  int(field: number, value: number): void {
    this.tag(field, 0)
    this.varint(value)
  }

  /** Field `field` as length-delimited bytes. */
  blob(field: number, data: Uint8Array): void {
    this.tag(field, 2)
    this.varint(data.length)
    this.bytes(data)
  }

  str(field: number, s: string): void {
    this.blob(field, utf8.encode(s))
  }

  /** Field `field` as an embedded message written by `write`. */
  message(field: number, write: (w: Writer) => void): void {
    const inner = new Writer()
    write(inner)
    this.blob(field, inner.finish())
  }

  float32(field: number, value: number): void {
    this.tag(field, 5)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    this.bytes(b)
  }

  /** A packed repeated int64 field. */
  packedInts(field: number, values: readonly number[]): void {
    const inner = new Writer()
    for (const v of values) inner.varint(v)
    this.blob(field, inner.finish())
  }

  /** A packed repeated float field. */
  packedFloats(field: number, values: readonly number[]): void {
    const b = new Uint8Array(4 * values.length)
    const view = new DataView(b.buffer)
    values.forEach((v, i) => view.setFloat32(4 * i, v, true))
    this.blob(field, b)
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

// TensorProto: dims 1, data_type 2, name 8, raw_data 9.
function writeTensor(w: Writer, t: TensorMessage): void {
  if (t.dims.length > 0) w.packedInts(1, t.dims)
  w.int(2, t.dataType)
  w.str(8, t.name)
  w.blob(9, t.raw)
}

// AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20.
function writeAttribute(w: Writer, name: string, value: AttributeValue): void {
  w.str(1, name)
  if ('int' in value) {
    w.int(3, value.int)
    w.int(20, 2)
  } else if ('float' in value) {
    w.float32(2, value.float)
    w.int(20, 1)
  } else if ('string' in value) {
    w.str(4, value.string)
    w.int(20, 3)
  } else if ('ints' in value) {
    w.packedInts(8, value.ints)
    w.int(20, 7)
  } else if ('floats' in value) {
    w.packedFloats(7, value.floats)
    w.int(20, 6)
  } else if ('strings' in value) {
    for (const s of value.strings) w.str(9, s)
    w.int(20, 8)
  } else {
    w.message(5, (m) => writeTensor(m, value.tensor))
    w.int(20, 4)
  }
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
function writeNode(w: Writer, n: NodeMessage): void {
  for (const i of n.inputs) w.str(1, i)
  for (const o of n.outputs) w.str(2, o)
  w.str(3, n.name)
  w.str(4, n.opType)
  for (const [name, value] of Object.entries(n.attributes ?? {})) w.message(5, (m) => writeAttribute(m, name, value))
}

// ValueInfoProto: name 1, type 2; TypeProto: tensor_type 1; Tensor: elem_type 1, shape 2;
// TensorShapeProto: dim 1; Dimension: dim_value 1, dim_param 2.
function writeValueInfo(w: Writer, v: ValueInfoMessage): void {
  w.str(1, v.name)
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.elemType)
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.str(2, d)))
      })
    }),
  )
}

/**
 * Encodes a model as ONNX's ModelProto bytes. ModelProto: ir_version 1, producer_name 2,
 * producer_version 3, graph 7, opset_import 8 (OperatorSetIdProto: domain 1, version 2).
 * GraphProto: node 1, name 2, initializer 5, input 11, output 12.
 */
export function encodeModel(m: ModelMessage): Uint8Array {
  const w = new Writer()
  w.int(1, m.irVersion)
  w.str(2, m.producerName)
  w.str(3, m.producerVersion)
  w.message(7, (g) => {
    for (const n of m.nodes) g.message(1, (x) => writeNode(x, n))
    g.str(2, m.graphName)
    for (const t of m.initializers) g.message(5, (x) => writeTensor(x, t))
    for (const v of m.inputs) g.message(11, (x) => writeValueInfo(x, v))
    for (const v of m.outputs) g.message(12, (x) => writeValueInfo(x, v))
  })
  w.message(8, (o) => {
    o.str(1, '')
    o.int(2, m.opset)
  })
  return w.finish()
}
