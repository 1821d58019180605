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
