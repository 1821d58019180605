// loadSafetensors on malformed input, and writeSafetensorsFile's atomic replace.
import { describe, it, expect } from 'vitest'
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { constants as bufferConstants } from 'node:buffer'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Map as IMap } from 'immutable'
import {
  loadSafetensors,
  readSafetensorsMetadata,
  saveSafetensors,
  MAX_SAFETENSORS_ENTRIES,
  MAX_SAFETENSORS_HEADER_BYTES,
  MAX_SAFETENSORS_HEADER_VALUES,
  MAX_SAFETENSORS_RANK,
} from '../src/safetensors.ts'
import { readSafetensorsFile, writeFileAtomic, writeSafetensorsFile } from '../src/node.ts'
import { SafetensorsError } from '../src/errors.ts'
import { Tensor } from '../src/tensor.ts'
import { f64, file, i32 } from './safetensors-helpers.ts'

function expectRefused(bytes: Uint8Array, ...fragments: (string | RegExp)[]): void {
  let error: unknown
  try {
    loadSafetensors(bytes)
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(SafetensorsError)
  for (const f of fragments) expect((error as Error).message).toMatch(f)
}

const le64 = (...v: bigint[]): Uint8Array => new Uint8Array(new BigInt64Array(v).buffer)
const data8 = (): Uint8Array => new Uint8Array(8)

describe('loadSafetensors refuses malformed input', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }
  const data8 = new Uint8Array(8)

  it('accepts the well-formed baseline', () => {
    expect(loadSafetensors(file(ok, data8)).get('a')!.toArray()).toEqual([0, 0])
  })

  it('file shorter than 8 bytes', () => {
    for (let n = 0; n < 8; n++) expectRefused(new Uint8Array(n), `file is ${n} bytes, too short`)
  })

  it('header length past the end of the file', () => {
    expectRefused(file('{}', [], 100n), 'header length 100 runs past the end of the file (10 bytes)')
    expectRefused(file('{}', [], 3n), 'header length 3 runs past the end of the file (10 bytes)')
    expect(loadSafetensors(file('{}', [], 2n)).size).toBe(0)
  })

  it('header larger than 100 MB, checked before reading it', () => {
    expect(MAX_SAFETENSORS_HEADER_BYTES).toBe(100_000_000)
    expectRefused(file('{}', [], 100_000_001n), 'header length 100000001 exceeds the 100000000-byte limit')
    expectRefused(file('{}', [], 1n << 40n), 'exceeds')
    expectRefused(file('{}', [], 0xffffffffffffffffn), '18446744073709551615', 'exceeds')
  })

  it('header that is not UTF-8', () => {
    const stray = file('{"a":1}')
    stray[10] = 0xff
    expectRefused(stray, 'not valid UTF-8')
    const overlong = file('{}  ', [])
    overlong.set([0xc0, 0xaf], 10)
    expectRefused(overlong, 'not valid UTF-8')
  })

  it('header that is not JSON', () => {
    expectRefused(file('{"a": '), 'not valid JSON')
    expectRefused(file(''), 'not valid JSON')
    expectRefused(file('{} x'), 'not valid JSON')
  })

  it('header that is not an object', () => {
    expectRefused(file('[1,2]'), 'header must be a JSON object, found an array')
    expectRefused(file('null'), 'found null')
    expectRefused(file('"x"'), 'found the string "x"')
    expectRefused(file('42'), 'found number 42')
  })

  it('entry that is not an object', () => {
    expectRefused(file({ a: 3 }), "tensor 'a'", 'must be an object with dtype, shape and data_offsets')
    expectRefused(file({ a: [1] }), "tensor 'a'", 'found an array')
  })

  it('entry without dtype, shape or data_offsets, or with wrong types', () => {
    expectRefused(file({ a: { shape: [2], data_offsets: [0, 8] } }, data8), "tensor 'a'", 'dtype must be a string, found nothing')
    expectRefused(file({ a: { dtype: 4, shape: [2], data_offsets: [0, 8] } }, data8), "tensor 'a'", 'dtype must be a string, found number 4')
    expectRefused(file({ a: { dtype: 'F32', data_offsets: [0, 8] } }, data8), "tensor 'a'", 'shape must be an array, found nothing')
    expectRefused(file({ a: { dtype: 'F32', shape: 2, data_offsets: [0, 8] } }, data8), "tensor 'a'", 'shape must be an array, found number 2')
    expectRefused(file({ a: { dtype: 'F32', shape: [2] } }, data8), "tensor 'a'", 'data_offsets must be an array [begin, end], found nothing')
    expectRefused(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data8), "tensor 'a'", 'data_offsets must be an array [begin, end], found [0]')
    expectRefused(file({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4, 8] } }, data8), 'found [0,4,8]')
    expectRefused(file({ a: { dtype: 'F32', shape: [2], data_offsets: '0,8' } }, data8), 'found "0,8"')
  })

  it('shape entries that are not non-negative integers', () => {
    for (const bad of [-1, 1.5, '2', null, [2], -1e300]) {
      expectRefused(file({ a: { dtype: 'F32', shape: [bad], data_offsets: [0, 8] } }, data8), "tensor 'a'", 'invalid size', JSON.stringify(bad))
    }
  })

  it('offsets that are not integers', () => {
    for (const bad of [
      [0, 7.5],
      ['0', 8],
      [-8, 0],
      [0, null],
      [-(2 ** 60), 8],
    ]) {
      expectRefused(
        file({ a: { dtype: 'F32', shape: [2], data_offsets: bad } }, data8),
        "tensor 'a'",
        `data_offsets ${JSON.stringify(bad)} must be non-negative integers`,
      )
    }
  })

  it('reversed offsets', () => {
    expectRefused(file({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, data8), "tensor 'a'", 'data_offsets [8,0] are reversed')
  })

  it('offsets past the end of the buffer', () => {
    expectRefused(
      file({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, data8),
      "tensor 'a'",
      'data_offsets [0,16] run past the end of the 8-byte data buffer',
    )
    expectRefused(file({ a: { dtype: 'F32', shape: [0], data_offsets: [9, 9] } }, data8), 'run past the end')
  })

  it('offsets overlapping another tensor', () => {
    const h = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }
    expectRefused(file(h, new Uint8Array(12)), "tensor 'b' data_offsets [4,12] overlap tensor 'a' [0,8]")
    const same = { a: { dtype: 'I32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }
    expectRefused(file(same, new Uint8Array(4)), 'overlap')
    // Listed out of order: the check is by position, not by header order.
    const late = { b: { dtype: 'F64', shape: [1], data_offsets: [8, 16] }, a: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }
    expectRefused(file(late, new Uint8Array(16)), "tensor 'b'", "tensor 'a'", 'overlap')
  })

  it('accepts empty tensors anywhere, gaps, and trailing bytes', () => {
    const h = { e: { dtype: 'F64', shape: [0, 3], data_offsets: [4, 4] }, a: { dtype: 'I32', shape: [1], data_offsets: [8, 12] } }
    const data = new Uint8Array(16)
    data[8] = 7
    const t = loadSafetensors(file(h, data))
    expect(t.get('e')!.shape).toEqual([0, 3])
    expect(t.get('a')!.toArray()).toEqual([7])
  })

  it('byte length that does not match the shape and dtype', () => {
    expectRefused(
      file({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8),
      "tensor 'a'",
      'data_offsets [0,8] hold 8 bytes, but F32 of shape [3] needs 12',
    )
    expectRefused(file({ a: { dtype: 'F64', shape: [], data_offsets: [0, 4] } }, data8), 'F64 of shape [] needs 8')
    expectRefused(file({ a: { dtype: 'I64', shape: [2, 2], data_offsets: [0, 8] } }, data8), 'hold 8 bytes, but I64 of shape [2,2] needs 32')
  })

  it('__metadata__ that is not a string-to-string map', () => {
    expectRefused(file({ __metadata__: { epoch: 3 } }), '__metadata__', "value of 'epoch' must be a string, found number 3")
    expectRefused(file({ __metadata__: ['x'] }), '__metadata__', 'found an array')
    expectRefused(file({ __metadata__: 'x' }), '__metadata__', 'found the string "x"')
    expectRefused(file({ __metadata__: { a: { b: 'c' } } }), "value of 'a'", 'found an object')
  })

  it('unsupported dtypes, naming the dtype and the tensor', () => {
    for (const dtype of ['U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'C64', 'f32', 'bf16', 'toString', '']) {
      expectRefused(file({ w: { dtype, shape: [0], data_offsets: [0, 0] } }), "tensor 'w'", `unsupported dtype '${dtype}'`)
    }
  })

  it('a tensor name listed twice', () => {
    expectRefused(file('{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}'), "'a' more than once")
  })

  it('I64 values outside the int32 range, naming the tensor', () => {
    const h = (n: number) => ({ idx: { dtype: 'I64', shape: [n], data_offsets: [0, 8 * n] } })
    const limits = [2147483647n, -2147483648n, 0n, -1n, 1n]
    expect([...loadSafetensors(file(h(5), le64(...limits))).get('idx')!._data]).toEqual(limits.map(Number))
    expectRefused(file(h(2), le64(0n, 2147483648n)), "tensor 'idx'", 'I64 value 2147483648 at flat index 1 is outside the int32 range')
    expectRefused(file(h(1), le64(-2147483649n)), 'I64 value -2147483649')
    expectRefused(file(h(1), le64(1n << 62n)), 'outside the int32 range')
    expectRefused(file(h(1), le64(-(1n << 63n))), 'outside the int32 range')
  })

  it('names the file when one is known', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graphgrad-st-'))
    try {
      const path = join(dir, 'bad.safetensors')
      await writeFile(path, file({ a: { dtype: 'U16', shape: [1], data_offsets: [0, 2] } }, [0, 0]))
      await expect(readSafetensorsFile(path)).rejects.toThrow(SafetensorsError)
      await expect(readSafetensorsFile(path)).rejects.toThrow(`safetensors file '${path}': tensor 'a': unsupported dtype 'U16'`)
      expect(() => loadSafetensors(new Uint8Array(3), { source: 'x.safetensors' })).toThrow("safetensors file 'x.safetensors': file is 3 bytes")
    } finally {
      await rm(dir, { recursive: true })
    }
  })

  it('refuses things that are not bytes', () => {
    expect(() => loadSafetensors('abc' as any)).toThrow(SafetensorsError)
  })
})

/** `n` empty F32 tensors named t0, t1, ...: a legal header that costs only its size to write. */
function emptyEntries(n: number): Uint8Array {
  const parts = Array.from({ length: n }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`)
  return file(`{${parts.join(',')}}`)
}

/** Runs `fn`, which must throw a SafetensorsError, and returns its message and the milliseconds it took. */
function timedRefusal(fn: () => unknown): { message: string; ms: number } {
  const t0 = performance.now()
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError)
    return { message: (e as Error).message, ms: performance.now() - t0 }
  }
  throw new Error('expected a SafetensorsError, but the call returned')
}

describe('loadSafetensors limits (issue 17: hardening)', () => {
  it('refuses an absurd shape that needs no bytes, naming the file and the tensor (#1)', () => {
    // The 96-byte file of the report: 1e15 x 0 elements, so the byte count (0) matched.
    const header = '{"a":{"dtype":"F32","shape":[1e15,0],"data_offsets":[0,0]}}'
    const bytes = file(header.padEnd(88, ' '))
    expect(bytes.length).toBe(96)
    expect(() => loadSafetensors(bytes, { source: 'huge.safetensors' })).toThrow(SafetensorsError)
    expect(() => loadSafetensors(bytes, { source: 'huge.safetensors' })).toThrow(
      "safetensors file 'huge.safetensors': tensor 'a': shape [1000000000000000,0] has a dimension of 1000000000000000, more than the 2147483647 elements a tensor may hold",
    )
    expectRefused(file({ w: { dtype: 'F64', shape: [2 ** 31, 0], data_offsets: [0, 0] } }), "tensor 'w'", 'has a dimension of 2147483648')
    expectRefused(file({ w: { dtype: 'F32', shape: [1e300], data_offsets: [0, 8] } }, data8()), "tensor 'w'", 'has a dimension of 1e+300')
    // Within the per-dimension cap but 2^32 elements: refused by the element cap, not as a byte-count mismatch.
    expectRefused(
      file({ w: { dtype: 'I32', shape: [65536, 65536], data_offsets: [0, 8] } }, data8()),
      "tensor 'w'",
      'has 4294967296 elements, more than the 2147483647',
    )
    // Large dimensions beside a zero are still an empty tensor, and legal.
    expect(loadSafetensors(file({ e: { dtype: 'F32', shape: [65536, 65536, 0], data_offsets: [0, 0] } })).get('e')!.shape).toEqual([65536, 65536, 0])
  })

  it('refuses a rank above MAX_SAFETENSORS_RANK, and saveSafetensors never writes one', () => {
    expect(MAX_SAFETENSORS_RANK).toBe(64)
    const ones = (n: number): number[] => new Array<number>(n).fill(1)
    expect(loadSafetensors(file({ a: { dtype: 'F32', shape: ones(64), data_offsets: [0, 4] } }, [0, 0, 0x80, 0x3f])).get('a')!.rank).toBe(64)
    expectRefused(file({ a: { dtype: 'F32', shape: ones(65), data_offsets: [0, 4] } }, [0, 0, 0x80, 0x3f]), "tensor 'a'", 'rank 65, more than the 64')
    expectRefused(file({ a: { dtype: 'F32', shape: ones(5_000_000), data_offsets: [0, 4] } }, [0, 0, 0x80, 0x3f]), 'MAX_SAFETENSORS_HEADER_VALUES')
    expect(() => saveSafetensors(IMap({ deep: new Tensor(new Float32Array(1), ones(65)) }))).toThrow("saveSafetensors: 'deep' has rank 65")
  })

  it('refuses a header of more than MAX_SAFETENSORS_ENTRIES tensors quickly, before parsing it (#7)', () => {
    expect(MAX_SAFETENSORS_ENTRIES).toBe(100_000)
    const { message, ms } = timedRefusal(() => loadSafetensors(emptyEntries(3 * MAX_SAFETENSORS_ENTRIES), { source: 'many.safetensors' }))
    expect(message).toBe("safetensors file 'many.safetensors': header lists more than 100000 tensors (MAX_SAFETENSORS_ENTRIES)")
    // The scan stops at the cap; the old loader spent seconds and gigabytes on such a header.
    expect(ms).toBeLessThan(1500)
    expect(timedRefusal(() => readSafetensorsMetadata(emptyEntries(MAX_SAFETENSORS_ENTRIES + 1))).message).toMatch('more than 100000 tensors')
  })

  it('accepts exactly MAX_SAFETENSORS_ENTRIES tensors, and __metadata__ beside them', () => {
    const bytes = emptyEntries(MAX_SAFETENSORS_ENTRIES)
    const withMeta = file(`{"__metadata__":{"format":"pt"},${new TextDecoder().decode(bytes.subarray(9))}`)
    expect(loadSafetensors(withMeta).size).toBe(MAX_SAFETENSORS_ENTRIES)
    expect(readSafetensorsMetadata(withMeta)).toEqual({ format: 'pt' })
  })

  it('refuses a header of more than MAX_SAFETENSORS_HEADER_VALUES JSON values, wherever they hide (#7)', () => {
    expect(MAX_SAFETENSORS_HEADER_VALUES).toBe(2_000_000)
    const zeros = new Array<string>(MAX_SAFETENSORS_HEADER_VALUES).fill('0').join(',')
    // A field the format ignores, and a __metadata__ of millions of keys: no entry cap sees them.
    const ignored = `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":[${zeros}]}}`
    expect(timedRefusal(() => loadSafetensors(file(ignored, data8()))).message).toBe(
      'safetensors: header holds more than 2000000 JSON values (MAX_SAFETENSORS_HEADER_VALUES), far more than 100000 tensors need',
    )
    const keys = Array.from({ length: MAX_SAFETENSORS_HEADER_VALUES }, (_, i) => `"${i}":""`).join(',')
    const { message, ms } = timedRefusal(() => readSafetensorsMetadata(file(`{"__metadata__":{${keys}}}`)))
    expect(message).toMatch('MAX_SAFETENSORS_HEADER_VALUES')
    expect(ms).toBeLessThan(1500)
    // Commas and brackets inside strings are text, not values.
    const text = `{"__metadata__":{"note":"${'[{,'.repeat(MAX_SAFETENSORS_HEADER_VALUES)}"}}`
    expect(readSafetensorsMetadata(file(text)).note).toHaveLength(3 * MAX_SAFETENSORS_HEADER_VALUES)
  })

  it('reads a size of -0 (JSON -0, or -1e-400 underflowing) as 0 (found by the fuzz test)', () => {
    const t = loadSafetensors(file('{"a":{"dtype":"F32","shape":[-0,2],"data_offsets":[-0,0]},"b":{"dtype":"F32","shape":[-1e-400],"data_offsets":[0,0]}}'))
    expect(Object.is(t.get('a')!.shape[0], 0)).toBe(true)
    expect(Object.is(t.get('b')!.shape[0], 0)).toBe(true)
  })

  it('refuses offsets of 2^53 or more as past the largest safe integer, not as non-integers (#17)', () => {
    for (const bad of [
      [0, 2 ** 53],
      [2 ** 60, 2 ** 60 + 8],
      [0, 1e300],
    ]) {
      expectRefused(
        file({ a: { dtype: 'F32', shape: [2], data_offsets: bad } }, data8()),
        "tensor 'a'",
        `data_offsets ${JSON.stringify(bad)}: `,
        'exceeds the largest safe integer (2^53 - 1) and so the 8-byte data buffer',
      )
    }
    // 2^53 - 1 is exact, and simply past the end.
    expectRefused(file({ a: { dtype: 'F32', shape: [0], data_offsets: [2 ** 53 - 1, 2 ** 53 - 1] } }, data8()), 'run past the end of the 8-byte data buffer')
  })
})

describe('readSafetensorsFile checks the header before reading the data', () => {
  /** A sparse file of `size` bytes (no disk space, nothing read) starting with `head`. */
  const sparse = async (dir: string, head: Uint8Array, size: number): Promise<string> => {
    const path = join(dir, 'big.safetensors')
    await writeFile(path, head)
    await truncate(path, size)
    return path
  }
  const refusedFast = async (path: string, ...fragments: string[]): Promise<void> => {
    const t0 = performance.now()
    const error = await readSafetensorsFile(path).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(SafetensorsError)
    for (const f of [`safetensors file '${path}': `, ...fragments]) expect((error as Error).message).toContain(f)
    // Reading (or allocating) gigabytes would take far longer.
    expect(performance.now() - t0).toBeLessThan(1000)
  }

  it('refuses a bad header of a file past 2 GiB by name, without reading the rest (fs.readFile refused such files with a RangeError)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graphgrad-st-'))
    try {
      const size = 3 * 2 ** 30
      await refusedFast(await sparse(dir, file('{}', [], 1n << 40n), size), 'header length 1099511627776 exceeds the 100000000-byte limit')
      await refusedFast(await sparse(dir, file('{"a": nope}'), size), 'header is not valid JSON')
      const pastEnd = file({ a: { dtype: 'F32', shape: [2 ** 30], data_offsets: [0, 2 ** 32] } })
      await refusedFast(
        await sparse(dir, pastEnd, size),
        `tensor 'a': data_offsets [0,4294967296] run past the end of the ${size - pastEnd.length}-byte data buffer`,
      )
    } finally {
      await rm(dir, { recursive: true })
    }
  })

  // Node 20's limit is 4 GiB; from Node 22 on it is 2^53 - 1, beyond what a filesystem holds even sparse.
  it.skipIf(bufferConstants.MAX_LENGTH > 2 ** 40)('refuses a file larger than the largest Uint8Array by name, after checking its header', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graphgrad-st-'))
    try {
      const size = bufferConstants.MAX_LENGTH + 16
      await refusedFast(
        await sparse(dir, file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }), size),
        `file is ${size} bytes, more than the ${bufferConstants.MAX_LENGTH} bytes of the largest Uint8Array`,
      )
    } finally {
      await rm(dir, { recursive: true })
    }
  })
})

describe('writeSafetensorsFile', () => {
  const withDir = async (fn: (dir: string) => Promise<void>): Promise<void> => {
    const dir = await mkdtemp(join(tmpdir(), 'graphgrad-st-'))
    try {
      await fn(dir)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }

  it('writes a file, then replaces it', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'model.safetensors')
      await writeSafetensorsFile(path, IMap({ a: f64(1, 2) }), { step: '1' })
      expect((await readSafetensorsFile(path)).get('a')!.toArray()).toEqual([1, 2])
      await writeSafetensorsFile(path, IMap({ b: i32(3) }), { step: '2' })
      const bytes = new Uint8Array(await readFile(path))
      expect([...loadSafetensors(bytes).keys()]).toEqual(['b'])
      expect(readSafetensorsMetadata(bytes)).toEqual({ step: '2' })
      expect(await readdir(dir)).toEqual(['model.safetensors'])
    })
  })

  it('keeps the permissions of the file it replaces', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'model.safetensors')
      await writeSafetensorsFile(path, IMap({ a: f64(1) }))
      await chmod(path, 0o640)
      await writeSafetensorsFile(path, IMap({ a: f64(2) }))
      expect((await stat(path)).mode & 0o777).toBe(0o640)
    })
  })

  it('leaves the old file intact and no temp file when encoding fails', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'model.safetensors')
      await writeSafetensorsFile(path, IMap({ a: f64(1, 2) }))
      const before = await readFile(path)
      await expect(writeSafetensorsFile(path, IMap<string, any>({ a: f64(3), b: 'oops' }))).rejects.toThrow(SafetensorsError)
      await expect(writeSafetensorsFile(path, IMap({ a: f64(3) }), { n: 1 } as any)).rejects.toThrow("value of 'n'")
      expect(await readFile(path)).toEqual(before)
      expect(await readdir(dir)).toEqual(['model.safetensors'])
    })
  })

  it('removes the temp file when the rename fails', async () => {
    await withDir(async (dir) => {
      // A non-empty directory at the target makes the final rename fail after the temp file was written.
      const path = join(dir, 'model.safetensors')
      await mkdir(path)
      await writeFile(join(path, 'keep'), 'x')
      await expect(writeSafetensorsFile(path, IMap({ a: f64(1) }))).rejects.toThrow()
      expect(await readdir(dir)).toEqual(['model.safetensors'])
      expect(await readdir(path)).toEqual(['keep'])
    })
  })

  it('writeFileAtomic writes text as UTF-8 and bytes as they are, leaving no temp file', async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'notes.json')
      await writeFileAtomic(path, '{"π": 1}')
      expect(await readFile(path, 'utf8')).toBe('{"π": 1}')
      await writeFileAtomic(path, new Uint8Array([1, 2, 3]))
      expect([...new Uint8Array(await readFile(path))]).toEqual([1, 2, 3])
      expect(await readdir(dir)).toEqual(['notes.json'])
    })
  })

  it('fails cleanly when the directory does not exist', async () => {
    await withDir(async (dir) => {
      await expect(writeSafetensorsFile(join(dir, 'missing', 'm.safetensors'), IMap({ a: f64(1) }))).rejects.toThrow(/ENOENT/)
      expect(await readdir(dir)).toEqual([])
    })
  })
})
