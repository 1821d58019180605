/**
 * Running an exported model in onnxruntime-node and comparing it with graphgrad.
 * @module
 */
import type { Tensor } from '@graphgrad/core'
import * as ort from 'onnxruntime-node'

/** A graphgrad tensor as an ORT tensor (int32 as int64, as the exported graph declares). */
function toOrt(t: Tensor): ort.Tensor {
  if (t.dtype === 'int32')
    return new ort.Tensor(
      'int64',
      BigInt64Array.from(t._data, (v) => BigInt(v)),
      t.shape.slice(),
    )
  if (t.dtype === 'float64') return new ort.Tensor('float64', Float64Array.from(t._data), t.shape.slice())
  return new ort.Tensor('float32', Float32Array.from(t._data), t.shape.slice())
}

/** Loads `bytes` in ONNX Runtime and runs it on `feeds`; returns every output's data and shape. */
export async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, { data: number[]; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(bytes)
  try {
    const results = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toOrt(v)])))
    return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, { data: Array.from(v.data as ArrayLike<number | bigint>, Number), dims: v.dims }]))
  } finally {
    await session.release()
  }
}

/** The largest |a - b| / max(1, |b|) between ORT's output and graphgrad's tensor (shapes must match). */
export function maxRelDiff(ort: { data: number[]; dims: readonly number[] }, t: Tensor): number {
  if (ort.dims.join(',') !== t.shape.join(',')) throw new Error(`shape [${ort.dims.join(', ')}] from ONNX Runtime, [${t.shape.join(', ')}] from graphgrad`)
  let worst = 0
  for (let i = 0; i < t.size; i++) worst = Math.max(worst, Math.abs(ort.data[i] - t._data[i]) / Math.max(1, Math.abs(t._data[i])))
  return worst
}

/** One node of an ONNX model as {@link onnxNodes} reads it: its op type and its int and string attributes. */
export interface NodeSummary {
  readonly opType: string
  readonly attributes: Readonly<Record<string, number | string>>
}

/**
 * The graph's nodes of an ONNX model, read back from the protobuf wire format (ModelProto.graph
 * = 7, GraphProto.node = 1, NodeProto.op_type = 4 and attribute = 5, AttributeProto name = 1,
 * i = 3, s = 4): what the tests assert the structure of an export with.
 */
export function onnxNodes(bytes: Uint8Array): NodeSummary[] {
  type Field = { field: number; value: number | Uint8Array }
  const fields = (b: Uint8Array): Field[] => {
    const out: Field[] = []
    let i = 0
    const varint = (): number => {
      let v = 0
      let scale = 1
      for (;;) {
        const byte = b[i++]
        v += (byte & 0x7f) * scale
        scale *= 128
        if (byte < 0x80) return v
      }
    }
    while (i < b.length) {
      const key = varint()
      const wire = key % 8
      const field = Math.floor(key / 8)
      if (wire === 0) out.push({ field, value: varint() })
      else if (wire === 2) {
        const n = varint()
        out.push({ field, value: b.subarray(i, i + n) })
        i += n
      } else if (wire === 5) i += 4
      else if (wire === 1) i += 8
      else throw new Error(`onnxNodes: wire type ${wire} at byte ${i}`)
    }
    return out
  }
  const text = (v: number | Uint8Array): string => new TextDecoder().decode(v as Uint8Array)
  const graph = fields(bytes).find((f) => f.field === 7)?.value as Uint8Array
  return fields(graph)
    .filter((f) => f.field === 1)
    .map((n) => {
      const node = fields(n.value as Uint8Array)
      const attributes: Record<string, number | string> = {}
      for (const a of node.filter((f) => f.field === 5)) {
        const af = fields(a.value as Uint8Array)
        const name = text(af.find((f) => f.field === 1)?.value ?? new Uint8Array())
        const i = af.find((f) => f.field === 3)
        const s = af.find((f) => f.field === 4)
        if (i !== undefined) attributes[name] = i.value as number
        else if (s !== undefined) attributes[name] = text(s.value)
      }
      return { opType: text(node.find((f) => f.field === 4)?.value ?? new Uint8Array()), attributes }
    })
}
