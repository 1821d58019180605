/**
 * Reading and writing the safetensors format
 * (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
 * a JSON header, then the raw little-endian tensor bytes. Browser-safe (no Node imports);
 * the file helpers live in `@graphgrad/core/node`.
 * @module
 */
import { type Map as IMap, OrderedMap, isMap } from 'immutable'
import type { DType } from './dtype.ts'
import { describeValue as describe } from './messages.ts'
import { decodeData, swapBytes } from './safetensors-dtypes.ts'
import { MAX_SAFETENSORS_HEADER_BYTES, MAX_SAFETENSORS_RANK, METADATA_KEY, checkHeaderCounts, checkMetadata, fail, parseHeader } from './safetensors-header.ts'
import { Tensor } from './tensor.ts'
import type { TensorTree } from './tree.ts'

export { MAX_SAFETENSORS_ENTRIES, MAX_SAFETENSORS_HEADER_BYTES, MAX_SAFETENSORS_HEADER_VALUES, MAX_SAFETENSORS_RANK } from './safetensors-header.ts'

/** Options for {@link loadSafetensors} and {@link readSafetensorsMetadata}. */
export interface LoadSafetensorsOptions {
  /** Where the bytes came from (usually a file path); named in every error message. */
  readonly source?: string
}

const DTYPE_TAG: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' }
// Typed arrays use the platform byte order; the format is little-endian, so swap on the (rare) big-endian hosts.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * Decodes a safetensors file into tensors, in the order the header lists them.
 *
 * graphgrad's dtypes are float32, float64 and int32, so some safetensors dtypes are widened
 * or narrowed on the way in (saving writes F32, F64 and I32 only, so such a file saves back wider):
 *
 * | file | tensor | how |
 * | --- | --- | --- |
 * | F32, F64, I32 | float32, float64, int32 | as stored, bit for bit |
 * | F16, BF16 | float32 | exactly: every half and bfloat16 value (subnormals, ±0, ±Infinity, NaN) is a float32 value |
 * | I64 | int32 | a value outside the int32 range is an error |
 * | I16, I8, U8 | int32 | exactly |
 * | BOOL | int32 | false as 0, true as 1; a byte other than 0 or 1 is an error |
 *
 * Other dtypes (U16, U32, U64, the F8 formats) are refused. Every malformed input is refused
 * with a {@link SafetensorsError} naming the file (`options.source`), the tensor, and the
 * offsets, dtype, shape or limit at fault, before any tensor is decoded: a header larger than
 * {@link MAX_SAFETENSORS_HEADER_BYTES}, listing more than {@link MAX_SAFETENSORS_ENTRIES}
 * tensors or {@link MAX_SAFETENSORS_HEADER_VALUES} JSON values, a rank above
 * {@link MAX_SAFETENSORS_RANK}, or a shape of more elements than a tensor may hold
 * (`MAX_ELEMENTS`, 2^31 - 1, even when another dimension is 0). Gaps between tensors and
 * trailing bytes are tolerated; overlapping tensors are not.
 */
export function loadSafetensors(bytes: Uint8Array, options: LoadSafetensorsOptions = {}): OrderedMap<string, Tensor> {
  const where = whereOf(options)
  const header = parseHeader(bytes, where)
  const out: [string, Tensor][] = []
  for (const e of header.entries) {
    const data = decodeData(bytes, header.dataStart + e.begin, e.end - e.begin, e.tag)
    if (typeof data === 'string') fail(where, `tensor '${e.name}': ${data}`)
    out.push([e.name, new Tensor(data, e.shape)])
  }
  return OrderedMap(out)
}

/**
 * The `__metadata__` string map of a safetensors file (`{}` when it has none). The whole
 * header is validated, as by {@link loadSafetensors}, but no tensor data is decoded.
 */
export function readSafetensorsMetadata(bytes: Uint8Array, options: LoadSafetensorsOptions = {}): Record<string, string> {
  return parseHeader(bytes, whereOf(options)).metadata
}

/**
 * Encodes tensors as a safetensors file. `params` is a flat map of names to tensors or a
 * nested Immutable.js map, whose tensors get dotted names as in `flattenParams`
 * (`lstm.weight_ih_l0`). float32, float64 and int32 are stored as F32, F64 and I32, in
 * map order, back to back; the header is space-padded to a multiple of 8 bytes as the
 * specification asks. Throws a {@link SafetensorsError} for a leaf that is not a tensor,
 * two leaves with the same dotted name, or metadata that is not a string-to-string object.
 */
export function saveSafetensors(params: IMap<string, TensorTree>, metadata?: Record<string, string>): Uint8Array {
  const named = flattenForSave(params)
  // Built by hand, not with one JSON.stringify call: JS objects move integer-like keys ("0") to the front, and the header must keep map order.
  const parts: string[] = []
  if (metadata !== undefined) parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(checkMetadata(metadata, 'saveSafetensors: metadata'))}`)
  let offset = 0
  for (const [name, t] of named) {
    const end = offset + t._data.byteLength
    parts.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype: DTYPE_TAG[t.dtype], shape: t.shape, data_offsets: [offset, end] })}`)
    offset = end
  }
  const text = `{${parts.join(',')}}`
  // Never write what loadSafetensors would refuse.
  checkHeaderCounts(text, 'saveSafetensors')
  const json = new TextEncoder().encode(text)
  if (json.length > MAX_SAFETENSORS_HEADER_BYTES)
    fail('saveSafetensors', `the header would be ${json.length} bytes, more than the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit readers accept`)
  const headerLen = Math.ceil(json.length / 8) * 8
  const out = new Uint8Array(8 + headerLen + offset)
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true)
  out.set(json, 8)
  out.fill(0x20, 8 + json.length, 8 + headerLen)
  let pos = 8 + headerLen
  for (const [, t] of named) {
    const d = t._data
    // Byte copy, not element copy, so NaN payloads and -0 survive exactly.
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos)
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(pos, pos + d.byteLength), d.BYTES_PER_ELEMENT)
    pos += d.byteLength
  }
  return out
}

function whereOf(options: LoadSafetensorsOptions): string {
  return options.source === undefined ? 'safetensors' : `safetensors file '${options.source}'`
}

function flattenForSave(params: unknown): [string, Tensor][] {
  if (!isMap(params)) fail('saveSafetensors', `params must be an Immutable.js Map of tensors, found ${describe(params)}`)
  const out: [string, Tensor][] = []
  const seen = new Set<string>()
  // Same naming as flattenParams, but done here because an OrderedMap would silently merge two leaves that flatten to one name.
  const walk = (node: unknown, name: string): void => {
    if (node instanceof Tensor) {
      if (name === METADATA_KEY) fail('saveSafetensors', `a tensor cannot be named '${METADATA_KEY}' (the name is reserved for metadata)`)
      if (seen.has(name)) fail('saveSafetensors', `two tensors are named '${name}' (check for a key containing '.' that clashes with a nested map)`)
      if (node.rank > MAX_SAFETENSORS_RANK)
        fail('saveSafetensors', `'${name}' has rank ${node.rank}, more than the ${MAX_SAFETENSORS_RANK} dimensions loadSafetensors reads`)
      seen.add(name)
      out.push([name, node])
    } else if (isMap(node)) {
      for (const [k, v] of (node as IMap<unknown, unknown>).entries()) walk(v, name === '' ? String(k) : `${name}.${String(k)}`)
    } else {
      fail('saveSafetensors', `'${name}' is ${describe(node)}, not a Tensor or a Map of tensors`)
    }
  }
  walk(params, '')
  return out
}
