/**
 * Reading and writing the safetensors format
 * (https://github.com/huggingface/safetensors): an 8-byte little-endian header length,
 * a JSON header, then the raw little-endian tensor bytes. Browser-safe (no Node imports);
 * the file helpers live in `@graphgrad/core/node`.
 * @module
 */
import { type Map as IMap, OrderedMap, isMap } from 'immutable'
import type { DType, TensorData } from './dtype.ts'
import { SafetensorsError, fmtShape } from './errors.ts'
import { Tensor } from './tensor.ts'
import type { TensorTree } from './tree.ts'

/** Options for {@link loadSafetensors} and {@link readSafetensorsMetadata}. */
export interface LoadSafetensorsOptions {
  /** Where the bytes came from (usually a file path); named in every error message. */
  readonly source?: string
}

/** Largest header accepted, as in the reference implementation; checked before decoding so a corrupt length cannot make us allocate gigabytes. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000

const METADATA_KEY = '__metadata__'
const ITEM_SIZE: Record<string, number> = { F32: 4, F64: 8, I32: 4, I64: 8 }
const DTYPE_TAG: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' }
// Typed arrays use the platform byte order; the format is little-endian, so swap on the (rare) big-endian hosts.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

interface Entry {
  readonly name: string
  readonly tag: string
  readonly shape: number[]
  readonly begin: number
  readonly end: number
}

interface Header {
  readonly entries: Entry[]
  readonly metadata: Record<string, string>
  /** File offset of the byte buffer (8 + header length). */
  readonly dataStart: number
}

/**
 * Decodes a safetensors file into tensors, in the order the header lists them.
 * F32, F64 and I32 keep their type; I64 becomes int32, and a value outside the int32
 * range is an error. Every malformed input is refused with a {@link SafetensorsError}
 * naming the tensor, the offsets or the dtype at fault. Gaps between tensors and trailing
 * bytes are tolerated; overlapping tensors are not.
 */
export function loadSafetensors(bytes: Uint8Array, options: LoadSafetensorsOptions = {}): OrderedMap<string, Tensor> {
  const where = whereOf(options)
  const header = parseHeader(bytes, where)
  const out: [string, Tensor][] = []
  for (const e of header.entries) {
    const start = header.dataStart + e.begin
    out.push([e.name, new Tensor(decode(bytes, start, e, where), e.shape)])
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
  const json = new TextEncoder().encode(`{${parts.join(',')}}`)
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

function fail(where: string, message: string): never {
  throw new SafetensorsError(`${where}: ${message}`)
}

function parseHeader(bytes: Uint8Array, where: string): Header {
  if (!(bytes instanceof Uint8Array)) fail(where, `expected a Uint8Array, got ${typeof bytes}`)
  if (bytes.length < 8) fail(where, `file is ${bytes.length} bytes, too short for the 8-byte header length`)
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)
  if (n > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) fail(where, `header length ${n} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`)
  const headerLen = Number(n)
  if (8 + headerLen > bytes.length) fail(where, `header length ${headerLen} runs past the end of the file (${bytes.length} bytes)`)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLen))
  } catch {
    fail(where, 'header is not valid UTF-8')
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    fail(where, `header is not valid JSON (${(e as Error).message})`)
  }
  if (!isPlainObject(json)) fail(where, `header must be a JSON object, found ${describe(json)}`)
  const dataStart = 8 + headerLen
  const bufferLen = bytes.length - dataStart
  let metadata: Record<string, string> = {}
  const entries: Entry[] = []
  for (const name of topLevelKeys(text, where)) {
    const value = json[name]
    if (name === METADATA_KEY) {
      metadata = checkMetadata(value, `${where}: ${METADATA_KEY}`)
      continue
    }
    entries.push(parseEntry(name, value, bufferLen, where))
  }
  // Sorted by position, any overlap shows up between neighbours; empty tensors occupy no bytes and cannot overlap.
  const ranges = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin)
  for (let i = 1; i < ranges.length; i++) {
    const [p, q] = [ranges[i - 1], ranges[i]]
    if (q.begin < p.end) fail(where, `tensor '${q.name}' data_offsets [${q.begin},${q.end}] overlap tensor '${p.name}' [${p.begin},${p.end}]`)
  }
  return { entries, metadata, dataStart }
}

function parseEntry(name: string, value: unknown, bufferLen: number, where: string): Entry {
  const at = `${where}: tensor '${name}'`
  if (!isPlainObject(value)) fail(at, `header entry must be an object with dtype, shape and data_offsets, found ${describe(value)}`)
  const { dtype, shape, data_offsets: offsets } = value
  if (typeof dtype !== 'string') fail(at, `dtype must be a string, found ${describe(dtype)}`)
  if (!Object.hasOwn(ITEM_SIZE, dtype)) fail(at, `unsupported dtype '${dtype}' (graphgrad reads F32, F64, I32 and I64)`)
  if (!Array.isArray(shape)) fail(at, `shape must be an array, found ${describe(shape)}`)
  for (const d of shape) {
    if (!isNonNegInt(d)) fail(at, `shape ${JSON.stringify(shape)} has an invalid size ${JSON.stringify(d)} (sizes are non-negative integers)`)
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) fail(at, `data_offsets must be an array [begin, end], found ${JSON.stringify(offsets) ?? 'nothing'}`)
  const [begin, end] = offsets as unknown[]
  if (!isNonNegInt(begin) || !isNonNegInt(end)) fail(at, `data_offsets ${JSON.stringify(offsets)} must be non-negative integers`)
  if (end < begin) fail(at, `data_offsets [${begin},${end}] are reversed (end before begin)`)
  if (end > bufferLen) fail(at, `data_offsets [${begin},${end}] run past the end of the ${bufferLen}-byte data buffer`)
  // Past 2^53 the product is inexact, but then it exceeds any real buffer anyway, so the comparison still fails correctly.
  const needed = (shape as number[]).reduce((a, b) => a * b, 1) * ITEM_SIZE[dtype]
  if (end - begin !== needed) fail(at, `data_offsets [${begin},${end}] hold ${end - begin} bytes, but ${dtype} of shape ${fmtShape(shape)} needs ${needed}`)
  return { name, tag: dtype, shape: (shape as number[]).slice(), begin, end }
}

function decode(bytes: Uint8Array, start: number, e: Entry, where: string): TensorData {
  const len = e.end - e.begin
  if (e.tag === 'I64') {
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, len)
    const out = new Int32Array(len / 8)
    for (let i = 0; i < out.length; i++) {
      const lo = view.getInt32(8 * i, true)
      // The value fits in int32 exactly when the high word is the sign extension of the low word.
      if (view.getInt32(8 * i + 4, true) !== lo >> 31) {
        fail(where, `tensor '${e.name}': I64 value ${view.getBigInt64(8 * i, true)} at flat index ${i} is outside the int32 range graphgrad stores integers in`)
      }
      out[i] = lo
    }
    return out
  }
  // Copy into a fresh buffer: the data need not be aligned for a typed-array view, and the tensor must not alias the caller's bytes.
  const copy = new Uint8Array(len)
  copy.set(bytes.subarray(start, start + len))
  const itemSize = ITEM_SIZE[e.tag]
  if (!LITTLE_ENDIAN) swapBytes(copy, itemSize)
  return e.tag === 'F32' ? new Float32Array(copy.buffer) : e.tag === 'F64' ? new Float64Array(copy.buffer) : new Int32Array(copy.buffer)
}

function swapBytes(b: Uint8Array, itemSize: number): void {
  for (let i = 0; i < b.length; i += itemSize) b.subarray(i, i + itemSize).reverse()
}

/**
 * The header's top-level keys in text order. JSON.parse has already validated the text,
 * but its objects list integer-like keys first and keep only the last of duplicate keys,
 * so we scan the text to keep the file's order and to refuse duplicate names.
 */
function topLevelKeys(text: string, where: string): string[] {
  const keys: string[] = []
  const seen = new Set<string>()
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '{' || c === '[') depth++
    else if (c === '}' || c === ']') depth--
    else if (c === '"') {
      const startQuote = i
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++
      if (depth !== 1) continue
      let j = i + 1
      while (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r') j++
      if (text[j] !== ':') continue
      const key = JSON.parse(text.slice(startQuote, i + 1)) as string
      if (seen.has(key)) fail(where, `header lists '${key}' more than once`)
      seen.add(key)
      keys.push(key)
    }
  }
  return keys
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

function checkMetadata(value: unknown, where: string): Record<string, string> {
  if (!isPlainObject(value)) fail(where, `must be an object of string values, found ${describe(value)}`)
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') fail(where, `value of '${k}' must be a string, found ${describe(v)}`)
  }
  // fromEntries defines own properties, so a '__proto__' key stays data instead of becoming a prototype.
  return Object.fromEntries(Object.entries(value)) as Record<string, string>
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false
  const proto = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
}

function describe(x: unknown): string {
  if (x === null) return 'null'
  if (x === undefined) return 'nothing'
  if (Array.isArray(x)) return 'an array'
  if (typeof x === 'object') {
    const ctor = (x as object).constructor?.name
    return ctor === undefined || ctor === 'Object' ? 'an object' : `a ${ctor}`
  }
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}...` : x)}`
  return `${typeof x} ${String(x)}`
}
