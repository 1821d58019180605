/**
 * The safetensors header: its limits, and its validation, shared by `loadSafetensors` and
 * the Node file reader (which checks a header before reading a file's data). Not exported
 * from the main entry; the limits are, through `safetensors.ts`.
 * @module
 */
import { GraphgradError, SafetensorsError, fmtShape } from './errors.ts'
import { describeValue as describe } from './messages.ts'
import { ITEM_SIZE } from './safetensors-dtypes.ts'
import { checkShape } from './shape.ts'

/** Largest header accepted, as in the reference implementation; checked before decoding so a corrupt length cannot make us allocate gigabytes. */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000

/**
 * Most tensors one file may list. A whole 671B-parameter mixture-of-experts checkpoint
 * (DeepSeek-V3) has on the order of 90,000 tensors across its 163 shards, and one shard rarely more
 * than a few thousand; past this a header is an attack or a bug, and is refused before
 * `JSON.parse` builds an object per entry (1.4 million empty entries took 13 s and 2.2 GB).
 */
export const MAX_SAFETENSORS_ENTRIES = 100_000

/**
 * Most JSON values (array elements and object members, counted at every depth) one header
 * may hold: 20 per tensor at {@link MAX_SAFETENSORS_ENTRIES}, where a tensor of rank r needs
 * 7 + r. This bounds what `JSON.parse` allocates for members the format ignores (unknown
 * fields, a `__metadata__` of millions of keys), which no entry cap sees.
 */
export const MAX_SAFETENSORS_HEADER_VALUES = 2_000_000

/** Highest tensor rank read, NumPy 2's limit (`NPY_MAXDIMS`); PyTorch checkpoints stay far below it. */
export const MAX_SAFETENSORS_RANK = 64

/** The reserved top-level key of the string-to-string metadata. */
export const METADATA_KEY = '__metadata__'

/** One tensor's header entry, checked: dtype tag, shape, and byte range in the data buffer. */
interface Entry {
  readonly name: string
  readonly tag: string
  readonly shape: number[]
  readonly begin: number
  readonly end: number
}

/** A checked header. */
export interface Header {
  readonly entries: Entry[]
  readonly metadata: Record<string, string>
  /** File offset of the byte buffer (8 + header length). */
  readonly dataStart: number
}

/** Throws a SafetensorsError `where: message`. */
export function fail(where: string, message: string): never {
  throw new SafetensorsError(`${where}: ${message}`)
}

/**
 * The header length a file of `fileLength` bytes declares in its first 8 bytes (`bytes` holds
 * at least those), refused when the file is too short for it or it is past
 * {@link MAX_SAFETENSORS_HEADER_BYTES} or the end of the file.
 */
export function headerLength(bytes: Uint8Array, where: string, fileLength = bytes.length): number {
  if (!(bytes instanceof Uint8Array)) fail(where, `expected a Uint8Array, got ${typeof bytes}`)
  if (fileLength < 8) fail(where, `file is ${fileLength} bytes, too short for the 8-byte header length`)
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)
  if (n > BigInt(MAX_SAFETENSORS_HEADER_BYTES)) fail(where, `header length ${n} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit`)
  const headerLen = Number(n)
  if (8 + headerLen > fileLength) fail(where, `header length ${headerLen} runs past the end of the file (${fileLength} bytes)`)
  return headerLen
}

/**
 * Validates the header of a file of `fileLength` bytes, of which `bytes` holds at least the
 * first 8 + header length (all of them, for an in-memory file): every check but the data
 * values, so a file reader can refuse a bad file before reading its data.
 */
export function parseHeader(bytes: Uint8Array, where: string, fileLength = bytes.length): Header {
  const headerLen = headerLength(bytes, where, fileLength)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLen))
  } catch {
    fail(where, 'header is not valid UTF-8')
  }
  checkHeaderCounts(text, where)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    fail(where, `header is not valid JSON (${(e as Error).message})`)
  }
  if (!isPlainObject(json)) fail(where, `header must be a JSON object, found ${describe(json)}`)
  const dataStart = 8 + headerLen
  const bufferLen = fileLength - dataStart
  let metadata: Record<string, string> = {}
  const entries: Entry[] = []
  for (const name of topLevelKeys(text, where)) {
    const value = json[name]
    if (name === METADATA_KEY) {
      metadata = checkMetadata(value, `${where}: ${METADATA_KEY}`)
      continue
    }
    if (entries.length === MAX_SAFETENSORS_ENTRIES) fail(where, `header lists more than ${MAX_SAFETENSORS_ENTRIES} tensors (MAX_SAFETENSORS_ENTRIES)`)
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
  if (!Object.hasOwn(ITEM_SIZE, dtype)) fail(at, `unsupported dtype '${dtype}' (graphgrad reads ${Object.keys(ITEM_SIZE).join(', ')})`)
  if (!Array.isArray(shape)) fail(at, `shape must be an array, found ${describe(shape)}`)
  if (shape.length > MAX_SAFETENSORS_RANK)
    fail(at, `shape has rank ${shape.length}, more than the ${MAX_SAFETENSORS_RANK} dimensions graphgrad reads (MAX_SAFETENSORS_RANK)`)
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0)
      fail(at, `shape ${JSON.stringify(shape)} has an invalid size ${JSON.stringify(d)} (sizes are non-negative integers)`)
  }
  try {
    // The element cap every tensor obeys, checked here so that [1e15, 0] (no bytes needed) is refused too.
    checkShape(shape, at)
  } catch (e) {
    if (e instanceof GraphgradError) throw new SafetensorsError(e.message)
    throw e
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) fail(at, `data_offsets must be an array [begin, end], found ${JSON.stringify(offsets) ?? 'nothing'}`)
  const [begin, end] = offsets as unknown[]
  for (const o of [begin, end]) {
    // JSON numbers past 2^53 - 1 are rounded by JSON.parse, so they cannot name a byte exactly; no buffer is that large anyway.
    if (Number.isInteger(o) && (o as number) > Number.MAX_SAFE_INTEGER) {
      fail(
        at,
        `data_offsets ${JSON.stringify(offsets)}: ${JSON.stringify(o)} exceeds the largest safe integer (2^53 - 1) and so the ${bufferLen}-byte data buffer`,
      )
    }
  }
  if (!isNonNegInt(begin) || !isNonNegInt(end)) fail(at, `data_offsets ${JSON.stringify(offsets)} must be non-negative integers`)
  if (end < begin) fail(at, `data_offsets [${begin},${end}] are reversed (end before begin)`)
  if (end > bufferLen) fail(at, `data_offsets [${begin},${end}] run past the end of the ${bufferLen}-byte data buffer`)
  // checkShape bounded the element count by 2^31 - 1, so the byte count is exact.
  const needed = (shape as number[]).reduce((a, b) => a * b, 1) * ITEM_SIZE[dtype]
  if (end - begin !== needed) fail(at, `data_offsets [${begin},${end}] hold ${end - begin} bytes, but ${dtype} of shape ${fmtShape(shape)} needs ${needed}`)
  // JSON's -0 (or -1e-400, which underflows to it) passes every check above; the tensor gets a plain 0.
  return { name, tag: dtype, shape: (shape as number[]).map((d) => (d === 0 ? 0 : d)), begin: begin === 0 ? 0 : begin, end }
}

/**
 * Refuses a header listing more than {@link MAX_SAFETENSORS_ENTRIES} tensors or holding more
 * than {@link MAX_SAFETENSORS_HEADER_VALUES} JSON values, before `JSON.parse` allocates an
 * object per value. One pass that skips strings and stops at the first limit crossed; it
 * assumes nothing about validity (JSON.parse checks that next), so it ends on any text.
 */
export function checkHeaderCounts(text: string, where: string): void {
  // Every value but the first follows a ',' or opens a container; top-level members are separated by depth-1 commas.
  let values = 1
  let members = 1
  let depth = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      for (i++; i < n && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++
    } else if (c === 0x7b || c === 0x5b) {
      depth++
      values++
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    } else if (c === 0x2c) {
      values++
      // One member more than the cap is allowed for __metadata__; parseHeader counts the tensors exactly.
      if (depth === 1 && ++members > MAX_SAFETENSORS_ENTRIES + 1)
        fail(where, `header lists more than ${MAX_SAFETENSORS_ENTRIES} tensors (MAX_SAFETENSORS_ENTRIES)`)
    }
    if (values > MAX_SAFETENSORS_HEADER_VALUES)
      fail(
        where,
        `header holds more than ${MAX_SAFETENSORS_HEADER_VALUES} JSON values (MAX_SAFETENSORS_HEADER_VALUES), far more than ${MAX_SAFETENSORS_ENTRIES} tensors need`,
      )
  }
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

/** Throws unless `value` is a string-to-string object; returns a copy with own properties only. */
export function checkMetadata(value: unknown, where: string): Record<string, string> {
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
