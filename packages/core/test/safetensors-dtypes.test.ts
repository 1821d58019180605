// The dtypes PyTorch checkpoints contain beyond F32/F64/I32/I64 (issue 17, #18): BOOL, U8, I8
// and I16 widened to int32, F16 and BF16 widened to float32, exactly. Checked three ways: known
// bit patterns built by hand, every one of the 65536 patterns against an independent
// formula, and files PyTorch wrote (test/data, made by make_torch_dtypes.py) against
// PyTorch's own conversions.
import { describe, it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { Map as IMap } from 'immutable'
import { loadSafetensors, saveSafetensors } from '../src/safetensors.ts'
import { SafetensorsError } from '../src/errors.ts'
import type { Tensor } from '../src/tensor.ts'
import { file } from './safetensors-helpers.ts'

/** A file holding one tensor `t` of `dtype` and `shape`, its data given as little-endian 16-bit words or bytes. */
function oneTensor(dtype: string, shape: number[], data: Uint8Array): Uint8Array {
  return file({ t: { dtype, shape, data_offsets: [0, data.length] } }, data)
}
const words = (...w: number[]): Uint8Array => new Uint8Array(new Uint16Array(w).buffer)
const load = (dtype: string, shape: number[], data: Uint8Array): Tensor => loadSafetensors(oneTensor(dtype, shape, data)).get('t')!
/** The float32 bit patterns of a tensor's data. */
const bitsOf = (t: Tensor): number[] => [...new Uint32Array(t._data.buffer, t._data.byteOffset, t.size)]
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./data/${name}`, import.meta.url)))

/**
 * A 16-bit float by its definition, with float64 arithmetic (exact here): sign bit, then
 * `exponentBits` exponent bits with bias 2^(exponentBits - 1) - 1, then the fraction bits:
 * (-1)^s 2^(e - bias) (1 + f / 2^fractionBits), subnormals 2^(1 - bias) (f / 2^fractionBits).
 */
function float16ByFormula(h: number, exponentBits: number): number {
  const fractionBits = 15 - exponentBits
  const bias = 2 ** (exponentBits - 1) - 1
  const top = 2 ** exponentBits - 1
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> fractionBits) & top
  const f = h & (2 ** fractionBits - 1)
  const scale = 2 ** fractionBits
  if (e === top) return f === 0 ? s * Infinity : NaN
  return e === 0 ? s * 2 ** (1 - bias) * (f / scale) : s * 2 ** (e - bias) * (1 + f / scale)
}

/** binary16 (IEEE half): 5 exponent bits, 10 fraction bits. */
const halfByFormula = (h: number): number => float16ByFormula(h, 5)

/** bfloat16: 8 exponent bits, 7 fraction bits. */
const bfloat16ByFormula = (h: number): number => float16ByFormula(h, 8)

describe('F16 and BF16 are read as float32, exactly', () => {
  it('known F16 bit patterns', () => {
    const t = load('F16', [11], words(0x3c00, 0xbc00, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x0000, 0x8000, 0x3555))
    expect(t.dtype).toBe('float32')
    expect(t.shape).toEqual([11])
    const v = [...t._data]
    expect(v.slice(0, 8)).toEqual([1, -1, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity])
    expect(Object.is(v[8], 0) && Object.is(v[9], -0)).toBe(true)
    expect(v[10]).toBe(0.333251953125)
    expect(Number.isNaN(load('F16', [], words(0x7e00))._data[0])).toBe(true)
    expect(Number.isNaN(load('F16', [], words(0xfc01))._data[0])).toBe(true)
  })

  it('known BF16 bit patterns', () => {
    const t = load('BF16', [2, 4], words(0x3f80, 0xc000, 0x0001, 0x0080, 0x7f7f, 0x7f80, 0xff80, 0x8000))
    expect(t.dtype).toBe('float32')
    expect(t.toArray()).toEqual([
      [1, -2, 2 ** -133, 2 ** -126],
      [(2 - 2 ** -7) * 2 ** 127, Infinity, -Infinity, -0],
    ])
    expect(Number.isNaN(load('BF16', [], words(0x7fc0))._data[0])).toBe(true)
  })

  it('every F16 and BF16 bit pattern, against the formula', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i)
    const bytes = new Uint8Array(all.buffer)
    for (const [dtype, formula] of [
      ['F16', halfByFormula],
      ['BF16', bfloat16ByFormula],
    ] as const) {
      const t = load(dtype, [65536], bytes)
      const wrong: string[] = []
      for (let h = 0; h < 65536 && wrong.length < 5; h++) {
        const want = formula(h)
        const got = t._data[h]
        if (!(Number.isNaN(want) ? Number.isNaN(got) : Object.is(got, want))) wrong.push(`0x${h.toString(16)}: got ${got}, want ${want}`)
      }
      expect(wrong, dtype).toEqual([])
    }
  })

  it('reads unaligned data (odd offsets)', () => {
    const data = new Uint8Array([0xaa, 0x00, 0x3c, 0x80, 0x3f])
    const bytes = file(
      {
        pad: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
        h: { dtype: 'F16', shape: [1], data_offsets: [1, 3] },
        b: { dtype: 'BF16', shape: [1], data_offsets: [3, 5] },
      },
      data,
    )
    const m = loadSafetensors(bytes)
    expect([m.get('pad')!.item(), m.get('h')!.item(), m.get('b')!.item()]).toEqual([0xaa, 1, 1])
  })
})

describe('BOOL, U8, I8 and I16 are read as int32', () => {
  it('keeps every value, signed and unsigned', () => {
    const u8 = load('U8', [4], new Uint8Array([0, 1, 127, 255]))
    expect([u8.dtype, ...u8._data]).toEqual(['int32', 0, 1, 127, 255])
    const i8 = load('I8', [2, 2], new Uint8Array([0x80, 0xff, 0x00, 0x7f]))
    expect([i8.dtype, i8.toArray()]).toEqual([
      'int32',
      [
        [-128, -1],
        [0, 127],
      ],
    ])
    const i16 = load('I16', [4], words(0x8000, 0xffff, 0x0001, 0x7fff))
    expect([i16.dtype, ...i16._data]).toEqual(['int32', -32768, -1, 1, 32767])
    const b = load('BOOL', [3], new Uint8Array([1, 0, 1]))
    expect([b.dtype, ...b._data]).toEqual(['int32', 1, 0, 1])
  })

  it('refuses a BOOL byte other than 0 or 1, naming the tensor and the index', () => {
    expect(() => load('BOOL', [3], new Uint8Array([1, 0, 2]))).toThrow(SafetensorsError)
    expect(() => loadSafetensors(oneTensor('BOOL', [3], new Uint8Array([1, 0, 0xff])), { source: 'm.safetensors' })).toThrow(
      "safetensors file 'm.safetensors': tensor 't': BOOL byte 255 at flat index 2 is neither 0 nor 1",
    )
  })

  it('checks the byte count with the narrow item size', () => {
    expect(() => load('I16', [3], new Uint8Array(4))).toThrow('hold 4 bytes, but I16 of shape [3] needs 6')
    expect(() => load('BF16', [2], new Uint8Array(8))).toThrow('hold 8 bytes, but BF16 of shape [2] needs 4')
  })

  it('saves the widened tensors back as I32 and F32 (writing stays F32/F64/I32)', () => {
    const m = loadSafetensors(
      file({ b: { dtype: 'BOOL', shape: [1], data_offsets: [0, 1] }, h: { dtype: 'F16', shape: [1], data_offsets: [2, 4] } }, [1, 0, 0x00, 0x3c]),
    )
    const back = loadSafetensors(saveSafetensors(IMap(m)))
    const header = new TextDecoder().decode(saveSafetensors(IMap(m)).subarray(8, 80))
    expect(header).toContain('"b":{"dtype":"I32"')
    expect(header).toContain('"h":{"dtype":"F32"')
    expect([back.get('b')!.item(), back.get('h')!.item()]).toEqual([1, 1])
  })
})

describe('files PyTorch wrote', () => {
  it("decodes every sample as PyTorch's Tensor.float() / Tensor.int() does, bit for bit", () => {
    const m = loadSafetensors(fixture('torch-dtypes.safetensors'))
    for (const tag of ['F16', 'BF16', 'I16', 'I8', 'U8', 'BOOL']) {
      const got = m.get(tag)!
      const want = m.get(`${tag}.wide`)!
      expect(got.dtype, tag).toBe(want.dtype)
      expect(got.shape, tag).toEqual(want.shape)
      expect(bitsOf(got), tag).toEqual(bitsOf(want))
    }
    // The samples cover what matters: subnormals, both infinities and NaNs.
    const f16 = [...m.get('F16')!._data]
    expect(f16.filter((x) => x !== 0 && Math.abs(x) < 2 ** -14).length).toBeGreaterThan(1000)
    expect(f16).toContain(-Infinity)
    expect(f16.some(Number.isNaN)).toBe(true)
  })

  it('loads a state_dict with float16, bfloat16, bool, uint8, int8, int16 and int64 entries', () => {
    const sd = loadSafetensors(fixture('torch-state-dict.safetensors'), { source: 'torch-state-dict.safetensors' })
    const io = loadSafetensors(fixture('torch-state-dict-io.safetensors'))
    const names = [...sd.keys()]
    expect(names).toEqual(expect.arrayContaining(['fp16.weight', 'bf16.bias', 'mask', 'codes', 'qweight', 'ids', 'norm.num_batches_tracked']))
    for (const name of names) {
      const want = io.get(`wide.${name}`)!
      expect(sd.get(name)!.dtype, name).toBe(want.dtype)
      expect(sd.get(name)!.toArray(), name).toEqual(want.toArray())
    }
  })
})
