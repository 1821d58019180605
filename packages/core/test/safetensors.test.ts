// The reference fixtures, the layout saveSafetensors writes, reading data back, and the
// bitwise round trip property.
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Map as IMap, OrderedMap } from 'immutable'
import { loadSafetensors, readSafetensorsMetadata, saveSafetensors } from '../src/safetensors.ts'
import { readSafetensorsFile } from '../src/node.ts'
import { Tensor } from '../src/tensor.ts'
import { SafetensorsError } from '../src/errors.ts'
import { flattenParams } from '../src/tree.ts'
import type { DType, TensorData } from '../src/dtype.ts'
import { f32, f64, file, i32 } from './safetensors-helpers.ts'

const FIXTURES = fileURLToPath(new URL('../../../testdata/reference/', import.meta.url))
const fixtureFiles = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.safetensors'))
  .sort()

const bytesOf = (t: Tensor): Uint8Array => new Uint8Array(t._data.buffer, t._data.byteOffset, t._data.byteLength)

/** Parses a header independently of the code under test. */
function rawHeader(bytes: Uint8Array): { json: Record<string, any>; dataStart: number } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))
  return { json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), dataStart: 8 + n }
}

function expectTensorsIdentical(a: OrderedMap<string, Tensor>, b: OrderedMap<string, Tensor>): void {
  expect([...b.keys()]).toEqual([...a.keys()])
  for (const [name, t] of a) {
    const u = b.get(name)!
    expect(u.dtype, name).toBe(t.dtype)
    expect(u.shape, name).toEqual(t.shape)
    expect(bytesOf(u), name).toEqual(bytesOf(t))
  }
}

describe('reference fixtures', () => {
  it('finds the fixtures', () => {
    expect(fixtureFiles.length).toBeGreaterThan(50)
  })

  it.each(fixtureFiles)('%s loads as its header says and round-trips exactly', (name) => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, name)))
    const { json, dataStart } = rawHeader(bytes)
    const tensors = loadSafetensors(bytes)
    const names = Object.keys(json).filter((k) => k !== '__metadata__')
    expect([...tensors.keys()]).toEqual(names)
    for (const k of names) {
      const info = json[k]
      const t = tensors.get(k)!
      expect(t.shape, k).toEqual(info.shape)
      expect(t.size, k).toBe(info.shape.reduce((a: number, b: number) => a * b, 1))
      const raw = bytes.subarray(dataStart + info.data_offsets[0], dataStart + info.data_offsets[1])
      if (info.dtype === 'I64') {
        expect(t.dtype, k).toBe('int32')
        const expected = [...new BigInt64Array(raw.slice().buffer)].map(Number)
        expect([...t._data], k).toEqual(expected)
      } else {
        expect(t.dtype, k).toBe(info.dtype === 'F32' ? 'float32' : 'float64')
        expect(bytesOf(t), k).toEqual(raw)
      }
    }
    const metadata = readSafetensorsMetadata(bytes)
    expect(metadata).toEqual(json.__metadata__)
    expect(metadata.case).toBe(name.replace(/\.safetensors$/, ''))

    const saved = saveSafetensors(tensors, metadata)
    expectTensorsIdentical(tensors, loadSafetensors(saved))
    expect(readSafetensorsMetadata(saved)).toEqual(metadata)
    // I64 inputs come back as I32, since that is what graphgrad holds.
    const savedJson = rawHeader(saved).json
    for (const k of names) if (json[k].dtype === 'I64') expect(savedJson[k].dtype).toBe('I32')
  })

  it('reads a fixture from disk with readSafetensorsFile', async () => {
    const path = join(FIXTURES, fixtureFiles[0])
    const fromFile = await readSafetensorsFile(path)
    expectTensorsIdentical(loadSafetensors(new Uint8Array(readFileSync(path))), fromFile)
    const fromUrl = await readSafetensorsFile(new URL(`../../../testdata/reference/${fixtureFiles[0]}`, import.meta.url))
    expectTensorsIdentical(fromFile, fromUrl)
  })
})

describe('saveSafetensors writes the specified layout', () => {
  it('pads the header with spaces to a multiple of 8 and packs tensors back to back', () => {
    for (let extra = 0; extra < 10; extra++) {
      const params = OrderedMap<string, Tensor>([
        ['w'.repeat(extra + 1), f32(1, 2, 3)],
        ['b', f64(4)],
        ['n', i32(-5, 6)],
      ])
      const bytes = saveSafetensors(params, { note: 'x'.repeat(extra) })
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true))
      expect(n % 8).toBe(0)
      const text = new TextDecoder().decode(bytes.subarray(8, 8 + n))
      expect(text.trimEnd().endsWith('}')).toBe(true)
      expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/)
      const { json } = rawHeader(bytes)
      expect(json.__metadata__).toEqual({ note: 'x'.repeat(extra) })
      expect(json['w'.repeat(extra + 1)]).toEqual({ dtype: 'F32', shape: [3], data_offsets: [0, 12] })
      expect(json.b).toEqual({ dtype: 'F64', shape: [1], data_offsets: [12, 20] })
      expect(json.n).toEqual({ dtype: 'I32', shape: [2], data_offsets: [20, 28] })
      expect(bytes.length).toBe(8 + n + 28)
    }
  })

  it('omits __metadata__ when none is given and saves an empty map', () => {
    const bytes = saveSafetensors(OrderedMap())
    expect(rawHeader(bytes).json).toEqual({})
    expect(loadSafetensors(bytes).size).toBe(0)
    expect(readSafetensorsMetadata(bytes)).toEqual({})
  })

  it('flattens nested maps to dotted names, like flattenParams', () => {
    const tree = IMap<string, any>({ lstm: IMap({ weight_ih_l0: f64(1, 2), bias: f32(3) }), head: OrderedMap({ w: i32(7) }) })
    const loaded = loadSafetensors(saveSafetensors(tree))
    expect([...loaded.keys()]).toEqual([...flattenParams(tree).keys()])
    expect(loaded.get('lstm.weight_ih_l0')!.toArray()).toEqual([1, 2])
    expect(loaded.get('head.w')!.toArray()).toEqual([7])
  })

  it('keeps map order even for integer-like names', () => {
    const params = OrderedMap<string, Tensor>([
      ['b', f64(1)],
      ['10', f64(2)],
      ['2', f64(3)],
      ['a', f64(4)],
    ])
    const loaded = loadSafetensors(saveSafetensors(params))
    expectTensorsIdentical(params, loaded)
  })

  it('stores scalars and empty tensors', () => {
    const params = OrderedMap<string, Tensor>([
      ['scalar', new Tensor(new Float64Array([Math.PI]), [])],
      ['empty', new Tensor(new Float32Array(0), [3, 0, 2])],
      ['after', i32(1, 2)],
    ])
    const loaded = loadSafetensors(saveSafetensors(params))
    expectTensorsIdentical(params, loaded)
    expect(loaded.get('scalar')!.item()).toBe(Math.PI)
  })

  it('saves a tensor that is a view into a larger buffer', () => {
    const big = new Float64Array([9, 1, 2, 3, 9])
    const t = new Tensor(big.subarray(1, 4), [3])
    expect(
      loadSafetensors(saveSafetensors(OrderedMap({ t })))
        .get('t')!
        .toArray(),
    ).toEqual([1, 2, 3])
  })

  const refuseSave = (fn: () => unknown, fragment: string | RegExp): void => {
    expect(fn).toThrow(SafetensorsError)
    expect(fn).toThrow(fragment)
  }

  it('refuses a leaf that is not a tensor, naming it', () => {
    refuseSave(() => saveSafetensors(IMap<string, any>({ a: f64(1), b: 3 })), "'b' is number 3")
    refuseSave(() => saveSafetensors(IMap<string, any>({ a: IMap({ c: 'x' }) })), /'a\.c' is the string "x"/)
    refuseSave(() => saveSafetensors(IMap<string, any>({ a: [f64(1)] })), "'a' is an array")
    refuseSave(() => saveSafetensors(IMap<string, any>({ a: null })), "'a' is null")
  })

  it('refuses params that are not a map', () => {
    refuseSave(() => saveSafetensors(f64(1) as any), 'must be an Immutable.js Map')
    refuseSave(() => saveSafetensors({ a: f64(1) } as any), 'must be an Immutable.js Map')
  })

  it('refuses two tensors with the same dotted name', () => {
    refuseSave(
      () =>
        saveSafetensors(
          OrderedMap<string, any>([
            ['a.b', f64(1)],
            ['a', IMap({ b: f64(2) })],
          ]),
        ),
      "two tensors are named 'a.b'",
    )
  })

  it('refuses a tensor named __metadata__', () => {
    refuseSave(() => saveSafetensors(IMap({ __metadata__: f64(1) })), "'__metadata__'")
  })

  it('refuses metadata that is not a string-to-string object', () => {
    const p = IMap({ a: f64(1) })
    refuseSave(() => saveSafetensors(p, { lr: 0.1 } as any), "value of 'lr' must be a string, found number 0.1")
    refuseSave(() => saveSafetensors(p, { x: null } as any), "value of 'x' must be a string, found null")
    refuseSave(() => saveSafetensors(p, ['a'] as any), 'metadata: must be an object of string values, found an array')
    refuseSave(() => saveSafetensors(p, null as any), 'found null')
    refuseSave(() => saveSafetensors(p, IMap({ a: 'b' }) as any), 'found a Map')
  })
})

describe('loadSafetensors reads data', () => {
  it('reads unaligned data and views at any byte offset, little-endian', () => {
    const values = [1.5, -0, NaN, Infinity, -Infinity, 5e-324]
    // A 13-byte header puts the data at file offset 21, which no typed array could view directly.
    const header = '{"x":{"dtype":"F64","shape":[6],"data_offsets":[0,48]}}'.padEnd(13)
    const bytes = file(header, new Uint8Array(new Float64Array(values).buffer))
    expect((8 + new TextEncoder().encode(header).length) % 8).not.toBe(0)
    for (let shift = 0; shift < 8; shift++) {
      const backing = new Uint8Array(bytes.length + shift)
      backing.set(bytes, shift)
      const t = loadSafetensors(backing.subarray(shift)).get('x')!
      expect(Object.is(t._data[1], -0)).toBe(true)
      expect([...t._data]).toEqual(values)
    }
  })

  it('does not alias the input bytes', () => {
    const bytes = saveSafetensors(IMap({ a: f32(1, 2) }))
    const t = loadSafetensors(bytes).get('a')!
    bytes.fill(0)
    expect(t.toArray()).toEqual([1, 2])
  })

  it('keeps header order for integer-like names', () => {
    const h =
      '{"b":{"dtype":"I32","shape":[],"data_offsets":[0,4]},"10":{"dtype":"I32","shape":[],"data_offsets":[4,8]},"2":{"dtype":"I32","shape":[],"data_offsets":[8,12]}}'
    expect([...loadSafetensors(file(h, new Uint8Array(12))).keys()]).toEqual(['b', '10', '2'])
  })

  it('decodes escaped names and tolerates whitespace in the header', () => {
    const h = ' {\n "a\\u002eb\\"q" :\t{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":{"x":[1]}},  "__metadata__" : {"k":"v\\n"} }  '
    const t = loadSafetensors(file(h, new Uint8Array(new Float32Array([2]).buffer)))
    expect([...t.keys()]).toEqual(['a.b"q'])
    expect(readSafetensorsMetadata(file(h, new Uint8Array(4)))).toEqual({ k: 'v\n' })
  })

  it('keeps a __proto__ metadata key as plain data', () => {
    const md = readSafetensorsMetadata(file('{"__metadata__":{"__proto__":"x"}}'))
    expect(Object.getPrototypeOf(md)).toBe(Object.prototype)
    expect(Object.keys(md)).toEqual(['__proto__'])
    expect(readSafetensorsMetadata(saveSafetensors(OrderedMap(), md))).toEqual(md)
  })
})

describe('round trip property', () => {
  const DTYPES: DType[] = ['float32', 'float64', 'int32']
  const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 })
  const specials = [NaN, -0, 0, Infinity, -Infinity, 5e-324, -2.2250738585072e-308, 1e-40, -1.4e-45, 3.4028234663852886e38]

  function valuesFor(dtype: DType, size: number): fc.Arbitrary<TensorData> {
    if (dtype === 'int32')
      return fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: size, maxLength: size }).map((v) => new Int32Array(v))
    const itemSize = dtype === 'float32' ? 4 : 8
    const make = (buf: ArrayBuffer): TensorData => (dtype === 'float32' ? new Float32Array(buf) : new Float64Array(buf))
    // Raw bits reach every NaN payload; the value form stresses the usual special values.
    const bits = fc.uint8Array({ minLength: size * itemSize, maxLength: size * itemSize }).map((b) => make(b.slice().buffer))
    const num = dtype === 'float32' ? fc.float() : fc.double()
    const vals = fc
      .array(fc.oneof(num, fc.constantFrom(...specials)), { minLength: size, maxLength: size })
      .map((v) => (dtype === 'float32' ? new Float32Array(v) : new Float64Array(v)))
    return fc.oneof(bits, vals)
  }

  const tensorArb = fc.record({ dtype: fc.constantFrom(...DTYPES), shape: shapeArb }).chain(({ dtype, shape }) =>
    valuesFor(
      dtype,
      shape.reduce((a, b) => a * b, 1),
    ).map((data) => new Tensor(data, shape)),
  )

  const paramsArb = fc
    .uniqueArray(
      fc.tuple(
        fc.string({ unit: 'binary', maxLength: 8 }).filter((s) => s !== '__metadata__'),
        tensorArb,
      ),
      { selector: ([name]) => name, maxLength: 5 },
    )
    .map((entries) => OrderedMap(entries))

  it('save then load is bitwise exact for every dtype, shape and value', () => {
    fc.assert(
      fc.property(paramsArb, fc.option(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }))), (params, metadata) => {
        const bytes = saveSafetensors(params, metadata ?? undefined)
        const loaded = loadSafetensors(bytes)
        expectTensorsIdentical(params, loaded)
        expect(readSafetensorsMetadata(bytes)).toEqual(metadata ?? {})
        // Encoding is deterministic, so saving the loaded tensors gives the same file.
        expect(saveSafetensors(loaded, metadata ?? undefined)).toEqual(bytes)
      }),
      { numRuns: 300 },
    )
  })
})
