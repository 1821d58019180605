// Fuzzing both safetensors loaders (issue 17, guard): valid files (saved by saveSafetensors,
// built by hand with every dtype, written by PyTorch) under random byte mutations (bit flips,
// overwrites, header edits, renumbered offsets and shapes, retagged dtypes and names,
// truncation, extension, a changed header length). Every case must end, fast, in either a
// SafetensorsError that names the file, or tensors that are well formed (a graphgrad dtype,
// a finite shape within the caps, data of that size, not aliasing the input, no more than 4
// bytes out per byte in) and survive a save/load round trip bit for bit. A mutation that only
// touches tensor data must leave every other tensor and element exactly as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OrderedMap } from 'immutable'
import { MAX_SAFETENSORS_RANK, loadSafetensors, saveSafetensors } from '../src/safetensors.ts'
import { readSafetensorsFile } from '../src/node.ts'
import { SafetensorsError } from '../src/errors.ts'
import { MAX_ELEMENTS } from '../src/shape.ts'
import { Tensor } from '../src/tensor.ts'
import { file } from './safetensors-helpers.ts'

const SEED = 0x5afe
/** A load of these small files takes well under a millisecond; this leaves room for a GC pause. */
const TIME_BOUND_MS = 250
const SOURCE = 'fuzz.safetensors'

/** Bytes per element of each dtype in the file and in the tensor graphgrad makes of it. */
const SIZES: Record<string, [number, number]> = {
  F64: [8, 8],
  F32: [4, 4],
  F16: [2, 4],
  BF16: [2, 4],
  I64: [8, 4],
  I32: [4, 4],
  I16: [2, 4],
  I8: [1, 4],
  U8: [1, 4],
  BOOL: [1, 4],
}

/** Little-endian bytes of values stored in a typed array of the given class. */
const bytesOf = (Ctor: new (v: number[]) => ArrayBufferView, ...v: number[]): number[] => [...new Uint8Array(new Ctor(v).buffer)]

/** A file of every dtype graphgrad reads, with an empty tensor, a gap no tensor owns, and trailing bytes. */
function allDtypes(): Uint8Array {
  const parts: [string, string, number[], number[]][] = [
    ['half', 'F16', [2, 2], bytesOf(Uint16Array, 0x3c00, 0x0001, 0x7c00, 0xfe00)],
    ['brain', 'BF16', [3], bytesOf(Uint16Array, 0x3f80, 0xff80, 0x0001)],
    ['short', 'I16', [2], bytesOf(Int16Array, -32768, 32767)],
    ['byte', 'I8', [3], bytesOf(Int8Array, -128, 0, 127)],
    ['ubyte', 'U8', [1, 2], [0, 255]],
    ['mask', 'BOOL', [2], [1, 0]],
    ['long', 'I64', [2], [...new Uint8Array(new BigInt64Array([-5n, 2147483647n]).buffer)]],
    ['empty', 'F32', [0, 3], []],
    ['int', 'I32', [], bytesOf(Int32Array, -7)],
  ]
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } }
  const data: number[] = []
  for (const [name, dtype, shape, bytes] of parts) {
    if (name === 'int') data.push(0xee, 0xee, 0xee)
    header[name] = { dtype, shape, data_offsets: [data.length, data.length + bytes.length] }
    data.push(...bytes)
  }
  return file(header, [...data, 0xaa, 0xbb])
}

const f32 = (shape: number[], v: number[]): Tensor => new Tensor(new Float32Array(v), shape)
const BASES: readonly [string, Uint8Array][] = [
  [
    'saved',
    saveSafetensors(
      OrderedMap({
        w: f32([2, 3], [1, -2, 3.5, NaN, -0, Infinity]),
        b: new Tensor(new Float64Array([1e-300, -1]), [2]),
        idx: new Tensor(new Int32Array([0, -1, 2 ** 31 - 1]), [3]),
        s: new Tensor(new Float64Array([3]), []),
        e: f32([0, 2], []),
      }),
      { step: '3' },
    ),
  ],
  ['saved-nested', saveSafetensors(OrderedMap({ enc: OrderedMap({ weight: f32([1, 2], [1, 2]) }), 0: f32([1], [5]) }))],
  ['all-dtypes', allDtypes()],
  ['pytorch', new Uint8Array(readFileSync(new URL('./data/torch-state-dict.safetensors', import.meta.url)))],
]

interface Layout {
  /** File offset of the data buffer. */
  readonly dataStart: number
  /** Each tensor's dtype and its absolute byte range. */
  readonly tensors: ReadonlyMap<string, { tag: string; begin: number; end: number }>
}

/** The layout of a valid base file, parsed independently of the loader. */
function layoutOf(bytes: Uint8Array): Layout {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))
  const json = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>
  const tensors = new Map(
    Object.entries(json)
      .filter(([k]) => k !== '__metadata__')
      .map(([k, v]) => [k, { tag: v.dtype, begin: 8 + n + v.data_offsets[0], end: 8 + n + v.data_offsets[1] }]),
  )
  return { dataStart: 8 + n, tensors }
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'overwrite'; at: number; value: number }
  | { kind: 'dataByte'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; bytes: number[] }
  | { kind: 'length'; value: bigint }
  | { kind: 'headerChar'; at: number; char: string }
  | { kind: 'splice'; at: number; remove: number; insert: string; fixLength: boolean }
  | { kind: 'token'; which: number; numbers: boolean; value: string }

const JSONISH = [...'{}[],:"\\ 0123456789-.eE\u00e9']
const NUMBERS = [
  '0',
  '-0',
  '1',
  '-1',
  '2',
  '3',
  '7',
  '8',
  '1.0',
  '1.5',
  '1e2',
  '1e15',
  '1e300',
  '-1e-400',
  '2147483647',
  '2147483648',
  '4294967296',
  '9007199254740991',
  '9007199254740992',
  '18446744073709551616',
  'null',
  '"8"',
  '[]',
  '{}',
]
const STRINGS = [...Object.keys(SIZES), 'U16', 'F8_E4M3', 'f32', '', '__metadata__', '__proto__', 'constructor', 'toString', 'w', 'mask', 'a'.repeat(300)]
  .map((s) => JSON.stringify(s))
  .concat(['"\\u0077"', '"\\x"', '"\\ud800"', '1', '{}'])

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('dataByte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('dataByte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 24 }) }),
  fc.record({ kind: fc.constant('length' as const), value: fc.oneof(fc.bigInt({ min: 0n, max: 4096n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })) }),
  fc.record({ kind: fc.constant('headerChar' as const), at: fc.nat(), char: fc.constantFrom(...JSONISH) }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    remove: fc.integer({ min: 0, max: 3 }),
    insert: fc.array(fc.constantFrom(...JSONISH), { maxLength: 3 }).map((a) => a.join('')),
    fixLength: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('token' as const), which: fc.nat(), numbers: fc.constant(true), value: fc.constantFrom(...NUMBERS) }),
  fc.record({ kind: fc.constant('token' as const), which: fc.nat(), numbers: fc.constant(false), value: fc.constantFrom(...STRINGS) }),
)

/** The header text and the bytes after it, by the file's own (possibly mutated) length field, clamped to the file. */
function split(bytes: Uint8Array): { text: string; rest: Uint8Array } | null {
  if (bytes.length < 8) return null
  const n = Math.min(Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true)), bytes.length - 8)
  return { text: new TextDecoder().decode(bytes.subarray(8, 8 + n)), rest: bytes.subarray(8 + n) }
}

/** A file of header text and data; the length field is the text's unless `declared` is given. */
const assemble = (text: string, rest: Uint8Array, declared?: bigint): Uint8Array => file(text, rest, declared ?? BigInt(new TextEncoder().encode(text).length))

/** Applies a mutation; `touched` collects the data bytes changed (absolute offsets), `header` whether anything else changed. */
function mutate(bytes: Uint8Array, m: Mutation, note: Note, dataStart: number): Uint8Array {
  const out = bytes.slice()
  const at = (i: number): number => i % Math.max(1, bytes.length)
  switch (m.kind) {
    case 'flip':
    case 'overwrite': {
      if (bytes.length === 0) return out
      const i = at(m.at)
      out[i] = m.kind === 'flip' ? out[i] ^ (1 << m.bit) : m.value
      if (i < dataStart) note.header = true
      else if (out[i] !== bytes[i]) note.touched.add(i)
      return out
    }
    case 'dataByte': {
      // Aimed at the data buffer (most of a small file is header), so that accepted files are common too.
      if (bytes.length <= dataStart) return out
      const i = dataStart + (m.at % (bytes.length - dataStart))
      out[i] = m.value
      if (out[i] !== bytes[i]) note.touched.add(i)
      return out
    }
    case 'truncate':
      note.cut = Math.min(note.cut, at(m.at))
      if (at(m.at) < dataStart) note.header = true
      return out.subarray(0, at(m.at))
    case 'extend':
      return Uint8Array.from([...out, ...m.bytes])
    case 'length':
      note.header = true
      if (out.length >= 8) new DataView(out.buffer).setBigUint64(0, m.value, true)
      return out
    default: {
      note.header = true
      const parts = split(bytes)
      if (parts === null) return out
      const { text, rest } = parts
      if (m.kind === 'headerChar') {
        const i = m.at % Math.max(1, text.length)
        return assemble(text.slice(0, i) + m.char + text.slice(i + 1), rest)
      }
      if (m.kind === 'splice') {
        const i = m.at % (text.length + 1)
        const next = text.slice(0, i) + m.insert + text.slice(i + m.remove)
        return assemble(next, rest, m.fixLength ? undefined : BigInt(text.length))
      }
      const tokens = [...text.matchAll(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)].filter((t) => t[0].startsWith('"') !== m.numbers)
      if (tokens.length === 0) return out
      const t = tokens[m.which % tokens.length]
      return assemble(text.slice(0, t.index) + m.value + text.slice(t.index + t[0].length), rest)
    }
  }
}

/** The end of the last tensor's bytes (absolute). */
const lastEnd = (layout: Layout): number => Math.max(...[...layout.tensors.values()].map((t) => t.end))

const bitsOf = (t: Tensor): Uint8Array => new Uint8Array(t._data.buffer, t._data.byteOffset, t._data.byteLength)

/** Runs a load, returning its tensors or its error, and checks the time it took. */
function timed<T>(fn: () => T): { value?: T; error?: unknown; ms: number } {
  const t0 = performance.now()
  try {
    const value = fn()
    return { value, ms: performance.now() - t0 }
  } catch (error) {
    return { error, ms: performance.now() - t0 }
  }
}

/** What every accepted file must give: well-formed tensors that a round trip keeps bit for bit. */
function expectWellFormed(m: OrderedMap<string, Tensor>, input: Uint8Array): void {
  let bytesOut = 0
  for (const [name, t] of m) {
    expect(t, name).toBeInstanceOf(Tensor)
    expect(['float32', 'float64', 'int32'], name).toContain(t.dtype)
    expect(t._data.constructor.name, name).toBe({ float32: 'Float32Array', float64: 'Float64Array', int32: 'Int32Array' }[t.dtype])
    expect(t.shape.length, name).toBeLessThanOrEqual(MAX_SAFETENSORS_RANK)
    for (const d of t.shape) expect(Number.isInteger(d) && d >= 0 && d <= MAX_ELEMENTS && !Object.is(d, -0), `${name} shape ${String(t.shape)}`).toBe(true)
    expect(
      t.shape.reduce((a, b) => a * b, 1),
      name,
    ).toBe(t._data.length)
    expect(t._data.buffer, name).not.toBe(input.buffer)
    bytesOut += t._data.byteLength
  }
  expect(bytesOut).toBeLessThanOrEqual(4 * input.length)
  const back = loadSafetensors(saveSafetensors(m))
  expect([...back.keys()]).toEqual([...m.keys()])
  for (const [name, t] of m) {
    expect(back.get(name)!.dtype, name).toBe(t.dtype)
    expect(back.get(name)!.shape, name).toEqual(t.shape)
    expect(bitsOf(back.get(name)!), name).toEqual(bitsOf(t))
  }
}

/** Every tensor the data-only mutations left alone is bit for bit the original; a touched one differs only in touched elements. */
function expectOnlyTouchedChanged(got: OrderedMap<string, Tensor>, original: OrderedMap<string, Tensor>, layout: Layout, note: Note): void {
  expect([...got.keys()]).toEqual([...original.keys()])
  for (const [name, { tag, begin }] of layout.tensors) {
    const [inSize, outSize] = SIZES[tag]
    const end = layout.tensors.get(name)!.end
    // Bytes past a cut may have been put back (extend) with other values.
    const touched = [...note.touched, ...Array.from({ length: Math.max(0, end - Math.max(begin, note.cut)) }, (_, k) => Math.max(begin, note.cut) + k)]
    const changed = new Set(touched.filter((i) => i >= begin && i < end).map((i) => Math.floor((i - begin) / inSize)))
    const [a, b] = [bitsOf(got.get(name)!), bitsOf(original.get(name)!)]
    expect(got.get(name)!.shape, name).toEqual(original.get(name)!.shape)
    for (let k = 0; k < a.length; k++) if (!changed.has(Math.floor(k / outSize))) expect(a[k], `${name} byte ${k}`).toBe(b[k])
  }
}

/** A fuzz case: a base file and the mutations applied to it in turn. */
interface Case {
  readonly base: number
  readonly mutations: readonly Mutation[]
}
const caseArb: fc.Arbitrary<Case> = fc.record({
  base: fc.integer({ min: 0, max: BASES.length - 1 }),
  mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
})

/** What the mutations did: changed the header (or the length field), changed these data bytes, cut the file here (bytes from there on may differ). */
interface Note {
  header: boolean
  readonly touched: Set<number>
  cut: number
}

/** The mutated file and what the mutations did. */
function build(c: Case): { bytes: Uint8Array; note: Note; base: Uint8Array; layout: Layout } {
  const base = BASES[c.base][1]
  const layout = layoutOf(base)
  const note: Note = { header: false, touched: new Set<number>(), cut: Infinity }
  let bytes = base
  for (const m of c.mutations) bytes = mutate(bytes, m, note, layout.dataStart)
  return { bytes, note, base, layout }
}

describe('fuzz: mutated safetensors files', () => {
  it('the base files load', () => {
    for (const [name, bytes] of BASES) expect(loadSafetensors(bytes).size, name).toBeGreaterThanOrEqual(2)
  })

  it('loadSafetensors: a named SafetensorsError or well-formed tensors, in bounded time', () => {
    let refused = 0
    let accepted = 0
    fc.assert(
      fc.property(caseArb, (c) => {
        const { bytes, note, base, layout } = build(c)
        const r = timed(() => loadSafetensors(bytes, { source: SOURCE }))
        expect(r.ms).toBeLessThan(TIME_BOUND_MS)
        if (r.error !== undefined) {
          refused++
          expect(r.error).toBeInstanceOf(SafetensorsError)
          expect((r.error as Error).message.startsWith(`safetensors file '${SOURCE}': `)).toBe(true)
          // Only a cut into the data, or a value graphgrad cannot hold (I64 range, a BOOL byte), may refuse a data-only change.
          if (!note.header && bytes.length >= lastEnd(layout)) expect((r.error as Error).message).toMatch(/tensor '.*': (I64 value|BOOL byte)/)
          return
        }
        accepted++
        expectWellFormed(r.value!, bytes)
        if (!note.header) {
          expect(bytes.length, 'a file cut inside its data was accepted').toBeGreaterThanOrEqual(lastEnd(layout))
          expectOnlyTouchedChanged(r.value!, loadSafetensors(base), layout, note)
        }
      }),
      { seed: SEED, numRuns: 1000 },
    )
    // Not vacuous: both outcomes are common.
    expect(refused).toBeGreaterThan(300)
    expect(accepted).toBeGreaterThan(120)
  })

  describe('readSafetensorsFile', () => {
    let dir = ''
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'graphgrad-fuzz-'))
    })
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('gives what loadSafetensors gives, naming the path', async () => {
      const path = (): string => join(dir, 'case.safetensors')
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const { bytes } = build(c)
          await writeFile(path(), bytes)
          const mem = timed(() => loadSafetensors(bytes))
          const t0 = performance.now()
          const fromFile = await readSafetensorsFile(path()).then(
            (value) => ({ value, error: undefined }),
            (error: unknown) => ({ value: undefined, error }),
          )
          expect(performance.now() - t0).toBeLessThan(TIME_BOUND_MS)
          if (mem.error !== undefined) {
            expect(fromFile.error).toBeInstanceOf(SafetensorsError)
            expect((fromFile.error as Error).message).toBe((mem.error as Error).message.replace(/^safetensors/, `safetensors file '${path()}'`))
            return
          }
          expect(fromFile.error).toBeUndefined()
          expect([...fromFile.value!.keys()]).toEqual([...mem.value!.keys()])
          for (const [name, t] of mem.value!) expect(bitsOf(fromFile.value!.get(name)!), name).toEqual(bitsOf(t))
        }),
        { seed: SEED + 1, numRuns: 200 },
      )
    })
  })
})
